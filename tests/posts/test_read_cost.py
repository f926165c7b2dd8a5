"""Every public page and API read costs at most two DynamoDB reads, never a Scan, and no SQL.

A post page makes one more: a Query for its related posts (`posts.related`).
Search makes none: it ranks over the index held in memory (`posts.search`).

The calls are counted where PynamoDB sends them (`dynamodb_calls`), so a
call through DAX counts the same. SQL is refused outright (`no_sql`), also
when the reader's browser carries an editor's session cookie.
"""

import re

import pytest

from photos.rendering import markdown_for_photo
from tests.reader_fixtures import READ_OPERATIONS, pending_photo, publish, ready_photo

pytestmark = pytest.mark.usefixtures("no_sql")


@pytest.fixture
def site(aws, reindex):
    """A blog with enough posts for two pages, covers, inline photos and tags."""
    cover = ready_photo("cover")
    inline = ready_photo("inline", size=(640, 960))
    waiting = pending_photo("waiting")
    for day in range(12):
        publish(
            f"post-{day:02d}",
            days_ago=day + 1,
            tags=["aws", "python"] if day % 2 else ["aws"],
            cover_image=cover.key if day % 3 == 0 else None,
            cover_alt="Cover",
        )
    body = f"Text.\n\n{markdown_for_photo(inline.key, 'Inline')}\n\n{markdown_for_photo(waiting.key, 'Waiting')}"
    publish("with-photos", days_ago=0, tags=["photos"], cover_image=cover.key, cover_alt="Cover", body=body)
    reindex()  # the search index, as the search-index queue's handler rebuilds it


def _next(client, path, pattern):
    return re.search(pattern, client.get(path).content.decode()).group(1)


def _public_reads(client):
    home_next = _next(client, "/", r'href="(/page/[^"]+/)" rel="next"')
    tag_next = _next(client, "/tags/aws/", r'href="(/tags/aws/page/[^"]+/)" rel="next"')
    cursor = client.get("/api/posts", {"limit": "3"}).json()["next_cursor"]
    return [
        ("/", 200),
        (home_next, 200),
        ("/posts/with-photos/", 200),
        ("/posts/post-03/", 200),
        ("/posts/no-such-post/", 404),
        ("/tags/aws/", 200),
        (tag_next, 200),
        ("/tags/no-such-tag/", 404),
        ("/feeds/rss.xml", 200),
        ("/feeds/atom.xml", 200),
        ("/feed.json", 200),
        ("/sitemap.xml", 200),
        ("/sitemaps/pages.xml", 200),
        ("/sitemaps/posts.xml", 200),
        ("/sitemaps/posts/not-a-cursor.xml", 404),
        ("/robots.txt", 200),
        ("/api/posts", 200),
        (f"/api/posts?limit=3&cursor={cursor}", 200),
        ("/api/posts?tag=python&limit=2", 200),
        ("/api/posts/with-photos", 200),
        ("/api/posts/no-such-post", 404),
        ("/api/posts?cursor=bad", 400),
        ("/api/openapi.json", 200),
        ("/api/docs/", 200),
        ("/subscribe/", 200),
        ("/no/such/page/", 404),
        ("/search/", 200),
        ("/search/?q=post", 200),
        ("/search/?q=post&page=2", 200),
        ("/api/search?q=photos", 200),
    ]


# A post page: the post, its photos, and the Query of its related posts.
POST_PAGE_CALLS = 3


def _assert_cheap(client, dynamodb_calls, reads):
    for path, status in reads:
        dynamodb_calls.clear()
        response = client.get(path)
        assert response.status_code == status, path
        operations = dynamodb_calls.names
        assert set(operations) <= READ_OPERATIONS, f"{path}: {operations}"
        limit = POST_PAGE_CALLS if path.startswith("/posts/") else 2
        assert len(operations) <= limit, f"{path}: {operations}"


def test_every_public_read_is_at_most_two_get_or_query_calls_and_no_sql(site, client, dynamodb_calls):
    _assert_cheap(client, dynamodb_calls, _public_reads(client))


