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

from django.conf import settings

from myblog import aws

log = logging.getLogger(__name__)


def served_prefixes():
    """What CloudFront may read from the bucket (infra/myblog.yaml): static files and renditions."""
    return ("static/", settings.MYBLOG_RENDITIONS_PREFIX)


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
        key = path.lstrip("/")
        if environ["REQUEST_METHOD"] not in ("GET", "HEAD"):
            return self._plain(start_response, "405 Method Not Allowed", b"Method not allowed\n")
        if not key.startswith(served_prefixes()) or any(part in ("", ".", "..") for part in key.split("/")):
            # Dot segments would lead out of a served prefix if anything on the way resolved them.
            return self._plain(start_response, "404 Not Found", b"Not found\n")
        s3 = aws.client("s3")
        kwargs = {"Bucket": self.bucket, "Key": key}
        if environ.get("HTTP_IF_NONE_MATCH"):
            kwargs["IfNoneMatch"] = environ["HTTP_IF_NONE_MATCH"]
        try:
            obj = s3.get_object(**kwargs)
        except s3.exceptions.NoSuchKey:
            return self._plain(start_response, "404 Not Found", b"Not found\n")
        except Exception as error:  # botocore ClientError for 304 and friends
            status = getattr(error, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status == 304:
                start_response("304 Not Modified", [("ETag", environ["HTTP_IF_NONE_MATCH"])])
                return [b""]
            if status in (403, 404):
                return self._plain(start_response, "404 Not Found", b"Not found\n")
            raise
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
