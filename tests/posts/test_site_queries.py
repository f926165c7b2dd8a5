"""The readers' queries on moto and on AWS's DynamoDB Local: cursors, projections, time, photos."""

from datetime import timedelta

import pytest
from django.utils import timezone

from photos import queries as photo_queries
from posts import queries, services
from posts.rules import SCHEDULED
from tests.reader_fixtures import original_key, pending_photo, publish


def _slugs(items):
    return [item.slug for item in items]


def test_cursors_page_through_the_published_index(dynamodb):
    for day in range(7):
        publish(f"p-{day}", days_ago=day + 1)
    seen, cursor = [], None
    while True:
        page, cursor = queries.latest_posts(3, cursor, attributes=queries.LISTING_ATTRIBUTES)
        seen += _slugs(page)
        if cursor is None:
            break
        cursor = queries.Cursor.decode(cursor.encode())  # through a URL and back
    assert seen == [f"p-{day}" for day in range(7)]


def test_listing_queries_return_only_what_listings_show(dynamodb):
    publish("lean", body="A long body " * 100, tags=["aws"])
    [post], _ = queries.latest_posts(5, attributes=queries.LISTING_ATTRIBUTES)
    assert post.title == "Lean" and post.tags == ["aws"] and post.updated_at
    assert post.body == ""  # not read: the attribute keeps its default


def test_tag_pages_page_with_the_same_cursors(dynamodb):
    for day in range(5):
        publish(f"t-{day}", days_ago=day + 1, tags=["aws"])
    first, cursor = queries.posts_tagged("aws", 2)
    second, cursor = queries.posts_tagged("aws", 2, cursor)
    third, cursor = queries.posts_tagged("aws", 2, cursor)
    assert (_slugs(first), _slugs(second), _slugs(third), cursor) == (
        ["t-0", "t-1"],
        ["t-2", "t-3"],
        ["t-4"],
        None,
    )


def test_nothing_from_the_future_is_listed(dynamodb):
    now = timezone.now()
    publish("now", days_ago=0, tags=["aws"])
    services.create_post(
        slug="later", title="Later", tags=["aws"], status=SCHEDULED, publish_at=now + timedelta(hours=1)
    )
    assert _slugs(queries.latest_posts(10)[0]) == ["now"]
    assert _slugs(queries.posts_tagged("aws", 10)[0]) == ["now"]
    # Even a live item dated ahead of the reader's clock stays hidden until its time.
    assert _slugs(queries.latest_posts(10, now=now - timedelta(days=1))[0]) == []
    assert queries.get_live_post("now", now=now - timedelta(days=1)) is None


def test_sitemap_query_reads_keys_and_dates(dynamodb):
    publish("mapped", tags=["aws"], body="Body " * 50, title="Mapped")
    [post], cursor = queries.sitemap_page(10)
    assert (post.slug, post.tags, cursor) == ("mapped", ["aws"], None)
    assert post.updated_at and post.publish_at
    # What the lean index holds, and nothing else: no body, no title.
    assert sorted(vars(post)) == ["publish_at", "slug", "tags", "updated_at"]


def test_photos_of_a_page_in_one_batch(dynamodb):
    waiting = pending_photo("waiting")
    found = photo_queries.get_photos([waiting.key, "media/originals/2026/11/missing.jpg", None, waiting.key])
    assert list(found) == [waiting.key]
    assert photo_queries.get_photos([]) == {}


@pytest.mark.parametrize(
    "token",
    ["", "%%%", "bm9waXBl", "MjAyNi0xMS0wMVQwMDowMDowMC4wMDAwMDArMDAwMHxOb3QgQSBTbHVn", "a" * 201, None, 42],
)
def test_cursors_that_the_site_did_not_make_are_refused(token):
    with pytest.raises(queries.InvalidCursor):
        queries.Cursor.decode(token)


def test_a_page_with_more_photos_than_one_batch_keeps_its_first_ones(dynamodb, dynamodb_calls):
    cover = pending_photo("zz-cover")  # sorts last: the page's own order decides, not the keys'
    keys = [cover.key, *(original_key(f"inline-{number:03d}") for number in range(150))]
    dynamodb_calls.clear()
    assert list(photo_queries.get_photos(keys)) == [cover.key]
    assert dynamodb_calls.names == ["BatchGetItem"]