def test_the_expected_calls_for_each_kind_of_page(site, client, dynamodb_calls):
    expected = {
        "/": ["Query"],  # the published index (covers from the copy the posts carry)
        # A photo still processing: the post + cover and inline photos at once + its first tag's newest posts.
        "/posts/with-photos/": ["GetItem", "BatchGetItem", "Query"],
        # Its photos ready when saved: the post (HTML and cover stored with it) + the related posts.
        "/posts/post-03/": ["GetItem", "Query"],
        "/api/posts/post-03": ["GetItem"],
        "/tags/photos/": ["Query"],  # the tag's listing items
        "/api/posts": ["Query"],
        # The newest posts + the photos of the one with a photo still processing (rendered as read).
        "/feeds/atom.xml": ["Query", "BatchGetItem"],
        "/feed.json": ["Query", "BatchGetItem"],  # the same entries as RSS and Atom
        "/sitemap.xml": ["Query"],  # one per child sitemap: a single one for a blog this size
        "/sitemaps/pages.xml": ["Query"],
        "/sitemaps/posts.xml": ["Query"],
        "/api/posts/with-photos": ["GetItem", "BatchGetItem"],
        # No post: then is it a renamed post's old slug? (`posts.redirects`: only when no post is found)
        "/posts/no-such-post/": ["GetItem", "GetItem"],
        "/robots.txt": [],
        "/subscribe/": [],
        "/search/?q=aws": [],  # the index in memory (S3, rechecked by ETag): no DynamoDB call
        "/api/search?q=aws": [],
    }
    for path, operations in expected.items():
        dynamodb_calls.clear()
        client.get(path)
        assert dynamodb_calls.names == operations, path
    # An older page also finds where its newer page starts, for its rel=prev link.
    for first in ("/", "/tags/aws/"):
        older = _next(client, first, r'href="([^"]*/page/[^"]+/)" rel="next"')
        dynamodb_calls.clear()
        client.get(older)
        assert dynamodb_calls.names == ["Query", "Query"], older
    dynamodb_calls.clear()
    client.get("/posts/with-photos/")
    [_, (_, batch), (_, related)] = dynamodb_calls.operations
    assert related["TableName"] == "test-post-tags" and related["Limit"] == 5  # three, itself, and one to spare
    [keys] = [request["Keys"] for request in batch["RequestItems"].values()]
    assert sorted(key["key"]["S"].rsplit("/", 1)[1] for key in keys) == ["cover.jpg", "inline.jpg", "waiting.jpg"]


def test_once_every_photo_is_ready_listings_feeds_and_pages_cost_one_call_each(site, client, dynamodb_calls):
    ready_photo("waiting")  # its renditions made: the post showing it is rendered again
    expected = {
        "/": ["Query"],
        "/tags/aws/": ["Query"],
        "/tags/photos/": ["Query"],
        "/api/posts": ["Query"],
        "/api/posts?tag=photos": ["Query"],
        "/feeds/rss.xml": ["Query"],
        "/feeds/atom.xml": ["Query"],
        "/feed.json": ["Query"],
        "/posts/with-photos/": ["GetItem", "Query"],  # + its related posts
        "/api/posts/with-photos": ["GetItem"],
    }
    bodies = {}
    for path, operations in expected.items():
        dynamodb_calls.clear()
        response = client.get(path)
        assert response.status_code == 200, path
        assert dynamodb_calls.names == operations, path
        bodies[path] = response.content.decode()
    # The listings show the covers, from that one Query.
    for path in ("/", "/tags/photos/"):
        assert bodies[path].count('<div class="card-cover') >= 1, path
        assert 'sizes="(min-width: 44rem) 11rem, 7rem"' in bodies[path]
    assert bodies["/"].count('<div class="card-cover') == 4  # with-photos, post-00, -03 and -06
    [item] = client.get("/api/posts?tag=photos").json()["items"]
    assert item["cover"]["srcset"] and item["cover"]["webp_srcset"]
    assert "<picture>" in bodies["/feeds/atom.xml"] or "&lt;picture&gt;" in bodies["/feeds/atom.xml"]


