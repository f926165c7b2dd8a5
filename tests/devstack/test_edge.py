"""The local stand-in for CloudFront serves what CloudFront may read: static files and renditions."""

import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from django.conf import settings

from devstack import edge as edge_module
from devstack import services, system
from devstack.edge import Edge, serve
from myblog import aws as myblog_aws

OBJECTS = {
    "static/posts/admin/post_form.0a1b2c.js": ("text/javascript", b"'use strict';"),
    "media/renditions/2026/11/kite/320.jpg": ("image/jpeg", b"\xff\xd8rendition"),
    "media/originals/2026/11/kite.jpg": ("image/jpeg", b"\xff\xd8original with EXIF"),
    "private/notes.txt": ("text/plain", b"not for readers"),
}


@pytest.fixture
def edge(aws):
    s3 = aws.client("s3")
    for key, (content_type, body) in OBJECTS.items():
        s3.put_object(Bucket=settings.MYBLOG_MEDIA_BUCKET, Key=key, Body=body, ContentType=content_type)
    return Edge(settings.MYBLOG_MEDIA_BUCKET)


def get(app, path):
    started = {}

    def start_response(status, headers):
        started.update(status=status, headers=dict(headers))

    body = b"".join(app({"REQUEST_METHOD": "GET", "PATH_INFO": path}, start_response))
    return started["status"], started["headers"], body


@pytest.mark.parametrize("key", ["static/posts/admin/post_form.0a1b2c.js", "media/renditions/2026/11/kite/320.jpg"])
def test_static_files_and_renditions_are_served(edge, key):
    status, headers, body = get(edge, "/" + key)
    assert status == "200 OK"
    assert (headers["Content-Type"], body) == OBJECTS[key]


@pytest.mark.parametrize(
    "path",
    [
        "/media/originals/2026/11/kite.jpg",
        "/media/renditions/../originals/2026/11/kite.jpg",
        "/media/renditions/2026/11/./../../../originals/2026/11/kite.jpg",
        "/private/notes.txt",
        "/media/renditions/2026/11/kite/missing.jpg",
    ],
)
def test_originals_and_everything_else_are_not_found(edge, path):
    status, _, body = get(edge, path)
    assert status == "404 Not Found" and body == b"Not found\n"


def request(app, path, method="GET", **headers):
    started = {}

    def start_response(status, response_headers):
        started.update(status=status, headers=dict(response_headers))

    body = b"".join(app({"REQUEST_METHOD": method, "PATH_INFO": path, **headers}, start_response))
    return started["status"], body


@pytest.mark.parametrize(
    "method, headers",
    [("GET", {}), ("HEAD", {}), ("GET", {"HTTP_IF_NONE_MATCH": '"0a1b2c3d4e5f60718293a4b5c6d7e8f9"'})],
)
def test_a_bucket_that_does_not_exist_is_not_found_at_once(aws, method, headers):
    """S3 answers NoSuchBucket: a 404 for the reader, after one request (nothing to retry)."""
    s3 = aws.client("s3")
    sent = []
    s3.meta.events.register("before-send.s3.GetObject", lambda request, **kwargs: sent.append(request.url))
    app = Edge("myblog-bucket-that-was-never-created")
    status, body = request(app, "/media/renditions/2026/11/kite/320.jpg", method, **headers)
    assert (status, body) == ("404 Not Found", b"Not found\n")
    assert len(sent) == 1 and "myblog-bucket-that-was-never-created" in sent[0]


def test_a_file_of_the_bucket_answers_not_modified_when_unchanged(edge, aws):
    key = "media/renditions/2026/11/kite/320.jpg"
    etag = aws.client("s3").head_object(Bucket=settings.MYBLOG_MEDIA_BUCKET, Key=key)["ETag"]
    assert request(edge, "/" + key, HTTP_IF_NONE_MATCH=etag) == ("304 Not Modified", b"")


class FailingS3:
    def __init__(self, error):
        self.error = error

    def get_object(self, **kwargs):
        raise self.error


@pytest.mark.parametrize(
    "error",
    [
        ClientError(
            {
                "Error": {"Code": "InternalError", "Message": "We encountered an internal error. Please try again."},
                "ResponseMetadata": {"HTTPStatusCode": 500},
            },
            "GetObject",
        ),
        EndpointConnectionError(endpoint_url="http://127.0.0.1:8002/myblog-local-media/media/renditions/a.jpg"),
    ],
    ids=["S3 error", "emulator down"],
)
def test_any_other_failure_of_the_bucket_is_a_bad_gateway(edge, monkeypatch, error):
    """As CloudFront answers when its origin fails: never an exception out of the edge."""
    monkeypatch.setattr(edge_module.aws, "client", lambda service: FailingS3(error))
    assert request(edge, "/media/renditions/2026/11/kite/320.jpg") == ("502 Bad Gateway", b"Bad gateway\n")


def test_keys_are_read_as_utf_8_from_the_wsgi_path(aws):
    key = "media/renditions/2026/11/café/320.jpg"
    aws.client("s3").put_object(
        Bucket=settings.MYBLOG_MEDIA_BUCKET, Key=key, Body=b"\xff\xd8", ContentType="image/jpeg"
    )
    app = Edge(settings.MYBLOG_MEDIA_BUCKET)
    assert request(app, "/" + key.encode().decode("latin-1")) == ("200 OK", b"\xff\xd8")
    assert request(app, "/media/renditions/2026/11/caf\xe9/320.jpg") == ("404 Not Found", b"Not found\n")


@pytest.fixture
def moto_server(tmp_path, monkeypatch):
    service = services.moto_server(system.free_port(), log_path=tmp_path / "moto.log").start()
    monkeypatch.setenv("AWS_ENDPOINT_URL", service.endpoint)
    myblog_aws.reset_clients()
    yield service
    service.stop()
    myblog_aws.reset_clients()


def test_over_http_on_moto_server_a_missing_bucket_is_a_404(moto_server):
    """The edge as runlocal serves it, against the emulator whose bucket is gone (moto forgets on restart)."""
    server = serve(Edge("myblog-local-media"), system.free_port())
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/media/renditions/demo/hello/320.jpg"
        with pytest.raises(urllib.error.HTTPError) as answer:
            urllib.request.urlopen(url, timeout=30)
        assert answer.value.code == 404 and answer.value.read() == b"Not found\n"
    finally:
        server.shutdown()
        server.server_close()
