"""Input that cannot fit DynamoDB: a clear error or "not found", never a 500.

Most tests run on both engines (`dynamodb`): moto does not enforce every
DynamoDB limit (a GetItem with a 3000-byte key succeeds there), AWS's
DynamoDB Local does, as DynamoDB does. So these tests fail on DynamoDB
Local if a limit is left to the engine. Where it matters, they also check
that nothing was sent to DynamoDB at all.
"""

import logging
from datetime import timedelta
from html import unescape

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone

from dynamo_admin import limits
from photos import queries as photo_queries
from photos.rendering import markdown_for_photo
from posts import queries, rules, services
from posts.models import Post, PostTag, Revision
from posts.rules import DRAFT, PUBLISHED, SCHEDULED
from subscribers import services as subscriber_services
from subscribers.models import Subscriber
from tests.admin_fixtures import POST_PERMISSIONS
from tests.reader_fixtures import publish

LONG = "a" * 3000
EMOJI = "\N{GRINNING FACE}"  # four bytes in UTF-8
WRITE_OPERATIONS = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}


def text(response):
    return unescape(response.content.decode())


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def editor_on(client, make_editor, dynamodb):
    """An editor with every post and subscriber permission, on the engine under test."""
    user = make_editor(
        "editor",
        *POST_PERMISSIONS,
        "subscribers.view_subscriber",
        "subscribers.change_subscriber",
        "subscribers.delete_subscriber",
        "subscribers.export_subscriber",
    )
    client.force_login(user)
    client.raise_request_exception = True  # a 500 fails the test with its traceback
    return client


# -- the read path: keys from URLs -------------------------------------------------------------


@pytest.mark.parametrize("slug", [LONG, "a" * (rules.MAX_SLUG_LENGTH + 1), "Not_A_Slug", "trailing-newline\n"])
def test_a_slug_no_post_can_have_is_not_found_without_a_call(dynamodb, dynamodb_calls, slug):
    assert queries.get_live_post(slug) is None
    assert queries.posts_tagged(slug) == ([], None)
    assert dynamodb_calls.names == []


def test_long_slugs_and_tags_are_404_on_the_site_and_the_api(dynamodb, client, dynamodb_calls, schema_checker):
    publish("real-post")
    dynamodb_calls.clear()
    assert client.get(f"/posts/{LONG}/").status_code == 404
    assert client.get(f"/tags/{LONG}/").status_code == 404
    assert client.get(f"/tags/{'a' * 101}/").status_code == 404
    response = client.get(f"/api/posts/{LONG}")
    assert schema_checker.check(response, "/api/posts/{slug}")["error"]["code"] == "not_found"
    assert response.status_code == 404
    response = client.get("/api/posts", {"tag": LONG})
    assert response.status_code == 400
    assert schema_checker.check(response, "/api/posts")["error"]["code"] == "invalid_parameter"
    assert dynamodb_calls.names == []
    assert client.get("/posts/real-post/").status_code == 200


def test_a_cursor_naming_an_impossible_slug_is_refused(dynamodb, client, dynamodb_calls):
    cursor = queries.Cursor(timezone.now(), "a" * (rules.MAX_SLUG_LENGTH + 1)).encode()
    with pytest.raises(queries.InvalidCursor):
        queries.Cursor.decode(cursor)
    assert client.get(f"/page/{cursor}/").status_code == 400
    assert client.get(f"/page/{LONG}/").status_code == 400
    assert client.get("/api/posts", {"cursor": cursor}).json()["error"]["code"] == "invalid_cursor"
    assert dynamodb_calls.names == []


def test_a_post_referring_to_an_impossibly_long_photo_key_still_shows(dynamodb, client):
    key = f"media/originals/{LONG}.jpg"
    post = publish("odd-photo", body="Before.\n\n" + markdown_for_photo(key, "Too long") + "\n\nAfter.")
    # A cover saved before covers were checked.
    post.update(actions=[Post.cover_image.set(key)])
    response = client.get("/posts/odd-photo/")
    assert response.status_code == 200
    assert "After." in response.content.decode()
    assert photo_queries.get_photos([key]) == {}
    assert client.get("/api/posts/odd-photo").status_code == 200


