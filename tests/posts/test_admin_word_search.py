"""The posts change list's word search, count, order and covers, on moto and AWS's DynamoDB Local.

A word anywhere in a title, a tag or the slug is found with one Query per
word of the search (`posts.words`), at any number of posts; the list
without a search stays one Query however many posts there are.
"""

import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from posts import services, words
from posts.models import Post, PostWord
from posts.rules import DRAFT, PUBLISHED
from tests.reader_fixtures import ready_photo

CHANGELIST = "/admin/posts/post/"


@pytest.fixture
def admin_client(client, editor, dynamodb):
    client.force_login(editor)
    return client


def listed(response):
    return re.findall(r'name="_selected_action" value="([^"]+)"', response.content.decode())


def all_word_items():
    # A test may scan its own table; requests never do.
    return {(item.prefix, item.word_slug) for item in PostWord.scan()}


# -- words -----------------------------------------------------------------------------------


def test_words_are_case_folded_without_accents_or_stop_words():
    assert words.words("The Café of DynamoDB: 5000 ÉCLAIRS, the café") == ["cafe", "dynamodb", "5000", "eclairs"]


def test_a_posts_words_are_its_titles_then_its_tags_then_its_slugs_at_most_max_words():
    post = Post("scale-99", title="Scale post 99", tags=["aws-lambda", "python"])
    assert words.post_words(post) == ["scale", "post", "99", "aws", "lambda", "python"]
    long = Post("long", title=" ".join(f"word{n}" for n in range(40)), tags=[])
    assert len(words.post_words(long)) == words.MAX_WORDS


def test_query_terms_leave_out_one_letter_terms_beside_longer_ones():
    assert words.query_terms("Serverless D") == ["serverless"]
    assert words.query_terms("x") == ["x"]
    assert words.query_terms("the of") == []


# -- written with the post ------------------------------------------------------------------------


def test_words_are_written_changed_and_deleted_with_the_post(dynamodb):
    post = services.create_post(slug="hello-world", title="Hello Wörld", tags=["travel"])
    assert all_word_items() == {("he", "hello#hello-world"), ("wo", "world#hello-world"), ("tr", "travel#hello-world")}
    services.update_post("hello-world", expected_version=post.version, title="Goodbye world", tags=[])
    assert all_word_items() == {
        ("go", "goodbye#hello-world"),
        ("wo", "world#hello-world"),
        # The slug's words stay while the slug does.
        ("he", "hello#hello-world"),
    }
    item = PostWord.get("wo", "world#hello-world")
    assert item.status == DRAFT and item.slug == "hello-world"
    services.publish_post("hello-world")
    assert PostWord.get("wo", "world#hello-world").status == PUBLISHED
    services.delete_post("hello-world")
    assert all_word_items() == set()


def test_a_save_changing_every_word_and_tag_of_a_live_post_fits_one_transaction(dynamodb):
    """Post, revision, 20 tags, MAX_WORDS words and 10 photo uses out and in: within DynamoDB's 100 items."""

    def photos(name):
        return "\n\n".join(f"![{name} {n}](photo:media/originals/2026/12/{name}{n:02d}.jpg)" for n in range(12))

    first = services.create_post(
        slug="many",
        title=" ".join(f"al{n}" for n in range(30)),
        body=photos("old"),
        tags=[f"old-tag{n}" for n in range(20)],
        status=PUBLISHED,
        publish_at=timezone.now(),
    )
    saved = services.update_post(
        "many",
        expected_version=first.version,
        title=" ".join(f"be{n}" for n in range(30)),
        body=photos("new"),
        tags=[f"new-tag{n}" for n in range(20)],
    )
    assert saved.version == first.version + 1
    assert len(saved.photo_keys) == 10 and all("/new" in key for key in saved.photo_keys)
    assert {slug for _, slug in all_word_items()} == {f"{w}#many" for w in words.post_words(saved)}


def test_backfill_writes_the_words_of_posts_saved_before_the_search(dynamodb):
    now = timezone.now()
    with Post.batch_write() as batch:
        for number in range(3):
            batch.save(Post(f"old-{number}", title=f"Old post {number}", updated_at=now, version=1))
    assert all_word_items() == set()
    call_command("backfill-post-words")
    found = words.search("old post")
    assert sorted(m.slug for m in found.matches) == ["old-0", "old-1", "old-2"]


# -- the change list ---------------------------------------------------------------------------------


def test_search_finds_a_word_in_the_middle_of_a_title_and_filters_match_it(admin_client):
    services.create_post(slug="first", title="A trip to Lisbon in spring", tags=["travel"])
    services.create_post(slug="second", title="Lisbon trams", status=PUBLISHED, publish_at=timezone.now())
    services.create_post(slug="third", title="Porto")
    assert listed(admin_client.get(CHANGELIST, {"q": "lisbon"})) == ["second", "first"]
    assert listed(admin_client.get(CHANGELIST, {"q": "LISB spring"})) == ["first"]
    assert listed(admin_client.get(CHANGELIST, {"q": "travel"})) == ["first"]
    assert listed(admin_client.get(CHANGELIST, {"q": "lisbon", "status": "published"})) == ["second"]
    assert listed(admin_client.get(CHANGELIST, {"q": "lisbon", "tag": "travel"})) == ["first"]
    assert listed(admin_client.get(CHANGELIST, {"q": "madrid"})) == []
    # Oldest first when the order is flipped.
    assert listed(admin_client.get(CHANGELIST, {"q": "lisbon", "o": "updated_column"})) == ["first", "second"]


