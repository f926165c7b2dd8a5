"""posts.handlers.make_renditions with real-shaped S3 events and real images (moto)."""

import copy
import io
import json
from pathlib import Path
from urllib.parse import quote_plus

import pytest
from django.conf import settings
from django.utils import timezone
from PIL import Image

from posts import handlers, photos_events, services
from posts.models import PHOTO_FAILED, PHOTO_PENDING, PHOTO_READY, Photo, Post
from posts.rules import PUBLISHED, SCHEDULED
from tests import image_fixtures as images

EVENTS = Path(__file__).parent / "events"
ORIGINAL = "media/originals/2026/11/Holiday photo (1).jpg"


def load_event(name):
    return json.loads((EVENTS / name).read_text())


def s3_event(key, bucket=None, etag=None, size=None):
    """The captured S3 notification, pointed at one object of the test bucket."""
    event = load_event("s3_put.json")
    record = event["Records"][0]
    bucket = bucket or settings.MYBLOG_MEDIA_BUCKET
    record["s3"]["bucket"]["name"] = bucket
    record["s3"]["bucket"]["arn"] = f"arn:aws:s3:::{bucket}"
    record["s3"]["object"]["key"] = quote_plus(key)
    if etag is not None:
        record["s3"]["object"]["eTag"] = etag
    if size is not None:
        record["s3"]["object"]["size"] = size
    return event


def upload(aws, key, data):
    s3 = aws.client("s3")
    s3.put_object(Bucket=settings.MYBLOG_MEDIA_BUCKET, Key=key, Body=data, ContentType="image/jpeg")
    head = s3.head_object(Bucket=settings.MYBLOG_MEDIA_BUCKET, Key=key)
    return s3_event(key, etag=head["ETag"].strip('"'), size=head["ContentLength"])


def rendition_keys(aws):
    listing = aws.client("s3").list_objects_v2(
        Bucket=settings.MYBLOG_MEDIA_BUCKET, Prefix=settings.MYBLOG_RENDITIONS_PREFIX
    )
    return sorted(item["Key"] for item in listing.get("Contents", []))


def test_fixture_key_is_url_encoded_like_s3_sends_it():
    record = load_event("s3_put.json")["Records"][0]
    (obj,) = photos_events.created_objects({"Records": [record]})
    assert obj.key == ORIGINAL
    assert obj.etag == "d41d8cd98f00b204e9800998ecf8427e"
    assert obj.size == 1024


def test_rendition_keys_are_derived_from_the_original():
    assert photos_events.rendition_key(ORIGINAL, 640, "webp") == "media/renditions/2026/11/Holiday photo (1)/640.webp"
    assert photos_events.rendition_key("media/originals/a.b.png", 320, "jpeg") == "media/renditions/a.b/320.jpg"


def test_upload_makes_renditions_and_marks_the_photo_ready(aws):
    event = upload(aws, ORIGINAL, images.photo_jpeg((2400, 1600)))
    result = handlers.make_renditions(event, None)

    assert result == {photos_events.PROCESSED: [ORIGINAL]}
    photo = Photo.get(ORIGINAL)
    assert photo.status == PHOTO_READY
    assert (photo.width, photo.height, photo.content_type) == (2400, 1600, "image/jpeg")
    assert photo.etag == event["Records"][0]["s3"]["object"]["eTag"]
    assert photo.error is None
    made = sorted((int(r.width), r.format) for r in photo.renditions)
    assert made == sorted((w, f) for w in (1920, 1280, 960, 640, 320) for f in ("jpeg", "webp"))
    assert rendition_keys(aws) == sorted(r.key for r in photo.renditions)

    s3 = aws.client("s3")
    for rendition in photo.renditions:
        assert rendition.key.startswith(settings.MYBLOG_RENDITIONS_PREFIX)
        obj = s3.get_object(Bucket=settings.MYBLOG_MEDIA_BUCKET, Key=rendition.key)
        assert obj["ContentType"] == f"image/{rendition.format}"
        assert obj["CacheControl"] == "public, max-age=31536000, immutable"
        image = Image.open(io.BytesIO(obj["Body"].read()))
        assert image.size == (rendition.width, rendition.height)
        assert not image.getexif()


def test_redelivered_event_does_no_work(aws, monkeypatch):
    event = upload(aws, ORIGINAL, images.photo_jpeg((1400, 900)))
    handlers.make_renditions(event, None)
    before = Photo.get(ORIGINAL)

    def no_render(data):
        raise AssertionError("a redelivered event must not render again")

    monkeypatch.setattr(photos_events.images, "render", no_render)
    assert handlers.make_renditions(copy.deepcopy(event), None) == {photos_events.UNCHANGED: [ORIGINAL]}
    after = Photo.get(ORIGINAL)
    assert after.updated_at == before.updated_at
    assert len(rendition_keys(aws)) == len(before.renditions)


def test_event_without_etag_still_skips_a_processed_original(aws, monkeypatch):
    event = upload(aws, ORIGINAL, images.photo_jpeg((900, 600)))
    handlers.make_renditions(event, None)
    monkeypatch.setattr(photos_events.images, "render", lambda data: pytest.fail("rendered twice"))
    del event["Records"][0]["s3"]["object"]["eTag"]
    assert handlers.make_renditions(event, None) == {photos_events.UNCHANGED: [ORIGINAL]}