def test_an_editors_cookies_do_not_make_public_reads_touch_sql(site, client, dynamodb_calls):
    client.cookies["sessionid"] = "a-logged-in-editors-session-key"
    client.cookies["csrftoken"] = "x" * 32
    client.cookies["messages"] = "stored-messages"
    _assert_cheap(client, dynamodb_calls, _public_reads(client))
    response = client.get("/posts/with-photos/")
    assert "Vary" not in response and not response.cookies
    assert response["Cache-Control"].startswith("public")


def test_reads_go_through_dax_when_configured(site, client, dynamodb_calls, dax):
    for path in ("/", "/posts/with-photos/", "/tags/aws/", "/api/posts", "/api/posts/post-01"):
        dynamodb_calls.clear()
        dax.calls.clear()
        assert client.get(path).status_code == 200
        assert len(dax.calls) == len(dynamodb_calls.names) > 0
        assert set(dax.calls) <= {"get_item", "query", "batch_get_item"}


COLD_HOME_PAGE = """
import sys
import django

django.setup()
from moto import mock_aws

with mock_aws():
    from devstack.tables import ensure_tables
    from tests.reader_fixtures import publish

    ensure_tables()
    publish("cold")
    # Saving a post renders its body (posts.stored): forget the renderers, to see what the request loads.
    for name in [name for name in sys.modules if name.split(".")[0] in ("markdown", "nh3")]:
        del sys.modules[name]
    from django.test import Client

    response = Client().get("/")
    assert response.status_code == 200, response.status_code
    print(" ".join(sorted(sys.modules)))
"""

# What a reader's first request must not load: the CMS, the Markdown
# renderer (the home page shows no post body), the API document, the feeds,
# the views of the other pages and of the API.
OFF_THE_READ_PATH = [
    "posts.admin",
    "subscribers.admin",
    # The app's package and placeholder base load with the apps; its admin does not.
    "dynamo_admin.options",
    "dynamo_admin.changelist",
    "dynamo_admin.forms",
    "dynamo_admin.checks",
    "posts.preview",
    "photos.admin",
    "photos.views",
    "photos.uploads",
    "photos.processing",
    "photos.renditions",
    "markdown",
    "nh3",
    "myblog.openapi",
    "django.utils.feedgenerator",
    # The other pages' and the API's views: the URLconf names them, the request that needs one imports it.
    "posts.api",
    "posts.search_api",
    "posts.search",
    "posts.search_views",
    "posts.feeds",
    "posts.sitemaps",
    "subscribers.api",
    "subscribers.views",
]


def test_a_cold_home_page_leaves_the_admin_and_renderers_unloaded():
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "myblog.settings", "PYTHONPATH": str(root)}
    result = subprocess.run(
        [sys.executable, "-c", COLD_HOME_PAGE], cwd=root, env=env, capture_output=True, text=True, check=True
    )
    loaded = set(result.stdout.split())
    assert "posts.pages" in loaded
    assert [name for name in OFF_THE_READ_PATH if name in loaded] == []


STARTED_APPS = """
import sys
import django

django.setup()
from posts.signals import post_changed

print(len(post_changed.receivers), " ".join(sorted(sys.modules)))
"""

# The write path: a saved post's receivers import these on the first save.
WRITE_PATH = ["posts.services", "posts.invalidation", "posts.newsletter", "posts.search_index", "myblog.queues"]


def test_starting_the_apps_connects_the_post_receivers_without_loading_the_write_path():
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "myblog.settings", "PYTHONPATH": str(root)}
    result = subprocess.run(
        [sys.executable, "-c", STARTED_APPS], cwd=root, env=env, capture_output=True, text=True, check=True
    )
    receivers, *loaded = result.stdout.split()
    assert receivers == "3"  # the CDN purge, the newsletter, the search index
    assert [name for name in WRITE_PATH if name in loaded] == []


