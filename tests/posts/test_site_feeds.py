"""RSS, Atom and the sitemaps: well-formed XML with absolute links, live posts only."""

import json
import re
from xml.etree import ElementTree

import pytest
from django.http import HttpResponse

from photos.rendering import markdown_for_photo
from tests.reader_fixtures import pending_photo, publish, ready_photo

pytestmark = pytest.mark.usefixtures("no_sql")

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def _xml(content):
    return ElementTree.fromstring(content)  # noqa: S314 - the site's own output


@pytest.fixture
def blog(aws):
    photo = ready_photo("feed-photo")
    publish("older", days_ago=3, tags=["aws"], body="Plain <b>text</b>.")
    publish(
        "newer",
        days_ago=1,
        tags=["aws", "python"],
        author="Ada",
        body="With a photo:\n\n" + markdown_for_photo(photo.key, "A photo"),
    )


def test_rss_feed(blog, client):
    response = client.get("/feeds/rss.xml")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/rss+xml; charset=utf-8"
    channel = _xml(response.content).find("channel")
    assert channel.findtext("title") == "MyBlog"
    assert channel.findtext("link") == "https://blog.example.com/"
    items = channel.findall("item")
    assert [item.findtext("link") for item in items] == [
        "https://blog.example.com/posts/newer/",
        "https://blog.example.com/posts/older/",
    ]
    newer = items[0]
    assert newer.findtext("guid") == "https://blog.example.com/posts/newer/"
    assert [category.text for category in newer.findall("category")] == ["aws", "python"]
    assert "/media/renditions/2026/11/feed-photo/" in newer.findtext("description")
    assert "<b>text</b>" in items[1].findtext("description")


def test_atom_feed(blog, client):
    response = client.get("/feeds/atom.xml")
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    feed = _xml(response.content)
    assert feed.find(f"{ATOM}link[@rel='self']").get("href") == "https://blog.example.com/feeds/atom.xml"
    entries = feed.findall(f"{ATOM}entry")
    assert [entry.findtext(f"{ATOM}title") for entry in entries] == ["Newer", "Older"]
    assert entries[0].find(f"{ATOM}author").findtext(f"{ATOM}name") == "Ada"
    assert entries[0].findtext(f"{ATOM}updated")


def _locations(content, element="url"):
    return [entry.findtext(f"{SITEMAP}loc") for entry in _xml(content).findall(f"{SITEMAP}{element}")]


def test_sitemap_index_lists_the_pages_and_posts_sitemaps(blog, client):
    response = client.get("/sitemap.xml")
    assert response["Content-Type"] == "application/xml; charset=utf-8"
    index = _xml(response.content)
    assert index.tag == f"{SITEMAP}sitemapindex"
    assert _locations(response.content, "sitemap") == [
        "https://blog.example.com/sitemaps/pages.xml",
        "https://blog.example.com/sitemaps/posts.xml",
    ]
    assert all(entry.findtext(f"{SITEMAP}lastmod") for entry in index.findall(f"{SITEMAP}sitemap"))


def test_sitemaps_list_home_posts_and_tags(blog, client):
    response = client.get("/sitemaps/pages.xml")
    assert response["Content-Type"] == "application/xml; charset=utf-8"
    assert _locations(response.content) == [
        "https://blog.example.com/",
        "https://blog.example.com/tags/aws/",
        "https://blog.example.com/tags/python/",
    ]
    posts = client.get("/sitemaps/posts.xml").content
    assert _locations(posts) == [  # oldest first: a new post only ever changes the last page
        "https://blog.example.com/posts/older/",
        "https://blog.example.com/posts/newer/",
    ]
    for content in (response.content, posts):
        assert all(url.findtext(f"{SITEMAP}lastmod") for url in _xml(content).findall(f"{SITEMAP}url"))


def test_feeds_of_an_empty_blog_are_valid(aws, client):
    assert _xml(client.get("/feeds/rss.xml").content).find("channel/item") is None
    assert _xml(client.get("/feeds/atom.xml").content).find(f"{ATOM}entry") is None
    assert client.get("/feed.json").json()["items"] == []
    assert _locations(client.get("/sitemap.xml").content, "sitemap") == ["https://blog.example.com/sitemaps/pages.xml"]
    assert _locations(client.get("/sitemaps/pages.xml").content) == ["https://blog.example.com/"]
    assert client.get("/sitemaps/posts.xml").status_code == 404


@pytest.mark.parametrize("path", ["/feeds/rss.xml", "/feeds/atom.xml", "/feed.json"])
def test_feed_with_a_photo_still_processing_is_kept_briefly(aws, client, path):
    publish("ready", days_ago=2, body="Ready:\n\n" + markdown_for_photo(ready_photo("done").key, "Done"))
    assert "s-maxage=86400" in client.get(path)["Cache-Control"]
    publish("waiting", days_ago=1, body="Soon:\n\n" + markdown_for_photo(pending_photo("soon").key, "Soon"))
    response = client.get(path)
    assert response.status_code == 200
    assert "s-maxage=60" in response["Cache-Control"] and "86400" not in response["Cache-Control"]
    assert "originals" not in response.content.decode()


def test_a_feed_reads_its_twenty_newest_posts_and_no_more(aws, client, dynamodb_calls):
    for number in range(22):
        publish(f"post-{number:02d}", days_ago=number + 1)
    dynamodb_calls.clear()
    feed = client.get("/feed.json").json()
    assert [item["url"].rsplit("/", 2)[1] for item in feed["items"]] == [f"post-{n:02d}" for n in range(20)]
    [(operation, query)] = dynamodb_calls.operations  # the stored HTML is current: no photo read
    assert operation == "Query" and query["Limit"] == 20  # no 21st post to learn of a next page it has not got
    # A listing's attributes and the body (as written and as stored): not the history or the photo tracking.
    projected = set(query["ExpressionAttributeNames"].values())
    assert {"slug", "title", "body", "body_html", "cover_photo"} <= projected
    assert not projected & {"former_slugs", "photo_keys", "history_id", "updated_by"}


