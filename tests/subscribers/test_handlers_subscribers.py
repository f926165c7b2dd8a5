"""subscribers.handlers with real-shaped stream and SNS events; SES on moto."""

import copy
import email
import json
from email import policy
from pathlib import Path
from urllib.parse import urlparse

import pytest
from botocore.stub import Stubber
from django.utils import timezone
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from subscribers import emails, handlers, services, tokens, welcome
from subscribers.models import BOUNCED, COMPLAINED, CONFIRMED, PENDING, Subscriber

EVENTS = Path(__file__).resolve().parents[1] / "events"


def load_event(name):
    return json.loads((EVENTS / name).read_text())


def stream_event(*addresses, sequence_start=100):
    """The captured stream batch's INSERT record, once per address."""
    insert = load_event("dynamodb_stream.json")["Records"][0]
    records = []
    for offset, address in enumerate(addresses):
        record = copy.deepcopy(insert)
        record["dynamodb"]["Keys"]["email"]["S"] = address
        record["dynamodb"]["NewImage"]["email"]["S"] = address
        record["dynamodb"]["SequenceNumber"] = str(4421584500000000017450439000 + sequence_start + offset)
        records.append(record)
    return {"Records": records}


def sent_messages():
    """What SES (moto) accepted, parsed back into email messages."""
    backend = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    return [email.message_from_string(m.raw_data, policy=policy.default) for m in backend.sent_messages]


@pytest.fixture
def ses(aws, settings):
    settings.MYBLOG_SES_SENDER = "MyBlog <hello@myblog.example>"
    aws.client("sesv2").create_email_identity(EmailIdentity="myblog.example")
    return aws


