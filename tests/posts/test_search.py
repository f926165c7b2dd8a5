"""The search index: its terms and BM25 ranking, its rebuilds when posts change, and its ETag re-validation."""

import gzip
import itertools
import json
import logging
from datetime import timedelta
from types import SimpleNamespace

import pytest
from botocore.exceptions import ClientError
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from myblog import aws as myblog_aws
from posts import handlers, search, search_index, services
from posts.search_text import markdown_text, terms
from tests.posts.test_invalidation import _invalidated, distribution  # noqa: F401  (`distribution`: a fixture)
from tests.reader_fixtures import publish
from tests.sqs_fixtures import body_event


def _post(slug, title="A post", body="", excerpt="", tags=(), days_ago=1):
    return SimpleNamespace(
        slug=slug,
        title=title,
        body=body,
        excerpt=excerpt,
        tags=list(tags),
        author="editor",
        publish_at=timezone.now() - timedelta(days=days_ago),
        cover_image=None,
        cover_alt="",
    )


def _index(*posts):
    return search.SearchIndex(search_index.decode(search_index.encode(search_index.build(posts))))


def _ranked(index, text):
    return [index.posts[number][0] for number, _ in index.rank(search.parse_query(text))]


FILLER = "Notes from a long weekend by the sea, with friends, bread and coffee. " * 3


# -- terms ----------------------------------------------------------------------------------------


def test_terms_fold_case_and_accents_and_drop_stop_words():
    assert terms("The Café at Zürich, and NAÏVE tests") == ["cafe", "zurich", "naive", "test"]
    assert terms("日本語 と English") == ["日本語", "と", "english"]
    assert terms("x" * 41 + " ok") == ["ok"]


def test_markdown_text_keeps_link_and_image_words_but_not_addresses():
    body = "See [the docs](https://example.com/secret-path) and ![A red kite](photo:media/originals/k.jpg) <b>bold</b>"
    text = markdown_text(body)
    assert terms(text) == ["see", "doc", "red", "kite", "bold"]


# -- ranking --------------------------------------------------------------------------------------


def test_a_title_match_beats_a_body_match():
    index = _index(
        _post("in-the-body", title="Weekend notes", body=FILLER + "We flew a kite."),
        _post("in-the-title", title="Kite weekend", body=FILLER),
    )
    assert _ranked(index, "kite") == ["in-the-title", "in-the-body"]


def test_more_occurrences_rank_higher_but_saturate():
    index = _index(
        _post("once", body=FILLER + "lambda"),
        _post("thrice", body=FILLER + "lambda lambda lambda"),
        _post("none", body=FILLER),
    )
    scores = {index.posts[n][0]: score for n, score in index.rank(search.parse_query("lambda"))}
    assert list(scores) == ["thrice", "once"]  # a post without the word is no result
    wide = _index(*(_post(f"p{n}", body=FILLER + "lambda " * n) for n in (1, 2, 4, 8, 16)))
    by_slug = {wide.posts[n][0]: score for n, score in wide.rank(search.parse_query("lambda"))}
    by_count = {n: by_slug[f"p{n}"] for n in (1, 2, 4, 8, 16)}
    counts = (1, 2, 4, 8, 16)
    gains = [by_count[after] - by_count[before] for before, after in itertools.pairwise(counts)]
    assert all(gain > 0 for gain in gains) and gains == sorted(gains, reverse=True)  # BM25's k1 saturation
    assert by_count[16] < by_count[1] * (search.K1 + 1)  # bounded above, unlike raw term frequency


def test_a_longer_post_with_the_same_count_ranks_lower():
    index = _index(_post("short", body="dynamodb " + FILLER), _post("long", body="dynamodb " + FILLER * 6))
    assert _ranked(index, "dynamodb") == ["short", "long"]


def test_rare_words_weigh_more_and_more_words_matched_rank_higher():
    common = [_post(f"common-{n}", body=FILLER + "python") for n in range(8)]
    index = _index(*common, _post("both", body=FILLER + "python zappa"), _post("rare", body=FILLER + "zappa"))
    ranked = _ranked(index, "python zappa")
    assert ranked[:2] == ["both", "rare"] and len(ranked) == 10


