"""Every reason DynamoDB gives for cancelling a post's transaction, as it arrives on the wire.

DynamoDB's answers are played to botocore as HTTP responses (status 400,
the JSON body DynamoDB sends), so botocore parses them and PynamoDB turns
them into `TransactWriteError` with its `cancellation_reasons` exactly as in
AWS. Answers run out, and the next attempt reaches the emulated table.
"""

import json
import logging
from html import unescape

import pytest
from botocore.awsrequest import AWSResponse
from pynamodb.exceptions import CancellationReason, TransactWriteError

from myblog import transactions
from posts import services
from posts.models import Post, PostTag, Revision
from posts.rules import PUBLISHED, SCHEDULED
from tests.admin_fixtures import POST_PERMISSIONS

ERROR_TYPE = "com.amazonaws.dynamodb.v20120810#"
MESSAGES = {
    "ConditionalCheckFailed": "The conditional request failed",
    "TransactionConflict": "Transaction is ongoing for the item",
    "ThrottlingError": "Throughput exceeds the current capacity for one or more global secondary indexes.",
    "ProvisionedThroughputExceeded": "The level of configured provisioned throughput for the table was exceeded.",
    "ValidationError": "Item size has exceeded the maximum allowed size",
    "ItemCollectionSizeLimitExceeded": "Collection size exceeded.",
    "SomethingNew": "A reason this code does not know",
}


class _Body:
    def __init__(self, data):
        self._data = data

    def stream(self, **kwargs):
        yield self._data


def cancellation(*codes):
    """DynamoDB's TransactionCanceledException body: one reason per item, "None" for the rest."""
    reasons = [{"Code": "None"} if code is None else {"Code": code, "Message": MESSAGES[code]} for code in codes]
    summary = ", ".join(code or "None" for code in codes)
    return {
        "__type": ERROR_TYPE + "TransactionCanceledException",
        "Message": f"Transaction cancelled, please refer cancellation reasons for specific reasons [{summary}]",
        "CancellationReasons": reasons,
    }


class DynamoAnswers:
    """Plays `answers` (response bodies) to TransactWriteItems calls, then lets them through."""

    def __init__(self):
        self.answers = []
        self.attempts = 0
        self.errors = []
        self.pauses = []

    def __call__(self, request, **kwargs):
        self.attempts += 1
        if not self.answers:
            return None
        body = json.dumps(self.answers.pop(0)).encode()
        headers = {"x-amzn-RequestId": f"REQ{self.attempts}", "Content-Type": "application/x-amz-json-1.0"}
        answer = AWSResponse(request.url, 400, headers, _Body(body))
        # botocore offers the request to every before-send handler: moto's
        # must not see it, or it would carry out the write this answer refuses.
        request.url = "https://answered-by-the-test.invalid/"
        return answer


@pytest.fixture
def dynamo(aws, monkeypatch):
    answers = DynamoAnswers()
    client = aws.connection(Post.Meta.region).client
    client.meta.events.register_first("before-send.dynamodb.TransactWriteItems", answers)
    monkeypatch.setattr(transactions, "_pause", answers.pauses.append)
    real_classify = transactions.classify

    def classify(error):
        answers.errors.append(error)
        return real_classify(error)

    monkeypatch.setattr(transactions, "classify", classify)
    yield answers
    client.meta.events.unregister("before-send.dynamodb.TransactWriteItems", answers)


def draft(slug="hello", **fields):
    return services.create_post(slug=slug, title="Hello", body="First text.", user="ann", **fields)


def edit(post, body="Second text."):
    return services.update_post(post.slug, expected_version=post.version, user="bob", body=body)


def revisions(slug):
    return [revision.version for revision in Revision.query(slug)]


def test_the_answers_reach_the_service_in_pynamodbs_own_shape(dynamo):
    post = draft()
    dynamo.answers = [cancellation(None, "TransactionConflict", None)]
    edit(post)
    (error,) = dynamo.errors
    assert isinstance(error, TransactWriteError)
    assert error.cause_response_code == "TransactionCanceledException"
    assert error.cancellation_reasons == [
        None,
        CancellationReason(code="TransactionConflict", message="Transaction is ongoing for the item"),
        None,
    ]
    assert "[None, TransactionConflict, None]" in error.cause_response_message


def test_a_failed_condition_is_someone_else_saving_first_and_is_not_retried(dynamo):
    post = draft()
    dynamo.answers = [cancellation("ConditionalCheckFailed", None)]
    dynamo.attempts = 0
    with pytest.raises(services.StaleVersion, match="Someone else saved this post"):
        edit(post)
    assert dynamo.attempts == 1
    assert Post.get("hello").body == "First text." and revisions("hello") == [1]