# -- the edit path: limits every writer goes through ------------------------------------------


def test_the_limits_keep_a_save_inside_dynamodbs(dynamodb):
    # Worst case: every field at its limit in 4-byte characters.
    worst = rules.MAX_BODY_BYTES + 4 * sum(rules.MAX_LENGTHS.values())
    worst += rules.MAX_COVER_KEY_BYTES + rules.MAX_TAGS * (rules.MAX_TAG_LENGTH + 1)
    assert worst + 10_000 < limits.MAX_ITEM_BYTES
    assert 2 + 2 * rules.MAX_TAGS <= limits.MAX_TRANSACTION_ITEMS


def _fields_at_the_limits(tag_prefix="t"):
    return {
        "title": EMOJI * rules.MAX_LENGTHS["title"],
        "excerpt": EMOJI * rules.MAX_LENGTHS["excerpt"],
        "author": EMOJI * rules.MAX_LENGTHS["author"],
        "cover_alt": EMOJI * rules.MAX_LENGTHS["cover_alt"],
        "cover_image": "media/originals/" + "k" * (rules.MAX_COVER_KEY_BYTES - len("media/originals/")),
        "body": EMOJI * (rules.MAX_BODY_BYTES // 4),
        "tags": [f"{tag_prefix}{i:02d}".ljust(rules.MAX_TAG_LENGTH, "x") for i in range(rules.MAX_TAGS)],
    }


def test_a_post_at_every_limit_is_saved_published_and_retagged(dynamodb):
    fields = _fields_at_the_limits()
    post = services.create_post(slug="z" * rules.MAX_SLUG_LENGTH, user="u" * 150, **fields)
    post = services.publish_post(post.slug, user="u" * 150)
    assert post.status == PUBLISHED
    assert len(list(PostTag.query(fields["tags"][0]))) == 1
    # Replacing every tag of a live post: 20 deletes, 20 puts, the post and its revision.
    new_tags = _fields_at_the_limits("n")["tags"]
    post = services.update_post(post.slug, expected_version=post.version, user="u" * 150, tags=new_tags)
    assert list(PostTag.query(fields["tags"][0])) == []
    assert [item.slug for item in PostTag.query(new_tags[-1])] == [post.slug]
    saved = Post.get(post.slug)
    assert saved.body == fields["body"] and saved.title == fields["title"]
    assert [r.version for r in Revision.query(post.slug)] == [1, 2, 3]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "t" * 200_000),
        ("title", EMOJI * (rules.MAX_LENGTHS["title"] + 1)),
        ("excerpt", "e" * (rules.MAX_LENGTHS["excerpt"] + 1)),
        ("author", "a" * (rules.MAX_LENGTHS["author"] + 1)),
        ("cover_alt", "c" * (rules.MAX_LENGTHS["cover_alt"] + 1)),
        ("body", "x" * 600_000),
        ("body", EMOJI * (rules.MAX_BODY_BYTES // 4) + "x"),
        ("tags", [f"tag-{i}" for i in range(150)]),
        ("tags", [f"tag-{i}" for i in range(rules.MAX_TAGS + 1)]),
        ("tags", ["a" * 3000]),
        ("tags", ["b" * (rules.MAX_TAG_LENGTH + 1)]),
        ("cover_image", "media/originals/" + "k" * 2000),
    ],
)
def test_a_field_over_its_limit_is_refused_before_any_write(dynamodb, dynamodb_calls, field, value):
    for status in (DRAFT, PUBLISHED):  # checked on every save, not only on publishing
        dynamodb_calls.clear()
        with pytest.raises(services.InvalidPost) as raised:
            services.create_post(slug="too-much", status=status, **{"title": "Too much", field: value})
        assert raised.value.field == field
        assert not WRITE_OPERATIONS & set(dynamodb_calls.names)
    post = services.create_post(slug="fine", title="Fine")
    with pytest.raises(services.InvalidPost) as raised:
        services.update_post("fine", expected_version=post.version, **{field: value})
    assert raised.value.field == field
    assert Post.get("fine").version == post.version