def test_the_list_sorts_by_update_date_both_ways_on_the_index(admin_client):
    now = timezone.now()
    for number in range(3):
        services.create_post(slug=f"post-{number}", title=f"Post {number}", now=now - timedelta(minutes=10 - number))
    response = admin_client.get(CHANGELIST)
    assert listed(response) == ["post-2", "post-1", "post-0"]
    page = response.content.decode()
    assert 'class="column-updated_column sortable sorted descending"' in page
    assert 'href="?o=updated_column"' in page
    ascending = admin_client.get(CHANGELIST, {"o": "updated_column"})
    assert listed(ascending) == ["post-0", "post-1", "post-2"]
    assert ascending.context["cl"].query.scan_index_forward is True
    # Only a column an index orders can be asked for; anything else is the default order.
    assert listed(admin_client.get(CHANGELIST, {"o": "title"})) == ["post-2", "post-1", "post-0"]


def test_each_row_shows_its_cover_from_one_batch_get(admin_client, dynamodb_calls):
    photo = ready_photo("cover")
    services.create_post(slug="with-cover", title="With cover", cover_image=photo.key, cover_alt="A red door")
    services.create_post(slug="without", title="Without")
    dynamodb_calls.clear()
    page = admin_client.get(CHANGELIST).content.decode()
    assert re.search(r'<img src="[^"]+/renditions/[^"]+" alt="A red door" width="64"', page)
    assert dynamodb_calls.names.count("BatchGetItem") == 1 and "GetItem" not in dynamodb_calls.names


# -- at the size of a real blog -----------------------------------------------------------------------

# Posts "Scale post N" (slug scale-N): 2,101 of them, among which exactly 111 have a
# number starting with 99 (99, 990-999, 9900-9999), as a blog of 10,000 would.
SCALE_NUMBERS = [*range(2000), 5000, *range(9900, 10000)]


def _scale_post(number, now):
    return Post(
        f"scale-{number}",
        title=f"Scale post {number}",
        body="Some text.",
        tags=["bench"],
        status=DRAFT,
        created_at=now,
        updated_at=now - timedelta(seconds=number),
        version=1,
    )


def _load(numbers, now):
    """Posts and their words straight into the tables with batch writes (a save per post takes minutes)."""
    with Post.batch_write() as posts, PostWord.batch_write() as items:
        for number in numbers:
            post = _scale_post(number, now)
            posts.save(post)
            for item in words.word_items(post).values():
                items.save(item)


def _follow(client, params):
    """Every post the search lists, following its pages; and the first page's response."""
    first = response = client.get(CHANGELIST, params)
    found = listed(response)
    for _ in range(20):
        cl = response.context["cl"]
        if not cl.next_page_url:
            break
        response = client.get(CHANGELIST + cl.next_page_url)
        found += listed(response)
    return found, first


@pytest.mark.dynamodb_local
def test_at_thousands_of_posts_a_search_finds_every_match_and_the_list_stays_one_query(
    admin_client, dynamodb, dynamodb_calls
):
    if dynamodb != "dynamodb-local":
        pytest.skip("the scale test runs on AWS's DynamoDB Local")
    now = timezone.now()
    _load(SCALE_NUMBERS[:1000], now)
    dynamodb_calls.clear()
    admin_client.get(CHANGELIST)
    small = [name for name in dynamodb_calls.names if name != "DescribeTable"]
    _load(SCALE_NUMBERS[1000:], now)
    dynamodb_calls.clear()
    response = admin_client.get(CHANGELIST)
    assert [name for name in dynamodb_calls.names if name != "DescribeTable"] == small == ["Query"]
    assert len(listed(response)) == 25

    dynamodb_calls.clear()
    found, first = _follow(admin_client, {"q": "scale-99"})
    expected = {f"scale-{n}" for n in SCALE_NUMBERS if str(n).startswith("99")}
    assert len(expected) == 111
    assert len(found) == 111 and set(found) == expected
    # The full slug first, then the most recently updated.
    assert found[0] == "scale-99"
    assert "111 posts match; 1–25 shown." in first.content.decode()
    assert "Scan" not in dynamodb_calls.names

    dynamodb_calls.clear()
    response = admin_client.get(CHANGELIST, {"q": "5000"})
    assert listed(response) == ["scale-5000"]
    assert "Scale post 5000" in response.content.decode()
    # One Query for the one word, one BatchGetItem for the page.
    assert dynamodb_calls.names == ["Query", "BatchGetItem"]
