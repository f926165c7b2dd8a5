"""Listing cards: what a card shows follows the post and the request, though each card's HTML is remembered."""

import re
from datetime import UTC, datetime

import pytest
from django.test import override_settings
from django.urls import set_script_prefix
from django.utils import timezone

from posts import pages, services
from posts.models import StoredPhoto, StoredRendition
from tests.reader_fixtures import publish

# 23:30 UTC on 30 November: already 1 December in Auckland (UTC+13).
LATE_EVENING = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)


def _cover(width):
    return StoredPhoto(
        status="ready",
        width=width,
        height=width * 2 // 3,
        renditions=tuple(
            StoredRendition(width=size, height=size * 2 // 3, format=fmt, key=f"media/renditions/kite/{size}.{ext}")
            for size in (320, 640)
            if size <= width
            for fmt, ext in (("jpeg", "jpg"), ("webp", "webp"))
        ),
    )


def _card(**fields):
    values = {
        "slug": "red-kites",
        "title": "Red kites",
        "excerpt": "Over the ridge.",
        "tags": ("birds", "walks"),
        "author": "Ada",
        "publish_at": LATE_EVENING,
        "cover_image": "media/originals/kite.jpg",
        "cover_alt": "A red kite",
        "cover_photo": _cover(640),
    }
    return pages.Card(**{**values, **fields})


@pytest.fixture
def root_prefix():
    yield
    set_script_prefix("/")


def test_the_date_is_the_request_time_zones():
    with timezone.override("UTC"):
        in_utc = pages.card_html(_card())
    with timezone.override("Pacific/Auckland"):
        in_auckland = pages.card_html(_card())
    assert "30 November 2026" in in_utc
    assert "1 December 2026" in in_auckland
    assert 'datetime="2026-12-01T12:30:00+13:00"' in in_auckland


def test_links_follow_the_script_prefix(root_prefix):
    first = pages.card_html(_card())
    set_script_prefix("/dev/")
    staged = pages.card_html(_card())
    assert 'href="/posts/red-kites/"' in first
    assert 'href="/dev/posts/red-kites/"' in staged
    assert 'href="/dev/tags/birds/"' in staged


def test_cover_urls_follow_the_media_url():
    first = pages.card_html(_card())
    with override_settings(MEDIA_URL="https://media.example.com/"):
        elsewhere = pages.card_html(_card())
    assert "/media/renditions/kite/320.jpg 320w" in first
    assert "https://media.example.com/renditions/kite/320.jpg 320w" in elsewhere


def test_every_field_of_the_post_changes_the_card():
    shown = pages.card_html(_card())
    for field, value in [
        ("title", "Red kites at dusk"),
        ("excerpt", "Two of them."),
        ("tags", ("birds",)),
        ("author", "Grace"),
        ("reading_minutes", 4),
        ("cover_alt", "Two red kites"),
        ("cover_focus", "0.3,0.6"),
        ("cover_photo", _cover(320)),
    ]:
        assert pages.card_html(_card(**{field: value})) != shown, field


def test_a_card_whose_fields_cannot_be_a_key_is_built_all_the_same():
    assert pages.card_html(_card(tags=["birds", "walks"])) == pages.card_html(_card())


def test_everything_from_the_post_is_escaped():
    html = pages.card_html(_card(title="<script>alert(1)</script>", excerpt='"quoted" & <b>bold</b>'))
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&quot;quoted&quot; &amp; &lt;b&gt;bold&lt;/b&gt;" in html


def test_a_saved_post_shows_its_new_card_on_the_home_page(aws, client):
    post = publish("red-kites", title="Red kites")
    assert "Red kites</a></h2>" in client.get("/").content.decode()
    services.update_post("red-kites", expected_version=post.version, title="Red kites at dusk", user="editor")
    html = client.get("/").content.decode()
    assert re.findall(r'<h2 id="post-red-kites"><a href="[^"]+">([^<]+)</a>', html) == ["Red kites at dusk"]
