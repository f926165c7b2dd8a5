"""The newsletter sender (subscribers.delivery): exactly one email per recipient under replays, crashes and races.

SQS and SES on moto; the claims on moto and on AWS's DynamoDB Local (the
race runs on DynamoDB Local only: it is the engine whose conditional writes
are atomic across threads as DynamoDB's are).
"""

import copy
import threading
import time
from collections import Counter
from datetime import timedelta
from urllib.parse import urlparse

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from botocore.stub import Stubber
from django.utils import timezone

from myblog import aws, queues
from subscribers import delivery, emails, fanout, handlers, newsletter, services, tokens
from subscribers.models import (
    BOUNCED,
    COMPLAINED,
    DELIVERY_RELEASED,
    DELIVERY_SENT,
    SEND_CANCELLED,
    SEND_DONE,
    SEND_SENDING,
    Delivery,
    Subscriber,
)
from tests.subscribers.newsletter_support import (
    CONTENT,
    FakeClock,
    Killed,
    LambdaContext,
    SqsMapping,
    add_subscribers,
    mixed_audience,
    queued_bodies,
    recipients,
    record,
    sent_messages,
)

CHUNK = 4
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


@pytest.fixture(autouse=True)
def small_batches(monkeypatch):
    monkeypatch.setattr(fanout, "CHUNK_SIZE", CHUNK)


def fan_out(slug="tides"):
    newsletter.start_send(slug, CONTENT)
    SqsMapping(newsletter.FANOUT_QUEUE, handlers.fan_out_newsletter, batch_size=1).drain()


def senders(context=None):
    return SqsMapping(newsletter.SEND_QUEUE, handlers.send_newsletter, batch_size=5, context=context)


def counters(slug="tides"):
    send = newsletter.get_send(slug)
    return {name: int(getattr(send, name)) for name in ("audience", *newsletter.PROCESSED_COUNTERS)}


def exact(sent, audience=None, **others):
    counts = {"sent": sent, "skipped": 0, "failed": 0, "rejected": 0, **others}
    return {"audience": audience if audience is not None else sum(counts.values()), **counts}


def ses_error(code, message, status=400):
    return ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}, "SendEmail"
    )


class SesCalls:
    """Records each SendEmail call's parameters (made through this thread's client)."""

    def __init__(self):
        self.params = []
        aws.client("sesv2").meta.events.register("provide-client-params.sesv2.SendEmail", self.record)

    def record(self, params, **kwargs):
        self.params.append(copy.deepcopy(params))

    def to(self):
        return [p["Destination"]["ToAddresses"][0] for p in self.params]


def replay(event):
    """The same event delivered again, each message's receive count one higher."""
    again = copy.deepcopy(event)
    for item in again["Records"]:
        item["attributes"]["ApproximateReceiveCount"] = str(int(item["attributes"]["ApproximateReceiveCount"]) + 1)
    return again


def test_every_confirmed_subscriber_gets_exactly_one_email(newsletter_dynamodb):
    confirmed = mixed_audience(confirmed=10)
    fan_out()
    calls = SesCalls()
    senders().drain()

    assert sorted(recipients()) == confirmed
    send = newsletter.get_send("tides")
    assert counters() == exact(10)
    assert send.state == SEND_DONE and send.finished_at is not None
    assert newsletter.progress(send)["percent"] == 100

    message = next(m for m in sent_messages() if m["To"] == confirmed[3])
    assert message["Subject"] == CONTENT.subject
    assert message["List-Id"] == "MyBlog <newsletter.blog.example.com>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = message["List-Unsubscribe"].strip("<>")
    token = urlparse(unsubscribe).path.rstrip("/").rsplit("/", 1)[-1]
    assert tokens.email_from_unsubscribe_token(token) == confirmed[3]
    for part in (message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()):
        assert unsubscribe in part
        assert newsletter.UNSUBSCRIBE_PLACEHOLDER not in part
    assert all(
        p["ConfigurationSetName"] == "myblog-test" and p["EmailTags"] == [{"Name": "myblog-send", "Value": "tides"}]
        for p in calls.params
    )
    assert len(calls.params) == 10


def test_replayed_batches_send_nothing_twice(newsletter_dynamodb):
    confirmed = add_subscribers(9)
    fan_out()
    mapping = senders()
    mapping.drain()
    assert sorted(recipients()) == confirmed
    for event in mapping.events:
        assert handlers.send_newsletter(event, None) == {"batchItemFailures": []}
        assert handlers.send_newsletter(replay(event), None) == {"batchItemFailures": []}
    assert sorted(recipients()) == confirmed
    assert counters() == exact(9)


