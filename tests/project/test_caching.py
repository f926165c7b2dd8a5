"""Edge caching: Cache-Control per kind of response, ETag/Last-Modified with 304s, Vary, nothing personal cached."""

from datetime import timedelta

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils.http import http_date

from myblog import caching
from posts import services
from posts.models import Post
from tests.reader_fixtures import pending_photo, publish

pytestmark = pytest.mark.usefixtures("no_sql")

LISTING = "public, max-age=60, s-maxage=86400, stale-while-revalidate=86400, stale-if-error=604800"
POST = "public, max-age=60, s-maxage=86400, stale-if-error=604800"
CONTENT = "public, max-age=300, s-maxage=86400, stale-while-revalidate=86400, stale-if-error=604800"
STATIC = "public, max-age=3600, s-maxage=86400, stale-while-revalidate=86400, stale-if-error=604800"
NEGATIVE = "public, max-age=60, s-maxage=300"
NO_STORE = "private, no-store"
NEVER_CACHED = "max-age=0, no-cache, no-store, must-revalidate, private"


@pytest.fixture
def blog(aws):
    publish("cached", tags=["aws"], title="Cached")


@pytest.mark.parametrize(
    ("method", "path", "cache_control"),
    [
        ("get", "/", LISTING),
        ("get", "/tags/aws/", LISTING),
        ("get", "/feeds/rss.xml", LISTING),
        ("get", "/feeds/atom.xml", LISTING),
        ("get", "/sitemap.xml", LISTING),
        ("get", "/sitemaps/pages.xml", LISTING),
        ("get", "/sitemaps/posts.xml", LISTING),
        ("get", "/feed.json", LISTING),
        ("get", "/api/posts", LISTING),
        ("get", "/posts/cached/", POST),
        ("get", "/api/posts/cached", CONTENT),
        ("get", "/robots.txt", STATIC),
        ("get", "/api/openapi.json", STATIC),
        ("get", "/api/docs/", STATIC),
        ("get", "/posts/missing/", NEGATIVE),
        ("get", "/api/posts/missing", NEGATIVE),
        ("get", "/api/posts?cursor=bad", NEGATIVE),
        ("get", "/page/bad-cursor/", NEGATIVE),
        ("get", "/sitemaps/posts/bad-cursor.xml", NEGATIVE),
        ("get", "/elsewhere/", NEGATIVE),
        ("get", "/subscribe/", NEVER_CACHED),
        ("get", "/subscribe/unsubscribe/bad-token/", NEVER_CACHED),
        ("post", "/api/subscribers", NO_STORE),
        ("post", "/api/posts", NO_STORE),
        ("post", "/", NO_STORE),
        ("get", "/admin/login/", NEVER_CACHED),
    ],
)
def test_cache_control_per_kind_of_response(blog, client, method, path, cache_control):
    response = getattr(client, method)(path)
    assert response["Cache-Control"] == cache_control


def test_public_responses_carry_validators_and_no_vary_or_cookies(blog, client):
    paths = ["/", "/posts/cached/", "/tags/aws/", "/feeds/rss.xml", "/feed.json", "/api/posts/cached"]
    for path in [*paths, "/sitemap.xml", "/sitemaps/pages.xml", "/sitemaps/posts.xml"]:
        response = client.get(path)
        assert response["ETag"].startswith('"') and response["Last-Modified"]
        assert "Vary" not in response, path
        assert not response.cookies, path


def test_if_none_match_gets_a_304_until_the_content_changes(blog, client):
    for path in (
        "/posts/cached/",
        "/",
        "/tags/aws/",
        "/api/posts/cached",
        "/api/posts",
        "/feeds/atom.xml",
        "/feed.json",
        "/sitemap.xml",
        "/sitemaps/posts.xml",
    ):
        first = client.get(path)
        again = client.get(path, headers={"If-None-Match": first["ETag"]})
        assert again.status_code == 304, path
        assert again.content == b""
        assert again["ETag"] == first["ETag"] and again["Cache-Control"] == first["Cache-Control"]
    before = client.get("/posts/cached/")
    post = Post.get("cached")
    services.update_post("cached", expected_version=post.version, title="Changed", user="ed")
    after = client.get("/posts/cached/", headers={"If-None-Match": before["ETag"]})
    assert after.status_code == 200 and after["ETag"] != before["ETag"]
    assert "Changed" in after.content.decode()


