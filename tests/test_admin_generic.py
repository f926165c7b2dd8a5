"""The generic PynamoDB admin layer on its own: cursors, bounded pages, generated forms."""

from datetime import timedelta
from functools import partial

import pytest
from django import forms
from django.utils import timezone

from dynamo_admin.forms import VERSION_FIELD, DynamoModelForm, StringListField
from dynamo_admin.pagination import decode_cursor, encode_cursor, query_page
from posts import services
from posts.models import DRAFT, PUBLISHED, SCHEDULED, Post


def test_cursor_round_trips_and_rejects_tampering():
    key = {"slug": {"S": "a"}, "kind": {"S": "post"}, "updated_at": {"S": "2026-11-25T10:00:00.000000+0000"}}
    token = encode_cursor(key)
    assert decode_cursor(token) == key
    assert decode_cursor(token[:-2] + "xx") is None
    assert decode_cursor("garbage") is None and decode_cursor("") is None and encode_cursor(None) == ""


def test_query_page_makes_a_bounded_number_of_requests(aws):
    now = timezone.now()
    for number in range(12):
        services.create_post(slug=f"p-{number}", title="T", now=now - timedelta(minutes=number))
    query = partial(Post.all_index.query, "post", scan_index_forward=False, filter_condition=Post.title == "nope")
    page = query_page(Post, query, page_size=3, max_requests=2)
    assert page.items == [] and page.scanned == 6 and page.partial and page.has_next
    rest = query_page(Post, query, page_size=3, start_key=page.last_evaluated_key, max_requests=10)
    assert rest.scanned == 6 and not rest.has_next and not rest.partial


def test_query_page_never_returns_more_than_a_page(aws):
    for number in range(7):
        services.create_post(slug=f"q-{number}", title="Match" if number % 2 else "Other")
    query = partial(Post.all_index.query, "post", scan_index_forward=False, filter_condition=Post.title == "Match")
    seen = []
    start = None
    while True:
        page = query_page(Post, query, page_size=2, start_key=start, max_requests=5)
        assert len(page.items) <= 2
        seen += [p.slug for p in page.items]
        if not page.has_next:
            break
        start = page.last_evaluated_key
    assert sorted(seen) == ["q-1", "q-3", "q-5"]


class PostEditForm(DynamoModelForm):
    class Meta:
        model = Post
        fields = ["title", "slug", "body", "tags", "publish_at", "cover_image"]
        widgets = {"body": forms.Textarea}


def test_form_fields_follow_the_attributes():
    form = PostEditForm()
    fields = form.fields
    assert isinstance(fields["title"], forms.CharField) and fields["title"].required
    assert not fields["body"].required and isinstance(fields["body"].widget, forms.Textarea)
    assert isinstance(fields["tags"], StringListField)
    assert isinstance(fields["publish_at"], forms.DateTimeField) and not fields["publish_at"].required
    assert not fields["cover_image"].required
    assert list(fields) == ["title", "slug", "body", "tags", "publish_at", "cover_image", VERSION_FIELD]
    assert fields[VERSION_FIELD].widget.is_hidden


def test_form_binds_an_instance_and_locks_its_key(aws):
    post = services.create_post(slug="bound", title="Bound", tags=["a", "b"])
    form = PostEditForm(instance=post)
    assert form.fields["slug"].disabled
    assert form["tags"].value() == "a, b" and form[VERSION_FIELD].value() == post.version
    bound = PostEditForm(
        {"title": "New", "slug": "hacked", "tags": "x, y", "publish_at": "2026-12-01T09:30", VERSION_FIELD: "1"},
        instance=post,
    )
    assert bound.is_valid(), bound.errors
    values = bound.attribute_values()
    assert values["slug"] == "bound" and values["tags"] == ["x", "y"] and VERSION_FIELD not in values
    assert values["publish_at"].isoformat().startswith("2026-12-01T09:30")
    assert bound.expected_version == 1


def test_form_labels_are_capitalised_verbose_names_like_a_model_forms():
    class Labelled(DynamoModelForm):
        class Meta:
            model = Post
            fields = ["title", "cover_alt", "publish_at"]
            labels = {"publish_at": "go live at"}

    form = Labelled()
    assert [form.fields[name].label for name in ("title", "cover_alt", "publish_at")] == [
        "Title",
        "Cover alt",
        "go live at",  # an explicit label is used as given, as in Django
    ]
    assert '<label for="id_cover_alt">Cover alt:</label>' in form["cover_alt"].label_tag()
    assert [PostEditForm().fields[name].label for name in ("slug", "body", "tags", "cover_image")] == [
        "Slug",
        "Body",
        "Tags",
        "Cover image",
    ]


def test_form_errors_are_django_form_errors():
    form = PostEditForm({"title": "", "publish_at": "tomorrow-ish"})
    assert not form.is_valid()
    assert set(form.errors) == {"title", "slug", "publish_at"}  # the key is required when adding


# -- scheduled publishing ------------------------------------------------------------------------------


def test_publish_due_posts_publishes_only_what_is_due(aws):
    now = timezone.now()
    services.create_post(slug="due-1", title="Due", status=SCHEDULED, publish_at=now + timedelta(minutes=1), now=now)
    services.create_post(slug="due-2", title="Due", status=SCHEDULED, publish_at=now + timedelta(minutes=2), now=now)
    services.create_post(slug="later", title="Later", status=SCHEDULED, publish_at=now + timedelta(hours=5), now=now)
    services.create_post(slug="draft", title="Draft", now=now)
    run_at = now + timedelta(minutes=5)
    assert sorted(services.publish_due_posts(now=run_at)) == ["due-1", "due-2"]
    assert [Post.get(s).status for s in ("due-1", "due-2", "later", "draft")] == [
        PUBLISHED,
        PUBLISHED,
        SCHEDULED,
        DRAFT,
    ]
    assert Post.get("due-1").publish_at == now + timedelta(minutes=1)  # its scheduled time, not the run's
    assert services.publish_due_posts(now=run_at) == []  # a second run changes nothing


def test_publish_due_posts_leaves_a_post_edited_meanwhile_for_the_next_run(aws, monkeypatch):
    now = timezone.now()
    services.create_post(slug="busy", title="Busy", status=SCHEDULED, publish_at=now + timedelta(minutes=1), now=now)
    real_update = services.update_post

    def edited_first(slug, **kwargs):
        # An editor saves just before the scheduler's write lands.
        post = Post.get(slug)
        real_update(
            slug,
            expected_version=post.version,
            body="edited",
            user="ann",
            status=SCHEDULED,
            publish_at=post.publish_at,
            now=now,
        )
        return real_update(slug, **kwargs)

    monkeypatch.setattr(services, "update_post", edited_first)
    assert services.publish_due_posts(now=now + timedelta(minutes=5)) == []
    assert (Post.get("busy").status, Post.get("busy").body) == (SCHEDULED, "edited")
    monkeypatch.setattr(services, "update_post", real_update)
    assert services.publish_due_posts(now=now + timedelta(minutes=5)) == ["busy"]
    assert Post.get("busy").body == "edited"


@pytest.mark.parametrize("count", [1, 30])
def test_publish_due_posts_follows_query_pages(aws, count):
    now = timezone.now()
    for number in range(count):
        services.create_post(
            slug=f"s-{number}", title="S", status=SCHEDULED, publish_at=now + timedelta(seconds=number + 1), now=now
        )
    assert len(services.publish_due_posts(now=now + timedelta(hours=1))) == count
