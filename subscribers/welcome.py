"""One welcome email per new subscriber, from the subscribers table's stream.

The stream delivers each INSERT at least once, and Lambda resends a whole
batch (or everything after a failed record) when a batch fails. So sending
is guarded by a claim: a conditional write sets `welcome_claimed_at` only if
no welcome was sent or claimed, and only while the address is pending. The
process that wins the claim sends and records `welcome_sent_at`; everyone
else skips. If sending fails the claim is released so the retry can send.

A claim that is fresh but has no `welcome_sent_at` belongs to an attempt
that died mid-send (a crash, a timeout): its record is reported as failed so
Lambda retries it, and a claim older than CLAIM_TIMEOUT (far longer than the
function's timeout) is taken over. That is the one window for a second
email: an attempt that sent but died before recording it. To keep attempts
from dying of a timeout, no new record is started when less than
TIME_RESERVE of the invocation's time is left; those records are reported
as failed and come back in the retry.
"""

import datetime
import logging
from dataclasses import dataclass

from django.utils import timezone
from pynamodb.exceptions import UpdateError

from subscribers import emails
from subscribers.models import PENDING, Subscriber

log = logging.getLogger(__name__)

CLAIM_TIMEOUT = datetime.timedelta(minutes=5)
TIME_RESERVE = datetime.timedelta(seconds=20)

SENT = "sent"
ALREADY_SENT = "already-sent"
IN_PROGRESS = "in-progress"
NOT_MAILABLE = "not-mailable"
UNKNOWN = "unknown"


@dataclass(frozen=True)
class NewSubscriber:
    sequence_number: str
    email: str


def new_subscribers(event):
    """(sequence number, email) of each INSERT record of a DynamoDB stream event.

    MODIFY and REMOVE records are not new subscribers; malformed records are
    logged and skipped (retrying them could never succeed).
    """
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list):
        log.warning("Stream event without Records skipped: %.200r", event)
        return []
    found = []
    for record in records:
        try:
            if record.get("eventName") != "INSERT":
                continue
            change = record["dynamodb"]
            email = change["Keys"]["email"]["S"]
            sequence_number = change["SequenceNumber"]
        except (AttributeError, KeyError, TypeError) as error:
            log.warning("Malformed stream record skipped (%s): %.300r", error, record)
            continue
        if not isinstance(email, str) or not email or not isinstance(sequence_number, str):
            log.warning("Stream record without an address skipped: %.300r", record)
            continue
        found.append(NewSubscriber(sequence_number, email))
    return found


def send_welcome(email, now=None):
    """Claim, send and record the welcome email of `email`; returns an outcome."""
    now = now or timezone.now()
    if not _claim(email, now):
        return _why_not_claimed(email)
    try:
        message_id = emails.send(emails.welcome_message(email))
    except Exception:
        _release(email, now)
        raise
    Subscriber(email).update(
        actions=[Subscriber.welcome_sent_at.set(timezone.now()), Subscriber.welcome_message_id.set(message_id)]
    )
    log.info("Welcome email sent to %s (SES message %s)", email, message_id)
    return SENT


def _claim(email, now):
    unclaimed = Subscriber.welcome_claimed_at.does_not_exist() | (Subscriber.welcome_claimed_at < now - CLAIM_TIMEOUT)
    try:
        Subscriber(email).update(
            actions=[Subscriber.welcome_claimed_at.set(now)],
            condition=(
                Subscriber.email.exists()
                & (Subscriber.status == PENDING)
                & Subscriber.welcome_sent_at.does_not_exist()
                & unclaimed
            ),
        )
    except UpdateError as error:
        if getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def _why_not_claimed(email):
    try:
        subscriber = Subscriber.get(email, consistent_read=True)
    except Subscriber.DoesNotExist:
        log.info("No welcome email for %s: no such subscriber any more", email)
        return UNKNOWN
    if subscriber.welcome_sent_at:
        log.info("Welcome email to %s already sent", email)
        return ALREADY_SENT
    if subscriber.welcome_claimed_at and subscriber.status == PENDING:
        log.warning("Welcome email to %s claimed at %s but not sent", email, subscriber.welcome_claimed_at)
        return IN_PROGRESS
    log.info("No welcome email for %s: status is %s", email, subscriber.status)
    return NOT_MAILABLE


def _release(email, now):
    try:
        Subscriber(email).update(
            actions=[Subscriber.welcome_claimed_at.remove()],
            condition=Subscriber.welcome_claimed_at == now,
        )
    except Exception:  # the claim then simply expires after CLAIM_TIMEOUT
        log.exception("Could not release the welcome claim of %s", email)


def handle_stream(event, context=None):
    """Send the welcome emails of a stream batch; reports records to retry.

    Returns Lambda's partial batch response: the sequence numbers of the
    records that failed (for a retry), so the records that succeeded are not
    resent. Records are independent, so one failure does not stop the rest.
    """
    failures = []
    for record in new_subscribers(event):
        if _out_of_time(context):
            log.warning("Out of time: record %s left for the retry", record.sequence_number)
            failures.append({"itemIdentifier": record.sequence_number})
            continue
        try:
            outcome = send_welcome(record.email)
        except Exception:
            log.exception("Welcome email to %s failed; record %s is retried", record.email, record.sequence_number)
            outcome = None
        if outcome in (None, IN_PROGRESS):
            failures.append({"itemIdentifier": record.sequence_number})
    return {"batchItemFailures": failures}


def _out_of_time(context):
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return remaining is not None and remaining() < TIME_RESERVE.total_seconds() * 1000