def test_the_last_word_matches_as_a_prefix_below_an_exact_match():
    index = _index(
        _post("exact", body=FILLER + "server"),
        _post("longer", body=FILLER + "serverless"),
        _post("other", body=FILLER),
    )
    assert _ranked(index, "server") == ["exact", "longer"]
    assert _ranked(index, "serverl") == ["longer"]
    assert _ranked(index, "server ") == ["exact"]  # a finished word is not a prefix
    assert _ranked(index, "se") == []  # too short to complete


def test_ties_go_to_the_newer_post():
    index = _index(_post("older", title="Kite", days_ago=5), _post("newer", title="Kite", days_ago=1))
    assert _ranked(index, "kite") == ["newer", "older"]


def test_queries_are_bounded():
    with pytest.raises(search.InvalidQuery):
        search.parse_query("x" * (search.MAX_QUERY_LENGTH + 1))
    with pytest.raises(search.InvalidQuery):
        search.parse_query(" ".join(["word"] * (search.MAX_QUERY_WORDS + 1)))
    assert search.parse_query("  The  ").is_empty  # only a stop word, and finished
    assert search.parse_query("!? a").is_empty  # no word, and too short a prefix
    assert search.parse_query("the").prefix == "the"  # still being typed: "theory", "theme"...
    assert search.parse_query("Kites and BOATS").terms == ("kite",)
    assert search.parse_query("Kites and BOATS").prefix == "boat"


def test_highlight_escapes_everything_and_marks_only_the_words():
    query = search.parse_query("script kit")
    html = search.highlight('<script>alert("kit")</script> & kites', query)
    assert html == (
        "&lt;<mark>script</mark>&gt;alert(&quot;<mark>kit</mark>&quot;)&lt;/<mark>script</mark>&gt; "
        "&amp; <mark>kites</mark>"
    )


# -- rebuilds -------------------------------------------------------------------------------------


