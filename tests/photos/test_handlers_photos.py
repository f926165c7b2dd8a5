"""photos.handlers.make_renditions with real-shaped S3 events and real images (moto)."""

import copy
import io
import json
import re
from pathlib import Path
from urllib.parse import quote_plus

import pytest
from django.conf import settings
from django.utils import timezone
from PIL import Image

from photos import handlers, processing
from photos.keys import rendition_key
from photos.models import Photo
from photos.status import PHOTO_FAILED, PHOTO_PENDING, PHOTO_READY
from posts import handlers as post_handlers
from posts import services
from posts.models import Post
from posts.rules import PUBLISHED, SCHEDULED
from tests import image_fixtures as images

EVENTS = Path(__file__).resolve().parents[1] / "events"
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
    (obj,) = processing.created_objects({"Records": [record]})
    assert obj.key == ORIGINAL
    assert obj.etag == "d41d8cd98f00b204e9800998ecf8427e"
    assert obj.size == 1024


def test_rendition_keys_are_derived_from_the_original():
    assert rendition_key(ORIGINAL, 640, "webp") == "media/renditions/2026/11/Holiday photo (1)/640.webp"
    assert rendition_key("media/originals/a.b.png", 320, "jpeg") == "media/renditions/a.b/320.jpg"


def test_upload_makes_renditions_and_marks_the_photo_ready(aws):
    event = upload(aws, ORIGINAL, images.photo_jpeg((2400, 1600)))
    result = handlers.make_renditions(event, None)

    assert result == {processing.PROCESSED: [ORIGINAL]}
    photo = Photo.get(ORIGINAL)
    assert photo.status == PHOTO_READY
    assert (photo.width, photo.height, photo.content_type) == (2400, 1600, "image/jpeg")
    assert photo.etag == event["Records"][0]["s3"]["object"]["eTag"]
    assert photo.error is None
    made = sorted((int(r.width), r.format) for r in photo.renditions)
    assert made == sorted((w, f) for w in (1920, 1280, 960, 640, 320) for f in ("jpeg", "webp", "avif"))
    assert photo.formats == ("jpeg", "webp", "avif")
    assert rendition_keys(aws) == sorted(r.key for r in photo.renditions)

    s3 = aws.client("s3")
    for rendition in photo.renditions:
        assert rendition.key.startswith(settings.MYBLOG_RENDITIONS_PREFIX)
        obj = s3.get_object(Bucket=settings.MYBLOG_MEDIA_BUCKET, Key=rendition.key)
        assert obj["ContentType"] == f"image/{rendition.format}"
        assert obj["CacheControl"] == "public, max-age=31536000, immutable"
        image = Image.open(io.BytesIO(obj["Body"].read()))
        assert image.format == rendition.format.upper()
        assert image.size == (rendition.width, rendition.height)
        assert not image.getexif()


def test_redelivered_event_does_no_work(aws, monkeypatch):
    event = upload(aws, ORIGINAL, images.photo_jpeg((1400, 900)))
    handlers.make_renditions(event, None)
    before = Photo.get(ORIGINAL)

    def no_render(data):
        raise AssertionError("a redelivered event must not render again")

    monkeypatch.setattr(processing.images, "render", no_render)
    assert handlers.make_renditions(copy.deepcopy(event), None) == {processing.UNCHANGED: [ORIGINAL]}
    after = Photo.get(ORIGINAL)
    assert after.updated_at == before.updated_at
    assert len(rendition_keys(aws)) == len(before.renditions)


def test_event_without_etag_still_skips_a_processed_original(aws, monkeypatch):
    event = upload(aws, ORIGINAL, images.photo_jpeg((900, 600)))
    handlers.make_renditions(event, None)
    monkeypatch.setattr(processing.images, "render", lambda data: pytest.fail("rendered twice"))
    del event["Records"][0]["s3"]["object"]["eTag"]
    assert handlers.make_renditions(event, None) == {processing.UNCHANGED: [ORIGINAL]}


