"""The newsletter fan-out (subscribers.fanout) with real-shaped SQS events, on moto and DynamoDB Local."""

import json

import pytest

from myblog import queues
from subscribers import fanout, handlers, newsletter
from subscribers.models import SEND_CANCELLED, SEND_DONE, SEND_QUEUED, SEND_SENDING
from tests.subscribers.newsletter_support import (
    CONTENT,
    SqsMapping,
    add_subscribers,
    mixed_audience,
    queued_bodies,
    receive,
    record,
    sqs_event,
)

PAGE = 7
CHUNK = 3


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(fanout, "PAGE_SIZE", PAGE)
    monkeypatch.setattr(fanout, "CHUNK_SIZE", CHUNK)


def fanout_mapping():
    return SqsMapping(newsletter.FANOUT_QUEUE, handlers.fan_out_newsletter, batch_size=1)


def test_fan_out_reaches_every_confirmed_subscriber_once_page_by_page(
    newsletter_dynamodb, small_pages, dynamodb_calls
):
    confirmed = mixed_audience(confirmed=30)
    assert newsletter.start_send("tides", CONTENT) is not None
    dynamodb_calls.clear()

    invocations = fanout_mapping().drain()

    batches = queued_bodies(newsletter.SEND_QUEUE)
    addresses = [address for body in batches for address in body["to"]]
    assert sorted(addresses) == sorted(confirmed)  # each confirmed subscriber once; nobody else
    assert all(body["send"] == "tides" and 0 < len(body["to"]) <= CHUNK for body in batches)
    assert len({body["batch"] for body in batches}) == len(batches)
    pages = -(-30 // PAGE)  # 5 pages of at most 7, then an empty page ends it (DynamoDB gave a cursor)
    assert {body["batch"].split("-")[0] for body in batches} == {str(page) for page in range(pages)}
    assert {body["batch"] for body in batches if body["batch"].startswith("0-")} == {"0-0", "0-1", "0-2"}
    assert invocations in (pages, pages + 1)

    send = newsletter.get_send("tides")
    assert send.state == SEND_SENDING
    assert send.fanout_done is True
    assert send.fanout_cursor is None
    assert int(send.audience) == 30
    assert int(send.fanout_page) == invocations

    queries = [kwargs for name, kwargs in dynamodb_calls.operations if name == "Query"]
    assert "Scan" not in dynamodb_calls.names
    assert len(queries) == invocations
    assert all(q["IndexName"] == "status-index" and q["Limit"] == PAGE for q in queries)


def test_redelivered_and_stale_messages_queue_nothing_twice(newsletter_aws, small_pages):
    add_subscribers(10)
    newsletter.start_send("tides", CONTENT)
    (first,) = receive(newsletter.FANOUT_QUEUE)
    event = sqs_event([first], newsletter.FANOUT_QUEUE)
    assert handlers.fan_out_newsletter(event, None) == {"batchItemFailures": []}
    assert handlers.fan_out_newsletter(event, None) == {"batchItemFailures": []}  # the same message again

    assert sum(len(body["to"]) for body in queued_bodies(newsletter.SEND_QUEUE)) == PAGE
    (following,) = queued_bodies(newsletter.FANOUT_QUEUE)
    assert following["send"] == "tides" and following["page"] == 1
    assert json.loads(following["cursor"])["email"] == {"S": "reader00006@example.com"}
    send = newsletter.get_send("tides")
    assert (int(send.fanout_page), int(send.audience), send.state) == (1, PAGE, SEND_SENDING)


def test_a_page_ahead_of_the_send_is_returned_to_the_queue(newsletter_aws, small_pages):
    add_subscribers(3)
    newsletter.start_send("tides", CONTENT)
    queued_bodies(newsletter.FANOUT_QUEUE)
    ahead = record(newsletter.fanout_message("tides", 4, None), newsletter.FANOUT_QUEUE, message_id="m-ahead")
    assert handlers.fan_out_newsletter({"Records": [ahead]}, None) == {
        "batchItemFailures": [{"itemIdentifier": "m-ahead"}]
    }
    assert queued_bodies(newsletter.SEND_QUEUE) == []
    assert int(newsletter.get_send("tides").fanout_page) == 0


def test_a_crash_after_recording_the_page_still_queues_the_next_one(newsletter_aws, small_pages, monkeypatch):
    confirmed = add_subscribers(10)
    newsletter.start_send("tides", CONTENT)
    real_send = queues.send
    crashes = []

    def send_failing_once(name, bodies, **kwargs):
        if name == newsletter.FANOUT_QUEUE and not crashes:
            crashes.append(name)
            raise queues.QueueError("SQS refused 1 message(s)")
        return real_send(name, bodies, **kwargs)

    monkeypatch.setattr(queues, "send", send_failing_once)
    mapping = fanout_mapping()
    mapping.drain()
    assert len(mapping.failures) == 1  # page 0 failed after recording itself; its redelivery queued page 1
    addresses = [address for body in queued_bodies(newsletter.SEND_QUEUE) for address in body["to"]]
    assert sorted(addresses) == confirmed
    assert newsletter.get_send("tides").fanout_done is True


def test_a_crash_before_recording_the_page_reads_it_again_with_the_same_batch_ids(
    newsletter_aws, small_pages, monkeypatch
):
    add_subscribers(5)
    newsletter.start_send("tides", CONTENT)
    real_record = fanout.record_page
    calls = []

    def record_failing_once(*args, **kwargs):
        calls.append(args)
        if len(calls) == 1:
            raise RuntimeError("the function instance died")
        return real_record(*args, **kwargs)

    monkeypatch.setattr(fanout, "record_page", record_failing_once)
    fanout_mapping().drain()
    batches = queued_bodies(newsletter.SEND_QUEUE)
    # The page was queued twice, as the same batches: the sender counts and sends each batch once.
    assert sorted(body["batch"] for body in batches) == ["0-0", "0-0", "0-1", "0-1"]
    assert int(newsletter.get_send("tides").audience) == 5


@pytest.mark.parametrize("pause", [True, False])
def test_a_paused_or_cancelled_send_reads_no_page_and_resume_carries_on(newsletter_aws, small_pages, pause):
    confirmed = add_subscribers(10)
    newsletter.start_send("tides", CONTENT)
    mapping = fanout_mapping()
    mapping.poll()  # page 0
    if pause:
        newsletter.pause_send("tides", "Paused by an editor.")
    else:
        newsletter.cancel_send("tides")
    mapping.drain()  # page 1 is dropped
    first = [address for body in queued_bodies(newsletter.SEND_QUEUE) for address in body["to"]]
    assert first == confirmed[:PAGE]
    assert int(newsletter.get_send("tides").fanout_page) == 1
    if not pause:
        assert newsletter.get_send("tides").state == SEND_CANCELLED
        with pytest.raises(newsletter.SendError):
            newsletter.resume_send("tides")
        return

    newsletter.resume_send("tides")
    mapping.drain()
    rest = [address for body in queued_bodies(newsletter.SEND_QUEUE) for address in body["to"]]
    assert rest == confirmed[PAGE:]
    assert newsletter.get_send("tides").fanout_done is True


def test_no_confirmed_subscriber_means_the_send_is_done_at_once(newsletter_aws, small_pages):
    add_subscribers(4, prefix="pending", status="pending")
    newsletter.start_send("tides", CONTENT)
    assert newsletter.get_send("tides").state == SEND_QUEUED
    fanout_mapping().drain()
    send = newsletter.get_send("tides")
    assert (send.state, int(send.audience), send.fanout_done) == (SEND_DONE, 0, True)
    assert send.finished_at is not None
    assert newsletter.progress(send)["percent"] == 100


def test_malformed_messages_are_logged_and_skipped(newsletter_aws, caplog):
    bodies = [
        "not json",
        json.dumps([1, 2]),
        {"send": "tides"},
        {"send": "", "page": 0},
        {"send": "tides", "page": -1},
    ]
    event = {
        "Records": [
            record(body, newsletter.FANOUT_QUEUE, message_id=f"m-{index}") for index, body in enumerate(bodies)
        ]
        + [record({"send": "never-sent", "page": 0, "cursor": None}, newsletter.FANOUT_QUEUE, message_id="m-unknown")]
    }
    assert handlers.fan_out_newsletter(event, None) == {"batchItemFailures": []}
    assert "not a fan-out message" in caplog.text
    assert "has no send" in caplog.text
    assert queued_bodies(newsletter.SEND_QUEUE) == []