def test_a_conflict_is_sent_again_and_the_save_goes_through(dynamo):
    post = draft()
    dynamo.answers = [cancellation("TransactionConflict", None), cancellation(None, "TransactionConflict")]
    dynamo.attempts = 0
    saved = edit(post)
    assert dynamo.attempts == 3 and len(dynamo.pauses) == 2
    assert all(0 < pause < 0.2 for pause in dynamo.pauses)
    assert saved.version == 2
    stored = Post.get("hello")
    assert (stored.body, stored.version, stored.updated_by) == ("Second text.", 2, "bob")
    assert revisions("hello") == [1, 2]


def test_a_conflict_that_persists_is_someone_else_saving_first(dynamo):
    post = draft()
    dynamo.answers = [cancellation("TransactionConflict", None)] * transactions.CONFLICT_ATTEMPTS
    dynamo.attempts = 0
    with pytest.raises(services.StaleVersion):
        edit(post)
    assert dynamo.attempts == transactions.CONFLICT_ATTEMPTS
    assert Post.get("hello").body == "First text." and revisions("hello") == [1]


def test_a_conflict_after_which_the_other_save_has_landed_fails_its_condition(dynamo):
    post = draft()
    edit(post, body="The other editor's text.")  # what the conflicting writer saved
    dynamo.answers = [cancellation("TransactionConflict", None)]
    with pytest.raises(services.StaleVersion):
        edit(post, body="My text.")  # the retry reaches the table with the old version: refused
    assert Post.get("hello").body == "The other editor's text."


def test_creating_a_slug_someone_else_is_creating(dynamo):
    dynamo.answers = [cancellation("TransactionConflict", None)] * transactions.CONFLICT_ATTEMPTS
    with pytest.raises(services.SlugTaken):
        draft()
    assert list(Post.scan()) == [] and revisions("hello") == []


def test_conflict_and_failed_condition_together_is_final(dynamo):
    post = draft()
    dynamo.answers = [cancellation("TransactionConflict", "ConditionalCheckFailed", None)]
    dynamo.attempts = 0
    with pytest.raises(services.StaleVersion):
        edit(post)
    assert dynamo.attempts == 1


@pytest.mark.parametrize("code", ["ThrottlingError", "ProvisionedThroughputExceeded"])
def test_throttling_is_retried_with_backoff_and_the_save_goes_through(dynamo, code):
    post = draft()
    dynamo.answers = [cancellation(None, code, None)] * (transactions.THROTTLE_ATTEMPTS - 1)
    dynamo.attempts = 0
    assert edit(post).version == 2
    assert dynamo.attempts == transactions.THROTTLE_ATTEMPTS
    assert len(dynamo.pauses) == transactions.THROTTLE_ATTEMPTS - 1
    assert all(0 <= pause <= transactions.THROTTLE_MAX_PAUSE for pause in dynamo.pauses)
    assert Post.get("hello").body == "Second text."


@pytest.mark.parametrize("code", ["ThrottlingError", "ProvisionedThroughputExceeded"])
def test_throttling_that_persists_is_a_clear_error_and_nothing_is_written(dynamo, code):
    post = draft()
    dynamo.answers = [cancellation(None, code, None)] * transactions.THROTTLE_ATTEMPTS
    with pytest.raises(services.SaveFailed) as failed:
        edit(post)
    assert str(failed.value) == services.SaveFailed.BUSY
    assert Post.get("hello").body == "First text." and revisions("hello") == [1]


def test_the_backoff_grows_and_is_capped(monkeypatch):
    monkeypatch.setattr(transactions.random, "uniform", lambda low, high: high)
    pauses = [transactions._throttle_pause(attempt) for attempt in range(1, 8)]
    assert pauses == sorted(pauses) and pauses[0] == transactions.THROTTLE_BASE_PAUSE
    assert pauses[-1] == transactions.THROTTLE_MAX_PAUSE


@pytest.mark.parametrize("code", ["ValidationError", "ItemCollectionSizeLimitExceeded"])
def test_refused_items_are_a_clear_error_without_a_retry(dynamo, code):
    post = draft()
    dynamo.answers = [cancellation(None, None, code)]
    dynamo.attempts = 0
    with pytest.raises(services.SaveFailed) as failed:
        edit(post)
    assert str(failed.value) == services.SaveFailed.REFUSED
    assert dynamo.attempts == 1
    assert Post.get("hello").body == "First text."


