"""A local API Gateway (REST API, Lambda proxy integration) in front of the local Lambda runtime.

Zappa deploys a REST API whose `/{proxy+}` and `/` methods pass every
request to the function as a version 1.0 proxy event, with `*/*` as binary
media type. This server turns each HTTP request into that event (headers
and multi-value headers, query string, `requestContext` with the stage and
the caller's address, the body base64-encoded), invokes the function, and
turns its answer back into HTTP, with the limits API Gateway applies and
its own answers when they are hit:

- a request body over 10 MB: 413 `{"message":"Request Too Long"}`;
- a function that fails, answers something that is not a proxy response,
  or answers more than Lambda's 6 MB: 502 `{"message": "Internal server error"}`;
- no answer within 29 s: 504 `{"message": "Endpoint request timed out"}`.

The site is served as through a custom domain whose base path maps to the
stage (as CloudFront and the API's regional domain do): paths carry no
`/<stage>` prefix and the Host header is the one the client sent.
"""

import base64
import datetime
import json
import logging
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from devstack.lambda_runtime import InvocationTimeout

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 10 * 1024 * 1024
INTEGRATION_TIMEOUT_SECONDS = 29
TOO_LONG = (413, {"message": "Request Too Long"})
INTERNAL_ERROR = (502, {"message": "Internal server error"})
TIMED_OUT = (504, {"message": "Endpoint request timed out"})
# API Gateway drops or rewrites these hop-by-hop headers.
DROPPED_REQUEST_HEADERS = {"connection", "keep-alive", "transfer-encoding", "upgrade", "expect"}


def proxy_event(
    method, target, headers, body, stage, source_ip, api_id="local", account="123456789012", scheme="http", port=80
):
    """The REST API's proxy event (payload version 1.0) for one request.

    `headers` is a list of (name, value) pairs as received. API Gateway sets
    X-Forwarded-For, -Proto and -Port from its own listener (HTTPS on 443 on
    AWS; plain HTTP on the local port here, so Django never takes a request
    for a secure one).
    """
    parts = urlsplit(target)
    path = parts.path or "/"
    query = parse_qsl(parts.query, keep_blank_values=True)
    single, multi = {}, {}
    for name, value in headers:
        if name.lower() in DROPPED_REQUEST_HEADERS:
            continue
        single[name] = value
        multi.setdefault(name, []).append(value)
    forwarded = single.get("X-Forwarded-For")
    single["X-Forwarded-For"] = f"{forwarded}, {source_ip}" if forwarded else source_ip
    multi["X-Forwarded-For"] = [single["X-Forwarded-For"]]
    for name, value in (("X-Forwarded-Proto", scheme), ("X-Forwarded-Port", str(port))):
        for existing in [key for key in single if key.lower() == name.lower()]:
            single.pop(existing)
            multi.pop(existing, None)
        single[name] = value
        multi[name] = [value]
    query_single, query_multi = {}, {}
    for name, value in query:
        query_single[name] = value
        query_multi.setdefault(name, []).append(value)
    resource = "/" if path == "/" else "/{proxy+}"
    now = datetime.datetime.now(datetime.UTC)
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": single or None,
        "multiValueHeaders": multi or None,
        "queryStringParameters": query_single or None,
        "multiValueQueryStringParameters": query_multi or None,
        "pathParameters": None if resource == "/" else {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourceId": "local",
            "resourcePath": resource,
            "httpMethod": method,
            "extendedRequestId": uuid.uuid4().hex[:16],
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "path": path,
            "accountId": account,
            "protocol": "HTTP/1.1",
            "stage": stage,
            "domainPrefix": single.get("Host", "").split(".")[0],
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "requestId": str(uuid.uuid4()),
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": None,
                "cognitoIdentityId": None,
                "caller": None,
                "sourceIp": source_ip,
                "principalOrgId": None,
                "accessKey": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": single.get("User-Agent"),
                "user": None,
            },
            "domainName": single.get("Host", ""),
            "apiId": api_id,
        },
        # Binary media type */*: every body reaches the function base64-encoded.
        "body": base64.b64encode(body).decode() if body else None,
        "isBase64Encoded": bool(body),
    }


def http_response(invocation):
    """(status, [(header, value)], body bytes) for the function's answer, as API Gateway maps it."""
    if invocation.failed:
        return _json_answer(*INTERNAL_ERROR)
    payload = invocation.payload
    if not isinstance(payload, dict) or not isinstance(payload.get("statusCode", 200), int):
        return _json_answer(*INTERNAL_ERROR)
    headers = []
    for name, values in (payload.get("multiValueHeaders") or {}).items():
        headers += [(name, str(value)) for value in values]
    seen = {name.lower() for name, _ in headers}
    for name, value in (payload.get("headers") or {}).items():
        if name.lower() not in seen:
            headers.append((name, str(value)))
    body = payload.get("body") or ""
    try:
        data = base64.b64decode(body) if payload.get("isBase64Encoded") else body.encode()
    except (ValueError, TypeError, AttributeError):
        return _json_answer(*INTERNAL_ERROR)
    return payload.get("statusCode", 200), headers, data


def _json_answer(status, message):
    return (
        status,
        [("Content-Type", "application/json"), ("x-amzn-ErrorType", "InternalServerErrorException")],
        (json.dumps(message).encode()),
    )


def _discard(stream, length, chunk=1024 * 1024):
    while length > 0:
        data = stream.read(min(chunk, length))
        if not data:
            break
        length -= len(data)


class ApiGateway(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, function, stage, port, host="127.0.0.1", timeout=INTEGRATION_TIMEOUT_SECONDS):
        self.function = function
        self.stage = stage
        self.integration_timeout = timeout
        super().__init__((host, port), _Handler)

    def serve_in_thread(self):
        thread = threading.Thread(target=self.serve_forever, name="apigateway", daemon=True)
        thread.start()
        return self

    def stop(self):
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "local-apigateway"

    def _handle(self):
        started = time.perf_counter()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_REQUEST_BYTES:
            _discard(self.rfile, length)  # read, so the client sees the answer rather than a reset
            return self._send(*_json_answer(*TOO_LONG), started)
        body = self.rfile.read(length) if length else b""
        event = proxy_event(
            self.command,
            self.path,
            list(self.headers.items()),
            body,
            self.server.stage,
            self.client_address[0],
            port=self.server.server_address[1],
        )
        try:
            invocation = self.server.function.invoke(event, timeout=self.server.integration_timeout)
        except InvocationTimeout:
            return self._send(*_json_answer(*TIMED_OUT), started)
        if invocation.failed:
            log.warning("apigateway: %s %s: function error %s", self.command, self.path, invocation.error)
        self._send(*http_response(invocation), started)

    def _send(self, status, headers, body, started):
        self.send_response(status)
        names = set()
        for name, value in headers:
            if name.lower() in ("content-length", "connection", "transfer-encoding"):
                continue
            names.add(name.lower())
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        log.debug("apigateway: %s %s -> %s in %.3f s", self.command, self.path, status, time.perf_counter() - started)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle

    def log_message(self, format, *args):  # noqa: A002 - BaseHTTPRequestHandler's signature
        log.info("apigateway: " + format, *args)
