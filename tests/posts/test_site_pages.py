"""The public site: home, older pages, post pages, tag pages, 404s, and what readers never see."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from photos.rendering import markdown_for_photo
from posts import queries, services
from posts.rules import SCHEDULED
from tests.reader_fixtures import pending_photo, publish, ready_photo

pytestmark = pytest.mark.usefixtures("no_sql")


def _tags(html, name):
    """The attributes of every <name> tag in `html`, as dicts (attribute order is the sanitiser's)."""
    return [dict(re.findall(r'([\w-]+)="([^"]*)"', tag)) for tag in re.findall(rf"<{name}\b[^>]*>", html)]


def _titles(html):
    return re.findall(r'<h2 id="post-[^"]+"><a href="[^"]+">([^<]+)</a>', html)


def test_home_lists_published_posts_newest_first(aws, client):
    publish("older", days_ago=3)
    publish("newer", days_ago=1)
    response = client.get("/")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert _titles(response.content.decode()) == ["Newer", "Older"]


def test_drafts_and_scheduled_posts_are_never_shown(aws, client):
    publish("live", days_ago=1, tags=["news"])
    services.create_post(slug="a-draft", title="A draft", tags=["news"], user="ed")
    services.create_post(
        slug="later", title="Later", tags=["news"], status=SCHEDULED, publish_at=timezone.now() + timedelta(days=1)
    )
    home = client.get("/").content.decode()
    assert "A draft" not in home and "Later" not in home
    assert client.get("/posts/a-draft/").status_code == 404
    assert client.get("/posts/later/").status_code == 404
    assert _titles(client.get("/tags/news/").content.decode()) == ["Live"]
    feed = client.get("/feeds/rss.xml").content.decode()
    assert "a-draft" not in feed and "later" not in feed
    assert "a-draft" not in client.get("/sitemap.xml").content.decode()


def test_unpublished_post_disappears(aws, client):
    publish("gone-soon")
    assert client.get("/posts/gone-soon/").status_code == 200
    services.unpublish_post("gone-soon", user="ed")
    assert client.get("/posts/gone-soon/").status_code == 404
    assert "Gone Soon" not in client.get("/").content.decode()


def test_home_paginates_with_a_cursor_in_the_path(aws, client):
    for day in range(12):
        publish(f"post-{day:02d}", days_ago=day + 1)
    first = client.get("/").content.decode()
    assert _titles(first) == [f"Post {day:02d}" for day in range(10)]
    next_url = re.search(r'<a href="(/page/[^"]+/)" rel="next">', first).group(1)
    second = client.get(next_url)
    assert second.status_code == 200
    assert _titles(second.content.decode()) == ["Post 10", "Post 11"]
    assert 'rel="next"' not in second.content.decode()
    # A post published meanwhile does not shift the older page.
    publish("brand-new", days_ago=0)
    assert _titles(client.get(next_url).content.decode()) == ["Post 10", "Post 11"]


@pytest.mark.parametrize(
    "cursor", ["not-a-cursor", "bm90fGEgY3Vyc29y", "MjAyNi0wMS0wMVQwMDowMDowMC4wMDAwMDArMDAwMHxCYWQgU2x1Zw"]
)
def test_a_bad_cursor_is_a_400_page(aws, client, cursor):
    response = client.get(f"/page/{cursor}/")
    assert response.status_code == 400
    assert "That link does not work" in response.content.decode()


def test_post_page_renders_markdown_safely_with_meta_tags(aws, client):
    publish(
        "hello",
        title="Hello & welcome",
        excerpt="A first post.",
        tags=["intro"],
        body="# Heading\n\nSome **bold** text.<script>alert(1)</script>\n\n[x](javascript:alert(1))",
    )
    response = client.get("/posts/hello/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<h1 id="post-title">Hello &amp; welcome</h1>' in html
    assert "<h2>Heading</h2>" in html and "<strong>bold</strong>" in html
    assert "<script>alert" not in html and "javascript:" not in html
    assert '<link rel="canonical" href="https://blog.example.com/posts/hello/">' in html
    assert '<meta property="og:title" content="Hello &amp; welcome">' in html
    assert '<meta property="og:type" content="article">' in html
    assert '<meta property="og:description" content="A first post.">' in html
    assert '<meta property="article:tag" content="intro">' in html
    assert '<a href="/tags/intro/">#intro</a>' in html


def test_post_page_shows_cover_and_inline_photos_from_renditions(aws, client):
    cover = ready_photo("cover")
    inline = ready_photo("inline", size=(800, 1200))
    body = "Intro.\n\n" + markdown_for_photo(inline.key, "A tall photo", "Caption text") + "\n\nEnd."
    publish("photos", cover_image=cover.key, cover_alt="A wide photo", body=body)
    html = client.get("/posts/photos/").content.decode()
    # Cover: AVIF, then WebP, and JPEG srcsets over the renditions, intrinsic size, loaded first.
    cover_block = re.search(r'<figure class="cover">(.*?)</figure>', html, re.S).group(1)
    avif, source = _tags(cover_block, "source")
    [img] = _tags(cover_block, "img")
    assert avif["type"] == "image/avif" and avif["srcset"].endswith("/1200.avif 1200w")
    assert avif["sizes"] == source["sizes"]
    assert source["type"] == "image/webp"
    assert [part.rsplit(" ", 1)[1] for part in source["srcset"].split(", ")] == ["320w", "640w", "960w", "1200w"]
    assert img["srcset"].endswith("/1200.jpg 1200w") and "media/renditions/" in img["src"]
    assert (img["width"], img["height"]) == ("1200", "800")
    assert img["alt"] == "A wide photo" and img["fetchpriority"] == "high" and img["sizes"] == source["sizes"]
    # Inline: a <picture> in a <figure> with its caption, lazily loaded.
    figure = re.search(r'<div class="prose">.*?(<figure>.*?</figure>)', html, re.S).group(1)
    avif, source = _tags(figure, "source")
    [img] = _tags(figure, "img")
    assert avif["type"] == "image/avif" and avif["srcset"].endswith("/800.avif 800w")
    assert source["type"] == "image/webp" and source["srcset"].endswith("/800.webp 800w")
    assert img["loading"] == "lazy" and img["decoding"] == "async"
    assert (img["width"], img["height"]) == ("800", "1200")
    assert img["alt"] == "A tall photo" and "<figcaption>Caption text</figcaption>" in figure
    assert "photo:" not in html
    # Open Graph image: an absolute URL of a JPEG rendition.
    og = re.search(r'<meta property="og:image" content="([^"]+)">', html).group(1)
    assert og.startswith("https://d111111abcdef8.cloudfront.net/media/renditions/") and og.endswith(".jpg")


def test_photo_still_processing_shows_its_description_until_its_renditions_exist(aws, client):
    """An original keeps the camera's EXIF (GPS position included): readers never get it."""
    photo = pending_photo("fresh")
    cover = pending_photo("fresh-cover")
    body = "Before.\n\n" + markdown_for_photo(photo.key, "A fresh photo", "Its caption") + "\n\nAfter."
    publish("fresh-photo", body=body, cover_image=cover.key, cover_alt="A fresh cover")
    response = client.get("/posts/fresh-photo/")
    html = response.content.decode()
    assert "originals/" not in html
    assert _tags(html, "img") == [] and "<picture>" not in html
    assert '<figure class="cover">' not in html and 'property="og:image"' not in html
    prose = re.search(r'<div class="prose">(.*?)</div>', html, re.S).group(1)
    assert "<p>A fresh photo</p>" in prose  # the description stays in the text
    # Cached briefly, so the renditions show up once they are made.
    assert "s-maxage=60" in response["Cache-Control"]

    ready_photo("fresh")
    ready_photo("fresh-cover")
    response = client.get("/posts/fresh-photo/")
    html = response.content.decode()
    assert "originals/" not in html
    [cover_img, inline_img] = _tags(html, "img")
    assert cover_img["alt"] == "A fresh cover" and "/media/renditions/2026/11/fresh-cover/" in cover_img["src"]
    assert inline_img["alt"] == "A fresh photo" and "/media/renditions/2026/11/fresh/" in inline_img["src"]
    assert "<figcaption>Its caption</figcaption>" in html
    assert "s-maxage=86400" in response["Cache-Control"]


def test_tag_page_lists_only_that_tag(aws, client):
    publish("one", days_ago=2, tags=["aws", "python"])
    publish("two", days_ago=1, tags=["python"])
    response = client.get("/tags/aws/")
    assert response.status_code == 200
    html = response.content.decode()
    assert _titles(html) == ["One"]
    assert 'Posts tagged <span class="tag-name">“aws”</span>' in html
    assert _titles(client.get("/tags/python/").content.decode()) == ["Two", "One"]
    assert client.get("/tags/nothing-here/").status_code == 404
    assert client.get("/tags/Not_A_Tag/").status_code == 404


def test_tag_page_paginates(aws, client):
    for day in range(11):
        publish(f"t-{day:02d}", days_ago=day + 1, tags=["many"])
    first = client.get("/tags/many/").content.decode()
    next_url = re.search(r'<a href="(/tags/many/page/[^"]+/)" rel="next">', first).group(1)
    assert _titles(client.get(next_url).content.decode()) == ["T 10"]


def test_unknown_pages_get_the_404_template(aws, client):
    for path in ("/posts/missing/", "/no/such/page/"):
        response = client.get(path)
        assert response.status_code == 404
        html = response.content.decode()
        assert "Page not found" in html and '<meta name="robots" content="noindex">' in html


def test_pages_are_accessible_and_self_contained(aws, client):
    publish("a11y", cover_image=ready_photo("a11y").key, cover_alt="Described")
    for path in ("/", "/posts/a11y/", "/tags/python/", "/subscribe/", "/api/docs/", "/posts/missing/"):
        html = client.get(path).content.decode()
        assert '<html lang="en">' in html
        assert '<a class="skip-link" href="#content">Skip to content</a>' in html
        assert '<main id="content"' in html and "<header" in html and "<footer" in html
        assert '<nav class="site-nav" aria-label="Site">' in html
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
        assert ":focus-visible" in html  # focus styles are part of the page
        # No external requests: no scripts, stylesheets or fonts from anywhere. Post pages
        # carry JSON-LD, a data block that is never executed.
        scripts = re.findall(r"<script\b[^>]*>", html)
        assert scripts == (['<script type="application/ld+json">'] if path == "/posts/a11y/" else []), path
        assert "src=" not in "".join(scripts)
        assert '<link rel="stylesheet"' not in html and "@import" not in html and "@font-face" not in html
        for img in _tags(html, "img"):
            assert "alt" in img
    assert queries.PAGE_SIZE == 10


def test_robots_txt_points_to_the_sitemap(aws, client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    text = response.content.decode()
    assert "Disallow: /admin/" in text
    assert "Sitemap: https://blog.example.com/sitemap.xml" in text
