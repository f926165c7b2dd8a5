"""A stand-in for CloudFront's S3 origin: serves the private bucket on loopback.

In AWS, readers fetch `/static/*` and `/media/renditions/*` from CloudFront,
which reads the private bucket through its origin access identity/control;
the bucket policy lets it read nothing else, so an original (with its EXIF
and GPS position) never reaches a reader. Locally this small WSGI app plays
that role, for exactly the same prefixes (with the object's own
Content-Type, Cache-Control and ETag, and 304s), so the site's media URLs
work unchanged: `MYBLOG_CLOUDFRONT_DOMAIN` simply points here. Extra local
tools (the sent mail viewer) are mounted under `/_mail/`.
"""

import logging
import threading
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from myblog import aws

log = logging.getLogger(__name__)


def served_prefixes():
    """What CloudFront may read from the bucket (infra/myblog.yaml): static files and renditions."""
    return ("static/", settings.MYBLOG_RENDITIONS_PREFIX)


# A missing object, or a bucket that is not there (not created yet, or the
# emulator was reset), is a plain "Not found" for the reader, however S3
# words it; a HEAD-style error carries only the status code.
NOT_FOUND_CODES = {"NoSuchKey", "NoSuchBucket", "AccessDenied", "404", "403"}


def origin_error(error):
    """The edge's status line for the bucket's answer `error` (a botocore ClientError).

    Never an exception: an error the edge cannot map is a 502, as CloudFront
    answers when its origin fails.
    """
    code = error.response.get("Error", {}).get("Code", "")
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if status == 304 or code == "304":
        return "304 Not Modified"
    if code in NOT_FOUND_CODES or status in (403, 404):
        return "404 Not Found"
    return "502 Bad Gateway"


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - stdlib signature
        log.debug("edge: " + format, *args)


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class Edge:
    def __init__(self, bucket, mounts=None):
        self.bucket = bucket
        self.mounts = mounts or {}

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "/")
        for prefix, app in self.mounts.items():
            if path.startswith(prefix):
                environ["SCRIPT_NAME"] = prefix.rstrip("/")
                environ["PATH_INFO"] = path[len(prefix.rstrip("/")) :] or "/"
                return app(environ, start_response)
        try:
            # WSGI gives the path as bytes decoded as Latin-1 (PEP 3333); keys are UTF-8.
            key = path.encode("latin-1").decode("utf-8").lstrip("/")
        except UnicodeError:
            return self._plain(start_response, "404 Not Found", b"Not found\n")
        if environ["REQUEST_METHOD"] not in ("GET", "HEAD"):
            return self._plain(start_response, "405 Method Not Allowed", b"Method not allowed\n")
        if not key.startswith(served_prefixes()) or any(part in ("", ".", "..") for part in key.split("/")):
            # Dot segments would lead out of a served prefix if anything on the way resolved them.
            return self._plain(start_response, "404 Not Found", b"Not found\n")
        kwargs = {"Bucket": self.bucket, "Key": key}
        if environ.get("HTTP_IF_NONE_MATCH"):
            kwargs["IfNoneMatch"] = environ["HTTP_IF_NONE_MATCH"]
        try:
            obj = aws.client("s3").get_object(**kwargs)
        except ClientError as error:
            answer = origin_error(error)
            if answer == "304 Not Modified":
                start_response(answer, [("ETag", environ["HTTP_IF_NONE_MATCH"])])
                return [b""]
            if answer == "404 Not Found":
                return self._plain(start_response, answer, b"Not found\n")
            log.warning("edge: the bucket answered %s for %s", error, key)
            return self._plain(start_response, answer, b"Bad gateway\n")
        except BotoCoreError as error:  # the emulator is not answering
            log.warning("edge: no answer from the bucket for %s: %s", key, error)
            return self._plain(start_response, "502 Bad Gateway", b"Bad gateway\n")
        headers = [
            ("Content-Type", obj.get("ContentType") or "application/octet-stream"),
            ("Content-Length", str(obj["ContentLength"])),
            ("ETag", obj["ETag"]),
            ("Last-Modified", obj["LastModified"].strftime("%a, %d %b %Y %H:%M:%S GMT")),
        ]
        if obj.get("CacheControl"):
            headers.append(("Cache-Control", obj["CacheControl"]))
        start_response("200 OK", headers)
        body = obj["Body"].read()
        return [b"" if environ["REQUEST_METHOD"] == "HEAD" else body]

    @staticmethod
    def _plain(start_response, status, body):
        start_response(status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))])
        return [body]


def serve(app, port, host="127.0.0.1"):
    """Serve `app` in a daemon thread; returns the server (call shutdown())."""
    server = make_server(host, port, app, server_class=ThreadingWSGIServer, handler_class=QuietHandler)
    threading.Thread(target=server.serve_forever, name=f"edge:{port}", daemon=True).start()
    return server