def test_messages_say_what_to_change():
    with pytest.raises(services.InvalidPost, match="at most 200 characters long; it has 201"):
        services.create_post(slug="x", title="t" * 201)
    with pytest.raises(services.InvalidPost, match="at most 20 tags; this one has 21"):
        services.normalise_tags([f"t{i}" for i in range(21)])
    with pytest.raises(services.InvalidPost, match="at most 50 characters long"):
        services.normalise_tags(["c" * 51])
    with pytest.raises(services.InvalidPost, match="600 KB, and a post can be at most 300 KB"):
        services.validate_body("x" * 600_000)
    assert services.normalise_tags(["Python", "AWS Lambda", "python"]) == ["python", "aws-lambda"]


def _legacy_post(slug, status=DRAFT, **fields):
    """A post saved before the limits existed (written directly, as the old code could)."""
    publish_at = fields.pop("publish_at", None)
    post = Post(slug, title=fields.pop("title", "Legacy"), status=status, publish_at=publish_at, **fields)
    post.save()
    return post


def test_a_legacy_post_over_a_limit_must_be_fixed_to_be_saved(dynamodb):
    post = _legacy_post("legacy", tags=[f"t{i}" for i in range(30)])
    with pytest.raises(services.InvalidPost) as raised:
        services.update_post("legacy", expected_version=post.version, body="New text")
    assert raised.value.field == "tags"
    saved = services.update_post("legacy", expected_version=post.version, body="New text", tags=["t1", "t2"])
    assert saved.tags == ["t1", "t2"] and saved.body == "New text"
    services.delete_post("legacy")  # deleting needs no fixing


def test_the_scheduler_skips_a_post_it_cannot_save_and_publishes_the_rest(dynamodb, caplog):
    due = timezone.now() - timedelta(minutes=1)
    _legacy_post("too-long", status=SCHEDULED, publish_at=due, title="T" * 500)
    services.create_post(slug="fine", title="Fine", status=SCHEDULED, publish_at=due, now=due - timedelta(hours=1))
    with caplog.at_level(logging.ERROR, logger="posts.services"):
        assert services.publish_due_posts() == ["fine"]
    assert Post.get("too-long").status == SCHEDULED
    assert "too-long cannot be published until it is edited" in caplog.text


def test_keys_and_versions_no_post_can_have_are_never_sent(dynamodb, dynamodb_calls):
    post = services.create_post(slug="real", title="Real")
    dynamodb_calls.clear()
    for slug in (LONG, "Bad Slug"):
        with pytest.raises(services.StaleVersion):
            services.update_post(slug, expected_version=1, body="x")
        for change in (services.publish_post, services.unpublish_post, services.delete_post):
            with pytest.raises(Post.DoesNotExist):
                change(slug)
        with pytest.raises(Revision.DoesNotExist):
            services.get_revision(slug, 1)
        with pytest.raises(services.InvalidPost, match="no revision"):
            services.restore_revision(slug, 1, expected_version=1)
    with pytest.raises(services.StaleVersion):
        services.update_post("real", expected_version=10**60, body="x")
    with pytest.raises(services.InvalidPost, match="no revision with this number"):
        services.restore_revision("real", 10**60, expected_version=post.version)
    assert dynamodb_calls.names == []
    assert Post.get("real").version == post.version


# -- the admin ------------------------------------------------------------------------------------

ADD = "/admin/posts/post/add/"


def form_data(**overrides):
    data = {"title": "Hello", "slug": "", "body": "Text.", "excerpt": "", "tags": "", "author": ""}
    data.update(overrides)
    return data


def field_errors(response):
    form = response.context["adminform"].form
    return {name: [str(e) for e in errors] for name, errors in form.errors.items()}


