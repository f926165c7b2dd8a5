"""Numbers from outside are ASCII digits within bounds, or a 400: never a 500, never a guess."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from myblog.numbers import MAX_DIGITS, InvalidNumber, parse_whole_number
from posts import services
from posts.models import Post
from posts.rules import MAX_PAGE_SIZE
from tests.reader_fixtures import publish

# Digits `str.isdigit()` or `int()` accept that are not ASCII, and the other
# spellings `int()` forgives.
NOT_ASCII_DIGITS = [
    "²",
    "①",
    "١٢",
    "٣",
    "१",
    "５",
    "𝟓",
    " 5",
    "5 ",
    "5\n",
    "+5",
    "-5",
    "5_0",
    "5.0",
    "0x5",
    "",
    "five",
]


@pytest.mark.parametrize("text", NOT_ASCII_DIGITS)
def test_anything_but_ascii_digits_is_refused(text):
    with pytest.raises(InvalidNumber):
        parse_whole_number(text)


@pytest.mark.parametrize("value", [None, 5, 5.0, b"5", ["5"]])
def test_only_text_is_parsed(value):
    with pytest.raises(InvalidNumber):
        parse_whole_number(value)


def test_bounds_and_length_are_checked():
    assert parse_whole_number("0") == 0 and parse_whole_number("007") == 7
    assert parse_whole_number("50", minimum=1, maximum=50) == 50
    for text in ("0", "51"):
        with pytest.raises(InvalidNumber):
            parse_whole_number(text, minimum=1, maximum=50)
    assert parse_whole_number("9" * MAX_DIGITS) == int("9" * MAX_DIGITS)
    with pytest.raises(InvalidNumber):
        parse_whole_number("9" * (MAX_DIGITS + 1))


@given(st.text(max_size=60))
def test_any_text_is_a_number_or_refused(text):
    try:
        number = parse_whole_number(text)
    except InvalidNumber:
        assert not (text.isascii() and text.isdigit() and len(text) <= MAX_DIGITS)
    else:
        assert text.isascii() and text.isdigit() and number == int(text)


@given(st.integers(min_value=0, max_value=10**MAX_DIGITS - 1))
def test_every_whole_number_round_trips(number):
    assert parse_whole_number(str(number)) == number


# -- where numbers enter ------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", ["%C2%B2", "%E2%91%A0", "%D9%A1", "%20%35", "%2B5", "5_0", "0", "51", ""])
def test_the_api_refuses_a_limit_that_is_not_ascii_digits_in_range(aws, client, schema_checker, limit):
    publish("one")
    response = client.get(f"/api/posts?limit={limit}")
    assert response.status_code == 400
    data = schema_checker.check(response, "/api/posts")
    assert data["error"] == {
        "code": "invalid_parameter",
        "message": f"limit must be a whole number from 1 to {MAX_PAGE_SIZE}.",
    }


def test_the_api_takes_a_limit_in_ascii_digits(aws, client):
    publish("one", days_ago=1)
    publish("two", days_ago=2)
    assert [item["slug"] for item in client.get("/api/posts?limit=01").json()["items"]] == ["one"]


@pytest.mark.parametrize("length", ["١٠", "²", "+10", " 10"])
def test_a_content_length_that_is_not_ascii_digits_is_a_bad_request(aws, client, schema_checker, length):
    response = client.post(
        "/api/subscribers",
        '{"email": "a@example.com"}',
        content_type="application/json",
        headers={"Content-Length": length},
    )
    assert response.status_code == 400
    assert schema_checker.check(response, "/api/subscribers", "post")["error"]["code"] == "bad_request"


def test_a_restore_with_a_version_in_other_digits_is_refused(editor_client):
    post = services.create_post(slug="story", title="Story", body="first draft")
    post = services.update_post("story", expected_version=post.version, body="second draft")
    response = editor_client.post("/admin/posts/post/story/revisions/1/", {"expected_version": "٢"}, follow=True)
    assert response.status_code == 200
    assert "Reload the page and try again." in response.content.decode()
    assert Post.get("story").body == "second draft"
    response = editor_client.post("/admin/posts/post/story/revisions/1/", {"expected_version": str(post.version)})
    assert response.status_code == 302 and Post.get("story").body == "first draft"
