"""Related posts under a post: its first tag's newest other live posts, at most three, one Query."""

import re
from datetime import timedelta

from django.utils import timezone

from posts import related, services
from posts.rules import PUBLISHED
from tests.reader_fixtures import publish


def _related_slugs(html):
    aside = re.search(r'<aside class="related".*?</aside>', html, re.S)
    return re.findall(r'<a href="/posts/([a-z0-9-]+)/">', aside.group()) if aside else []


def test_the_newest_three_others_sharing_the_first_tag(aws, client, dynamodb_calls):
    for day in range(6):
        publish(f"kite-{day}", days_ago=day + 1, tags=["kites", "travel"])
    publish("only-travel", days_ago=0, tags=["travel", "kites-not"])
    services.create_post(slug="draft-kite", title="Draft", tags=["kites"], user="editor")
    future = timezone.now() + timedelta(days=2)
    services.create_post(slug="soon", title="Soon", tags=["kites"], status=PUBLISHED, publish_at=future, user="e")
    dynamodb_calls.clear()
    html = client.get("/posts/kite-1/").content.decode()
    assert _related_slugs(html) == ["kite-0", "kite-2", "kite-3"]
    assert dynamodb_calls.names == ["GetItem", "Query"]  # no photos to load; the Query of the first tag
    assert dynamodb_calls.operations[1][1]["KeyConditionExpression"] == "(#0 = :0 AND #1 < :1)"
    assert dynamodb_calls.operations[1][1]["ExpressionAttributeValues"][":0"] == {"S": "kites"}
    assert '<h2 id="related-title">Related posts</h2>' in html
    assert _related_slugs(client.get("/posts/kite-5/").content.decode()) == ["kite-0", "kite-1", "kite-2"]


def test_a_post_without_tags_or_companions_shows_none_and_costs_no_query(aws, client, dynamodb_calls):
    publish("untagged", tags=[])
    publish("alone", tags=["unique"])
    dynamodb_calls.clear()
    html = client.get("/posts/untagged/").content.decode()
    assert dynamodb_calls.names == ["GetItem"] and 'class="related"' not in html
    assert 'class="related"' not in client.get("/posts/alone/").content.decode()


def test_related_titles_are_escaped_on_the_page(aws, client):
    publish("one", tags=["x"], title="<b>One</b>")
    publish("two", tags=["x"])
    assert [card.slug for card in related.related_posts(services.Post.get("two"))] == ["one"]
    html = client.get("/posts/two/").content.decode()
    assert "&lt;b&gt;One&lt;/b&gt;" in html and "<b>One</b>" not in html