def test_post_form_shows_limits_as_field_errors_and_keeps_the_text(editor_on):
    cases = [
        ({"body": "x" * 600_000}, "body", "a post can be at most 300 KB"),
        ({"title": "t" * 200_000}, "title", "at most 200 characters"),
        ({"excerpt": "e" * 501}, "excerpt", "at most 500 characters"),
        ({"author": "a" * 101}, "author", "at most 100 characters"),
        ({"cover_alt": "c" * 301}, "cover_alt", "at most 300 characters"),
        ({"tags": ", ".join(f"t{i}" for i in range(150)), "_publish": "1"}, "tags", "at most 20 tags"),
        ({"tags": "a" * 3000, "_publish": "1"}, "tags", "at most 50 characters"),
        ({"tags": "a" * 3000}, "tags", "at most 50 characters"),
    ]
    for overrides, field, message in cases:
        response = editor_on.post(ADD, form_data(slug="limits", **overrides))
        assert response.status_code == 200, overrides.keys()
        assert any(message in error for error in field_errors(response)[field]), field_errors(response)
        form = response.context["adminform"].form
        assert form[field].value() == overrides[field]  # shown again as typed, to be shortened
    assert list(Post.scan()) == []
    page = text(editor_on.get(ADD))
    assert 'maxlength="200"' in page and 'maxlength="500"' in page


def test_change_form_refuses_a_legacy_posts_extra_tags_and_a_forged_version(editor_on):
    post = _legacy_post("legacy", tags=[f"t{i}" for i in range(30)])
    url = "/admin/posts/post/legacy/change/"
    data = form_data(title="Legacy", tags=", ".join(post.tags), _version=str(post.version))
    assert "at most 20 tags" in field_errors(editor_on.post(url, data))["tags"][0]
    data.update(tags="t1", _version="9" * 60)
    response = editor_on.post(url, data)
    assert response.status_code == 200 and "Someone else saved this post" in text(response)
    data.update(_version=str(post.version))
    assert editor_on.post(url, data).status_code == 302
    assert Post.get("legacy").tags == ["t1"]


def test_admin_search_with_a_key_dynamodb_cannot_hold_finds_nothing(editor_on, dynamodb_calls):
    publish("findable")
    subscriber_services.subscribe("reader@example.com")
    for changelist in ("/admin/posts/post/", "/admin/subscribers/subscriber/"):
        dynamodb_calls.clear()
        response = editor_on.get(changelist, {"q": LONG})
        assert response.status_code == 200
        assert response.context["cl"].result_list == []
        assert "GetItem" not in dynamodb_calls.names
    response = editor_on.get("/admin/posts/post/", {"q": "findable"})
    assert [post.slug for post in response.context["cl"].result_list] == ["findable"]
    # Filters are conditions on what a page reads, not keys: long values just match nothing.
    response = editor_on.get("/admin/posts/post/", {"tag": LONG, "q": LONG, "status": LONG})
    assert response.status_code == 200 and response.context["cl"].result_list == []
    response = editor_on.get("/admin/subscribers/subscriber/export/", {"status": LONG, "q": LONG})
    assert b"".join(response.streaming_content).decode().count("reader@example.com") == 1


@pytest.mark.parametrize(
    "path",
    [
        f"/admin/posts/post/{LONG}/change/",
        f"/admin/posts/post/{LONG}/history/",
        f"/admin/posts/post/{LONG}/delete/",
        f"/admin/posts/post/{LONG}/revisions/1/",
        f"/admin/posts/post/{LONG}/",
        f"/admin/subscribers/subscriber/{LONG}@x.com/change/",
        f"/admin/subscribers/subscriber/{LONG}@x.com/delete/",
    ],
)
def test_an_object_id_dynamodb_cannot_hold_does_not_exist(editor_on, dynamodb_calls, path):
    for method in (editor_on.get, editor_on.post):
        response = method(path)
        assert response.status_code == 302 and response["Location"] == "/admin/"
        message = messages_of(response)[-1]
        assert "doesn’t exist" in message and len(message) < 200
    assert dynamodb_calls.names == []


def test_a_revision_number_dynamodb_cannot_hold_does_not_exist(editor_on):
    publish("story")
    response = editor_on.get(f"/admin/posts/post/story/revisions/{'9' * 60}/")
    assert response.status_code == 302 and response["Location"] == "/admin/posts/post/story/history/"
    response = editor_on.post("/admin/posts/post/story/revisions/1/", {"expected_version": "9" * 60}, follow=True)
    assert "Someone else saved this post" in text(response)


def test_preview_of_a_post_dynamodb_cannot_hold_previews_the_form(editor_on):
    response = editor_on.post("/admin/posts/post/preview/", {"post": LONG, "title": "T", "body": "Hello *there*"})
    assert response.status_code == 200 and "<em>there</em>" in response.json()["html"]


