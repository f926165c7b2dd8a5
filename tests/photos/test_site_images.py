"""Readers' images: renditions only.

An original keeps the camera's EXIF metadata, GPS position included, so no
public page, feed, API response or Open Graph tag ever links one, also
while its renditions are being made. And a post's body loads no image but
the site's renditions: any other `<img>` (raw HTML or Markdown) is dropped,
its alt text kept.
"""

import html
import re

import pytest
from django.conf import settings

from myblog.storage import public_url
from photos.models import Photo, Rendition
from photos.rendering import markdown_for_photo
from photos.status import PHOTO_FAILED, PHOTO_PENDING, PHOTO_READY
from posts.rendering import render_markdown
from tests.reader_fixtures import original_key, pending_photo, publish, ready_photo

RENDITIONS = "https://d111111abcdef8.cloudfront.net/media/renditions/"
RENDITION = RENDITIONS + "2026/11/kite/640.jpg"
ORIGINAL = "https://d111111abcdef8.cloudfront.net/media/originals/2026/11/kite.jpg"
PRESIGNED = (
    f"https://{settings.MYBLOG_MEDIA_BUCKET}.s3.amazonaws.com/media/originals/2026/11/kite.jpg"
    "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=900&X-Amz-Signature=abc123"
)


def images(output):
    return re.findall(r"<img\b[^>]*>", output)


# --- no original on any public response ------------------------------------------------


@pytest.fixture
def blog(aws):
    """Posts with photos in every state, referenced every way an editor can."""
    cover = ready_photo("ready-cover")
    inline = ready_photo("ready-inline")
    waiting = pending_photo("waiting")
    waiting_cover = pending_photo("waiting-cover")
    Photo(original_key("broken"), status=PHOTO_FAILED, error="not an image").save()
    pasted = public_url(inline.key)  # the original's address, pasted instead of photo:
    body = "\n\n".join(
        [
            "Some text.",
            markdown_for_photo(inline.key, "Ready"),
            markdown_for_photo(waiting.key, "Waiting", "Still processing"),
            markdown_for_photo(original_key("broken"), "Broken"),
            markdown_for_photo(original_key("never-uploaded"), "Missing"),
            f"![Pasted]({pasted})",
            f'<img src="{pasted}" alt="Raw original">',
            f'<p><img src="{public_url(waiting.key)}" alt="Raw waiting"></p>',
        ]
    )
    publish("photos", body=body, cover_image=cover.key, cover_alt="Ready cover", tags=["photos"])
    publish("waiting-cover", cover_image=waiting_cover.key, cover_alt="Waiting cover", tags=["photos"])


PUBLIC_READS = [
    "/",
    "/tags/photos/",
    "/posts/photos/",
    "/posts/waiting-cover/",
    "/feeds/rss.xml",
    "/feeds/atom.xml",
    "/sitemap.xml",
    "/api/posts",
    "/api/posts/photos",
    "/api/posts/waiting-cover",
]


@pytest.mark.usefixtures("no_sql")
def test_no_public_response_links_an_original(blog, client):
    originals = settings.MYBLOG_ORIGINALS_PREFIX.removeprefix("media/")
    for path in PUBLIC_READS:
        response = client.get(path)
        assert response.status_code == 200, path
        assert originals not in response.content.decode(), path


@pytest.mark.usefixtures("no_sql")
def test_photos_are_shown_from_renditions_or_by_their_description(blog, client):
    page = client.get("/posts/photos/").content.decode()
    shown = {html.unescape(dict(re.findall(r'(\w+)="([^"]*)"', tag))["alt"]) for tag in images(page)}
    assert shown == {"Ready cover", "Ready", "Pasted"}
    assert all(RENDITIONS in tag for tag in images(page))
    prose = re.search(r'<div class="prose">(.*?)</div>', page, re.S).group(1)
    for description in ("Waiting", "Broken", "Missing", "Raw original", "Raw waiting"):
        assert description in prose
    og = re.search(r'<meta property="og:image" content="([^"]+)">', page).group(1)
    assert og.startswith(RENDITIONS + "2026/11/ready-cover/")

    waiting = client.get("/posts/waiting-cover/")
    assert images(waiting.content.decode()) == [] and b'property="og:image"' not in waiting.content
    assert "s-maxage=60" in waiting["Cache-Control"]  # cached briefly while its photo is made
    assert client.get("/api/posts/waiting-cover").json()["cover"] is None
    cover = client.get("/api/posts/photos").json()["cover"]
    assert cover["src"].startswith(RENDITIONS) and all(
        part.startswith(RENDITIONS) for part in cover["srcset"].split(", ")
    )


# --- images in a post's body --------------------------------------------------------------


def test_an_image_from_elsewhere_is_dropped_and_its_description_kept():
    assert render_markdown('Look: <img src=x alt="A cat">!') == "<p>Look: A cat!</p>"
    assert render_markdown("![The logo](https://example.com/logo.png)") == "<p>The logo</p>"
    assert render_markdown("Before <img src=x> after") == "<p>Before  after</p>"