def _stored():
    bucket, key = search_index.location()
    return search_index.decode(myblog_aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


def _slugs():
    return [row[0] for row in _stored()["posts"]]


def test_the_index_is_a_gzipped_json_object_under_the_search_prefix(aws, reindex):
    publish("first-post", title="First post", body="Hello **kites**", tags=["kites"])
    reindex()
    assert settings.MYBLOG_SEARCH_INDEX_KEY == "search/index.json.gz"
    head = aws.client("s3").head_object(Bucket=settings.MYBLOG_MEDIA_BUCKET, Key=settings.MYBLOG_SEARCH_INDEX_KEY)
    assert head["ContentType"] == "application/gzip"
    index = _stored()
    assert index["fields"][:6] == ["slug", "title", "excerpt", "tags", "author", "published_at"]
    [row] = index["posts"]
    assert row[:5] == ["first-post", "First post", "About first-post.", ["kites"], "editor"]
    assert set(index["terms"]) >= {"first", "post", "hello", "kite"}


def test_publish_edit_unpublish_and_delete_rebuild_the_index(aws, reindex):
    publish("kites", title="Kites", body="Flying kites.")
    draft = services.create_post(slug="draft", title="Draft about kites", user="editor")
    reindex()
    assert _slugs() == ["kites"]  # a draft is never indexed
    post = services.publish_post("draft", user="editor")
    reindex()
    assert _slugs() == ["draft", "kites"]
    services.update_post("draft", expected_version=post.version, title="Boats", body="Sailing.")
    reindex()
    index = search.SearchIndex(_stored())
    assert _ranked(index, "boats") == ["draft"] and _ranked(index, "kites") == ["kites"]
    services.unpublish_post("draft", user="editor")
    reindex()
    assert _slugs() == ["kites"]
    services.delete_post("kites")
    reindex()
    assert _slugs() == []
    assert draft.slug == "draft"


def test_changes_the_index_does_not_show_do_not_rebuild_it(aws, job_queues):
    publish("live", title="Live")
    assert job_queues.bodies("search-index") == [{"slugs": ["live"]}]
    job_queues.drain("search-index", lambda event, context: {"batchItemFailures": []})
    draft = services.create_post(slug="draft", title="Draft", user="editor")
    services.update_post("draft", expected_version=draft.version, body="Still a draft.")
    assert job_queues.bodies("search-index") == []
    live = services.update_post("live", expected_version=1, title="Live, retitled")
    assert job_queues.bodies("search-index") == [{"slugs": ["live"]}] and live.title == "Live, retitled"


def test_the_save_only_queues_the_rebuild(aws, job_queues, dynamodb_calls):
    dynamodb_calls.clear()
    publish("kites", title="Kites")
    assert dynamodb_calls.names == ["TransactWriteItems"]  # no read of the live posts in the request
    assert search_index.current_etag() is None


def test_a_batch_of_changes_is_one_rebuild(aws, reindex, monkeypatch):
    for n in range(3):
        publish(f"post-{n}", title=f"Post {n}")
    calls = []
    real = search_index.rebuild
    monkeypatch.setattr(search_index, "rebuild", lambda changed=None, now=None: calls.append(changed) or real(changed))
    assert reindex() == [{"batchItemFailures": []}]
    assert len(calls) == 1 and sorted(calls[0]) == ["post-0", "post-1", "post-2"]
    assert sorted(_slugs()) == ["post-0", "post-1", "post-2"]


def test_a_rebuild_shows_the_change_even_if_the_published_index_lags(aws, reindex, monkeypatch):
    publish("old", title="Old")
    reindex()
    monkeypatch.setattr(search_index, "live_posts", lambda now=None: [])  # an index that has not caught up
    publish("new", title="New")
    reindex()
    assert _slugs() == ["new"]


def test_a_failed_rebuild_returns_its_messages_to_the_queue(aws, reindex, job_queues, caplog):
    aws.client("s3").delete_bucket(Bucket=settings.MYBLOG_MEDIA_BUCKET)
    publish("saved-anyway", title="Saved anyway")
    with caplog.at_level(logging.ERROR, logger="posts.search_index"):
        [response] = reindex()
    [failure] = response["batchItemFailures"]
    assert failure["itemIdentifier"] == job_queues.events[-1]["Records"][0]["messageId"]
    assert job_queues.bodies("search-index") == [{"slugs": ["saved-anyway"]}]  # kept, for the retry
    assert "Search index rebuild failed" in caplog.text


def test_a_rebuild_that_cannot_be_queued_is_logged_and_never_fails_the_save(aws, caplog):
    with caplog.at_level(logging.ERROR, logger="posts.search_index"):  # no queue: SQS refuses the message
        post = publish("saved-anyway", title="Saved anyway")
    assert services.Post.get("saved-anyway").title == post.title
    assert "Search index rebuild after a change to saved-anyway not queued" in caplog.text


def test_malformed_messages_still_rebuild_and_are_never_retried(aws, reindex, job_queues):
    publish("kites", title="Kites")
    reindex()
    response = handlers.rebuild_search_index(body_event("search-index", "not json", {"slugs": "kites"}, {}), None)
    assert response == {"batchItemFailures": []}
    assert _slugs() == ["kites"]


def _search_purges(aws):
    """The invalidations made of the search results (a publish also purges the post's own pages)."""
    batches = _invalidated(aws, settings.MYBLOG_CLOUDFRONT_DISTRIBUTION_ID)
    return [batch for batch in batches if "/search/*" in batch]


def _delayed(job_queues, queue):
    url = job_queues.url(queue)
    attributes = job_queues.client.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessagesDelayed"])


@pytest.mark.usefixtures("distribution")
def test_a_rebuild_queues_the_purge_of_cached_results_for_after_every_instance_rechecked(
    aws, reindex, job_queues, settings
):
    settings.MYBLOG_SEARCH_INDEX_CHECK_SECONDS = 30
    publish("kites", title="Kites")
    assert reindex() == [{"batchItemFailures": []}]
    assert _slugs() == ["kites"]
    # Not yet: an instance may still answer from the index it checked up to 30 s ago.
    assert _search_purges(aws) == [] and job_queues.bodies("search-index") == []
    assert _delayed(job_queues, "search-index") == 1
    assert search_index.purge_delay_seconds() == 35
    settings.MYBLOG_SEARCH_INDEX_CHECK_SECONDS = 10_000
    assert search_index.purge_delay_seconds() == 900  # SQS's longest delay


@pytest.mark.usefixtures("distribution")
def test_the_purge_invalidates_the_results_pages_and_the_api_searches_and_rebuilds_nothing(aws, job_queues, caplog):
    with caplog.at_level(logging.INFO, logger="posts.search_index"):
        response = handlers.rebuild_search_index(
            body_event("search-index", search_index.PURGE, search_index.PURGE), None
        )
    assert response == {"batchItemFailures": []}
    assert _invalidated(aws, settings.MYBLOG_CLOUDFRONT_DISTRIBUTION_ID) == [
        ["/api/search*", "/search/*"]
    ]  # one, for the whole batch
    assert search_index.current_etag() is None and "rebuilt" not in caplog.text
    assert _delayed(job_queues, "search-index") == 0  # a purge queues no other


@pytest.mark.usefixtures("distribution")
def test_a_batch_of_a_rebuild_and_a_purge_does_both(aws, job_queues):
    publish("kites", title="Kites")
    event = body_event("search-index", {"slugs": ["kites"]}, search_index.PURGE)
    assert handlers.rebuild_search_index(event, None) == {"batchItemFailures": []}
    assert _slugs() == ["kites"]
    assert _search_purges(aws) == [["/api/search*", "/search/*"]]
    assert _delayed(job_queues, "search-index") == 1  # and the purge for the rebuild just made


def test_a_purge_that_cannot_be_queued_is_logged_and_the_rebuild_stands(aws, caplog):
    publish("kites", title="Kites")  # (no queue: the rebuild is queued by hand below, the purge refused)
    with caplog.at_level(logging.ERROR, logger="posts.search_index"):
        response = handlers.rebuild_search_index(body_event("search-index", {"slugs": ["kites"]}), None)
    assert response == {"batchItemFailures": []}
    assert _slugs() == ["kites"]
    assert "Search results purge not queued" in caplog.text


def test_the_put_is_conditional_on_the_etag_read_before_the_posts(aws):
    publish("one", title="One")
    etag = search_index.current_etag()
    stale = search_index.encode(search_index.build([]))
    search_index.write(search_index.encode(search_index.build([_post("other")])), etag)  # a rebuild won the race
    with pytest.raises(search_index.LostRace):
        search_index.write(stale, etag)
    with pytest.raises(search_index.LostRace):
        search_index.write(stale, None)  # "only if there is none"
    assert _slugs() == ["other"]


def test_a_rebuild_that_loses_the_race_reads_the_posts_again(aws, job_queues, monkeypatch):
    publish("one", title="One")
    reads = []
    real_live_posts = search_index.live_posts

    def live_posts(now=None):
        reads.append(now)
        if len(reads) == 1:  # while this rebuild reads, another one writes the index
            search_index.write(search_index.encode(search_index.build([])), search_index.current_etag())
            publish("two", title="Two")
        return real_live_posts(now)

    monkeypatch.setattr(search_index, "live_posts", live_posts)
    index, _ = search_index.rebuild()
    assert len(reads) == 2  # the first attempt lost; the retry read again
    assert [row[0] for row in index["posts"]] == _slugs() == ["two", "one"]


def test_deferred_changes_queue_one_rebuild_at_the_end(aws, job_queues, reindex):
    with search_index.deferred():
        for n in range(3):
            publish(f"bulk-{n}", title=f"Bulk {n}")
        assert job_queues.bodies("search-index") == []
    assert job_queues.bodies("search-index") == [{"slugs": ["bulk-0", "bulk-1", "bulk-2"]}]
    reindex()
    assert sorted(_slugs()) == ["bulk-0", "bulk-1", "bulk-2"]


def test_the_command_rebuilds_from_the_live_posts(aws, settings, capsys):
    settings.MYBLOG_SEARCH_AUTO_UPDATE = False
    publish("not-yet-indexed", title="Not yet indexed")
    assert search_index.current_etag() is None
    call_command("rebuild-search-index")
    assert "Indexed 1 live posts in s3://test-myblog-media/search/index.json.gz" in capsys.readouterr().out
    assert _slugs() == ["not-yet-indexed"]


def test_the_rebuild_reads_with_queries_never_a_scan(aws, dynamodb_calls):
    publish("one", title="One")
    dynamodb_calls.clear()
    search_index.rebuild()
    assert dynamodb_calls.names == ["Query"]
    assert dynamodb_calls.operations[0][1]["IndexName"] == "published-index"


# -- the index in a function instance -------------------------------------------------------------


class S3Calls:
    def __init__(self, client, monkeypatch):
        self.calls = []
        real = client.get_object

        def get_object(**kwargs):
            self.calls.append(kwargs)
            return real(**kwargs)

        monkeypatch.setattr(client, "get_object", get_object)


@pytest.fixture
def s3_gets(aws, monkeypatch):
    return S3Calls(aws.client("s3"), monkeypatch).calls


@pytest.fixture
def clock(monkeypatch):
    now = SimpleNamespace(value=1000.0)
    cache = search.IndexCache(clock=lambda: now.value)
    monkeypatch.setattr(search, "_cache", cache)
    return now


def test_the_index_is_loaded_once_and_rechecked_by_etag_every_n_seconds(
    aws, reindex, s3_gets, clock, settings, dynamodb_calls
):
    settings.MYBLOG_SEARCH_INDEX_CHECK_SECONDS = 30
    publish("kites", title="Kites")
    reindex()
    dynamodb_calls.clear()
    first = search.current_index()
    assert len(s3_gets) == 1 and "IfNoneMatch" not in s3_gets[0]
    clock.value += 29
    assert search.current_index() is first and len(s3_gets) == 1  # fresh: no call at all
    clock.value += 2
    assert search.current_index() is first  # unchanged: one GetObject answered 304, nothing reloaded
    assert len(s3_gets) == 2 and s3_gets[1]["IfNoneMatch"] == search._cache.etag
    publish("boats", title="Boats")
    reindex()
    assert search.current_index() is first  # changed, but not rechecked yet
    clock.value += 31
    reloaded = search.current_index()
    assert len(s3_gets) == 3 and reloaded is not first and len(reloaded) == 2
    # Saving boats, then its rebuild (the post by key, the live posts): a search never calls DynamoDB.
    assert dynamodb_calls.names == ["TransactWriteItems", "GetItem", "Query"]


def test_a_missing_index_is_empty_and_an_unreadable_one_keeps_the_copy(aws, reindex, s3_gets, clock, monkeypatch):
    assert len(search.current_index()) == 0  # no index yet: no results, not an error
    publish("kites", title="Kites")
    reindex()
    clock.value += 60
    assert len(search.current_index()) == 1

    def refuse(**kwargs):
        denied = {"Error": {"Code": "AccessDenied"}, "ResponseMetadata": {"HTTPStatusCode": 403}}
        raise ClientError(denied, "GetObject")

    monkeypatch.setattr(aws.client("s3"), "get_object", refuse)
    clock.value += 60
    assert len(search.current_index()) == 1  # the copy in memory keeps serving
    monkeypatch.setattr(search, "_cache", search.IndexCache(clock=lambda: clock.value))
    with pytest.raises(search.SearchUnavailable):
        search.current_index()


def test_a_corrupt_index_is_unavailable_not_a_crash(aws):
    aws.client("s3").put_object(
        Bucket=settings.MYBLOG_MEDIA_BUCKET, Key=settings.MYBLOG_SEARCH_INDEX_KEY, Body=gzip.compress(b"[1, 2]")
    )
    with pytest.raises(search.SearchUnavailable):
        search.current_index()
    aws.client("s3").put_object(
        Bucket=settings.MYBLOG_MEDIA_BUCKET, Key=settings.MYBLOG_SEARCH_INDEX_KEY, Body=json.dumps({}).encode()
    )
    search.forget_index()
    with pytest.raises(search.SearchUnavailable):
        search.current_index()