def test_pending_photo_from_the_admin_keeps_its_fields(aws):
    Photo(ORIGINAL, status=PHOTO_PENDING, alt="A beach", uploaded_by="editor", owner="summer").save()
    handlers.make_renditions(upload(aws, ORIGINAL, images.photo_jpeg((800, 600))), None)
    photo = Photo.get(ORIGINAL)
    assert photo.status == PHOTO_READY
    assert (photo.alt, photo.uploaded_by, photo.owner) == ("A beach", "editor", "summer")


def test_replaced_original_gets_new_renditions(aws):
    handlers.make_renditions(upload(aws, ORIGINAL, images.photo_jpeg((800, 600))), None)
    event = upload(aws, ORIGINAL, images.photo_jpeg((1300, 700)))
    assert handlers.make_renditions(event, None) == {processing.PROCESSED: [ORIGINAL]}
    photo = Photo.get(ORIGINAL)
    assert (photo.width, photo.height) == (1300, 700)
    assert photo.etag == event["Records"][0]["s3"]["object"]["eTag"]


def test_stale_event_for_a_replaced_object_does_nothing(aws):
    stale = upload(aws, ORIGINAL, images.photo_jpeg((800, 600)))
    upload(aws, ORIGINAL, images.photo_jpeg((1300, 700)))
    assert handlers.make_renditions(stale, None) == {processing.IGNORED: [ORIGINAL]}
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
    assert handlers.make_renditions(event, None) == {processing.FAILED: [ORIGINAL]}
    photo = Photo.get(ORIGINAL)
    assert photo.status == PHOTO_FAILED
    assert photo.error
    assert photo.renditions == []
    assert rendition_keys(aws) == []
    assert "rejected" in caplog.text
    # Redelivered: nothing to do, no crash loop.
    assert handlers.make_renditions(event, None) == {processing.UNCHANGED: [ORIGINAL]}


def test_oversized_original_is_refused_before_download(aws, monkeypatch):
    event = upload(aws, ORIGINAL, images.photo_jpeg((400, 300)))
    event["Records"][0]["s3"]["object"]["size"] = processing.MAX_ORIGINAL_BYTES + 1
    monkeypatch.setattr(processing, "_download", lambda obj: pytest.fail("downloaded"))
    assert handlers.make_renditions(event, None) == {processing.FAILED: [ORIGINAL]}
    assert Photo.get(ORIGINAL).status == PHOTO_FAILED


@pytest.mark.parametrize("size", ["1024", True, 1024.5, -1, "+1_0", None, [1024]])
def test_a_size_of_another_shape_is_unknown_and_the_download_is_capped(aws, size, monkeypatch):
    event = upload(aws, ORIGINAL, images.photo_jpeg((400, 300)))
    event["Records"][0]["s3"]["object"]["size"] = size
    assert processing.created_objects(event)[0].size is None
    assert handlers.make_renditions(event, None) == {processing.PROCESSED: [ORIGINAL]}
    # Unknown size: the download's own cap still refuses a file too large.
    Photo.get(ORIGINAL).delete()
    monkeypatch.setattr(processing, "MAX_ORIGINAL_BYTES", 100)
    assert handlers.make_renditions(event, None) == {processing.IGNORED: [ORIGINAL]}
    assert Photo.get(ORIGINAL).status == PHOTO_FAILED


def test_renditions_prefix_never_triggers_work(aws):
    key = "media/renditions/2026/11/x/640.jpg"
    event = upload(aws, key, images.photo_jpeg((640, 480)))
    assert handlers.make_renditions(event, None) == {processing.IGNORED: [key]}
    with pytest.raises(Photo.DoesNotExist):
        Photo.get(key)


def test_deleted_object_is_skipped(aws):
    event = s3_event("media/originals/2026/11/gone.jpg", etag="0123456789abcdef0123456789abcdef")
    assert handlers.make_renditions(event, None) == {processing.IGNORED: ["media/originals/2026/11/gone.jpg"]}