@pytest.mark.parametrize("path", ["/feeds/rss.xml", "/feeds/atom.xml", "/feed.json"])
def test_a_feed_follows_every_change_though_its_document_is_remembered(aws, client, settings, path):
    from posts import services

    post = publish("kites", days_ago=2, title="Red kites", body="Two kites over the ridge.")
    publish("owls", days_ago=3, title="Owls")
    first = client.get(path).content.decode()
    assert "Red kites" in first and "Two kites over the ridge." in first
    assert client.get(path).content.decode() == first  # the same entries: the same document

    services.update_post("kites", expected_version=post.version, body="Three kites now.", user="editor")
    edited = client.get(path).content.decode()
    assert "Three kites now." in edited and "Two kites over the ridge." not in edited

    services.unpublish_post("kites", user="editor")
    unpublished = client.get(path).content.decode()
    assert "kites" not in unpublished and "Owls" in unpublished

    settings.MYBLOG_SITE_URL = "https://elsewhere.example.org"
    moved = client.get(path).content.decode()
    assert "https://elsewhere.example.org/posts/owls/" in moved
    assert "https://blog.example.com/posts/owls/" not in moved


def test_a_child_sitemap_no_page_starts_from_is_a_404(blog, client):
    from datetime import timedelta

    from django.utils import timezone

    from posts import queries

    signed = queries.Cursor(timezone.now() - timedelta(days=2), "older").encode()
    assert "/posts/newer/" in client.get(f"/sitemaps/posts/{signed}.xml").content.decode()
    for cursor in (
        "not-a-cursor",
        signed[:-2] + "xx",  # tampered
        signed + "a" * 300,  # too long
        queries.Cursor(timezone.now() + timedelta(days=1), "later").encode(),  # after now
        queries.Cursor(timezone.now() - timedelta(minutes=1), "past-the-newest").encode(),  # an empty page
    ):
        response = client.get(f"/sitemaps/posts/{cursor}.xml")
        assert response.status_code == 404, cursor
        assert "max-age=60" in response["Cache-Control"]


def _entry_html(path, content):
    """The HTML of the newest entry of the feed at `path` (RSS, Atom or JSON Feed)."""
    if path == "/feed.json":
        return json.loads(content)["items"][0]["content_html"]
    if path == "/feeds/rss.xml":
        return _xml(content).find("channel/item").findtext("description")
    return _xml(content).find(f"{ATOM}entry").findtext(f"{ATOM}summary")


def _urls(html):
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    for srcset in re.findall(r'srcset="([^"]+)"', html):
        urls += [part.strip().split(" ")[0] for part in srcset.split(",")]
    return urls


@pytest.mark.parametrize("path", ["/feeds/rss.xml", "/feeds/atom.xml", "/feed.json"])
def test_a_feed_entry_shows_the_posts_cover_first_and_every_url_absolute(aws, client, path):
    cover = ready_photo("feed-cover")
    body = "See [the older post](/posts/older/).\n\n" + markdown_for_photo(ready_photo("feed-inline").key, "Inline")
    publish("older", days_ago=2)
    publish("covered", days_ago=1, cover_image=cover.key, cover_alt="Kites over the ridge", body=body)
    html = _entry_html(path, client.get(path).content)
    assert html.startswith("<picture>"), html[:300]
    first_picture = html[: html.index("</picture>")]
    assert 'alt="Kites over the ridge"' in first_picture
    assert "/media/renditions/2026/11/feed-cover/" in first_picture and 'type="image/webp"' in first_picture
    assert 'href="https://blog.example.com/posts/older/"' in html
    urls = _urls(html)
    assert len(urls) > 6 and all(url.startswith("https://") for url in urls), urls
    assert "originals" not in html


def test_the_json_feed_names_the_cover_as_the_items_image(aws, client):
    cover = ready_photo("json-cover", size=(2400, 1600))
    publish("plain", days_ago=3)
    publish("covered", days_ago=2, cover_image=cover.key, cover_alt="A cover")
    publish("waiting", days_ago=1, cover_image=pending_photo("json-soon").key, cover_alt="Soon")
    waiting, covered, plain = client.get("/feed.json").json()["items"]
    assert re.fullmatch(r"https://\S+/media/renditions/2026/11/json-cover/\S+\.jpg", covered["image"]), covered
    assert "image" not in plain
    # A cover still processing is not shown yet (nor its original): the entry is its body alone.
    assert "image" not in waiting and not waiting["content_html"].startswith("<picture>")
    assert "originals" not in json.dumps(waiting)


@pytest.mark.parametrize("path", ["/feeds/rss.xml", "/feeds/atom.xml", "/feed.json"])
def test_a_remembered_feeds_etag_is_its_contents_and_answers_conditional_requests(aws, client, path):
    from django.utils.cache import set_response_etag

    from posts import services

    def etag(response):  # as Django computes it for a response
        return set_response_etag(HttpResponse(response.content))["ETag"]

    post = publish("kites", days_ago=2, body="Two kites.")
    first = client.get(path)
    assert first["ETag"] == etag(first)
    again = client.get(path)  # the remembered document
    assert again.content == first.content and again["ETag"] == first["ETag"]
    assert client.get(path, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    services.update_post("kites", expected_version=post.version, body="Three kites.", user="editor")
    changed = client.get(path, HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200 and changed["ETag"] == etag(changed) != first["ETag"]
