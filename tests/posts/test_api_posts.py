"""The posts API: list (cursor pagination, tag filter) and get by slug, checked against the OpenAPI document."""

from datetime import timedelta

import pytest
from django.utils import timezone

from photos.models import Photo, Rendition
from photos.rendering import markdown_for_photo
from photos.status import PHOTO_READY
from posts import services
from posts.rules import SCHEDULED
from tests.reader_fixtures import publish, ready_photo

pytestmark = pytest.mark.usefixtures("no_sql")


def test_list_returns_published_posts_newest_first(aws, client, schema_checker):
    publish("first", days_ago=2, tags=["aws"])
    publish("second", days_ago=1, tags=["python"], author="Ada")
    services.create_post(slug="draft", title="Draft", user="ed")
    response = client.get("/api/posts")
    data = schema_checker.check(response, "/api/posts")
    assert response.status_code == 200
    assert [item["slug"] for item in data["items"]] == ["second", "first"]
    assert data["next_cursor"] is None
    first = data["items"][1]
    assert first["url"] == "https://blog.example.com/posts/first/"
    assert first["tags"] == ["aws"] and first["title"] == "First" and first["excerpt"] == "About first."
    assert first["published_at"].endswith("Z") and data["items"][0]["author"] == "Ada"


def test_list_pages_with_cursor_and_limit(aws, client, schema_checker):
    for day in range(5):
        publish(f"p-{day}", days_ago=day + 1)
    slugs, cursor = [], None
    while True:
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        data = schema_checker.check(client.get("/api/posts", query), "/api/posts")
        slugs += [item["slug"] for item in data["items"]]
        assert len(data["items"]) <= 2
        cursor = data["next_cursor"]
        if cursor is None:
            break
    assert slugs == ["p-0", "p-1", "p-2", "p-3", "p-4"]


def test_list_filters_by_tag(aws, client, schema_checker):
    publish("tagged", days_ago=2, tags=["aws", "python"])
    publish("other", days_ago=1, tags=["python"])
    data = schema_checker.check(client.get("/api/posts", {"tag": "aws"}), "/api/posts")
    assert [item["slug"] for item in data["items"]] == ["tagged"]
    assert data["items"][0]["tags"] == ["aws", "python"]
    empty = schema_checker.check(client.get("/api/posts", {"tag": "unknown-tag"}), "/api/posts")
    assert empty == {"items": [], "next_cursor": None}


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"cursor": "garbage"}, "invalid_cursor"),
        ({"cursor": "x" * 300}, "invalid_cursor"),
        ({"limit": "0"}, "invalid_parameter"),
        ({"limit": "51"}, "invalid_parameter"),
        ({"limit": "ten"}, "invalid_parameter"),
        ({"tag": "Not A Tag"}, "invalid_parameter"),
        ({"page": "2"}, "invalid_parameter"),
    ],
)
def test_list_rejects_bad_parameters(aws, client, schema_checker, query, code):
    response = client.get("/api/posts", query)
    data = schema_checker.check(response, "/api/posts")
    assert response.status_code == 400
    assert data["error"]["code"] == code and data["error"]["message"]


def test_get_post_by_slug(aws, client, schema_checker):
    cover = ready_photo("cover")
    inline = ready_photo("inline")
    body = "Hello **there**.\n\n" + markdown_for_photo(inline.key, "Inline photo")
    publish("detail", tags=["aws"], body=body, cover_image=cover.key, cover_alt="A cover")
    response = client.get("/api/posts/detail")
    data = schema_checker.check(response, "/api/posts/{slug}")
    assert data["slug"] == "detail" and data["title"] == "Detail"
    assert "<strong>there</strong>" in data["body_html"]
    assert "/media/renditions/2026/11/inline/" in data["body_html"] and "photo:" not in data["body_html"]
    assert data["updated_at"].endswith("Z") and data["published_at"].endswith("Z")
    assert data["cover"]["alt"] == "A cover"
    assert (data["cover"]["width"], data["cover"]["height"]) == (1200, 800)
    assert data["cover"]["webp_srcset"].endswith("/1200.webp 1200w")
    assert data["cover"]["avif_srcset"].endswith("/1200.avif 1200w")
    assert data["cover"]["avif_srcset"].startswith("https://d111111abcdef8.cloudfront.net/media/renditions/")
    assert data["cover"]["src"].startswith("https://d111111abcdef8.cloudfront.net/media/renditions/")
    assert response["Last-Modified"]


