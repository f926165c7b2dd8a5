"""The REST API's conventions: JSON in, JSON out, and a JSON error for every bad request.

Every error has the same shape, `{"error": {"code": ..., "message": ...}}`,
with a 4xx status a client can act on: 400 (bad parameter, JSON or token),
404 (unknown resource), 405 (wrong method, with `Allow`), 413 (body too
large), 415 (not JSON), 429 (rate limited, with `Retry-After`). A fault of
the server itself (an unhandled exception anywhere under /api/) answers 500
in the same shape, with a fixed message: the details go to the log, never
to the client (`server_error`, Django's handler500). The API
uses no cookies and no session, so it needs no CSRF token; reads are
public and cacheable, writes are never cached.

Plain Django views rather than a framework: the API is a handful of
endpoints, and Lambda cold starts pay for every import.
"""

import functools
import json

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt

from myblog import caching

# The largest request body any endpoint accepts: an email address or a
# token fits in well under 1 KB.
MAX_BODY_BYTES = 2048


class ApiError(Exception):
    def __init__(self, status, code, message, headers=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def json_response(data, status=200, headers=None):
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    response = HttpResponse(body, status=status, content_type="application/json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def error_response(status, code, message, headers=None):
    return json_response({"error": {"code": code, "message": message}}, status=status, headers=headers)


def endpoint(*methods, policy=None, validate_last_modified=True):
    """Decorate an API view: allowed methods, JSON errors, and caching.

    The view returns `(data, status)` or an HttpResponse, or raises
    `ApiError`. With a `policy`, successful GETs are cacheable (ETag, 304s);
    everything else is `no-store`. A view may return a response carrying
    `last_modified` (a datetime).
    """
    allowed = set(methods)
    if "GET" in allowed:
        allowed.add("HEAD")
    allow_header = ", ".join(sorted(allowed))

    def decorator(view):
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method not in allowed:
                response = error_response(
                    405,
                    "method_not_allowed",
                    f"Use {' or '.join(sorted(methods))} for this endpoint.",
                    headers={"Allow": allow_header},
                )
                return caching.make_private(response)
            try:
                response = view(request, *args, **kwargs)
            except ApiError as error:
                response = error_response(error.status, error.code, error.message, error.headers)
            if isinstance(response, tuple):
                data, status = response
                response = json_response(data, status=status)
            if policy is None or request.method not in ("GET", "HEAD"):
                return caching.make_private(response)
            return caching.finish(request, response, policy, validate_last_modified=validate_last_modified)

        return wrapper

    return decorator


def check_length(request, max_bytes=MAX_BODY_BYTES):
    """ApiError 413 if the declared Content-Length is over `max_bytes` (400 if unreadable)."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError as error:
        raise ApiError(400, "bad_request", "The Content-Length header is not a number.") from error
    if declared > max_bytes:
        raise ApiError(413, "body_too_large", f"The request body must be at most {max_bytes} bytes.")


def read_body(request, max_bytes=MAX_BODY_BYTES):
    """The raw request body, or ApiError 413 if it is larger than `max_bytes`.

    Checked against Content-Length first and then while reading, so an
    oversized body is never read into memory.
    """
    check_length(request, max_bytes)
    body = request.read(max_bytes + 1)
    if len(body) > max_bytes:
        raise ApiError(413, "body_too_large", f"The request body must be at most {max_bytes} bytes.")
    return body


def media_type(request):
    return (request.META.get("CONTENT_TYPE") or "").split(";", 1)[0].strip().lower()


def read_json(request, max_bytes=MAX_BODY_BYTES):
    """The request's JSON object, or an ApiError (413, 415 or 400)."""
    body = read_body(request, max_bytes)
    if media_type(request) != "application/json":
        raise ApiError(415, "unsupported_media_type", "Send the request body as application/json.")
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise ApiError(400, "invalid_json", "The request body is not valid JSON.") from error
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "The request body must be a JSON object.")
    return data


API_PREFIX = "/api/"


def is_api_request(request):
    return request.path_info.startswith(API_PREFIX)


def server_error():
    """The API's 500: the error shape, no details, never cached.

    Django has already logged the exception (`django.request`) when this is
    built, so the client learns only that it may try again.
    """
    response = error_response(500, "server_error", "The server could not answer this request; try again later.")
    return caching.make_private(response)


def not_found(request, path=""):
    """Any path under /api/ that is not an endpoint."""
    response = error_response(404, "not_found", "There is no API endpoint at this address.")
    response.headers["Cache-Control"] = caching.NEGATIVE.header
    return response
