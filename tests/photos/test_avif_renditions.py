"""AVIF renditions: made by the upload handler and the re-render job, offered first in `<picture>`.

Real photo-like images (noise textures over a gradient, with camera EXIF)
through a real-shaped S3 event on moto; photos stored before AVIF existed
(JPEG and WebP renditions only) must keep rendering, without an AVIF source.
"""

import io
import re

from django.conf import settings
from django.core.management import call_command
from PIL import Image, ImageChops, ImageStat

from myblog.storage import public_url
from photos import handlers, processing, rerender
from photos.keys import rendition_key
from photos.models import Photo, Rendition
from photos.rendering import photo_sources, picture_element, picture_html
from photos.status import PHOTO_READY
from posts.rendering import render_markdown
from tests import image_fixtures as images
from tests.photos.test_handlers_photos import rendition_keys, upload
from tests.sqs_fixtures import body_event

KEY = "media/originals/2026/12/textured.jpg"
WIDTHS = (1920, 1280, 960, 640, 320)


def textured(size=(2400, 1600)):
    """A photo-like picture: grain and blotches of every scale over a gradient, not flat colour."""
    width, height = size
    bands = []
    for seed, angle in ((1, 0), (2, 90), (3, 45)):
        coarse = Image.effect_noise((width // 40, height // 40), 60 + seed).resize(size, Image.Resampling.BICUBIC)
        fine = Image.effect_noise(size, 25)
        gradient = Image.linear_gradient("L").rotate(angle).resize(size)
        bands.append(Image.blend(Image.blend(gradient, coarse, 0.5), fine, 0.15))
    return Image.merge("RGB", bands)


def textured_jpeg(size=(2400, 1600), picture=None):
    return images.encode(picture or textured(size), "JPEG", quality=90, exif=images.camera_exif())


def mean_difference(a, b):
    """The mean absolute difference per channel (0-255) between two same-sized images, over 8x8 blocks.

    Block means, so that the grain (which a lossy encoder smooths) does not count, but the picture does.
    """
    a, b = a.convert("RGB").reduce(8), b.convert("RGB").reduce(8)
    return sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 3


def ready(key, formats, widths=(640, 960)):
    renditions = [
        Rendition(width=w, height=w * 2 // 3, format=f, key=rendition_key(key, w, f)) for w in widths for f in formats
    ]
    return Photo(key, status=PHOTO_READY, width=max(widths), height=max(widths) * 2 // 3, renditions=renditions)


def source_tags(html):
    return re.findall(r"<source [^>]*>", html)


# --- the upload handler ------------------------------------------------------------


def test_an_upload_gets_avif_renditions_of_every_width_that_decode(aws):
    original = textured((2400, 1600))
    result = handlers.make_renditions(upload(aws, KEY, textured_jpeg(picture=original)), None)
    assert result == {processing.PROCESSED: [KEY]}

    photo = Photo.get(KEY)
    assert photo.formats == ("jpeg", "webp", "avif")
    avifs = sorted((r for r in photo.renditions if r.format == "avif"), key=lambda r: -r.width)
    assert [(int(r.width), int(r.height)) for r in avifs] == [(w, round(w * 1600 / 2400)) for w in WIDTHS]
    s3 = aws.client("s3")
    for rendition in avifs:
        assert rendition.key == rendition_key(KEY, int(rendition.width), "avif")
        assert rendition.key.endswith(f"/{int(rendition.width)}.avif")
        obj = s3.get_object(Bucket=settings.MYBLOG_MEDIA_BUCKET, Key=rendition.key)
        assert obj["ContentType"] == "image/avif"
        assert obj["CacheControl"] == processing.CACHE_CONTROL
        data = obj["Body"].read()
        image = Image.open(io.BytesIO(data))
        image.load()
        assert image.format == "AVIF" and image.mode == "RGB"
        assert image.size == (rendition.width, rendition.height)
        assert not image.getexif() and b"Camera Maker" not in data
        # The same picture, not just a file of the right size.
        expected = original.resize(image.size, Image.Resampling.BICUBIC)
        assert mean_difference(image, expected) < 4, rendition.width
        assert mean_difference(image, expected.transpose(Image.Transpose.FLIP_LEFT_RIGHT)) > 10
    # Lighter than the JPEG of the same width, on a photo.
    by_width = {(int(r.width), r.format): r for r in photo.renditions}
    widest_avif = s3.head_object(Bucket=settings.MYBLOG_MEDIA_BUCKET, Key=by_width[1920, "avif"].key)
    widest_jpeg = s3.head_object(Bucket=settings.MYBLOG_MEDIA_BUCKET, Key=by_width[1920, "jpeg"].key)
    assert widest_avif["ContentLength"] < widest_jpeg["ContentLength"]


def test_a_transparent_upload_keeps_its_alpha_in_avif(aws):
    handlers.make_renditions(upload(aws, "media/originals/2026/12/logo.png", images.transparent_png()), None)
    photo = Photo.get("media/originals/2026/12/logo.png")
    (avif,) = [r for r in photo.renditions if r.format == "avif" and int(r.width) == 800]
    body = aws.client("s3").get_object(Bucket=settings.MYBLOG_MEDIA_BUCKET, Key=avif.key)["Body"].read()
    image = Image.open(io.BytesIO(body))
    assert image.mode == "RGBA" and image.getpixel((400, 590))[3] == 0 and image.getpixel((2, 2))[3] == 255


# --- the markup ----------------------------------------------------------------------


def test_picture_offers_avif_first_then_webp_then_the_jpeg_img():
    photo = ready(KEY, ("jpeg", "webp", "avif"))
    html = str(picture_html(photo, KEY, "Hills"))
    assert re.fullmatch(r"<picture><source [^>]*><source [^>]*><img [^>]*></picture>", html)
    avif, webp = source_tags(html)
    assert 'type="image/avif"' in avif and 'type="image/webp"' in webp
    assert f"{public_url(rendition_key(KEY, 640, 'avif'))} 640w, " in avif and "960.avif 960w" in avif
    assert ".webp" not in avif and ".avif" not in webp
    element = picture_element(photo, KEY, "Hills")
    assert [(child.tag, child.get("type")) for child in element] == [
        ("source", "image/avif"),
        ("source", "image/webp"),
        ("img", None),
    ]
    sources = photo_sources(photo, KEY)
    assert sources.avif_srcset.endswith("960.avif 960w") and sources.src.endswith("960.jpg")


def test_a_text_keeps_the_avif_source_through_the_sanitiser():
    photo = ready(KEY, ("jpeg", "webp", "avif"))
    html = render_markdown(f"![Hills](photo:{KEY})", load_photos=lambda keys: {KEY: photo})
    avif, webp = source_tags(html)
    assert 'type="image/avif"' in avif and "640.avif 640w" in avif and 'type="image/webp"' in webp


def test_a_photo_made_before_avif_renders_without_an_avif_source():
    old = ready(KEY, ("jpeg", "webp"))
    assert old.formats == ("jpeg", "webp")
    html = str(picture_html(old, KEY, "Hills"))
    (webp,) = source_tags(html)
    assert 'type="image/webp"' in webp and "avif" not in html
    assert [child.tag for child in picture_element(old, KEY, "Hills")] == ["source", "img"]
    assert photo_sources(old, KEY).avif_srcset == ""
    text = render_markdown(f"![Hills](photo:{KEY})", load_photos=lambda keys: {KEY: old})
    assert "avif" not in text and len(source_tags(text)) == 1
    # A JPEG-only photo (older still) is a plain <img>.
    assert str(picture_html(ready(KEY, ("jpeg",)), KEY, "Hills")).startswith("<img ")


# --- the re-render job ----------------------------------------------------------------


def made_before_avif(aws, key):
    """A ready photo as the handler made it before AVIF: its AVIF renditions gone from S3 and from the item."""
    handlers.make_renditions(upload(aws, key, textured_jpeg((1000, 700))), None)
    photo = Photo.get(key)
    s3 = aws.client("s3")
    for rendition in photo.renditions:
        if rendition.format == "avif":
            s3.delete_object(Bucket=settings.MYBLOG_MEDIA_BUCKET, Key=rendition.key)
    Photo(key).update(actions=[Photo.renditions.set([r for r in photo.renditions if r.format != "avif"])])
    return Photo.get(key)


def test_rerender_only_missing_makes_the_avif_renditions_of_old_photos(aws, job_queues):
    old = made_before_avif(aws, KEY)
    assert old.formats == ("jpeg", "webp") and rerender.needs_renditions(old)
    assert not any(key.endswith(".avif") for key in rendition_keys(aws))

    out = io.StringIO()
    call_command("rerender-photos", "--only-missing", stdout=out)
    assert out.getvalue().startswith("Started re-render job ")
    job_queues.drain(rerender.QUEUE, handlers.rerender_photos)  # as the queue's Lambda mapping would

    photo = Photo.get(KEY)
    assert photo.formats == ("jpeg", "webp", "avif") and not rerender.needs_renditions(photo)
    assert photo.render_job and photo.render_error is None
    s3 = aws.client("s3")
    for width in (1000, 960, 640, 320):
        key = rendition_key(KEY, width, "avif")
        assert key in rendition_keys(aws)
        obj = s3.get_object(Bucket=settings.MYBLOG_MEDIA_BUCKET, Key=key)
        assert obj["ContentType"] == "image/avif"
        image = Image.open(io.BytesIO(obj["Body"].read()))
        assert image.format == "AVIF" and image.width == width
    html = str(picture_html(photo, KEY, "Hills"))
    assert 'type="image/avif"' in source_tags(html)[0]


def test_a_photo_message_renders_the_avif_files_too(aws, job_queues):
    made_before_avif(aws, KEY)
    job = rerender.start()
    response = handlers.rerender_photos(body_event(rerender.QUEUE, rerender.photo_message(job.job_id, KEY)), None)
    assert response == {"batchItemFailures": []}
    assert {int(r.width) for r in Photo.get(KEY).renditions if r.format == "avif"} == {1000, 960, 640, 320}
