"""The CMS's photo endpoints: grant an upload, report a photo's status.

Plain functions that the owning app's admin wires under its own URLs,
after its own permission checks (`permitted`). They answer JSON, with the
public API's error shape (`myblog.jsonapi`): `{"error": {"code", "message"}}`
and a 4xx status, so the form's script reads every refusal the same way.

The upload request is JSON from the form's script, but anyone logged in
can send anything: its body is parsed by the API's strict parser
(`myblog.jsonapi.read_json`: size-capped, nesting bounded, no NaN, Infinity
or repeated keys) and each field's JSON type is checked before any value
is, so a list, a number, a boolean or a missing field is a 400 with the
reason, never a 500.
"""

from myblog.jsonapi import ApiError, error_response, json_response, read_json
from photos import queries
from photos.admin import photo_info
from photos.uploads import UploadRejected, create_upload

# Three short fields; room for an owner key as long as DynamoDB allows, so
# that a wrong one is refused with its reason rather than as too large.
MAX_REQUEST_BYTES = 8192


def _error(error):
    return error_response(error.status, error.code, error.message, error.headers)


def _method_not_allowed(method):
    return error_response(405, "method_not_allowed", f"Use {method}.", headers={"Allow": method})


def parse_upload_request(request, owner_field):
    """(content_type, size, owner value, file name or None) of an upload request, or ApiError (400, 413 or 415).

    `owner_field` names the optional field (a string or null) that says
    what the photo is uploaded for.
    """
    data = read_json(request, MAX_REQUEST_BYTES)
    unknown = sorted(set(data) - {"content_type", "size", "name", owner_field})
    if unknown:
        raise ApiError(400, "invalid_field", f"Unknown field: {', '.join(unknown)}.")
    for name in ("content_type", "size"):
        if name not in data:
            raise ApiError(400, "invalid_field", f"{name} is required.")
    if not isinstance(data["content_type"], str):
        raise ApiError(400, "invalid_field", "content_type must be a string, such as “image/jpeg”.")
    size = data["size"]
    if not isinstance(size, int) or isinstance(size, bool):
        raise ApiError(400, "invalid_field", "size must be a whole number of bytes.")
    owner = data.get(owner_field)
    if owner is not None and not isinstance(owner, str):
        raise ApiError(400, "invalid_field", f"{owner_field} must be a string or null.")
    if data.get("name") is not None and not isinstance(data["name"], str):
        raise ApiError(400, "invalid_field", "name must be a string or null.")
    return data["content_type"], size, owner, data.get("name")


def upload(request, *, permitted, owner_field, resolve_owner, user=""):
    """POST JSON {content_type, size, name (optional), <owner_field>} -> 201 with a presigned POST for S3, or a 4xx.

    `resolve_owner(value)` turns the owner field's value (a string or None)
    into the owner key to record, or raises UploadRejected: the owning app
    checks that it names one of its own.
    """
    if request.method != "POST":
        return _method_not_allowed("POST")
    if not permitted:
        return error_response(403, "forbidden", "You may not upload photos.")
    try:
        content_type, size, owner, name = parse_upload_request(request, owner_field)
        try:
            granted = create_upload(
                content_type=content_type,
                size=size,
                user=user,
                owner=resolve_owner(owner),
                filename=name,
            )
        except UploadRejected as error:
            raise ApiError(400, "upload_rejected", str(error)) from error
    except ApiError as error:
        return _error(error)
    granted["photo"] = photo_info(queries.get_photo(granted["key"]))
    return json_response(granted, status=201)


def status(request, *, permitted):
    """GET ?key=<original key> -> the photo's card (status, thumbnail, Markdown), or a 4xx."""
    if request.method != "GET":
        return _method_not_allowed("GET")
    if not permitted:
        return error_response(403, "forbidden", "You may not view photos.")
    photo = queries.get_photo(request.GET.get("key", ""))
    if photo is None:
        return error_response(404, "not_found", "No such photo.")
    return json_response(photo_info(photo))