def test_actions_on_selections_dynamodb_cannot_hold_change_nothing(editor_on, dynamodb_calls):
    publish("kept")
    subscriber_services.subscribe("kept@example.com")
    cases = [
        ("/admin/posts/post/", "publish_selected"),
        ("/admin/posts/post/", "unpublish_selected"),
        ("/admin/posts/post/", "delete_selected"),
        ("/admin/subscribers/subscriber/", "unsubscribe_selected"),
        ("/admin/subscribers/subscriber/", "export_selected"),
        ("/admin/subscribers/subscriber/", "delete_selected"),
    ]
    for changelist, action in cases:
        dynamodb_calls.clear()
        response = editor_on.post(changelist, {"action": action, "_selected_action": [LONG, LONG + "b"]})
        assert response.status_code == 302, action
        assert messages_of(response)[-1] == "The selected items do not exist."
        assert dynamodb_calls.names == []
        too_many = [f"k{i}" for i in range(101)]
        response = editor_on.post(changelist, {"action": action, "_selected_action": too_many})
        assert messages_of(response)[-1] == "Select at most 100 items at a time."
    # Duplicates are one item (BatchGetItem refuses duplicate keys).
    response = editor_on.post(
        "/admin/posts/post/", {"action": "delete_selected", "_selected_action": ["kept", "kept", LONG]}
    )
    assert response.status_code == 200 and response.context["keys"] == ["kept"]
    response = editor_on.post(
        "/admin/subscribers/subscriber/",
        {"action": "export_selected", "_selected_action": ["kept@example.com", "kept@example.com", LONG]},
    )
    assert b"".join(response.streaming_content).decode().count("kept@example.com") == 1
    assert Post.get("kept").status == PUBLISHED
    assert Subscriber.get("kept@example.com").status == "pending"


def test_photo_keys_dynamodb_cannot_hold_are_no_photos(editor_on):
    long_key = f"media/originals/{LONG}.jpg"
    response = editor_on.get("/admin/posts/post/photos/status/", {"key": long_key})
    assert response.status_code == 404 and response.json() == {
        "error": {"code": "not_found", "message": "No such photo."}
    }
    body = "Look:\n\n" + markdown_for_photo(long_key, "Too long")
    # The add form, shown again with an error, lists the photos its text and uploads refer to.
    response = editor_on.post(
        ADD, form_data(slug="Bad Slug!", body=body, cover_image=long_key, uploaded_photos=[long_key])
    )
    assert response.status_code == 200 and "slug" in field_errors(response)
    response = editor_on.post("/admin/posts/post/preview/", {"title": "T", "body": body, "cover_image": long_key})
    assert response.status_code == 200 and "Look:" in response.json()["html"]
    response = editor_on.post(ADD, form_data(slug="with-photos", body=body, uploaded_photos=[long_key]))
    assert response.status_code == 302
    assert editor_on.get("/admin/posts/post/with-photos/change/").status_code == 200


def test_a_photo_upload_for_a_post_that_cannot_exist_is_refused(editor_on):
    response = editor_on.post(
        "/admin/posts/post/photos/upload/",
        {"content_type": "image/jpeg", "size": 1000, "post": LONG},
        content_type="application/json",
    )
    assert response.status_code == 400 and "post" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("typed", "saved"),
    [
        ("Café", "cafe"),
        ("Crème Brûlée", "creme-brulee"),
        ("<b>", "b"),
        ("C++ & Rust", "c-rust"),
        ("\u212aelvin", "kelvin"),
    ],
)
def test_tags_become_slugs_keeping_their_letters(typed, saved):
    assert services.normalise_tags([typed]) == [saved]


@pytest.mark.parametrize("typed", ["☃", "<>", "日本", " - "])
def test_a_tag_with_nothing_a_slug_can_keep_is_refused_not_dropped(typed):
    with pytest.raises(services.InvalidPost, match="cannot be a tag") as caught:
        services.normalise_tags(["python", typed])
    assert caught.value.field == "tags"


def test_blank_entries_between_commas_are_not_tags():
    assert services.normalise_tags(["python", "", "  "]) == ["python"]
