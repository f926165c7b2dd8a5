"""The REST API's conventions: JSON in, JSON out, and a JSON error for every bad request.

Every error has the same shape, `{"error": {"code": ..., "message": ...}}`,
with a 4xx status a client can act on: 400 (bad parameter, JSON or token),
403 (not sent through the site's public address, see `myblog.origin`),
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
import math

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt

from myblog import caching
from myblog.numbers import InvalidNumber, parse_whole_number

# The largest request body any endpoint accepts: an email address or a
# token fits in well under 1 KB.
MAX_BODY_BYTES = 2048
# Arrays and objects nested deeper than this are refused before parsing:
# Python's json module recurses once per level, and about 1,000 levels
# (2 KB of brackets) exhaust the interpreter's stack. No request MyBlog
# accepts nests more than two levels.
MAX_JSON_DEPTH = 20


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
        declared = parse_whole_number(request.META.get("CONTENT_LENGTH") or "0")
    except InvalidNumber as error:
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


class _InvalidJson(ValueError):
    """A body that is JSON to Python's lenient parser but not to RFC 8259 / I-JSON (RFC 7493)."""


def _check_depth(text, max_depth):
    """Refuse arrays and objects nested deeper than `max_depth`, without recursion.

    Brackets inside strings do not count; the scan is linear in the text.
    """
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > max_depth:
                raise ApiError(
                    400, "invalid_json", f"The request body nests arrays or objects more than {max_depth} levels deep."
                )
        elif char in "]}":
            depth -= 1


def _refuse_constant(name):
    # NaN, Infinity and -Infinity are not JSON (Python accepts them by default).
    raise _InvalidJson(f"{name} is not a JSON number")


def _finite_float(text):
    value = float(text)
    if not math.isfinite(value):
        # 1e999 would become float("inf"), which no JSON number means.
        raise _InvalidJson(f"{text} is out of range")
    return value


def _unique_keys(pairs):
    data = {}
    for key, value in pairs:
        if key in data:
            raise ApiError(400, "invalid_json", f"The request body repeats the key “{key[:50]}”.")
        data[key] = value
    return data


def _check_strings(value):
    """Refuse strings with unpaired surrogates (`"\\ud800"`): they cannot be stored or signed as UTF-8."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as error:
                message = "The request body has a string that is not valid Unicode."
                raise ApiError(400, "invalid_json", message) from error
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def parse_json_object(body, max_depth=MAX_JSON_DEPTH):
    """The JSON object in `body` (bytes), or ApiError 400 (`invalid_json`) saying what is wrong.

    The one parser for every JSON request body, strict where Python's json
    module is lenient: UTF-8 only, an object at the top, no NaN or
    Infinity, no number too large for a float, no repeated keys, no
    unpaired surrogates, and nesting bounded before parsing so no body can
    exhaust the stack.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ApiError(400, "invalid_json", "The request body is not UTF-8 text.") from error
    _check_depth(text, max_depth)
    try:
        data = json.loads(
            text, parse_constant=_refuse_constant, parse_float=_finite_float, object_pairs_hook=_unique_keys
        )
    except (ValueError, RecursionError) as error:
        raise ApiError(400, "invalid_json", "The request body is not valid JSON.") from error
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "The request body must be a JSON object.")
    _check_strings(data)
    return data


def read_json(request, max_bytes=MAX_BODY_BYTES):
    """The request's JSON object, or an ApiError (413, 415 or 400)."""
    body = read_body(request, max_bytes)
    if media_type(request) != "application/json":
        raise ApiError(415, "unsupported_media_type", "Send the request body as application/json.")
    return parse_json_object(body)


API_PREFIX = "/api/"


def is_api_request(request):
    return request.path_info.startswith(API_PREFIX)


def private_error(status, code, message):
    """An error response that is never cached: for the error handlers, which answer any request."""
    return caching.make_private(error_response(status, code, message))


def server_error():
    """The API's 500: the error shape, no details, never cached.

    Django has already logged the exception (`django.request`) when this is
    built, so the client learns only that it may try again.
    """
    return private_error(500, "server_error", "The server could not answer this request; try again later.")


@csrf_exempt
def not_found(request, path=""):
    """Any path under /api/ that is not an endpoint, whatever the method (no CSRF page first)."""
    response = error_response(404, "not_found", "There is no API endpoint at this address.")
    response.headers["Cache-Control"] = caching.NEGATIVE.header
    return response