@pytest.mark.parametrize(
    "crash, sent_twice",
    [
        ("SES took the email, then the instance died", 1),
        ("the instance died right after the claim", 0),
        ("SES could not be reached", 0),
    ],
)
def test_a_crash_mid_batch_sends_the_rest_and_only_the_doubtful_one_again(
    newsletter_dynamodb, monkeypatch, crash, sent_twice
):
    confirmed = add_subscribers(10)
    fan_out()
    calls = []
    real_send, real_personalise = emails.send, newsletter.personalise

    def send(message, **kwargs):
        calls.append(message["To"])
        if len(calls) == 6 and crash == "SES could not be reached":
            raise EndpointConnectionError(endpoint_url="https://email.us-east-1.amazonaws.com/")
        message_id = real_send(message, **kwargs)
        if len(calls) == 6 and crash.startswith("SES took"):
            raise Killed()
        return message_id

    def personalise(content, address, **kwargs):
        if crash.endswith("after the claim") and len(calls) == 5:
            calls.append("crash")
            raise Killed()
        return real_personalise(content, address, **kwargs)

    monkeypatch.setattr(emails, "send", send)
    monkeypatch.setattr(newsletter, "personalise", personalise)
    mapping = senders()
    mapping.drain()

    assert mapping.kills + len(mapping.failures) >= 1
    got = Counter(recipients())
    assert set(got) == set(confirmed)
    assert sorted(got.values()) == [1] * (10 - sent_twice) + [2] * sent_twice
    assert counters() == exact(10)
    assert newsletter.get_send("tides").state == SEND_DONE


@pytest.mark.parametrize("dynamodb", [pytest.param("dynamodb-local", marks=pytest.mark.dynamodb_local)], indirect=True)
def test_two_senders_racing_on_duplicate_batches_send_each_recipient_once(newsletter_dynamodb, monkeypatch):
    confirmed = add_subscribers(24)
    fan_out()
    bodies = queued_bodies(newsletter.SEND_QUEUE)
    assert len(bodies) == 6
    real_send = emails.send

    def slow_send(message, **kwargs):
        time.sleep(0.01)  # SES takes a moment: the two copies of a batch overlap
        return real_send(message, **kwargs)

    monkeypatch.setattr(emails, "send", slow_send)
    copies = {
        side: [record(body, newsletter.SEND_QUEUE, message_id=f"{side}-{body['batch']}") for body in bodies]
        for side in ("a", "b")
    }
    start = threading.Barrier(2)
    answers, errors = {}, []

    def sender(side):
        try:
            aws.client("sesv2"), aws.client("sqs"), newsletter.get_send("tides")  # this thread's clients, built
            start.wait()
            failed = []
            for item in copies[side]:
                failed += handlers.send_newsletter({"Records": [item]}, None)["batchItemFailures"]
            answers[side] = [f["itemIdentifier"] for f in failed]
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=sender, args=(side,)) for side in copies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert Counter(recipients()) == Counter(confirmed)

    # The copies that found their batch under way come back later; their batch is done by then.
    retried = [item for side in copies for item in copies[side] if item["messageId"] in answers[side]]
    for item in retried:
        item["attributes"]["ApproximateReceiveCount"] = "2"
        assert handlers.send_newsletter({"Records": [item]}, None) == {"batchItemFailures": []}
    assert Counter(recipients()) == Counter(confirmed)
    assert counters() == exact(24)
    assert newsletter.get_send("tides").state == SEND_DONE


def test_an_address_in_two_batches_is_sent_once_and_counted_once(newsletter_aws):
    first, second, third = add_subscribers(3)
    newsletter.start_send("tides", CONTENT)
    queued_bodies(newsletter.FANOUT_QUEUE)
    event = {
        "Records": [
            record({"send": "tides", "batch": "0-0", "to": [first, second]}, newsletter.SEND_QUEUE, message_id="m-1"),
            record({"send": "tides", "batch": "1-0", "to": [second, third]}, newsletter.SEND_QUEUE, message_id="m-2"),
        ]
    }
    assert handlers.send_newsletter(event, None) == {"batchItemFailures": []}
    assert sorted(recipients()) == [first, second, third]
    assert counters() == exact(3, audience=0, skipped=1)
    assert Delivery.get("tides", second).batch == "0-0"


