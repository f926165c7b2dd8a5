"""The local stack as a developer gets it: one command, demo content, admin login.

Talks to `manage.py runlocal` over HTTP; needs Java (DynamoDB Local).
"""

import re
import urllib.request
from http.cookiejar import CookieJar
from urllib.parse import urlencode

import pytest

from tests.devstack.stack import fetch, start_stack, wait_for

pytestmark = pytest.mark.stack


def test_home_lists_the_demo_posts_newest_first(local_stack):
    status, _, body = fetch(local_stack.url + "/")
    assert status == 200
    slugs = re.findall(r'href="/posts/([a-z0-9-]+)/"', body)
    demo = [
        "writing-in-markdown",
        "thumbnails-without-servers",
        "designing-dynamodb-keys-for-pages",
        "hello-serverless-world",
    ]
    # Other tests share this stack and may publish newer posts: the demo
    # posts must be there, newest first.
    assert [slug for slug in dict.fromkeys(slugs) if slug in demo] == demo
    assert "coming-next-week" not in body and "an-unfinished-draft" not in body


def test_post_page_renders_sanitised_markdown_and_hides_drafts(local_stack):
    status, _, body = fetch(local_stack.url + "/posts/writing-in-markdown/")
    assert status == 200
    assert "<strong>Markdown</strong>" in body
    assert "<script>alert(1)</script>" not in body
    assert fetch(local_stack.url + "/posts/an-unfinished-draft/")[0] == 404
    assert fetch(local_stack.url + "/posts/coming-next-week/")[0] == 404


def test_media_is_served_by_the_edge_from_the_private_bucket(local_stack):
    """Renditions and static files only, as CloudFront: an original keeps its EXIF (GPS position)."""
    rendition = f"{local_stack.edge_url}/media/renditions/demo/hello-serverless-world/320.jpg"
    status, headers, _ = wait_for(
        lambda: (result := fetch(rendition))[0] == 200 and result, "the demo cover's rendition"
    )
    assert status == 200
    assert headers["Content-Type"] == "image/jpeg"
    original = f"{local_stack.edge_url}/media/originals/demo/hello-serverless-world.jpg"
    assert fetch(original)[0] == 404
    assert fetch(f"{local_stack.edge_url}/media/renditions/../originals/demo/hello-serverless-world.jpg")[0] == 404
    assert fetch(f"{local_stack.edge_url}/private/anything")[0] == 404


def test_printed_admin_login_works(local_stack):
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    status, _, body = fetch(local_stack.url + "/admin/login/", opener=opener)
    assert status == 200
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)
    form = urlencode(
        {
            "csrfmiddlewaretoken": token,
            "username": local_stack.username,
            "password": local_stack.password,
            "next": "/admin/",
        }
    ).encode()
    status, _, body = fetch(
        local_stack.url + "/admin/login/?next=/admin/",
        data=form,
        opener=opener,
        headers={"Referer": local_stack.url + "/admin/login/"},
    )
    assert status == 200
    assert "Log out" in body or "logout" in body
    assert "Site administration" in body


def test_state_survives_a_restart(tmp_path):
    rendition = "/media/renditions/demo/hello-serverless-world/320.jpg"
    first = start_stack(tmp_path)
    try:
        assert fetch(first.url + "/posts/hello-serverless-world/")[0] == 200
        wait_for(lambda: fetch(first.edge_url + rendition)[0] == 200, "the demo cover's rendition")
        password = first.password
    finally:
        leaked = first.stop()
    assert not leaked
    second = start_stack(tmp_path)
    try:
        assert "Created the demo posts." not in "".join(second.output)
        assert second.password == password
        assert fetch(second.url + "/posts/hello-serverless-world/")[0] == 200
        # The bucket's objects are put back (the pump is bound after, so nothing remade them).
        status, _, _ = fetch(second.edge_url + rendition)
        assert status == 200
    finally:
        leaked = second.stop()
    assert not leaked


def test_seeded_posts_are_found_by_search_through_the_queued_rebuild(local_stack):
    """Publishing queues a rebuild that the function (the package, on the runtime's own SDK) writes to S3."""

    def found():
        status, _, body = fetch(local_stack.url + "/search/?q=markdown")
        assert status == 200
        return body if 'href="/posts/writing-in-markdown/"' in body else None

    wait_for(found, "the demo posts in the search index rebuilt from its queue", timeout=180)


def test_demo_photos_get_renditions_through_the_event_pump(local_stack):
    """Seeded uploads go through S3 -> pump -> Zappa -> handler, then show in srcset."""

    def rendered():
        status, _, body = fetch(local_stack.url + "/posts/thumbnails-without-servers/")
        assert status == 200
        return body if "media/renditions/demo/evening-hills/" in body else None

    body = wait_for(rendered, "the demo photo's renditions on its page")
    sources = re.findall(r"<source[^>]*>", body)
    assert any('type="image/webp"' in tag and "evening-hills/640.webp 640w" in tag for tag in sources)
    assert 'alt="Evening over the hills"' in body
    rendition = re.search(r"(http://127\.0\.0\.1:\d+/media/renditions/demo/evening-hills/320\.jpg)", body).group(1)
    status, headers, _ = fetch(rendition)
    assert status == 200
    assert headers["Content-Type"] == "image/jpeg"
    assert "immutable" in headers["Cache-Control"]