def test_welcome_message_has_links_headers_and_both_parts(ses, settings):
    settings.MYBLOG_BLOG_NAME = "Tom & Jerry's <Notes>"
    message = emails.welcome_message("reader@example.com")
    assert message["To"] == "reader@example.com"
    assert message["From"] == "MyBlog <hello@myblog.example>"
    assert "Tom & Jerry's <Notes>" in message["Subject"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = message["List-Unsubscribe"].strip("<>")
    assert unsubscribe.startswith("https://blog.example.com/")
    token = urlparse(unsubscribe).path.rstrip("/").rsplit("/", 1)[-1]
    assert tokens.email_from_unsubscribe_token(token) == "reader@example.com"

    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    confirm = tokens.confirm_url("reader@example.com")
    for body in (text, html):
        assert confirm in body
        assert unsubscribe in body
    assert "Tom & Jerry's <Notes>" in text
    assert "Tom &amp; Jerry&#x27;s &lt;Notes&gt;" in html
    assert "<Notes>" not in html


def test_new_subscriber_gets_exactly_one_welcome_email(ses):
    services.subscribe("reader@example.com")
    result = handlers.send_welcome_emails(stream_event("reader@example.com"), None)
    assert result == {"batchItemFailures": []}
    (message,) = sent_messages()
    assert message["To"] == "reader@example.com"
    assert message["List-Unsubscribe"]
    subscriber = Subscriber.get("reader@example.com")
    assert subscriber.welcome_sent_at is not None
    assert subscriber.welcome_message_id
    assert subscriber.status == PENDING
    # A reader who signed up is told so, and thanked.
    for body in (message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()):
        assert "reader@example.com was entered in the subscribe form" in body
        assert "Thanks for subscribing" in body and "imported" not in body


def test_redelivered_and_duplicated_records_send_nothing_more(ses):
    services.subscribe("reader@example.com")
    event = stream_event("reader@example.com")
    handlers.send_welcome_emails(event, None)
    handlers.send_welcome_emails(copy.deepcopy(event), None)
    doubled = {"Records": event["Records"] * 2}
    assert handlers.send_welcome_emails(doubled, None) == {"batchItemFailures": []}
    assert len(sent_messages()) == 1


def test_only_inserts_are_new_subscribers(ses):
    services.subscribe("reader@example.com")
    event = load_event("dynamodb_stream.json")  # INSERT, MODIFY, REMOVE
    assert [r.email for r in welcome.new_subscribers(event)] == ["reader@example.com"]
    handlers.send_welcome_emails(event, None)
    assert len(sent_messages()) == 1


def test_malformed_records_are_skipped_not_retried(ses, caplog):
    services.subscribe("reader@example.com")
    event = stream_event("reader@example.com")
    event["Records"][:0] = [
        "garbage",
        {"eventName": "INSERT", "dynamodb": {"SequenceNumber": "1"}},
        {"eventName": "INSERT", "dynamodb": {"Keys": {"email": {"N": "1"}}, "SequenceNumber": "2"}},
    ]
    assert handlers.send_welcome_emails(event, None) == {"batchItemFailures": []}
    assert len(sent_messages()) == 1
    assert "Malformed stream record" in caplog.text


def test_suppressed_or_unknown_addresses_get_nothing(ses):
    services.subscribe("bounced@example.com")
    services.suppress("bounced@example.com", BOUNCED, "bounce")
    services.subscribe("confirmed@example.com")
    services.confirm("confirmed@example.com")
    event = stream_event("bounced@example.com", "confirmed@example.com", "nobody@example.com")
    assert handlers.send_welcome_emails(event, None) == {"batchItemFailures": []}
    assert sent_messages() == []
    assert Subscriber.get("confirmed@example.com").status == CONFIRMED


def test_failing_record_is_reported_alone_and_sent_on_retry(ses, monkeypatch):
    for address in ("a@example.com", "b@example.com", "c@example.com"):
        services.subscribe(address)
    real_send = emails.send

    def send_failing_for_b(message, **kwargs):
        if message["To"] == "b@example.com":
            raise RuntimeError("SES is unreachable")
        return real_send(message, **kwargs)

    monkeypatch.setattr(emails, "send", send_failing_for_b)
    event = stream_event("a@example.com", "b@example.com", "c@example.com")
    failed_sequence = event["Records"][1]["dynamodb"]["SequenceNumber"]
    assert handlers.send_welcome_emails(event, None) == {"batchItemFailures": [{"itemIdentifier": failed_sequence}]}
    assert sorted(m["To"] for m in sent_messages()) == ["a@example.com", "c@example.com"]
    assert Subscriber.get("b@example.com").welcome_claimed_at is None  # claim released

    # Lambda retries from the failed record on: b and everything after it.
    monkeypatch.setattr(emails, "send", real_send)
    retry = {"Records": event["Records"][1:]}
    assert handlers.send_welcome_emails(retry, None) == {"batchItemFailures": []}
    assert sorted(m["To"] for m in sent_messages()) == ["a@example.com", "b@example.com", "c@example.com"]


def test_a_fresh_claim_is_retried_later_and_an_abandoned_one_taken_over(ses):
    services.subscribe("busy@example.com")
    services.subscribe("abandoned@example.com")
    now = timezone.now()
    Subscriber("busy@example.com").update(actions=[Subscriber.welcome_claimed_at.set(now)])
    stale = now - welcome.CLAIM_TIMEOUT - timezone.timedelta(seconds=1)
    Subscriber("abandoned@example.com").update(actions=[Subscriber.welcome_claimed_at.set(stale)])
    event = stream_event("busy@example.com", "abandoned@example.com")
    busy_sequence = event["Records"][0]["dynamodb"]["SequenceNumber"]
    # Claimed by an attempt that died mid-send: not sent twice, but not dropped either.
    assert handlers.send_welcome_emails(event, None) == {"batchItemFailures": [{"itemIdentifier": busy_sequence}]}
    assert [m["To"] for m in sent_messages()] == ["abandoned@example.com"]
    assert welcome.send_welcome("busy@example.com", now=now + welcome.CLAIM_TIMEOUT * 2) == welcome.SENT
    assert sorted(m["To"] for m in sent_messages()) == ["abandoned@example.com", "busy@example.com"]


class LambdaContext:
    def __init__(self, remaining_ms):
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self):
        return self.remaining_ms


def test_records_are_left_for_the_retry_when_time_runs_out(ses):
    services.subscribe("reader@example.com")
    event = stream_event("reader@example.com")
    sequence = event["Records"][0]["dynamodb"]["SequenceNumber"]
    result = handlers.send_welcome_emails(event, LambdaContext(remaining_ms=5_000))
    assert result == {"batchItemFailures": [{"itemIdentifier": sequence}]}
    assert sent_messages() == []
    assert Subscriber.get("reader@example.com").welcome_claimed_at is None
    assert handlers.send_welcome_emails(event, LambdaContext(remaining_ms=60_000)) == {"batchItemFailures": []}
    assert len(sent_messages()) == 1


def test_ses_throttling_is_retried_with_backoff(ses):
    client = ses.client("sesv2")
    delays = []
    with Stubber(client) as stub:
        for _ in range(2):
            stub.add_client_error("send_email", "TooManyRequestsException", "Maximum sending rate exceeded.", 429)
        stub.add_response("send_email", {"MessageId": "0100-example"})
        assert emails.send(emails.welcome_message("reader@example.com"), sleep=delays.append) == "0100-example"
        stub.assert_no_pending_responses()
    assert len(delays) == 2
    assert all(0 <= delay <= emails.BACKOFF_CAP_SECONDS for delay in delays)


