"""The JSON Feed (version 1.1): the spec's required fields, the RSS feed's items, absolute URLs, sanitised HTML."""

import re
from xml.etree import ElementTree

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from photos.rendering import markdown_for_photo
from posts.feeds import absolute_urls
from tests.reader_fixtures import publish, ready_photo

pytestmark = pytest.mark.usefixtures("no_sql")

# What https://jsonfeed.org/version/1.1 requires (and the types of what it allows) of a feed and its items.
AUTHOR = {"type": "object", "properties": {"name": {"type": "string"}, "url": {"type": "string"}}}
ITEM = {
    "type": "object",
    "required": ["id"],
    "anyOf": [{"required": ["content_html"]}, {"required": ["content_text"]}],
    "properties": {
        "id": {"type": "string", "minLength": 1},
        "url": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "content_html": {"type": "string"},
        "image": {"type": "string", "format": "uri"},
        "summary": {"type": "string"},
        "date_published": {"type": "string", "format": "date-time"},
        "date_modified": {"type": "string", "format": "date-time"},
        "authors": {"type": "array", "items": AUTHOR, "minItems": 1},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
}
JSON_FEED = {
    "type": "object",
    "required": ["version", "title", "items"],
    "properties": {
        "version": {"const": "https://jsonfeed.org/version/1.1"},
        "title": {"type": "string", "minLength": 1},
        "home_page_url": {"type": "string", "format": "uri"},
        "feed_url": {"type": "string", "format": "uri"},
        "description": {"type": "string"},
        "language": {"type": "string"},
        "items": {"type": "array", "items": ITEM},
    },
}


@pytest.fixture
def blog(aws):
    photo = ready_photo("json-photo")
    publish("older", days_ago=3, tags=["aws"], body="Plain <b>text</b><script>alert(1)</script>.", author="")
    publish(
        "newer",
        days_ago=1,
        tags=["aws", "python"],
        author="Ada",
        body="See [the older post](/posts/older/).\n\n" + markdown_for_photo(photo.key, "A photo"),
    )


def test_the_json_feed_follows_the_spec(blog, client):
    response = client.get("/feed.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/feed+json; charset=utf-8"
    feed = response.json()
    Draft202012Validator(JSON_FEED, format_checker=FormatChecker()).validate(feed)
    assert feed["home_page_url"] == "https://blog.example.com/"
    assert feed["feed_url"] == "https://blog.example.com/feed.json"
    newer, older = feed["items"]
    assert newer["id"] == newer["url"] == "https://blog.example.com/posts/newer/"
    assert newer["authors"] == [{"name": "Ada"}] and newer["tags"] == ["aws", "python"]
    assert newer["summary"] == "About newer." and newer["title"] == "Newer"
    assert "author" not in newer  # 1.0's field: 1.1 has `authors`
    assert "<script" not in older["content_html"] and "<b>text</b>" in older["content_html"]


def test_the_json_feed_has_the_items_of_rss(blog, client):
    rss = ElementTree.fromstring(client.get("/feeds/rss.xml").content)  # noqa: S314 - the site's own output
    assert [item["url"] for item in client.get("/feed.json").json()["items"]] == [
        item.findtext("link") for item in rss.find("channel").findall("item")
    ]


def test_every_url_in_the_json_feed_is_absolute(blog, client):
    [newer, _] = client.get("/feed.json").json()["items"]
    html = newer["content_html"]
    assert 'href="https://blog.example.com/posts/older/"' in html
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    for srcset in re.findall(r'srcset="([^"]+)"', html):
        urls += [part.strip().split(" ")[0] for part in srcset.split(",")]
    assert len(urls) > 3 and all(url.startswith("https://") for url in urls), urls
    assert "/media/renditions/2026/11/json-photo/" in html


def test_site_relative_urls_are_made_absolute():
    html = '<a href="/x/">x</a><img src="/a.jpg" srcset="/a.jpg 320w, //cdn.example/b.jpg 640w, https://c/d.jpg 2x">'
    assert absolute_urls(html, "https://s.example") == (
        '<a href="https://s.example/x/">x</a><img src="https://s.example/a.jpg" '
        'srcset="https://s.example/a.jpg 320w, //cdn.example/b.jpg 640w, https://c/d.jpg 2x">'
    )


def test_every_page_links_the_json_feed(blog, client):
    html = client.get("/").content.decode()
    assert '<link rel="alternate" type="application/feed+json" title="MyBlog (JSON Feed)" href="/feed.json">' in html
