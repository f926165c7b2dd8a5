"""Helpers for the readers' tests: seeding posts and photos, counting DynamoDB calls, blocking SQL.

- `publish(...)` creates a live post through `posts.services` (the edit path).
- `ready_photo(...)` uploads a real JPEG made here to S3 and runs the
  thumbnail pipeline on it, so pages are tested on real renditions.
- `dynamodb_calls` records every DynamoDB operation PynamoDB sends (through
  DAX or not): the operation names of one request are what the read-cost
  tests assert on.
- `no_sql` fails the test if anything opens a database connection (and
  records the attempt, in case the code under test swallowed the error).
"""

import io
from datetime import timedelta

import pytest
from django.conf import settings
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone
from PIL import Image, ImageDraw
from pynamodb.connection.base import Connection

from myblog import aws
from photos.models import Photo
from photos.status import PHOTO_PENDING
from posts import services
from posts.rules import PUBLISHED

READ_OPERATIONS = {"GetItem", "Query", "BatchGetItem"}


def publish(slug, days_ago=1, tags=("python",), body="Hello, readers.", **fields):
    fields.setdefault("title", slug.replace("-", " ").title())
    fields.setdefault("excerpt", f"About {slug}.")
    return services.create_post(
        slug=slug,
        body=body,
        tags=list(tags),
        status=PUBLISHED,
        publish_at=timezone.now() - timedelta(days=days_ago),
        user="editor",
        **fields,
    )


def jpeg_bytes(size=(1200, 800), colour=(40, 110, 170)):
    """A small photographic-looking JPEG: a gradient and a disc."""
    image = Image.new("RGB", size, colour)
    draw = ImageDraw.Draw(image)
    width, height = size
    for y in range(height):
        shade = int(255 * y / height)
        draw.line([(0, y), (width, y)], fill=(colour[0], shade, 255 - shade))
    draw.ellipse([width // 3, height // 4, width // 2, height // 2], fill=(250, 220, 90))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def original_key(name):
    return f"{settings.MYBLOG_ORIGINALS_PREFIX}2026/11/{name}.jpg"


def ready_photo(name, size=(1200, 800)):
    """Upload a generated JPEG as an original and make its renditions; returns the ready Photo."""
    from photos import processing

    key = original_key(name)
    body = jpeg_bytes(size)
    result = aws.client("s3").put_object(
        Bucket=settings.MYBLOG_MEDIA_BUCKET, Key=key, Body=body, ContentType="image/jpeg"
    )
    processing.process(processing.S3Object(settings.MYBLOG_MEDIA_BUCKET, key, result["ETag"].strip('"'), len(body)))
    return Photo.get(key)


def pending_photo(name, width=1200, height=800):
    """A photo whose upload was granted but whose renditions are not made yet."""
    photo = Photo(original_key(name), status=PHOTO_PENDING, width=width, height=height, content_type="image/jpeg")
    photo.save()
    return photo


class DynamoDBCalls:
    def __init__(self):
        self.operations = []

    def clear(self):
        self.operations.clear()

    @property
    def names(self):
        return [name for name, _ in self.operations]

    def tables(self):
        return [kwargs.get("TableName") for _, kwargs in self.operations]


@pytest.fixture
def dynamodb_calls(monkeypatch):
    calls = DynamoDBCalls()
    original = Connection._make_api_call

    def recording(self, operation_name, operation_kwargs):
        calls.operations.append((operation_name, operation_kwargs))
        return original(self, operation_name, operation_kwargs)

    monkeypatch.setattr(Connection, "_make_api_call", recording)
    return calls


@pytest.fixture
def no_sql(monkeypatch):
    attempts = []

    def refuse(self, *args, **kwargs):
        attempts.append(self.alias)
        raise AssertionError("a public read opened a database connection")

    monkeypatch.setattr(BaseDatabaseWrapper, "ensure_connection", refuse)
    yield attempts
    assert attempts == [], "a public read tried to open a database connection"


class SchemaChecker:
    """Checks real API responses against the served OpenAPI document.

    Every response's status must be documented for its operation, and a
    JSON body must validate against the documented schema (formats
    included), so the document cannot drift from the behaviour.
    """

    def __init__(self, document):
        from jsonschema import Draft202012Validator, FormatChecker

        self.document = document
        self._validator = Draft202012Validator
        self._formats = FormatChecker()
        self.seen = set()

    def check(self, response, path, method="get"):
        operation = self.document["paths"][path][method]
        status = str(response.status_code)
        assert status in operation["responses"], f"{method.upper()} {path} answered {status}, not documented"
        self.seen.add((path, method, status))
        documented = operation["responses"][status]
        content = documented.get("content", {})
        if not content:
            assert not response.content, f"{method.upper()} {path} {status} should have no body"
            return None
        assert response["Content-Type"] == "application/json"
        data = response.json()
        schema = content["application/json"].get("schema")
        if schema is not None:
            validator = self._validator(
                {**schema, "components": self.document["components"]}, format_checker=self._formats
            )
            validator.validate(data)
        return data


@pytest.fixture
def schema_checker(client):
    return SchemaChecker(client.get("/api/openapi.json").json())


@pytest.fixture
def rate_clock(monkeypatch):
    """Pin the rate limiter's clock inside one window, so limits never reset mid-test."""
    from types import SimpleNamespace

    from subscribers import ratelimit

    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: 1_800_000_000.0))
