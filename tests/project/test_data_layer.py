"""Every DynamoDB access pattern of the content models, on moto and on DynamoDB Local."""

from datetime import timedelta

import pytest
from django.utils import timezone

from posts import queries, services
from posts.models import Post, PostTag, Revision
from posts.rules import DRAFT, PUBLISHED, SCHEDULED
from subscribers.models import PENDING, Subscriber


def _publish(slug, days_ago, tags=("python",)):
    return services.create_post(
        slug=slug,
        title=slug.replace("-", " ").title(),
        body="Hello",
        tags=list(tags),
        status=PUBLISHED,
        publish_at=timezone.now() - timedelta(days=days_ago),
        user="ed",
    )


def test_tables_exist_with_indexes_and_stream(dynamodb):
    from myblog import aws

    client = aws.client("dynamodb")
    posts = client.describe_table(TableName=Post.Meta.table_name)["Table"]
    assert {i["IndexName"] for i in posts["GlobalSecondaryIndexes"]} == {
        "published-index",
        "sitemap-index",
        "status-index",
        "all-index",
    }
    subs = client.describe_table(TableName=Subscriber.Meta.table_name)["Table"]
    assert subs["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}


def test_ensure_tables_is_idempotent(dynamodb):
    from devstack.tables import ensure_tables

    assert all(line.endswith("is up to date") for line in ensure_tables())


def test_post_by_slug_returns_only_live_posts(dynamodb):
    _publish("live-post", 1)
    services.create_post(slug="a-draft", title="Draft", user="ed")
    assert queries.get_live_post("live-post").title == "Live Post"
    assert queries.get_live_post("a-draft") is None
    assert queries.get_live_post("missing") is None


def test_published_posts_newest_first_with_cursor(dynamodb):
    for i in range(5):
        _publish(f"post-{i}", days_ago=i)
    services.create_post(slug="draft", title="Draft")
    services.create_post(slug="later", title="Later", status=SCHEDULED, publish_at=timezone.now() + timedelta(days=1))
    page, cursor = queries.latest_posts(limit=3)
    assert [p.slug for p in page] == ["post-0", "post-1", "post-2"]
    assert cursor is not None
    rest, _ = queries.latest_posts(limit=3, last_evaluated_key=cursor)
    assert [p.slug for p in rest] == ["post-3", "post-4"]


def test_posts_by_tag_follow_publish_and_unpublish(dynamodb):
    _publish("one", 2, tags=["python", "aws"])
    _publish("two", 1, tags=["AWS", "Django"])
    aws_posts = [item.slug for item in PostTag.query("aws", scan_index_forward=False)]
    assert aws_posts == ["two", "one"]
    services.unpublish_post("two", user="ed")
    assert [item.slug for item in PostTag.query("aws")] == ["one"]
    assert list(PostTag.query("django")) == []
    services.update_post("one", expected_version=Post.get("one").version, tags=["python"], title="One")
    assert list(PostTag.query("aws")) == []
    assert [item.title for item in PostTag.query("python")] == ["One"]


def test_slug_is_unique_by_conditional_write(dynamodb):
    services.create_post(slug="taken", title="First", body="original")
    with pytest.raises(services.SlugTaken):
        services.create_post(slug="taken", title="Second", body="other")
    assert Post.get("taken").body == "original"


def test_stale_version_save_fails_and_keeps_the_winner(dynamodb):
    post = services.create_post(slug="shared", title="Shared", body="v1")
    loaded_version = post.version
    services.update_post("shared", expected_version=loaded_version, body="alice", user="alice")
    with pytest.raises(services.StaleVersion):
        services.update_post("shared", expected_version=loaded_version, body="bob", user="bob")
    assert Post.get("shared").body == "alice"


def test_every_save_keeps_a_revision(dynamodb):
    post = services.create_post(slug="history", title="History", body="first", user="ed")
    services.update_post("history", expected_version=post.version, body="second", user="ann")
    revisions = list(Revision.query("history"))
    assert [(r.version, r.body, r.saved_by) for r in revisions] == [(1, "first", "ed"), (2, "second", "ann")]
    assert Post.get("history").version == 2


def test_scheduled_posts_are_published_when_due(dynamodb):
    now = timezone.now()
    services.create_post(slug="due", title="Due", status=SCHEDULED, publish_at=now + timedelta(minutes=5), now=now)
    services.create_post(
        slug="not-yet", title="Not yet", status=SCHEDULED, publish_at=now + timedelta(days=2), now=now
    )
    assert services.publish_due_posts(now=now) == []
    assert services.publish_due_posts(now=now + timedelta(minutes=10)) == ["due"]
    assert Post.get("due").status == PUBLISHED
    assert Post.get("not-yet").status == SCHEDULED


def test_delete_removes_post_and_tag_items(dynamodb):
    _publish("gone", 1, tags=["x"])
    services.delete_post("gone")
    assert queries.get_live_post("gone") is None
    assert list(PostTag.query("x")) == []


def test_admin_indexes_list_by_update_time_and_status(dynamodb):
    services.create_post(slug="a", title="A", now=timezone.now() - timedelta(hours=2))
    _publish("b", 1)
    assert [p.slug for p in Post.all_index.query("post", scan_index_forward=False)] == ["b", "a"]
    assert [p.slug for p in Post.status_index.query(DRAFT)] == ["a"]


def test_invalid_input_is_rejected_before_writing(dynamodb):
    with pytest.raises(services.InvalidPost):
        services.create_post(slug="Bad Slug!", title="x")
    with pytest.raises(services.InvalidPost):
        services.create_post(slug="ok", title="   ")
    with pytest.raises(services.InvalidPost):
        services.create_post(slug="ok", title="x", status=SCHEDULED)
    assert queries.get_live_post("ok") is None


def test_subscriber_by_email_and_status_index(dynamodb):
    Subscriber("reader@example.com").save(condition=Subscriber.email.does_not_exist())
    assert Subscriber.get("reader@example.com").status == PENDING
    assert [s.email for s in Subscriber.status_index.query(PENDING)] == ["reader@example.com"]
    from pynamodb.exceptions import PutError

    with pytest.raises(PutError):
        Subscriber("reader@example.com").save(condition=Subscriber.email.does_not_exist())