def test_malformed_records_are_skipped_and_the_rest_processed(aws, caplog):
    event = upload(aws, ORIGINAL, images.photo_jpeg((700, 500)))
    event["Records"].insert(0, {"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "x"}}})
    event["Records"].insert(0, "garbage")
    event["Records"].append({"eventName": "ObjectRemoved:Delete", "s3": {}})
    assert handlers.make_renditions(event, None) == {processing.PROCESSED: [ORIGINAL]}
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
    result = post_handlers.publish_scheduled(load_event("eventbridge_scheduled.json"), None)
    assert result == {"published": ["due"]}
    assert Post.get("due").status == PUBLISHED
    assert Post.get("later").status == SCHEDULED
    assert "due" in caplog.text


# -- every kind of bad image: recorded, never raised ---------------------------------------------

TOO_TALL_FOR_WEBP = "WEBP allows at most 16383 px a side"
NOT_SUPPORTED = "not a supported image"

# (data, what the editor reads) for files that can never be made into renditions.
UNUSABLE = [
    pytest.param(b"", "the file is empty", id="zero-bytes"),
    pytest.param(images.truncated_jpeg(), "cannot decode the image", id="truncated-jpeg"),
    pytest.param(images.truncated_png(), "cannot decode the image", id="truncated-png"),
    pytest.param(images.png_header(30000, 30000), "too large", id="bomb-png-30000x30000"),
    pytest.param(images.png_header(9000, 9000), "too large", id="bomb-png-81-megapixels"),
    pytest.param(images.jpeg_bomb(60000, 60000), "too large", id="bomb-jpeg-60000x60000"),
    pytest.param(images.jpeg_bomb(9000, 9000), "too large", id="bomb-jpeg-81-megapixels"),
    pytest.param(images.gif_bomb(9000, 9000), "too large", id="bomb-gif-81-megapixels"),
    pytest.param(images.tall("PNG", (800, 18000)), TOO_TALL_FOR_WEBP, id="png-800x18000"),
    pytest.param(images.tall("JPEG", (1000, 17000)), TOO_TALL_FOR_WEBP, id="jpeg-1000x17000"),
    pytest.param(images.tall("GIF", (800, 17000)), TOO_TALL_FOR_WEBP, id="gif-800x17000"),
    pytest.param(images.PDF, NOT_SUPPORTED, id="pdf-named-jpg"),
    pytest.param(images.SVG, NOT_SUPPORTED, id="svg-named-jpg"),
    pytest.param(images.HTML, NOT_SUPPORTED, id="html-named-jpg"),
    pytest.param(images.ZIP, NOT_SUPPORTED, id="zip-named-jpg"),
    pytest.param(images.bmp(), NOT_SUPPORTED, id="bmp-named-jpg"),
    pytest.param(images.tiff(), NOT_SUPPORTED, id="tiff-named-jpg"),
]

# (data, upright size) for unusual files that are photos all the same: they get renditions.
USABLE = [
    pytest.param(images.animated_gif(), (640, 480), id="animated-gif"),
    pytest.param(images.animated_webp(), (640, 480), id="animated-webp"),
    pytest.param(images.cmyk_jpeg(), (800, 600), id="cmyk-jpeg"),
    pytest.param(images.grey16_png(), (700, 500), id="16-bit-png"),
    pytest.param(images.palette_transparent_png(), (600, 400), id="palette-transparency-png"),
    pytest.param(images.palette_transparent_gif(), (600, 400), id="palette-transparency-gif"),
    pytest.param(images.corrupt_exif_jpeg(), (900, 600), id="corrupt-exif-jpeg"),
    # Huge sides whose renditions every format can encode: the widest is 1920 px, the tallest fits WebP.
    pytest.param(images.tall("PNG", (17000, 1000)), (17000, 1000), id="png-17000x1000"),
    pytest.param(images.tall("WEBP", (600, 16383)), (600, 16383), id="webp-600x16383"),
]


def pending(key=ORIGINAL):
    """The Photo the admin records when it grants the upload."""
    Photo(key, status=PHOTO_PENDING, uploaded_by="editor", owner="trip").save()


@pytest.mark.parametrize(("data", "reason"), UNUSABLE)
def test_every_unusable_file_is_marked_failed_with_its_reason(aws, data, reason, caplog):
    pending()
    event = upload(aws, ORIGINAL, data)
    assert handlers.make_renditions(event, None) == {processing.FAILED: [ORIGINAL]}
    photo = Photo.get(ORIGINAL)
    assert photo.status == PHOTO_FAILED
    assert reason in photo.error
    # The editor reads our words, never Python's or Pillow's (`<_io.BytesIO object at 0x...>`).
    assert "<" not in photo.error and not re.search(r"\b0x[0-9a-f]+", photo.error) and "Error" not in photo.error
    assert photo.renditions == [] and rendition_keys(aws) == []
    assert (photo.uploaded_by, photo.owner) == ("editor", "trip")
    assert "rejected" in caplog.text
    # The record is done: a redelivery does nothing and raises nothing.
    assert handlers.make_renditions(event, None) == {processing.UNCHANGED: [ORIGINAL]}


@pytest.mark.parametrize(("data", "size"), USABLE)
def test_unusual_photos_get_their_renditions(aws, data, size):
    pending()
    assert handlers.make_renditions(upload(aws, ORIGINAL, data), None) == {processing.PROCESSED: [ORIGINAL]}
    photo = Photo.get(ORIGINAL)
    assert photo.status == PHOTO_READY and photo.error is None
    assert (photo.width, photo.height) == size
    assert {r.format for r in photo.renditions} == {"jpeg", "webp", "avif"}
    assert rendition_keys(aws) == sorted(r.key for r in photo.renditions)


@pytest.mark.parametrize(
    "size", [pytest.param((800, 18000), id="png-800x18000"), pytest.param((16384, 600), id="png-16384x600")]
)
def test_format_limits_are_checked_before_anything_is_decoded(aws, monkeypatch, size):
    from PIL import ImageFile

    decoded = []
    load = ImageFile.ImageFile.load

    def recording_load(image):
        decoded.append(image.size)
        return load(image)

    monkeypatch.setattr(ImageFile.ImageFile, "load", recording_load)
    data = images.tall("PNG", size)
    if size[0] > size[1]:
        # Wide photos are narrowed to 1920 px first: only a tall one can exceed WebP's limit.
        assert handlers.make_renditions(upload(aws, ORIGINAL, data), None) == {processing.PROCESSED: [ORIGINAL]}
        return
    assert handlers.make_renditions(upload(aws, ORIGINAL, data), None) == {processing.FAILED: [ORIGINAL]}
    assert decoded == []
    assert Photo.get(ORIGINAL).error.startswith("the photo is 800x18000 px: its largest rendition would be 800x18000")


@pytest.mark.parametrize(
    "fault",
    [MemoryError(), RuntimeError("encoder error -2"), ZeroDivisionError("division by zero"), KeyError("mode")],
    ids=lambda fault: type(fault).__name__,
)
def test_no_fault_of_the_image_work_escapes_the_handler(aws, monkeypatch, fault, caplog):
    """A fault nobody foresaw in decoding or encoding: the photo fails, the event is consumed."""
    pending()
    event = upload(aws, ORIGINAL, images.photo_jpeg((900, 600)))

    def broken(data):
        raise fault

    monkeypatch.setattr(processing.images, "render", broken)
    assert handlers.make_renditions(event, None) == {processing.FAILED: [ORIGINAL]}
    photo = Photo.get(ORIGINAL)
    assert photo.status == PHOTO_FAILED
    assert photo.error == f"the image could not be processed ({type(fault).__name__})"
    assert "could not be made" in caplog.text
    assert handlers.make_renditions(event, None) == {processing.UNCHANGED: [ORIGINAL]}


def test_the_editor_reads_why_a_photo_failed_on_its_card(editor_client, aws):
    key = editor_client.post(
        "/admin/posts/post/photos/upload/",
        json.dumps({"content_type": "image/png", "size": 1000, "post": "tall-story"}),
        content_type="application/json",
    ).json()["key"]
    handlers.make_renditions(upload(aws, key, images.tall("PNG", (800, 18000))), None)
    card = editor_client.get("/admin/posts/post/photos/status/", {"key": key}).json()
    assert card["status"] == PHOTO_FAILED
    assert card["status_label"].startswith("failed: the photo is 800x18000 px")
    assert TOO_TALL_FOR_WEBP in card["error"]
    services.create_post(slug="tall-story", title="Tall story")
    page = editor_client.get("/admin/posts/post/tall-story/change/").content.decode()
    assert "failed: the photo is 800x18000 px" in page