def test_a_reason_nobody_knows_is_an_unexpected_error(dynamo):
    post = draft()
    dynamo.answers = [cancellation(None, "SomethingNew")]
    dynamo.attempts = 0
    with pytest.raises(TransactWriteError):
        edit(post)
    assert dynamo.attempts == 1


def test_a_call_throttled_as_a_whole_is_a_clear_error():
    # botocore has already retried a throttled call by the time PynamoDB raises.
    error = TransactWriteError("Failed to write transaction items", _client_error("ThrottlingException"))
    assert transactions.classify(error) is transactions.Throttled
    error = TransactWriteError("Failed to write transaction items", _client_error("ConditionalCheckFailedException"))
    assert transactions.classify(error) is transactions.ConditionFailed
    error = TransactWriteError("Failed to write transaction items", _client_error("AccessDeniedException"))
    assert transactions.classify(error) is None


def _client_error(code):
    from pynamodb.exceptions import VerboseClientError

    return VerboseClientError({"Error": {"Code": code, "Message": code}}, "TransactWriteItems")


def test_deleting_retries_a_conflict_and_reports_persistent_throttling(dynamo):
    draft("one", status=PUBLISHED, tags=["demo"])
    draft("two", status=PUBLISHED, tags=["demo"])
    dynamo.answers = [cancellation(None, "TransactionConflict")]
    services.delete_post("one", expected_version=1)
    with pytest.raises(Post.DoesNotExist):
        Post.get("one")
    dynamo.answers = [cancellation("ThrottlingError", None)] * transactions.THROTTLE_ATTEMPTS
    with pytest.raises(services.SaveFailed, match="nothing was deleted"):
        services.delete_post("two", expected_version=1)
    assert Post.get("two").status == PUBLISHED
    assert [item.slug for item in PostTag.query("demo")] == ["two"]


def test_the_scheduler_leaves_a_throttled_post_for_its_next_run(dynamo, caplog):
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    for slug in ("first", "second"):
        draft(slug, status=SCHEDULED, publish_at=now + timedelta(minutes=1), now=now - timedelta(minutes=5))
    later = now + timedelta(minutes=2)
    dynamo.answers = [cancellation("ThrottlingError", None, None)] * transactions.THROTTLE_ATTEMPTS
    with caplog.at_level(logging.ERROR, logger="posts.services"):
        published = services.publish_due_posts(now=later)
    assert len(published) == 1
    statuses = {post.slug: post.status for post in Post.scan()}
    assert sorted(statuses.values()) == [PUBLISHED, SCHEDULED]
    assert "was not published this time" in caplog.text
    assert services.publish_due_posts(now=later) == [slug for slug, status in statuses.items() if status == SCHEDULED]


# -- what the editor sees ------------------------------------------------------------------------


@pytest.fixture
def editor_client(client, make_editor, dynamo):
    client.force_login(make_editor("editor", *POST_PERMISSIONS))
    client.raise_request_exception = True  # a 500 fails the test with its traceback
    return client


def _change(client, post, body):
    data = {"title": "Hello", "slug": post.slug, "body": body, "excerpt": "", "tags": "", "author": "ann"}
    return client.post(f"/admin/posts/post/{post.slug}/change/", {**data, "_version": str(post.version)})


@pytest.mark.parametrize(
    "answers, message",
    [
        ([cancellation("TransactionConflict", None, None)] * transactions.CONFLICT_ATTEMPTS, "Someone else saved"),
        ([cancellation(None, "ThrottlingError", None)] * transactions.THROTTLE_ATTEMPTS, "too busy to save"),
        ([cancellation("ValidationError", None, None)], "refused to save this post"),
    ],
)
def test_the_editor_sees_the_message_and_keeps_the_text(editor_client, dynamo, answers, message):
    post = draft()
    dynamo.answers = list(answers)
    response = _change(editor_client, post, "My long-considered paragraph.")
    assert response.status_code == 200
    page = unescape(response.content.decode())
    assert message in page
    assert response.context["adminform"].form["body"].value() == "My long-considered paragraph."
    assert Post.get("hello").body == "First text."


def test_after_a_passing_conflict_the_editors_save_just_works(editor_client, dynamo):
    post = draft()
    dynamo.answers = [cancellation("TransactionConflict", None, None)]
    assert _change(editor_client, post, "Saved at the second try.").status_code == 302
    assert Post.get("hello").body == "Saved at the second try."