def test_persistent_throttling_and_other_errors_are_raised(ses):
    client = ses.client("sesv2")
    with Stubber(client) as stub:
        for _ in range(emails.SEND_ATTEMPTS):
            stub.add_client_error("send_email", "TooManyRequestsException", "Maximum sending rate exceeded.", 429)
        with pytest.raises(client.exceptions.TooManyRequestsException):
            emails.send(emails.welcome_message("reader@example.com"), sleep=lambda delay: None)
    delays = []
    with Stubber(client) as stub:
        stub.add_client_error("send_email", "MessageRejected", "Email address is not verified.", 400)
        with pytest.raises(client.exceptions.MessageRejected):
            emails.send(emails.welcome_message("reader@example.com"), sleep=delays.append)
    assert delays == []


def test_permanent_bounce_suppresses_the_subscriber(ses):
    services.subscribe("reader@example.com")
    result = handlers.record_ses_notifications(load_event("sns_ses_bounce.json"), None)
    assert result == {"suppressed": [{"email": "reader@example.com", "status": BOUNCED}]}
    subscriber = Subscriber.get("reader@example.com")
    assert subscriber.status == BOUNCED
    assert "Permanent" in subscriber.suppressed_reason and "5.1.1" in subscriber.suppressed_reason
    assert welcome.send_welcome("reader@example.com") == welcome.NOT_MAILABLE
    assert sent_messages() == []
    # A redelivered notification is harmless.
    handlers.record_ses_notifications(load_event("sns_ses_bounce.json"), None)
    assert Subscriber.get("reader@example.com").status == BOUNCED


def test_complaint_suppresses_the_subscriber(ses):
    services.subscribe("reader@example.com")
    services.confirm("reader@example.com")
    handlers.record_ses_notifications(load_event("sns_ses_complaint.json"), None)
    subscriber = Subscriber.get("reader@example.com")
    assert subscriber.status == COMPLAINED
    assert subscriber.suppressed_reason == "complaint: abuse"


def test_transient_bounce_is_not_suppressed(ses):
    services.subscribe("full@example.com")
    assert handlers.record_ses_notifications(load_event("sns_ses_transient_bounce.json"), None) == {"suppressed": []}
    assert Subscriber.get("full@example.com").status == PENDING


def test_event_publishing_format_and_unknown_addresses(ses):
    services.subscribe("reader@example.com")
    event = load_event("sns_ses_complaint.json")
    message = json.loads(event["Records"][0]["Sns"]["Message"])
    message["eventType"] = message.pop("notificationType")
    message["complaint"]["complainedRecipients"].append({"emailAddress": "stranger@example.com"})
    event["Records"][0]["Sns"]["Message"] = json.dumps(message)
    result = handlers.record_ses_notifications(event, None)
    assert result == {"suppressed": [{"email": "reader@example.com", "status": COMPLAINED}]}
    with pytest.raises(Subscriber.DoesNotExist):
        Subscriber.get("stranger@example.com")


def test_malformed_notifications_are_skipped(ses, caplog):
    services.subscribe("reader@example.com")
    good = load_event("sns_ses_bounce.json")["Records"][0]
    broken = copy.deepcopy(good)
    broken["Sns"]["Message"] = "{not json"
    delivery = copy.deepcopy(good)
    delivery["Sns"]["Message"] = json.dumps({"notificationType": "Delivery", "mail": {}})
    event = {"Records": [broken, "garbage", delivery, good]}
    assert handlers.record_ses_notifications(event, None) == {
        "suppressed": [{"email": "reader@example.com", "status": BOUNCED}]
    }
    assert "Malformed SNS record" in caplog.text


# -- SES refusing a send: the address, or the account ------------------------------------------


def _ses_answers(ses, *answers):
    """Stub SES's SendEmail answers, in order: a MessageId, or (error code, message, HTTP status)."""
    stub = Stubber(ses.client("sesv2"))
    for answer in answers:
        if isinstance(answer, tuple):
            stub.add_client_error("send_email", *answer)
        else:
            stub.add_response("send_email", {"MessageId": answer})
    return stub