def test_partial_failures_are_reported_by_message_id_and_throttling_returns_the_message(
    newsletter_aws, monkeypatch, clock
):
    confirmed = add_subscribers(12)
    fan_out()
    throttled = confirmed[5]  # the second recipient of the second batch
    client = aws.client("sesv2")
    real_send_email = client.send_email
    attempts = []

    def send_email(**params):
        if params["Destination"]["ToAddresses"] == [throttled]:
            attempts.append(throttled)
            raise ses_error("TooManyRequestsException", "Maximum sending rate exceeded.", 429)
        return real_send_email(**params)

    monkeypatch.setattr(client, "send_email", send_email)
    mapping = senders()
    answer = mapping.poll()
    (event,) = mapping.events
    second_batch = event["Records"][1]["messageId"]
    assert answer == {"batchItemFailures": [{"itemIdentifier": second_batch}]}
    assert len(attempts) == emails.SEND_ATTEMPTS  # emails.send's own backoff first...
    assert len(clock.sleeps) >= emails.SEND_ATTEMPTS - 1  # ...on the senders' clock
    assert Delivery.get("tides", throttled).outcome == DELIVERY_RELEASED  # ...then the claim is released
    assert sorted(recipients()) == sorted(set(confirmed) - set(confirmed[5:8]))

    monkeypatch.setattr(client, "send_email", real_send_email)  # SES has room again
    mapping.drain()
    assert sorted(recipients()) == confirmed
    assert counters() == exact(12)
    assert newsletter.get_send("tides").state == SEND_DONE


def test_a_configuration_error_returns_the_message_and_suppresses_nobody(newsletter_aws, monkeypatch, caplog):
    confirmed = add_subscribers(4)
    fan_out()
    client = aws.client("sesv2")
    real_send_email = client.send_email

    def paused(**params):
        raise ses_error("SendingPausedException", "Sending is paused for this account.")

    monkeypatch.setattr(client, "send_email", paused)
    answer = senders().poll()
    assert len(answer["batchItemFailures"]) == 1
    assert "SendingPausedException" in caplog.text
    assert all(Subscriber.get(address).status == "confirmed" for address in confirmed)
    assert Delivery.get("tides", confirmed[0]).outcome == DELIVERY_RELEASED

    monkeypatch.setattr(client, "send_email", real_send_email)
    senders().drain()
    assert sorted(recipients()) == confirmed
    assert counters() == exact(4)


def test_an_address_ses_rejects_for_good_is_marked_bounced_and_counted_rejected(newsletter_aws, monkeypatch):
    confirmed = add_subscribers(5)
    fan_out()
    client = aws.client("sesv2")
    real_send_email = client.send_email

    def send_email(**params):
        if params["Destination"]["ToAddresses"] == [confirmed[1]]:
            raise ses_error("MessageRejected", "Illegal address")
        return real_send_email(**params)

    monkeypatch.setattr(client, "send_email", send_email)
    assert senders().drain() == 1
    assert sorted(recipients()) == sorted(set(confirmed) - {confirmed[1]})
    subscriber = Subscriber.get(confirmed[1])
    assert subscriber.status == BOUNCED
    assert "Illegal address" in subscriber.suppressed_reason
    assert counters() == exact(4, rejected=1)
    assert newsletter.get_send("tides").state == SEND_DONE


def test_subscribers_who_left_since_the_send_started_are_skipped(newsletter_aws):
    confirmed = add_subscribers(6)
    fan_out()
    services.unsubscribe(confirmed[0])
    services.suppress(confirmed[4], COMPLAINED, "complaint: abuse")
    Subscriber(confirmed[5]).delete()
    senders().drain()
    assert sorted(recipients()) == confirmed[1:4]
    assert counters() == exact(3, skipped=3)
    assert newsletter.get_send("tides").state == SEND_DONE


