"""The local stand-in for CloudFront serves what CloudFront may read: static files and renditions."""

import pytest
from django.conf import settings

from devstack.edge import Edge

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
