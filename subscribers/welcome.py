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

A retry only helps if the next attempt can succeed. An address SES refuses
for good (malformed in a way it does not accept) would fail every attempt
and end in the failure queue, so it is marked bounced instead, with SES's
reason, and its record counts as done. Errors that concern the account or
its configuration (sending paused, an unverified sender, a missing
configuration set) are nobody's address: they stay failures, retried and
then kept in the failure queue to replay once fixed, and are logged as
errors, since every welcome email fails until someone acts.
"""

import datetime
import logging
from dataclasses import dataclass

from botocore.exceptions import ClientError
from django.utils import timezone
from pynamodb.exceptions import UpdateError

from myblog import aws, events
from subscribers import emails, services
from subscribers.models import BOUNCED, PENDING, Subscriber
from subscribers.ses_errors import error_code, error_message, is_configuration_error, rejection_reason, rejects_address

log = logging.getLogger(__name__)

CLAIM_TIMEOUT = datetime.timedelta(minutes=5)
TIME_RESERVE = datetime.timedelta(seconds=20)

SENT = "sent"
ALREADY_SENT = "already-sent"
IN_PROGRESS = "in-progress"
NOT_MAILABLE = "not-mailable"
UNKNOWN = "unknown"
REJECTED = "rejected"  # the address can never be sent to: now marked bounced


@dataclass(frozen=True)
class NewSubscriber:
    sequence_number: str
    email: str


def new_subscribers(event):
    """(sequence number, email) of each INSERT record of a DynamoDB stream event.

    MODIFY and REMOVE records are not new subscribers; malformed records are
    logged and skipped (retrying them could never succeed).
    """
    records = events.records(event, "Stream", log)
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
    """Claim, send and record the welcome email of `email`; returns an outcome.

    An address that cannot be sent to is marked bounced (REJECTED): one
    stored before the address rules were what they are, without calling
    SES; one SES refuses, after its answer.
    """
    now = now or timezone.now()
    subscriber = _claim(email, now)
    if subscriber is None:
        return _why_not_claimed(email)
    try:
        services.normalise_email(email)
    except services.InvalidEmail:
        return _reject(email, now, "invalid address: not sent")
    try:
        message = emails.welcome_message(email, imported=bool(subscriber.import_job), name=subscriber.name)
        message_id = emails.send(message)
    except ClientError as error:
        if not rejects_address(error):
            _release(email, now)
            raise
        return _reject(email, now, rejection_reason(error))
    except Exception:
        _release(email, now)
        raise
    Subscriber(email).update(
        actions=[Subscriber.welcome_sent_at.set(timezone.now()), Subscriber.welcome_message_id.set(message_id)]
    )
    log.info("Welcome email sent to %s (SES message %s)", email, message_id)
    return SENT


def _reject(email, now, reason):
    """Never mail `email` again (status bounced, with `reason`): REJECTED, or UNKNOWN if it is gone."""
    try:
        known = services.suppress(email, BOUNCED, reason[:500])
    except Exception:
        _release(email, now)  # the retry decides again
        raise
    if not known:
        log.info("No welcome email for %.300r: no such subscriber any more", email)
        return UNKNOWN
    log.warning("No welcome email for %.300r, which is now marked bounced: %s", email, reason)
    return REJECTED


def _claim(email, now):
    """The claimed subscriber, as the claim's write left it, or None if it is not to be claimed.

    The update returns the whole item (PynamoDB asks for ALL_NEW), so the
    email is written from what the table holds, with no second read.
    """
    unclaimed = Subscriber.welcome_claimed_at.does_not_exist() | (Subscriber.welcome_claimed_at < now - CLAIM_TIMEOUT)
    subscriber = Subscriber(email)
    try:
        subscriber.update(
            actions=[Subscriber.welcome_claimed_at.set(now)],
            condition=(
                Subscriber.email.exists()
                & (Subscriber.status == PENDING)
                & Subscriber.welcome_sent_at.does_not_exist()
                & unclaimed
            ),
        )
    except UpdateError as error:
        if aws.is_conditional_check_failure(error):
            return None
        raise
    return subscriber


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
        except Exception as error:
            if is_configuration_error(error):
                log.error(
                    "SES refuses to send (%s: %s): a problem of the SES account or its configuration, not of %s. "
                    "Every welcome email fails until it is fixed; record %s is retried, then kept in the "
                    "failure queue to replay.",
                    error_code(error),
                    error_message(error),
                    record.email,
                    record.sequence_number,
                )
            else:
                log.exception("Welcome email to %s failed; record %s is retried", record.email, record.sequence_number)
            outcome = None
        if outcome in (None, IN_PROGRESS):
            failures.append({"itemIdentifier": record.sequence_number})
    return {"batchItemFailures": failures}


def _out_of_time(context):
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return remaining is not None and remaining() < TIME_RESERVE.total_seconds() * 1000