def test_a_paused_send_puts_its_batches_back_for_later_and_resume_sends_them(newsletter_aws, monkeypatch):
    confirmed = add_subscribers(8)
    fan_out()
    newsletter.pause_send("tides", "Paused by an editor.")
    real_queue_send = queues.send
    requeued = []

    def queue_send(name, bodies, *, delay_seconds=0):
        requeued.append((name, delay_seconds, bodies))
        return real_queue_send(name, bodies)  # at once here, so the test need not wait 5 minutes

    monkeypatch.setattr(queues, "send", queue_send)
    assert senders().poll() == {"batchItemFailures": []}
    assert recipients() == []
    assert [(name, delay) for name, delay, _ in requeued] == [(newsletter.SEND_QUEUE, 300)] * 2
    assert all(body["attempts"] == 1 for _, _, bodies in requeued for body in bodies)

    monkeypatch.setattr(queues, "send", real_queue_send)
    newsletter.resume_send("tides")
    senders().drain()
    assert sorted(recipients()) == confirmed
    assert counters() == exact(8)
    assert newsletter.get_send("tides").state == SEND_DONE


def test_a_paused_batch_waits_on_the_queue(newsletter_aws):
    add_subscribers(3)
    fan_out()
    newsletter.pause_send("tides", "Paused by an editor.")
    senders().poll()
    attributes = aws.client("sqs").get_queue_attributes(
        QueueUrl=queues.queue_url(newsletter.SEND_QUEUE), AttributeNames=["All"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessagesDelayed"] == "1"
    assert attributes["ApproximateNumberOfMessages"] == "0"


def test_a_cancelled_send_drops_its_batches(newsletter_aws):
    add_subscribers(6)
    fan_out()
    newsletter.cancel_send("tides")
    assert senders().drain() == 1
    assert recipients() == []
    assert queued_bodies(newsletter.SEND_QUEUE) == []
    assert newsletter.get_send("tides").state == SEND_CANCELLED


def test_out_of_time_returns_the_rest_and_the_retry_sends_nobody_twice(newsletter_aws, monkeypatch):
    confirmed = add_subscribers(12)
    fan_out()
    slow = FakeClock()
    monkeypatch.setattr(delivery, "_pacer", delivery.Pacer(1, clock=slow, sleep=slow.sleep))
    mapping = senders(LambdaContext(slow, delivery.TIME_RESERVE_SECONDS + 4.5))
    answer = mapping.poll()
    (event,) = mapping.events
    ids = [item["messageId"] for item in event["Records"]]
    assert answer == {"batchItemFailures": [{"itemIdentifier": ids[1]}, {"itemIdentifier": ids[2]}]}
    assert sorted(recipients()) == confirmed[:5]  # one a second: five fit before the reserve
    assert Delivery.get("tides", confirmed[4]).outcome == DELIVERY_SENT

    mapping.context = None
    mapping.drain()
    assert sorted(recipients()) == confirmed
    assert counters() == exact(12)


def test_no_message_is_started_without_time_for_it(newsletter_aws):
    add_subscribers(4)
    fan_out()
    context = LambdaContext(time.monotonic, delivery.TIME_RESERVE_SECONDS - 1)
    answer = senders(context).poll()
    assert len(answer["batchItemFailures"]) == 1
    assert recipients() == []


def test_one_write_and_one_ses_call_per_recipient(newsletter_aws, dynamodb_calls, monkeypatch):
    monkeypatch.setattr(fanout, "CHUNK_SIZE", 20)
    confirmed = add_subscribers(40)
    fan_out()
    calls = SesCalls()
    first, second = queued_bodies(newsletter.SEND_QUEUE)
    assert [len(first["to"]), len(second["to"])] == [20, 20]

    for number, body in enumerate((first, second)):
        dynamodb_calls.clear()
        before = len(calls.params)
        item = record(body, newsletter.SEND_QUEUE, message_id=f"m-{number}")
        assert handlers.send_newsletter({"Records": [item]}, None) == {"batchItemFailures": []}
        writes = [name for name in dynamodb_calls.names if name in WRITES]
        assert len(writes) <= 20 + 2
        assert writes.count("PutItem") == 20  # the claims
        assert writes.count("TransactWriteItems") == 1  # marker and counters
        assert "Scan" not in dynamodb_calls.names
        assert len(calls.params) - before == 20  # exactly one SES call per recipient
    assert writes.count("UpdateItem") == 1  # the last batch marks the send done
    assert sorted(calls.to()) == confirmed
    assert newsletter.get_send("tides").state == SEND_DONE


def test_malformed_messages_are_logged_and_skipped(newsletter_aws, caplog):
    add_subscribers(1)
    newsletter.start_send("tides", CONTENT)
    bodies = [
        "{not json",
        {"batch": "0-0", "to": ["reader00000@example.com"]},
        {"send": "tides", "batch": "zero", "to": ["reader00000@example.com"]},
        {"send": "tides", "batch": "0-0", "to": []},
        {"send": "tides", "batch": "0-0", "to": "reader00000@example.com"},
        {"send": "tides", "batch": "0-0", "to": [17]},
        {"send": "tides", "batch": "0-0", "to": ["x@example.com"] * 51},
        {"send": "tides", "batch": "0-0", "to": ["reader00000@example.com"], "attempts": "2"},
        {"send": "no-such-post", "batch": "0-0", "to": ["reader00000@example.com"]},
    ]
    event = {"Records": [record(b, newsletter.SEND_QUEUE, message_id=f"m-{i}") for i, b in enumerate(bodies)]}
    assert handlers.send_newsletter(event, None) == {"batchItemFailures": []}
    assert recipients() == []
    assert caplog.text.count("skipped") >= len(bodies) - 1


def test_pacer_spaces_calls_to_its_rate():
    clock = FakeClock()
    pacer = delivery.Pacer(4, clock=clock, sleep=clock.sleep)
    started = clock()
    for _ in range(9):
        pacer.wait()
    assert clock() - started == pytest.approx(2.0)
    assert clock.sleeps == [pytest.approx(0.25)] * 8


def test_the_send_rate_is_the_setting_or_ses_own_shared_by_the_senders(aws, settings):
    delivery.forget_rate()
    settings.MYBLOG_NEWSLETTER_SENDERS = 2
    settings.MYBLOG_SES_MAX_SEND_RATE = 0
    client = aws.client("sesv2")
    with Stubber(client) as stub:
        stub.add_response(
            "get_account",
            {"SendQuota": {"Max24HourSend": 50000.0, "MaxSendRate": 14.0, "SentLast24Hours": 0.0}},
        )
        assert delivery.instance_pacer().rate == 7.0
        assert delivery.account_send_rate() == 14.0  # read once per instance
        stub.assert_no_pending_responses()

    delivery.forget_rate()
    settings.MYBLOG_SES_MAX_SEND_RATE = 10
    assert delivery.instance_pacer().rate == 5.0

    delivery.forget_rate()
    settings.MYBLOG_SES_MAX_SEND_RATE = 0
    with Stubber(client) as stub:
        stub.add_client_error("get_account", "AccessDeniedException", "not authorized", 403)
        assert delivery.instance_pacer().rate == 0.5  # SES's sandbox rate, shared
    delivery.forget_rate()


def test_the_sending_state_survives_a_batch_processed_before_its_page_is_recorded(newsletter_aws):
    add_subscribers(2)
    newsletter.start_send("tides", CONTENT)
    queued_bodies(newsletter.FANOUT_QUEUE)
    item = record({"send": "tides", "batch": "0-0", "to": ["reader00000@example.com"]}, newsletter.SEND_QUEUE)
    assert handlers.send_newsletter({"Records": [item]}, None) == {"batchItemFailures": []}
    assert recipients() == ["reader00000@example.com"]
    send = newsletter.get_send("tides")
    assert send.state != SEND_DONE and int(send.sent) == 1
    assert send.state in (SEND_SENDING, "queued")


@pytest.mark.parametrize("minutes_ago, sent_again", [(30, True), (1, False)])
def test_a_batch_replayed_from_the_dead_letter_queue_takes_over_an_abandoned_claim(
    newsletter_aws, minutes_ago, sent_again
):
    first, second = add_subscribers(2)
    newsletter.start_send("tides", CONTENT)
    queued_bodies(newsletter.FANOUT_QUEUE)
    claimed = timezone.now() - timedelta(minutes=minutes_ago)
    for seq, address in enumerate((first, second)):  # the fifth receive died during its second SES call
        Delivery("tides", address, batch="0-0", attempt=5, seq=seq, claimed_at=claimed).save()
    item = record({"send": "tides", "batch": "0-0", "to": [first, second]}, newsletter.SEND_QUEUE, message_id="m-dlq")
    answer = handlers.send_newsletter({"Records": [item]}, None)
    if sent_again:
        assert answer == {"batchItemFailures": []}
        assert recipients() == [second]
        assert counters() == exact(2, audience=0)
    else:  # so recent, it may be another copy's at work
        assert answer == {"batchItemFailures": [{"itemIdentifier": "m-dlq"}]}
        assert recipients() == []