def test_list_covers_offer_avif_from_the_listing_copy(aws, client, schema_checker):
    cover = ready_photo("listed")
    publish("listed", cover_image=cover.key, cover_alt="Listed cover")
    data = schema_checker.check(client.get("/api/posts"), "/api/posts")
    listed = data["items"][0]["cover"]
    assert listed["alt"] == "Listed cover"
    avifs = [rendition for rendition in cover.renditions if rendition.format == "avif"]
    assert avifs and listed["avif_srcset"].count(" ") == 2 * len(avifs) - 1
    assert listed["avif_srcset"].endswith("/1200.avif 1200w") and ".webp" not in listed["avif_srcset"]


def test_a_photo_made_before_avif_has_a_null_avif_srcset(aws, client, schema_checker):
    key = "media/originals/2026/11/older.jpg"
    renditions = [
        Rendition(width=width, height=width * 2 // 3, format=kind, key=f"media/renditions/2026/11/older/{width}.{ext}")
        for width in (640, 1200)
        for kind, ext in (("jpeg", "jpg"), ("webp", "webp"))
    ]
    Photo(key, status=PHOTO_READY, width=1200, height=800, renditions=renditions).save()
    publish("older", cover_image=key, cover_alt="Older cover")
    for path, schema_path in (("/api/posts/older", "/api/posts/{slug}"), ("/api/posts", "/api/posts")):
        data = schema_checker.check(client.get(path), schema_path)
        cover = data["cover"] if "cover" in data else data["items"][0]["cover"]
        assert cover["avif_srcset"] is None
        assert cover["webp_srcset"].endswith("/1200.webp 1200w") and cover["srcset"].endswith("/1200.jpg 1200w")


def test_a_post_without_cover_has_a_null_cover(aws, client, schema_checker):
    publish("plain")
    assert schema_checker.check(client.get("/api/posts/plain"), "/api/posts/{slug}")["cover"] is None


def test_unknown_draft_and_scheduled_slugs_are_404(aws, client, schema_checker):
    services.create_post(slug="draft", title="Draft", user="ed")
    services.create_post(
        slug="soon", title="Soon", status=SCHEDULED, publish_at=timezone.now() + timedelta(hours=1), user="ed"
    )
    for slug in ("missing", "draft", "soon", "Bad_Slug"):
        response = client.get(f"/api/posts/{slug}")
        data = schema_checker.check(response, "/api/posts/{slug}")
        assert data["error"]["code"] == "not_found"


def test_wrong_method_is_405_json_with_allow(aws, client, schema_checker):
    for path, template in (("/api/posts", "/api/posts"), ("/api/posts/any", "/api/posts/{slug}")):
        for method in ("post", "put", "delete", "patch"):
            response = getattr(client, method)(path)
            assert response.status_code == 405
            assert response["Allow"] == "GET, HEAD"
            assert response["Cache-Control"] == "private, no-store"
            if method == "post":
                assert schema_checker.check(response, template, "get")["error"]["code"] == "method_not_allowed"


def test_unknown_api_paths_are_json_404(aws, client):
    for path in ("/api/", "/api/nothing", "/api/posts/", "/api/posts/a/b"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


def test_head_returns_headers_only(aws, client):
    publish("head")
    response = client.head("/api/posts/head")
    assert response.status_code == 200 and response.content == b""
    assert response["ETag"]