def test_post_pages_answer_if_modified_since_from_the_posts_last_change(blog, client):
    post = Post.get("cached")
    response = client.get("/posts/cached/")
    assert response["Last-Modified"] == http_date(post.updated_at.timestamp())
    since = http_date((post.updated_at + timedelta(seconds=1)).timestamp())
    assert client.get("/posts/cached/", headers={"If-Modified-Since": since}).status_code == 304
    earlier = http_date((post.updated_at - timedelta(hours=1)).timestamp())
    assert client.get("/posts/cached/", headers={"If-Modified-Since": earlier}).status_code == 200


def test_listings_only_validate_by_etag(blog, client):
    """A listing's newest date can go backwards (unpublishing): If-Modified-Since alone never gets a 304."""
    publish("newer", days_ago=0)
    response = client.get("/")
    since = response["Last-Modified"]
    services.unpublish_post("newer", user="ed")
    again = client.get("/", headers={"If-Modified-Since": since})
    assert again.status_code == 200 and "Newer" not in again.content.decode()


def test_a_page_with_photos_still_processing_is_kept_briefly(aws, client):
    photo = pending_photo("processing")
    publish("soon-sharp", cover_image=photo.key, cover_alt="Soon")
    for path in ("/posts/soon-sharp/", "/api/posts/soon-sharp"):
        response = client.get(path)
        assert response["Cache-Control"] == "public, max-age=60, s-maxage=60", path
        assert client.get(path, headers={"If-None-Match": response["ETag"]}).status_code == 304
    # Listings show no photos, so they are cached as usual.
    assert client.get("/")["Cache-Control"] == LISTING


def test_head_requests_get_the_same_headers(blog, client):
    get, head = client.get("/posts/cached/"), client.head("/posts/cached/")
    assert head.status_code == 200 and head.content == b""
    assert head["ETag"] == get["ETag"] and head["Cache-Control"] == get["Cache-Control"]


def _view_with(cookie=False, vary=None, cache_control=None):
    def view(request):
        response = HttpResponse("hello")
        if cookie:
            response.set_cookie("csrftoken", "secret-token")
        if vary:
            response.headers["Vary"] = vary
        if cache_control:
            response.headers["Cache-Control"] = cache_control
        return response

    return caching.PrivateByDefaultMiddleware(view)


def test_the_safety_net_never_lets_a_personal_response_be_public():
    request = RequestFactory().get("/")
    assert _view_with()(request)["Cache-Control"] == NO_STORE
    assert _view_with(cookie=True, cache_control=LISTING)(request)["Cache-Control"] == NO_STORE
    assert _view_with(vary="Accept-Encoding, Cookie", cache_control=LISTING)(request)["Cache-Control"] == NO_STORE
    assert _view_with(vary="Accept-Encoding", cache_control=LISTING)(request)["Cache-Control"] == LISTING


def test_policies_render_as_cache_control_headers():
    assert caching.Policy(max_age=10, s_maxage=20).header == "public, max-age=10, s-maxage=20"
    assert caching.CONTENT.header == CONTENT


def test_an_unpublished_post_leaves_a_readers_browser_within_a_minute(blog, client):
    directives = dict(
        (part.split("=") + [""])[:2] for part in client.get("/posts/cached/")["Cache-Control"].split(", ")
    )
    assert int(directives["max-age"]) <= 60 and "stale-while-revalidate" not in directives
    assert int(directives["s-maxage"]) == 86400  # the edge keeps it, and is invalidated on change
    services.unpublish_post("cached", user="ed")
    gone = client.get("/posts/cached/")
    assert gone.status_code == 404 and "max-age=60" in gone["Cache-Control"]


def test_public_pages_forbid_every_external_request(blog, client):
    import base64
    import hashlib
    import re

    for path in ("/", "/posts/cached/", "/subscribe/", "/api/docs/", "/posts/missing/"):
        response = client.get(path)
        policy = dict(part.split(" ", 1) for part in response["Content-Security-Policy"].split("; "))
        assert policy["default-src"] == "'none'" and "script-src" not in policy
        assert policy["img-src"] == "'self' https://d111111abcdef8.cloudfront.net"
        assert policy["form-action"] == "'self'" and policy["frame-ancestors"] == "'none'"
        # The one inline stylesheet is allowed by its hash, so the page keeps its styles.
        [css] = re.findall(r"<style>(.*?)</style>", response.content.decode(), re.S)
        digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
        assert policy["style-src"] == f"'sha256-{digest}'"
    assert "Content-Security-Policy" not in client.get("/admin/login/")
