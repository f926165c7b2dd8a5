"""The post rules (`posts.rules`) hold everywhere a slug, a tag or a status enters."""

import ast
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from posts import rules, services
from posts.models import Post
from posts.rules import DRAFT, MAX_TAG_LENGTH, PUBLISHED, SCHEDULED
from tests.reader_fixtures import publish

BASE_DIR = Path(__file__).resolve().parents[2]
# The read path: what readers' requests run.
READ_PATH = ["queries", "pages", "api", "views", "feeds", "sitemaps"]


@pytest.mark.parametrize(
    "value",
    ["news\n", "news\r\n", "\nnews", "News", "news-", "-news", "ne--ws", "new s", "", "a" * (MAX_TAG_LENGTH + 1), 5],
)
def test_a_tag_no_post_can_have_is_refused(value):
    assert not rules.is_valid_tag(value)


@pytest.mark.parametrize("value", ["news", "a", "aws-lambda-2026", "a" * MAX_TAG_LENGTH])
def test_tags_of_the_saved_shape_are_accepted(value):
    assert rules.is_valid_tag(value)
    assert services.normalise_tags([value]) == [value]


@pytest.mark.parametrize("value", ["post\n", "Post", "a" * (rules.MAX_SLUG_LENGTH + 1), "", None])
def test_a_slug_no_post_can_have_is_refused(value):
    assert not rules.is_valid_slug(value)


@pytest.mark.parametrize("tag", ["news\n", "a" * (MAX_TAG_LENGTH + 1)])
def test_the_api_refuses_a_tag_the_edit_path_would_never_save(aws, client, schema_checker, tag):
    publish("real", tags=["news"])
    response = client.get("/api/posts", {"tag": tag})
    assert response.status_code == 400
    assert schema_checker.check(response, "/api/posts")["error"]["code"] == "invalid_parameter"
    assert client.get("/api/posts?tag=news%0A").status_code == 400
    assert [item["slug"] for item in client.get("/api/posts", {"tag": "news"}).json()["items"]] == ["real"]


def test_a_tag_page_for_a_tag_with_a_newline_is_not_found(aws, client):
    publish("real", tags=["news"])
    assert client.get("/tags/news%0A/").status_code == 404
    assert client.get("/tags/news/").status_code == 200


def test_the_document_states_the_same_tag_and_slug_rules(aws, client):
    document = client.get("/api/openapi.json").json()
    (tag,) = [p for p in document["paths"]["/api/posts"]["get"]["parameters"] if p.get("name") == "tag"]
    assert tag["schema"]["maxLength"] == MAX_TAG_LENGTH
    assert tag["schema"]["pattern"] == rules.slug_schema_pattern()
    summary = document["components"]["schemas"]["PostSummary"]["properties"]
    assert summary["slug"]["pattern"] == rules.slug_schema_pattern()
    assert summary["slug"]["maxLength"] == rules.MAX_SLUG_LENGTH
    assert summary["tags"]["items"]["pattern"] == rules.slug_schema_pattern()
    limit = [p for p in document["paths"]["/api/posts"]["get"]["parameters"] if p.get("name") == "limit"][0]
    # Declared as the ASCII digits clients send; the bounds are the page sizes the rules allow.
    assert limit["schema"]["type"] == "string" and limit["schema"]["pattern"] == "^[0-9]+$"
    assert len(str(rules.MAX_PAGE_SIZE)) <= limit["schema"]["maxLength"]
    assert f"from 1 to {rules.MAX_PAGE_SIZE} " in limit["description"]


@pytest.mark.parametrize("module", READ_PATH)
def test_the_read_path_does_not_import_the_edit_path(module):
    tree = ast.parse((BASE_DIR / "posts" / f"{module}.py").read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module)
            imported.update(f"{node.module}.{alias.name}" for alias in node.names)
    assert "posts.services" not in imported


# -- statuses --------------------------------------------------------------------------------------


def test_the_status_changes_follow_the_transitions():
    assert rules.can_change_status(None, DRAFT) and rules.can_change_status(None, SCHEDULED)
    assert rules.can_change_status(DRAFT, PUBLISHED) and rules.can_change_status(SCHEDULED, DRAFT)
    assert rules.can_change_status(PUBLISHED, PUBLISHED)  # saving a live post
    assert not rules.can_change_status(PUBLISHED, SCHEDULED)
    assert not rules.can_change_status(DRAFT, "archived")


def test_a_live_post_is_not_rescheduled_but_unpublished_first(aws):
    post = publish("live")
    later = timezone.now() + timedelta(days=1)
    with pytest.raises(services.InvalidPost):
        services.update_post("live", expected_version=post.version, status=SCHEDULED, publish_at=later)
    with pytest.raises(services.InvalidPost):
        services.publish_post("live", publish_at=later)
    assert Post.get("live").status == PUBLISHED
    draft = services.unpublish_post("live")
    rescheduled = services.update_post("live", expected_version=draft.version, status=SCHEDULED, publish_at=later)
    assert rescheduled.status == SCHEDULED


def test_a_live_post_keeps_its_date_when_published_again(aws):
    post = publish("live", days_ago=3)
    now = timezone.now()
    assert rules.publish_date(post, now) == post.publish_at
    assert rules.publish_date(None, now) == now
    again = services.publish_post("live", publish_at=rules.publish_date(post, now), now=now)
    assert again.publish_at == post.publish_at and again.status == PUBLISHED


def test_resolving_a_status_schedules_the_future_and_publishes_the_past():
    now = timezone.now()
    hour = timedelta(hours=1)
    assert rules.resolve_status(PUBLISHED, now + hour, now) == (SCHEDULED, now + hour)
    assert rules.resolve_status(SCHEDULED, now - hour, now) == (PUBLISHED, now - hour)
    assert rules.resolve_status(PUBLISHED, None, now) == (PUBLISHED, now)
    assert rules.resolve_status(DRAFT, None, now) == (DRAFT, None)
    with pytest.raises(ValueError):
        rules.resolve_status(SCHEDULED, None, now)
    with pytest.raises(ValueError):
        rules.resolve_status("archived", None, now)


def test_the_tag_sort_key_orders_posts_by_time_below_the_ceiling():
    now = timezone.now()
    earlier = rules.tag_sort_key(now - timedelta(microseconds=1), "z" * rules.MAX_SLUG_LENGTH)
    at_now = rules.tag_sort_key(now, "zzz-9")
    later = rules.tag_sort_key(now + timedelta(microseconds=1), "a")
    assert earlier < at_now < rules.tag_sort_key_ceiling(now) < later