@pytest.mark.parametrize(
    "src",
    [
        "x",
        "/media/renditions/2026/11/kite/640.jpg",  # not on the media domain
        "//example.com/media/renditions/kite.jpg",
        "https://example.com/media/renditions/kite.jpg",
        "https://d111111abcdef8.cloudfront.net/media/renditions-not/kite.jpg",
        ORIGINAL,
        RENDITIONS + "../originals/2026/11/kite.jpg",
        RENDITIONS + "2026/%2e%2e/%2E%2E/originals/2026/11/kite.jpg",
        RENDITIONS + "2026\\..\\..\\originals\\2026\\11\\kite.jpg",
        RENDITIONS + "2026/.\t./.\n./originals/2026/11/kite.jpg",
        RENDITIONS + "2026//kite.jpg",
        RENDITIONS + "2026/11/kite/640.jpg?original=1",
        RENDITIONS,
        PRESIGNED,  # only the admin's preview shows presigned originals
        "javascript:alert(1)",
        "data:image/png;base64,iVBORw0KGgo=",
    ],
)
def test_only_renditions_may_be_an_image_source(src):
    output = render_markdown(f'<img src="{html.escape(src)}" alt="Described">')
    assert images(output) == [] and "Described" in output


def test_a_rendition_may_be_shown_with_raw_html():
    output = render_markdown(f'<img src="{RENDITION}" alt="Kite" width="640" height="427">')
    [tag] = images(output)
    assert f'src="{RENDITION}"' in tag and 'alt="Kite"' in tag


def test_a_srcset_may_only_name_renditions():
    mixed = f"{RENDITION} 640w, https://example.com/kite.jpg 960w"
    [tag] = images(render_markdown(f'<img src="{RENDITION}" srcset="{mixed}" alt="Kite">'))
    assert "srcset" not in tag and f'src="{RENDITION}"' in tag
    kept = f"{RENDITION} 640w, {RENDITIONS}2026/11/kite/960.jpg 960w"
    [tag] = images(render_markdown(f'<img src="{RENDITION}" srcset="{kept}" alt="Kite">'))
    assert f'srcset="{kept}"' in tag
    output = render_markdown(
        f'<picture><source srcset="https://example.com/kite.webp 640w" type="image/webp">'
        f'<img src="{RENDITION}" alt="Kite"></picture>'
    )
    assert "example.com" not in output and '<source type="image/webp">' in output


def test_a_dropped_image_keeps_its_description_escaped():
    output = render_markdown("""<img src=x alt='a > "b" src="y' title="<b>t</b>">""")
    assert images(output) == [] and "<b>" not in output
    assert html.unescape(re.sub(r"</?p>", "", output)) == 'a > "b" src="y'


def test_a_photo_reference_that_is_not_an_original_shows_its_description():
    assert render_markdown("![Elsewhere](photo:media/renditions/2026/11/kite/640.jpg)") == "<p>Elsewhere</p>"
    assert render_markdown("![Escaping](photo:media/originals/../static/x.jpg)") == "<p>Escaping</p>"


# --- the admin's preview ------------------------------------------------------------------


def photo(status, **fields):
    return Photo("media/originals/2026/11/kite.jpg", status=status, width=1600, height=1200, **fields)


def presigned(key):
    return PRESIGNED


def test_a_photo_still_processing_is_shown_to_editors_from_a_presigned_original():
    body = markdown_for_photo("media/originals/2026/11/kite.jpg", "Kite")
    pending = photo(PHOTO_PENDING)
    preview = render_markdown(body, load_photos=lambda keys: {pending.key: pending}, original_url=presigned)
    [tag] = images(preview)
    assert f'src="{html.escape(PRESIGNED)}"' in tag and 'width="1600"' in tag and 'height="1200"' in tag
    # Readers' renderer: the description only.
    assert render_markdown(body, load_photos=lambda keys: {pending.key: pending}) == "<p>Kite</p>"
    # Nothing else from that address: a failed photo, or the URL typed into the text.
    failed = photo(PHOTO_FAILED)
    assert images(render_markdown(body, load_photos=lambda keys: {failed.key: failed}, original_url=presigned)) == []
    typed = f'<img src="{html.escape(PRESIGNED)}" alt="Typed">'
    assert images(render_markdown(typed, load_photos=lambda keys: {}, original_url=presigned)) == []


def test_a_ready_photo_is_shown_from_its_renditions_in_the_preview_too():
    ready = photo(
        PHOTO_READY,
        renditions=[
            Rendition(width=w, height=w * 3 // 4, format=f, key=f"media/renditions/2026/11/kite/{w}.{f}")
            for w in (640, 960)
            for f in ("jpeg", "webp")
        ],
    )
    body = markdown_for_photo(ready.key, "Kite")
    preview = render_markdown(body, load_photos=lambda keys: {ready.key: ready}, original_url=presigned)
    assert preview == render_markdown(body, load_photos=lambda keys: {ready.key: ready})
    assert "X-Amz" not in preview and RENDITIONS + "2026/11/kite/960.jpeg" in preview