@pytest.mark.parametrize(
    "refusal",
    [
        ("BadRequestException", "Illegal address", 400),  # SESv2
        ("InvalidParameterValue", "Local address contains control or whitespace", 400),  # SES v1
        ("InvalidParameterValue", "Missing final '@domain'", 400),
        ("MessageRejected", "Address blacklisted.", 400),
    ],
)
def test_an_address_ses_refuses_is_marked_bounced_and_its_record_is_done(ses, caplog, refusal):
    for address in ("a@example.com", "b@example.com", "c@example.com"):
        services.subscribe(address)
    event = stream_event("a@example.com", "b@example.com", "c@example.com")
    with _ses_answers(ses, "0100-a", refusal, "0100-c") as stub:
        assert handlers.send_welcome_emails(event, None) == {"batchItemFailures": []}
        stub.assert_no_pending_responses()
    refused = Subscriber.get("b@example.com")
    assert refused.status == BOUNCED
    assert refused.suppressed_reason == f"rejected by SES: {refusal[0]}: {refusal[1]}"
    assert [Subscriber.get(a).welcome_message_id for a in ("a@example.com", "c@example.com")] == ["0100-a", "0100-c"]
    assert "b@example.com" in caplog.text and "marked bounced" in caplog.text
    # Redelivered: nothing is sent (the stub has no answer left) and nothing fails.
    with _ses_answers(ses):
        assert handlers.send_welcome_emails(event, None) == {"batchItemFailures": []}


@pytest.mark.parametrize(
    "refusal",
    [
        (
            "MessageRejected",
            "Email address is not verified. The following identities failed the check in region US-EAST-1: "
            "b@example.com",
            400,
        ),
        ("MessageRejected", "Illegal content.", 400),
        ("InvalidParameterValue", "Illegal content.", 400),
        ("AccountSuspendedException", "Your account has been suspended.", 400),
        ("SendingPausedException", "Sending is paused for this account.", 400),
        ("MailFromDomainNotVerifiedException", "Mail FROM domain is not verified.", 400),
        ("NotFoundException", "Configuration set <welcome> does not exist.", 404),
    ],
)
def test_configuration_errors_stay_failures_and_are_logged_as_errors(ses, caplog, refusal):
    services.subscribe("b@example.com")
    event = stream_event("b@example.com")
    sequence = event["Records"][0]["dynamodb"]["SequenceNumber"]
    with _ses_answers(ses, refusal):
        assert handlers.send_welcome_emails(event, None) == {"batchItemFailures": [{"itemIdentifier": sequence}]}
    subscriber = Subscriber.get("b@example.com")
    assert subscriber.status == PENDING and subscriber.welcome_claimed_at is None
    [logged] = [r for r in caplog.records if r.name == "subscribers.welcome" and r.levelname == "ERROR"]
    assert "SES account or its configuration" in logged.getMessage() and refusal[0] in logged.getMessage()
    # Once fixed, the retry sends it.
    with _ses_answers(ses, "0100-b"):
        assert handlers.send_welcome_emails(event, None) == {"batchItemFailures": []}
    assert Subscriber.get("b@example.com").welcome_message_id == "0100-b"


def test_an_unverified_sender_is_a_configuration_error_on_moto_too(aws, settings, caplog):
    settings.MYBLOG_SES_SENDER = "MyBlog <hello@unverified.example>"
    services.subscribe("reader@example.com")
    event = stream_event("reader@example.com")
    assert len(handlers.send_welcome_emails(event, None)["batchItemFailures"]) == 1
    assert Subscriber.get("reader@example.com").status == PENDING
    assert "SES account or its configuration" in caplog.text


def test_address_errors_with_a_malformed_sender_are_the_senders(ses, settings):
    settings.MYBLOG_SES_SENDER = "MyBlog <hello>"
    services.subscribe("b@example.com")
    with _ses_answers(ses, ("InvalidParameterValue", "Missing final '@domain'", 400)):
        assert len(handlers.send_welcome_emails(stream_event("b@example.com"), None)["batchItemFailures"]) == 1
    assert Subscriber.get("b@example.com").status == PENDING


def test_an_address_stored_before_the_rules_is_marked_bounced_without_calling_ses(ses, caplog):
    Subscriber("a\x00b@example.com", status=PENDING).save()  # as the old sign-up rules let through
    services.subscribe("fine@example.com")
    event = stream_event("a\x00b@example.com", "fine@example.com")
    with _ses_answers(ses, "0100-fine") as stub:  # one answer: a second SendEmail would fail the test
        assert handlers.send_welcome_emails(event, None) == {"batchItemFailures": []}
        stub.assert_no_pending_responses()
    junk = Subscriber.get("a\x00b@example.com")
    assert junk.status == BOUNCED and junk.suppressed_reason == "invalid address: not sent"
    assert "'a\\x00b@example.com'" in caplog.text  # logged escaped
