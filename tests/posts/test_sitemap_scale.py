"""The sitemap lists every live post of a blog of thousands, on AWS's DynamoDB Local.

Posts of realistic size (2.5 KB bodies) are what made one Query of the
published index stop early (DynamoDB reads at most 1 MB per Query): the
sitemap reads its own lean index instead, one Query per child sitemap.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from posts.models import Post
from posts.rules import DRAFT, FEED_PUBLISHED, PUBLISHED

pytestmark = pytest.mark.usefixtures("no_sql")

LIVE_POSTS = 3000
BODY = ("A paragraph of an ordinary post, with a [link](https://example.com) and some *emphasis*. " * 28)[:2500]


def _post(number, now, live=True):
    return Post(
        f"post-{number:05d}",
        title=f"Post number {number}",
        body=BODY,
        excerpt="An excerpt of the post, as editors write them, a sentence or two long.",
        tags=["aws", "python"] if number % 2 else ["django"],
        status=PUBLISHED if live else DRAFT,
        feed=FEED_PUBLISHED if live else None,
        publish_at=now - timedelta(minutes=number + 1),
        author="Ada",
        created_at=now,
        updated_at=now - timedelta(minutes=number),
        version=1,
    )


@pytest.fixture
def big_blog(dynamodb):
    now = timezone.now()
    with Post.batch_write() as batch:
        for number in range(LIVE_POSTS):
            batch.save(_post(number, now))
        for number in range(LIVE_POSTS, LIVE_POSTS + 20):
            batch.save(_post(number, now, live=False))
    return {f"post-{number:05d}" for number in range(LIVE_POSTS)}


def _children(client):
    index = client.get("/sitemap.xml")
    assert index.status_code == 200
    return re.findall(r"<loc>https://blog\.example\.com(/sitemaps/posts[^<]*)</loc>", index.content.decode())


def _listed(client, paths):
    slugs = []
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        slugs += re.findall(r"/posts/([a-z0-9-]+)/</loc>", response.content.decode())
    return slugs


@pytest.fixture
def capacity(monkeypatch):
    """The read capacity each Query consumed, as DynamoDB reports it (ReturnConsumedCapacity)."""
    from pynamodb.connection.base import Connection

    consumed = []
    original = Connection._make_api_call

    def measured(self, operation_name, operation_kwargs):
        if operation_name == "Query":
            operation_kwargs = {**operation_kwargs, "ReturnConsumedCapacity": "TOTAL"}
        response = original(self, operation_name, operation_kwargs)
        if operation_name == "Query":
            consumed.append(response["ConsumedCapacity"]["CapacityUnits"])
        return response

    monkeypatch.setattr(Connection, "_make_api_call", measured)
    return consumed


@pytest.mark.parametrize("dynamodb", [pytest.param("dynamodb-local", marks=pytest.mark.dynamodb_local)], indirect=True)
def test_every_live_post_is_listed_however_many(big_blog, client, settings, dynamodb_calls, capacity):
    # What the sitemap read before: one Query of the published index stops at its 1 MB cap.
    results = Post.published_index.query(FEED_PUBLISHED, scan_index_forward=False, page_size=LIVE_POSTS)
    assert len(next(results.page_iter)["Items"]) < LIVE_POSTS / 5
    [whole_posts] = capacity

    # The children together list each live post once, oldest first, each child one Query.
    capacity.clear()
    dynamodb_calls.clear()
    children = _children(client)
    assert dynamodb_calls.names == ["Query"] * len(children)  # the index reads where each child starts
    for path in children:
        dynamodb_calls.clear()
        capacity.clear()
        assert len(_listed(client, [path])) <= settings.MYBLOG_SITEMAP_PAGE_SIZE
        assert dynamodb_calls.names == ["Query"], path
        # A page of the lean index costs a fraction of one of whole posts.
        assert capacity[0] < whole_posts / 5, capacity
    assert _listed(client, children) == sorted(big_blog, reverse=True)

    # With smaller pages too: at most that many posts each, none skipped or repeated.
    settings.MYBLOG_SITEMAP_PAGE_SIZE = 250
    children = _children(client)
    assert len(children) == LIVE_POSTS // 250
    assert _listed(client, children) == sorted(big_blog, reverse=True)


def _index_names(dynamo):
    table = dynamo.describe_table(TableName=Post.Meta.table_name)["Table"]
    return {index["IndexName"] for index in table.get("GlobalSecondaryIndexes", [])}


def _posts_table_without_the_sitemap_index(dynamo):
    """The posts table as it was made before the sitemap index existed."""
    name = Post.Meta.table_name
    dynamo.delete_table(TableName=name)
    dynamo.get_waiter("table_not_exists").wait(TableName=name, WaiterConfig={"Delay": 0.2})
    schema = Post._get_schema()
    indexes = [index for index in schema["global_secondary_indexes"] if index["index_name"] != "sitemap-index"]
    dynamo.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=schema["attribute_definitions"],
        KeySchema=schema["key_schema"],
        GlobalSecondaryIndexes=[
            {
                "IndexName": index["index_name"],
                "KeySchema": sorted(index["key_schema"], key=lambda key: key["KeyType"]),
                "Projection": index["projection"],
            }
            for index in indexes
        ],
    )
    dynamo.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.2})


def test_createtables_adds_the_index_and_it_holds_the_posts_already_live(dynamodb, client):
    """A table made before the sitemap index gains it (createtables), with every live post in it at once."""
    from devstack.tables import ensure_table
    from myblog import aws
    from tests.reader_fixtures import publish

    dynamo = aws.client("dynamodb")
    _posts_table_without_the_sitemap_index(dynamo)
    assert "sitemap-index" not in _index_names(dynamo)
    publish("before-the-index", days_ago=2)
    assert ensure_table(Post) == f"updated {Post.Meta.table_name}: added index sitemap-index"
    [index] = [
        index
        for index in dynamo.describe_table(TableName=Post.Meta.table_name)["Table"]["GlobalSecondaryIndexes"]
        if index["IndexName"] == "sitemap-index"
    ]
    assert index["Projection"] == {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["updated_at", "tags"]}
    # Keyed on what live posts already carry: nothing to rewrite, they are listed.
    assert "/posts/before-the-index/" in client.get("/sitemaps/posts.xml").content.decode()