def test_pending_photo_from_the_admin_keeps_its_fields(aws):
    Photo(ORIGINAL, status=PHOTO_PENDING, alt="A beach", uploaded_by="editor", post_slug="summer").save()
    handlers.make_renditions(upload(aws, ORIGINAL, images.photo_jpeg((800, 600))), None)
    photo = Photo.get(ORIGINAL)
    assert photo.status == PHOTO_READY
    assert (photo.alt, photo.uploaded_by, photo.post_slug) == ("A beach", "editor", "summer")


def test_replaced_original_gets_new_renditions(aws):
    handlers.make_renditions(upload(aws, ORIGINAL, images.photo_jpeg((800, 600))), None)
    event = upload(aws, ORIGINAL, images.photo_jpeg((1300, 700)))
    assert handlers.make_renditions(event, None) == {photos_events.PROCESSED: [ORIGINAL]}
    photo = Photo.get(ORIGINAL)
    assert (photo.width, photo.height) == (1300, 700)
    assert photo.etag == event["Records"][0]["s3"]["object"]["eTag"]


def test_stale_event_for_a_replaced_object_does_nothing(aws):
    stale = upload(aws, ORIGINAL, images.photo_jpeg((800, 600)))
    upload(aws, ORIGINAL, images.photo_jpeg((1300, 700)))
    assert handlers.make_renditions(stale, None) == {photos_events.IGNORED: [ORIGINAL]}
    with pytest.raises(Photo.DoesNotExist):
        Photo.get(ORIGINAL)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="zero-bytes"),
        pytest.param(b"this is not an image", id="not-an-image"),
        pytest.param(images.truncated_jpeg(), id="truncated"),
        pytest.param(images.png_header(30000, 30000), id="decompression-bomb"),
    ],
)
def test_bad_upload_is_recorded_as_failed_and_not_retried(aws, data, caplog):
    event = upload(aws, ORIGINAL, data)
    assert handlers.make_renditions(event, None) == {photos_events.FAILED: [ORIGINAL]}
    photo = Photo.get(ORIGINAL)
    assert photo.status == PHOTO_FAILED
    assert photo.error
    assert photo.renditions == []
    assert rendition_keys(aws) == []
    assert "rejected" in caplog.text
    # Redelivered: nothing to do, no crash loop.
    assert handlers.make_renditions(event, None) == {photos_events.UNCHANGED: [ORIGINAL]}


def test_oversized_original_is_refused_before_download(aws, monkeypatch):
    event = upload(aws, ORIGINAL, images.photo_jpeg((400, 300)))
    event["Records"][0]["s3"]["object"]["size"] = photos_events.MAX_ORIGINAL_BYTES + 1
    monkeypatch.setattr(photos_events, "_download", lambda obj: pytest.fail("downloaded"))
    assert handlers.make_renditions(event, None) == {photos_events.FAILED: [ORIGINAL]}
    assert Photo.get(ORIGINAL).status == PHOTO_FAILED


def test_renditions_prefix_never_triggers_work(aws):
    key = "media/renditions/2026/11/x/640.jpg"
    event = upload(aws, key, images.photo_jpeg((640, 480)))
    assert handlers.make_renditions(event, None) == {photos_events.IGNORED: [key]}
    with pytest.raises(Photo.DoesNotExist):
        Photo.get(key)


def test_deleted_object_is_skipped(aws):
    event = s3_event("media/originals/2026/11/gone.jpg", etag="0123456789abcdef0123456789abcdef")
    assert handlers.make_renditions(event, None) == {photos_events.IGNORED: ["media/originals/2026/11/gone.jpg"]}


def test_malformed_records_are_skipped_and_the_rest_processed(aws, caplog):
    event = upload(aws, ORIGINAL, images.photo_jpeg((700, 500)))
    event["Records"].insert(0, {"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "x"}}})
    event["Records"].insert(0, "garbage")
    event["Records"].append({"eventName": "ObjectRemoved:Delete", "s3": {}})
    assert handlers.make_renditions(event, None) == {photos_events.PROCESSED: [ORIGINAL]}
    assert "Malformed S3 record" in caplog.text


@pytest.mark.parametrize(
    "event",
    [
        {"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": "2026-11-20T10:00:00.000Z", "Bucket": "b"},
        {},
        {"Records": []},
    ],
)
def test_events_without_objects_do_nothing(aws, event):
    assert handlers.make_renditions(event, None) == {}


def test_aws_failure_raises_so_lambda_retries(aws):
    event = s3_event(ORIGINAL, bucket="no-such-bucket-anywhere", etag="0123456789abcdef0123456789abcdef")
    with pytest.raises(Exception, match="NoSuchBucket"):
        handlers.make_renditions(event, None)


def test_publish_scheduled_publishes_due_posts(aws, caplog):
    now = timezone.now()
    services.create_post(
        slug="due",
        title="Due",
        status=SCHEDULED,
        publish_at=now - timezone.timedelta(minutes=1),
        now=now - timezone.timedelta(hours=1),
    )
    services.create_post(slug="later", title="Later", status=SCHEDULED, publish_at=now + timezone.timedelta(days=1))
    result = handlers.publish_scheduled(load_event("eventbridge_scheduled.json"), None)
    assert result == {"published": ["due"]}
    assert Post.get("due").status == PUBLISHED
    assert Post.get("later").status == SCHEDULED
    assert "due" in caplog.text
