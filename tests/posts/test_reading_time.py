"""Reading time: a plain function of the Markdown, shown on post pages and stored for the cards."""

import re

import pytest

from posts import services
from posts.models import Post, PostTag
from posts.reading import reading_minutes
from tests.reader_fixtures import publish

pytestmark = pytest.mark.usefixtures("no_sql")


@pytest.mark.parametrize(
    ("markdown", "minutes"),
    [
        ("", 0),
        (None, 0),
        ("Hello.", 1),
        ("word " * 230, 1),
        ("word " * 231, 2),
        ("word " * 1150, 5),
        # Link targets, URLs, HTML tags and Markdown punctuation are not words.
        ("[a link](https://example.com/" + "very-long-path/" * 200 + ") " + "word " * 228, 1),
        ("<div class='x'>" * 300 + "word", 1),
        ("## Heading\n\n- one\n- two\n\n**bold** `code`", 1),
        # Chinese is read by character, about 500 a minute.
        ("字" * 1000, 2),
        # Each photo adds a few seconds.
        ("![](photo:media/originals/2026/11/x.jpg)\n\n" * 12, 2),
    ],
)
def test_reading_minutes(markdown, minutes):
    assert reading_minutes(markdown) == minutes


def test_contractions_and_hyphenated_words_count_once():
    assert reading_minutes("don’t well-known it's " * 76) == 1  # 228 words
    assert reading_minutes("don’t well-known it's " * 77) == 2  # 231 words


def test_the_post_and_its_tag_items_store_it_for_the_cards(aws):
    publish("long-read", tags=["aws", "python"], body="word " * 1000)
    assert Post.get("long-read").reading_minutes == 5
    assert [item.reading_minutes for item in PostTag.query("aws")] == [5]
    post = Post.get("long-read")
    services.update_post("long-read", expected_version=post.version, body="word " * 10, user="ed")
    assert Post.get("long-read").reading_minutes == 1
    assert [item.reading_minutes for item in PostTag.query("python")] == [1]


def test_post_pages_and_cards_show_it(aws, client):
    publish("long-read", tags=["aws"], body="word " * 1000)
    assert "· 5 min read" in client.get("/posts/long-read/").content.decode()
    for path in ("/", "/tags/aws/"):
        card = re.search(r'<li class="card">.*?</li>', client.get(path).content.decode(), re.S).group(0)
        assert "· 5 min read</p>" in card, path


def test_a_post_saved_before_reading_times_shows_none_on_its_card_until_saved(aws, client):
    publish("older-post", tags=["aws"], body="word " * 1000)
    post = Post.get("older-post")
    post.update(actions=[Post.reading_minutes.remove()])
    assert "min read" not in client.get("/").content.decode()
    assert "· 5 min read" in client.get("/posts/older-post/").content.decode()  # the page counts its body
