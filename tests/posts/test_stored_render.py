"""A live post stores its rendered body and its cover's renditions, and pages serve them (`posts.stored`)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from photos.rendering import markdown_for_photo
from posts import pages, services, stored
from posts.models import PhotoUse, Post, PostTag
from posts.rendering import render_markdown
from posts.rules import DRAFT, PUBLISHED
from tests.reader_fixtures import pending_photo, publish, ready_photo


def _uses(key):
    return sorted(use.slug for use in PhotoUse.query(key))


def _tag_items(slug):
    post = Post.get(slug)
    return [item for tag in post.tags for item in PostTag.query(tag) if item.slug == slug]


def test_a_saved_live_post_stores_its_html_and_its_covers_renditions(dynamodb):
    cover = ready_photo("cover")
    inline = ready_photo("inline", size=(640, 960))
    body = f"Some *text*.\n\n{markdown_for_photo(inline.key, 'Inline', 'A caption')}"
    publish("stored", tags=["aws", "python"], body=body, cover_image=cover.key, cover_alt="Cover")
    post = Post.get("stored")
    assert stored.is_current(post)
    assert post.body_html == render_markdown(body, load_photos=lambda keys: {inline.key: inline})
    assert "<figcaption>A caption</figcaption>" in post.body_html
    assert post.photos_pending is False
    assert post.photos_updated_at == max(cover.updated_at, inline.updated_at)
    renditions = sorted((r.format, int(r.width), r.key) for r in post.cover_photo.renditions)
    assert renditions == sorted((r.format, int(r.width), r.key) for r in cover.renditions)
    assert {r[0] for r in renditions} >= {"jpeg", "webp"}
    # The listing items carry the same copy, for the tag pages.
    items = _tag_items("stored")
    assert len(items) == 2
    for item in items:
        assert Post.cover_photo.serialize(item.cover_photo) == Post.cover_photo.serialize(post.cover_photo)
    assert _uses(cover.key) == ["stored"] and _uses(inline.key) == ["stored"]


def test_a_stored_page_is_served_without_reading_the_photos_or_rendering(aws, dynamodb_calls, monkeypatch):
    cover = ready_photo("cover")
    inline = ready_photo("inline")
    publish("stored", body=f"Hi.\n\n{markdown_for_photo(inline.key, 'Inline')}", cover_image=cover.key)
    live = pages.post_page(Post.get("stored"))
    monkeypatch.setattr(pages, "render_markdown", lambda *args, **kwargs: pytest.fail("rendered on read"))
    dynamodb_calls.clear()
    page = pages.post("stored")
    assert dynamodb_calls.names == ["GetItem"]
    assert page.body_html == live.body_html
    assert page.cover_html == live.cover_html and 'fetchpriority="high"' in page.cover_html
    assert page.pending_photos is False
    assert page.last_modified == live.last_modified


def test_posts_saved_before_or_by_another_renderer_are_rendered_as_they_are_read(aws, dynamodb_calls, monkeypatch):
    inline = ready_photo("inline")
    publish("older", body=f"Hi.\n\n{markdown_for_photo(inline.key, 'Inline')}")
    expected = pages.post("older").body_html
    # As an item saved before the HTML was stored.
    post = Post.get("older")
    post.update(actions=[getattr(Post, name).remove() for name in stored.DERIVED])
    dynamodb_calls.clear()
    page = pages.post("older")
    assert dynamodb_calls.names == ["GetItem", "BatchGetItem"]
    assert page.body_html == expected and "<picture>" in expected
    # Stored by another version of the renderer, or for another media domain: not current either.
    publish("renderer", body="Hi.")
    monkeypatch.setattr(stored, "RENDERER_VERSION", "other")
    assert not stored.is_current(Post.get("renderer"))
    assert pages.post("renderer").body_html == "<p>Hi.</p>"


def test_a_body_too_large_to_store_twice_is_rendered_as_it_is_read(aws, monkeypatch):
    monkeypatch.setattr(stored, "MAX_STORED_BYTES", 50)
    publish("long", body="A long text. " * 10)
    post = Post.get("long")
    assert post.body_html is None and not stored.is_current(post)
    assert pages.post("long").body_html.startswith("<p>A long text.")


def test_drafts_store_nothing_and_keep_no_photo_uses(aws):
    cover = ready_photo("cover")
    services.create_post(slug="draft", title="Draft", status=DRAFT, cover_image=cover.key, body="Hi.")
    post = Post.get("draft")
    assert post.body_html is None and post.cover_photo is None and not post.photo_keys
    assert _uses(cover.key) == []


def test_photo_uses_follow_what_the_live_post_shows(dynamodb):
    a, b, c = (ready_photo(name) for name in ("a", "b", "c"))
    post = publish("uses", body=f"{markdown_for_photo(b.key)}", cover_image=a.key)
    assert (_uses(a.key), _uses(b.key)) == (["uses"], ["uses"])
    post = services.update_post("uses", expected_version=post.version, body=f"{markdown_for_photo(c.key)}")
    assert (_uses(a.key), _uses(b.key), _uses(c.key)) == (["uses"], [], ["uses"])
    post = services.unpublish_post("uses")
    assert (_uses(a.key), _uses(c.key)) == ([], [])
    post = services.publish_post("uses")
    assert _uses(c.key) == ["uses"]
    services.delete_post("uses", expected_version=post.version)
    assert (_uses(a.key), _uses(c.key)) == ([], [])


def test_a_photo_becoming_ready_renders_its_posts_again_without_making_editors_stale(dynamodb, client):
    pending_photo("cover")
    pending_photo("inline")
    from tests.reader_fixtures import original_key

    cover_key, inline_key = original_key("cover"), original_key("inline")
    post = publish(
        "waiting", tags=["photos"], body=f"Hi.\n\n{markdown_for_photo(inline_key, 'Inline')}", cover_image=cover_key
    )
    saved = Post.get("waiting")
    assert saved.photos_pending is True and not stored.is_current(saved)
    assert "<picture>" not in client.get("/posts/waiting/").content.decode()
    ready_photo("cover")
    ready_photo("inline")
    refreshed = Post.get("waiting")
    assert refreshed.version == saved.version  # the editor's open form is still current
    assert stored.is_current(refreshed) and refreshed.photos_pending is False
    assert "<picture>" in refreshed.body_html
    assert refreshed.cover_photo.status == "ready"
    assert all(item.cover_photo.status == "ready" for item in _tag_items("waiting"))
    assert '<div class="card-cover' in client.get("/tags/photos/").content.decode()
    page = client.get("/posts/waiting/")
    assert page["Cache-Control"].startswith("public") and "s-maxage=86400" in page["Cache-Control"]
    # The editor who opened the post before the photos were ready saves without conflict.
    services.update_post("waiting", expected_version=post.version, title="Waiting no more")
    assert Post.get("waiting").title == "Waiting no more"


def test_a_refresh_never_overwrites_an_editors_newer_save(aws, monkeypatch):
    pending_photo("inline")
    from tests.reader_fixtures import original_key

    key = original_key("inline")
    post = publish("raced", body=f"Old text.\n\n{markdown_for_photo(key, 'Inline')}")
    render = stored.render
    raced = []

    def render_then_editor_saves(target):
        result = render(target)
        if not raced and target.body.startswith("Old"):
            raced.append(True)  # an editor saves between the refresh's read and its write
            services.update_post(
                "raced", expected_version=post.version, body=f"New text.\n\n{markdown_for_photo(key)}"
            )
        return result

    monkeypatch.setattr(stored, "render", render_then_editor_saves)
    ready_photo("inline")
    after = Post.get("raced")
    assert raced and after.version == post.version + 1
    assert after.body.startswith("New text.") and after.body_html.startswith("<p>New text.</p>")
    assert stored.is_current(after) and "<picture>" in after.body_html


def test_a_failed_refresh_leaves_the_post_rendered_as_it_is_read(aws, monkeypatch, caplog):
    from pynamodb.exceptions import QueryError

    pending_photo("inline")
    from tests.reader_fixtures import original_key

    key = original_key("inline")
    publish("failing", body=f"Hi.\n\n{markdown_for_photo(key, 'Inline')}")

    def failing(*args, **kwargs):
        raise QueryError("throttled")

    monkeypatch.setattr(PhotoUse, "query", failing)
    ready_photo("inline")  # the photo is recorded ready all the same
    assert "not rendered again" in caplog.text
    assert "<picture>" in pages.post("failing").body_html  # rendered as read: still right


def test_feed_entries_come_from_the_stored_html(aws, dynamodb_calls):
    inline = ready_photo("inline")
    for day in range(3):
        publish(f"feed-{day}", days_ago=day + 1, body=f"Post {day}.\n\n{markdown_for_photo(inline.key, 'Inline')}")
    dynamodb_calls.clear()
    entries = pages.feed()
    assert dynamodb_calls.names == ["Query"]
    assert [entry.card.slug for entry in entries] == ["feed-0", "feed-1", "feed-2"]
    assert all("<picture>" in entry.content_html and not entry.pending_photos for entry in entries)
    assert entries[0].updated_at >= inline.updated_at


def test_scheduled_posts_store_their_html_when_they_go_live(aws):
    now = timezone.now()
    services.create_post(
        slug="later", title="Later", status=PUBLISHED, publish_at=now + timedelta(hours=1), body="Soon.", now=now
    )
    assert Post.get("later").body_html is None
    services.publish_due_posts(now=now + timedelta(hours=2))
    assert Post.get("later").body_html == "<p>Soon.</p>"


def test_a_photo_not_there_yet_is_shown_once_its_upload_is_processed(aws, client):
    from tests.reader_fixtures import original_key

    key = original_key("later")  # as the demo content does: the post first, the upload's event after
    publish("early", tags=["photos"], body=f"Hi.\n\n{markdown_for_photo(key, 'Later')}", cover_image=key)
    assert not stored.is_current(Post.get("early"))
    assert '<div class="card-cover' not in client.get("/tags/photos/").content.decode()
    ready_photo("later")
    post = Post.get("early")
    assert stored.is_current(post) and "<picture>" in post.body_html
    assert '<div class="card-cover' in client.get("/tags/photos/").content.decode()
