"""The deliverability guard: a newsletter's SES bounces and complaints counted against its send, which pauses."""

import copy
import json
from pathlib import Path

import pytest

from subscribers import fanout, handlers, newsletter
from subscribers.models import BOUNCED, COMPLAINED, CONFIRMED, SEND_PAUSED, SEND_SENDING, Delivery, Send, Subscriber
from tests.subscribers.newsletter_support import CONTENT, SqsMapping, add_subscribers, queued_bodies, recipients

EVENTS = Path(__file__).resolve().parents[1] / "events"


def notification(name, address, *, slug="tides", event_publishing=False):
    """The captured SNS event `name`, about `address`, of an email tagged with send `slug` (if any)."""
    event = json.loads((EVENTS / name).read_text())
    message = json.loads(event["Records"][0]["Sns"]["Message"])
    for key in ("bouncedRecipients", "complainedRecipients"):
        for part in ("bounce", "complaint"):
            if key in message.get(part, {}):
                message[part][key][0]["emailAddress"] = address
    message["mail"]["destination"] = [address]
    if slug is not None:
        message["mail"]["tags"] = {"ses:configuration-set": ["myblog-test"], newsletter.SEND_TAG: [slug]}
    if event_publishing:  # a configuration set's event destination says eventType
        message["eventType"] = message.pop("notificationType")
    event["Records"][0]["Sns"]["Message"] = json.dumps(message)
    return event


def complaint(address, **kwargs):
    return notification("sns_ses_complaint.json", address, **kwargs)


def bounce(address, **kwargs):
    return notification("sns_ses_bounce.json", address, **kwargs)


@pytest.fixture
def sending(newsletter_aws):
    """A send under way: 2,000 emails out, and its recipients' claims (those the tests name)."""
    newsletter.start_send("tides", CONTENT)
    queued_bodies(newsletter.FANOUT_QUEUE)
    Send("tides").update(actions=[Send.state.set(SEND_SENDING), Send.sent.set(2000), Send.audience.set(5000)])
    addresses = add_subscribers(30)
    for seq, address in enumerate(addresses):
        Delivery("tides", address, batch="0-0", attempt=1, seq=seq).save()
    return addresses


def test_complaints_pause_the_send_when_the_rate_passes_the_limit(sending):
    first, second, third, fourth = sending[:4]
    handlers.record_ses_notifications(complaint(first), None)
    handlers.record_ses_notifications(complaint(second, event_publishing=True), None)
    send = newsletter.get_send("tides")
    assert (int(send.complained), send.state) == (2, SEND_SENDING)  # 0.1%: at the limit, not past it

    result = handlers.record_ses_notifications(complaint(third), None)
    assert result == {"suppressed": [{"email": third, "status": COMPLAINED}]}  # suppression as before
    send = newsletter.get_send("tides")
    assert int(send.complained) == 3
    assert send.state == SEND_PAUSED
    assert send.paused_reason == "Paused: the complaint rate reached 0.15% (3 of 2,000 sent); the limit is 0.1%."
    assert newsletter.progress(send)["paused_reason"] == send.paused_reason

    handlers.record_ses_notifications(complaint(fourth), None)  # still counted while paused
    send = newsletter.get_send("tides")
    assert (int(send.complained), send.state) == (4, SEND_PAUSED)
    assert "3 of 2,000" in send.paused_reason


def test_permanent_bounces_count_and_pause_past_the_bounce_limit(sending, settings):
    settings.MYBLOG_NEWSLETTER_MAX_BOUNCE_RATE = 0.05
    Send("tides").update(actions=[Send.sent.set(200), Send.bounced.set(9)])
    handlers.record_ses_notifications(notification("sns_ses_transient_bounce.json", sending[0]), None)
    assert int(newsletter.get_send("tides").bounced) == 9  # SES retried those: not counted
    handlers.record_ses_notifications(bounce(sending[1]), None)
    send = newsletter.get_send("tides")
    assert (int(send.bounced), send.state) == (10, SEND_SENDING)
    handlers.record_ses_notifications(bounce(sending[2]), None)
    send = newsletter.get_send("tides")
    assert send.state == SEND_PAUSED
    assert send.paused_reason == "Paused: the bounce rate reached 5.5% (11 of 200 sent); the limit is 5%."
    assert Subscriber.get(sending[2]).status == BOUNCED


def test_a_notification_delivered_twice_counts_once(sending):
    event = complaint(sending[0])
    handlers.record_ses_notifications(event, None)
    handlers.record_ses_notifications(copy.deepcopy(event), None)
    assert int(newsletter.get_send("tides").complained) == 1
    assert Delivery.get("tides", sending[0]).complained_at is not None


def test_no_pause_before_enough_emails_went_out(sending):
    Send("tides").update(actions=[Send.sent.set(99)])
    for address in sending[:20]:
        handlers.record_ses_notifications(complaint(address), None)
    send = newsletter.get_send("tides")
    assert (int(send.complained), send.state) == (20, SEND_SENDING)


def test_mail_of_no_send_or_of_no_recipient_counts_nothing(sending):
    handlers.record_ses_notifications(complaint(sending[0], slug=None), None)  # a welcome email
    handlers.record_ses_notifications(complaint(sending[1], slug="another-post"), None)  # no such send
    handlers.record_ses_notifications(complaint("stranger@example.com"), None)  # not a recipient of the send
    send = newsletter.get_send("tides")
    assert (int(send.complained), send.state) == (0, SEND_SENDING)
    assert Subscriber.get(sending[0]).status == COMPLAINED  # suppressed all the same
    assert Subscriber.get(sending[1]).status == COMPLAINED


def test_the_guard_stops_a_send_under_way(newsletter_aws, monkeypatch):
    monkeypatch.setattr(fanout, "CHUNK_SIZE", 50)
    confirmed = add_subscribers(150)
    newsletter.start_send("tides", CONTENT)
    SqsMapping(newsletter.FANOUT_QUEUE, handlers.fan_out_newsletter, batch_size=1).drain()
    senders = SqsMapping(newsletter.SEND_QUEUE, handlers.send_newsletter, batch_size=1)
    senders.poll()
    senders.poll()
    assert len(recipients()) == 100

    handlers.record_ses_notifications(complaint(recipients()[17]), None)
    send = newsletter.get_send("tides")
    assert send.state == SEND_PAUSED
    assert send.paused_reason == "Paused: the complaint rate reached 1% (1 of 100 sent); the limit is 0.1%."
    senders.poll()  # the last batch goes back to the queue for later
    assert len(recipients()) == 100
    assert Subscriber.get(confirmed[0]).status == CONFIRMED
