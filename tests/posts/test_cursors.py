"""Listing cursors: signed by the site, and only ever where a listing can start (on moto and DynamoDB Local)."""

import base64
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from posts import queries
from posts.rules import MAX_CURSOR_LENGTH, MAX_SLUG_LENGTH, SLUG_RE
from tests.reader_fixtures import publish

FUTURE = datetime(2099, 1, 1, tzinfo=UTC)
# A cursor in the format the site used before cursors were signed.
UNSIGNED_FUTURE = base64.urlsafe_b64encode(b"2099-01-01T00:00:00.000000+0000|hello").decode().rstrip("=")
LISTINGS = ["/api/posts?cursor={}", "/api/posts?tag=demo&cursor={}", "/page/{}/", "/tags/demo/page/{}/"]


@pytest.fixture
def demo_posts(dynamodb):
    for number in range(3):
        publish(f"demo-{number}", days_ago=number + 1, tags=["demo"])


def _api_error(response):
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    return response.json()["error"]["code"]


@pytest.mark.parametrize("url", LISTINGS)
def test_a_cursor_after_now_is_not_valid_and_costs_no_call(demo_posts, client, dynamodb_calls, url):
    cursor = queries.Cursor(FUTURE, "hello").encode()
    dynamodb_calls.clear()
    response = client.get(url.format(cursor))
    if url.startswith("/api/"):
        assert _api_error(response) == "invalid_cursor"
    else:
        assert response.status_code == 404
        assert "<h1>Page not found</h1>" in response.content.decode()
    assert dynamodb_calls.names == []


@pytest.mark.parametrize("url", LISTINGS)
def test_an_unsigned_cursor_is_not_read(demo_posts, client, dynamodb_calls, url):
    dynamodb_calls.clear()
    response = client.get(url.format(UNSIGNED_FUTURE))
    if url.startswith("/api/"):
        assert _api_error(response) == "invalid_cursor"
    else:
        assert response.status_code == 400
        assert "This page link is not valid." in response.content.decode()
    assert dynamodb_calls.names == []


def test_the_queries_refuse_a_start_after_now(demo_posts):
    now = timezone.now()
    later = queries.Cursor(now + timedelta(microseconds=1), "demo-0")
    with pytest.raises(queries.CursorOutOfRange):
        queries.latest_posts(after=later, now=now)
    with pytest.raises(queries.CursorOutOfRange):
        queries.posts_tagged("demo", after=later, now=now)
    at_now = queries.Cursor(now, "zzz")
    everything = ["demo-0", "demo-1", "demo-2"]
    assert [post.slug for post in queries.latest_posts(after=at_now, now=now)[0]] == everything
    assert [item.slug for item in queries.posts_tagged("demo", after=at_now, now=now)[0]] == everything


def test_the_cursors_the_site_issues_page_through_every_listing(demo_posts, client):
    for url in ["/api/posts?limit=1", "/api/posts?tag=demo&limit=1"]:
        data = client.get(url).json()
        seen = [item["slug"] for item in data["items"]]
        while data["next_cursor"]:
            data = client.get(f"{url}&cursor={data['next_cursor']}").json()
            seen += [item["slug"] for item in data["items"]]
        assert seen == ["demo-0", "demo-1", "demo-2"]
    cursor = queries.Cursor.after(queries.latest_posts(limit=1)[0][0]).encode()
    assert client.get(f"/page/{cursor}/").status_code == 200
    assert client.get(f"/tags/demo/page/{cursor}/").status_code == 200


def test_a_tampered_or_foreign_cursor_is_refused(dynamodb, settings):
    cursor = queries.Cursor(timezone.now(), "demo-0").encode()
    payload, signature = cursor.split(".")
    forged = base64.urlsafe_b64encode(b"2026-01-01T00:00:00.000000+0000|demo-0").decode().rstrip("=")
    for token in (f"{forged}.{signature}", f"{payload}.{signature[:-1]}", payload, f"{payload}:{signature}"):
        with pytest.raises(queries.InvalidCursor):
            queries.Cursor.decode(token)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-after-rotation-" + "x" * 32
    assert queries.Cursor.decode(cursor).slug == "demo-0"  # still read while the old key is a fallback
    settings.SECRET_KEY_FALLBACKS = []
    with pytest.raises(queries.InvalidCursor):
        queries.Cursor.decode(cursor)


def test_the_longest_cursor_fits_the_documented_length():
    cursor = queries.Cursor(FUTURE, "a" * MAX_SLUG_LENGTH).encode()
    assert len(cursor) <= MAX_CURSOR_LENGTH
    assert queries.Cursor.decode(cursor) == (FUTURE, "a" * MAX_SLUG_LENGTH)


@given(st.text(max_size=400))
def test_any_text_is_a_cursor_or_invalid(token):
    try:
        cursor = queries.Cursor.decode(token)
    except queries.InvalidCursor:
        return
    assert cursor.encode() == token


@given(
    st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(9999, 1, 1), timezones=st.just(UTC)),
    st.from_regex(SLUG_RE, fullmatch=True).filter(lambda slug: len(slug) <= MAX_SLUG_LENGTH),
)
def test_every_cursor_round_trips(publish_at, slug):
    assert queries.Cursor.decode(queries.Cursor(publish_at, slug).encode()) == (publish_at, slug)