def test_a_post_whose_photos_are_all_missing_still_costs_its_three_calls(aws, client, dynamodb_calls):
    body = markdown_for_photo("media/originals/2026/11/never-uploaded.jpg", "Gone")
    publish("missing-photos", body=body, cover_image="media/originals/2026/11/no-cover.jpg", cover_alt="None")
    dynamodb_calls.clear()
    response = client.get("/posts/missing-photos/")
    assert response.status_code == 200
    assert dynamodb_calls.names == ["GetItem", "BatchGetItem", "Query"]  # the Query: related posts


def test_the_post_page_and_the_preview_load_their_photos_with_the_same_one_call(site, dynamodb_calls):
    from posts import pages, preview

    dynamodb_calls.clear()
    page = pages.post("with-photos")
    assert dynamodb_calls.names == ["GetItem", "BatchGetItem"]
    dynamodb_calls.clear()
    previewed = preview.preview_page(preview.post_from_item(page.post))
    assert dynamodb_calls.names == ["BatchGetItem"]
    (request,) = dynamodb_calls.operations[0][1]["RequestItems"].values()
    requested = [key["key"]["S"] for key in request["Keys"]]
    assert sorted(requested) == sorted(page.photos)  # the cover and the body's photos, together
    assert sorted(previewed.photos) == sorted(page.photos) and len(page.photos) == 3
    assert previewed.cover.key == page.cover.key == page.post.cover_image


def test_each_child_sitemap_is_one_query_on_the_lean_index(aws, client, dynamodb_calls, settings):
    settings.MYBLOG_SITEMAP_PAGE_SIZE = 4
    for day in range(10):
        publish(f"mapped-{day}", days_ago=day + 1)
    dynamodb_calls.clear()
    index = client.get("/sitemap.xml").content.decode()
    children = re.findall(r"<loc>https://blog\.example\.com(/sitemaps/posts[^<]*)</loc>", index)
    assert len(children) == 3  # 4 + 4 + 2 posts
    assert dynamodb_calls.names == ["Query"] * 3  # the index reads where each page starts
    queried = {kwargs.get("IndexName") for _, kwargs in dynamodb_calls.operations}
    assert queried == {"sitemap-index"}
    listed = []
    for path in children:
        dynamodb_calls.clear()
        response = client.get(path)
        assert response.status_code == 200
        assert dynamodb_calls.names == ["Query"], path
        listed += re.findall(r"/posts/(mapped-\d+)/", response.content.decode())
    assert listed == [f"mapped-{day}" for day in reversed(range(10))]


def test_a_renamed_posts_old_address_costs_two_more_get_items_and_a_hit_none(site, client, dynamodb_calls):
    from posts import services
    from posts.models import Post

    post = Post.get("post-05")
    services.rename_post("post-05", "post-05-renamed", expected_version=post.version)
    for old, new in (
        ("/posts/post-05/", "/posts/post-05-renamed/"),
        ("/api/posts/post-05", "/api/posts/post-05-renamed"),
    ):
        dynamodb_calls.clear()
        response = client.get(old)
        assert response.status_code == 301 and response["Location"] == new
        # The post (not found), its redirect, then whether the post it leads to is visible: one GetItem each.
        assert dynamodb_calls.names == ["GetItem", "GetItem", "GetItem"], old
        assert dynamodb_calls.tables()[-2:] == ["test-post-redirects", "test-posts"]
        dynamodb_calls.clear()
        assert client.get(new).status_code == 200
        assert "test-post-redirects" not in dynamodb_calls.tables(), new
        assert dynamodb_calls.names[0] == "GetItem" and dynamodb_calls.names.count("GetItem") == 1, new
    # A slug that never was a post: the same two reads, then the 404.
    dynamodb_calls.clear()
    assert client.get("/posts/never-was/").status_code == 404
    assert dynamodb_calls.names == ["GetItem", "GetItem"]
    # A slug no post can have: nothing is read at all.
    dynamodb_calls.clear()
    assert client.get("/api/posts/Not_A_Slug").status_code == 404
    assert dynamodb_calls.names == []
