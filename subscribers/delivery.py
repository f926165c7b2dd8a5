"""The newsletter sender: each recipient of each batch gets its email once.

A batch is a send-queue message `{"send", "batch", "to"}` (at most
MAX_RECIPIENTS addresses, from `subscribers.fanout`). SQS delivers it at
least once, a Lambda call can die at any moment, and two copies of one
batch may run at once, so every recipient is claimed before its SES call:
one conditional PutItem of its `Delivery` item `(send, address)`, which
succeeds only if nobody holds the address. The recipients of a batch are
claimed and sent in order, one at a time, and a claim records the batch,
the attempt (the message's receive count) and the recipient's place in the
batch (`seq`). So when a batch comes again, its claims say what happened:

- every claim of this batch below its highest one was sent (the sender
  claimed the next only after SES took the previous);
- the highest claim is the one in doubt if the attempt that made it died
  during its SES call: a later attempt (a higher receive count, or any
  attempt once the claim is older than any Lambda call lasts) takes it over
  (a conditional put on exactly that claim, so only one attempt can) and
  sends it again. That is the one window for a second email: a sender that
  died after SES took the message and before it claimed the next recipient.
  A claim of an attempt no later than this one is another copy's at work:
  this copy stops and comes back later;
- a claim of another batch is that batch's to send (an address in two
  batches, which only an edit of the subscriber during the fan-out makes).

An attempt that stops on purpose writes what its highest claim means:
`released` when SES refused the message for now (throttling, an account or
configuration problem, a failure on SES's side: the message returns to the
queue and that recipient is sent by the next attempt), `sent` when it runs
out of time after a send. The end of a batch is one transaction: its
marker `(send, "#batch#<batch>")`, put only if absent, and the send's
counters, added. A batch whose marker exists is done and dropped, and a
copy that loses the marker's race adds nothing, so every recipient counts
once. Each recipient costs one DynamoDB write and one SES call; a batch one
transaction, and the last one the update that marks the send done.

SES is called at the account's sending rate (`MYBLOG_SES_MAX_SEND_RATE`, or
SES's GetAccount when 0) shared by the MYBLOG_NEWSLETTER_SENDERS senders
the queue's mapping runs at most: see `Pacer`.
"""

import logging
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta

from botocore.exceptions import ClientError
from django.conf import settings
from django.utils import timezone
from pynamodb.exceptions import PutError

from myblog import aws, queues, transactions
from subscribers import emails, newsletter, services
from subscribers.models import (
    BATCH_MARKER,
    BOUNCED,
    CONFIRMED,
    DELIVERY_FAILED,
    DELIVERY_REJECTED,
    DELIVERY_RELEASED,
    DELIVERY_SENT,
    SEND_ENDED,
    SEND_PAUSED,
    Delivery,
    Send,
    Subscriber,
)
from subscribers.ses_errors import (
    error_code,
    error_message,
    is_configuration_error,
    is_server_error,
    is_throttling,
    rejection_reason,
    rejects_address,
)

log = logging.getLogger(__name__)

MAX_RECIPIENTS = 50
MAX_SLUG_LENGTH = 200
MAX_ADDRESS_LENGTH = 320
BATCH_ID_RE = re.compile(r"[0-9]{1,9}-[0-9]{1,9}")
# A batch of a paused send goes back to the queue for this long, again and
# again until the send is resumed or cancelled.
PAUSED_DELAY_SECONDS = 300
# No recipient is started with less than this left of the Lambda call: an
# SES call with its throttling backoff (`emails.send`) takes at most ~12 s.
TIME_RESERVE_SECONDS = 20
# Claims outlive every message that could still bring their batch back
# (SQS keeps a message, and its dead-letter queue, up to 14 days).
CLAIM_LIFETIME = timedelta(days=90)
# A claim this old was made by an attempt that is over, whatever its number
# (Lambda stops every call within 15 minutes): a batch replayed from the
# dead-letter queue, whose receive count starts again at 1, takes it over.
ABANDONED_AFTER = timedelta(minutes=20)
# When SES's own figure cannot be read (GetAccount refused): its sandbox rate.
FALLBACK_SEND_RATE = 1.0

# What became of a message.
DONE = "done"  # dealt with (or it never can be): delete it
RETRY = "retry"  # return it to the queue
OUT_OF_TIME = "out-of-time"  # return it, and every message after it, to the queue


# --- pacing ---------------------------------------------------------------------------------------

_rate_lock = threading.Lock()
_account_rate = None
_pacer = None


class Pacer:
    """Spaces the SES calls of this function instance to at most `rate` a second.

    Each instance takes its share of the account's rate (the senders run
    at most MYBLOG_NEWSLETTER_SENDERS at once), so together they stay
    within it and SES rarely has to throttle. `clock` and `sleep` are
    `time.monotonic` and `time.sleep` unless a test gives its own.
    """

    def __init__(self, rate, *, clock=time.monotonic, sleep=time.sleep):
        if rate <= 0:
            raise ValueError("the send rate must be positive")
        self.rate = rate
        self.interval = 1.0 / rate
        self.clock = clock
        self.sleep = sleep
        self._next = None
        self._lock = threading.Lock()

    def delay(self):
        """Seconds until the next call may go."""
        if self._next is None:
            return 0.0
        return max(0.0, self._next - self.clock())

    def wait(self):
        """Sleep until the next call may go, and book the slot after it."""
        with self._lock:
            delay = self.delay()
            if delay > 0:
                self.sleep(delay)
            now = self.clock()
            self._next = max(now, self._next or now) + self.interval


def account_send_rate():
    """The account's SES sending rate (emails a second): the setting, else SES's own figure.

    SES's figure (GetAccount's SendQuota.MaxSendRate) is read once per
    function instance. If SES refuses to say (no permission, an emulator
    without the call), its sandbox rate of 1 a second is assumed.
    """
    global _account_rate
    configured = float(settings.MYBLOG_SES_MAX_SEND_RATE or 0)
    if configured > 0:
        return configured
    with _rate_lock:
        if _account_rate is None:
            try:
                rate = float(aws.client("sesv2").get_account()["SendQuota"]["MaxSendRate"])
            except Exception as error:
                log.warning("SES GetAccount failed (%s); sending at %s a second", error, FALLBACK_SEND_RATE)
                rate = FALLBACK_SEND_RATE
            _account_rate = rate if rate > 0 else FALLBACK_SEND_RATE
        return _account_rate


def instance_pacer():
    """This function instance's `Pacer`: its share of the account's rate."""
    global _pacer
    if _pacer is None:
        senders = max(1, int(settings.MYBLOG_NEWSLETTER_SENDERS or 1))
        _pacer = Pacer(account_send_rate() / senders)
    return _pacer


def forget_rate():
    """Forget the rate and pacer read for this instance (tests that change the settings)."""
    global _account_rate, _pacer
    with _rate_lock:
        _account_rate = None
    _pacer = None


# --- messages -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Batch:
    """A send-queue message, checked."""

    message_id: str
    post_slug: str
    batch: str
    to: tuple
    attempt: int  # this receive of the batch: the message's receive count plus earlier messages' attempts
    body: dict = field(compare=False)

    @property
    def marker(self):
        return BATCH_MARKER + self.batch


def parse(message):
    """The `Batch` of an SQS message, or None (logged) if its body is not a send-queue message.

    A re-queued batch (its send was paused) carries `attempts`, the attempts
    it already had, so its claims keep their order.
    """
    body = message.body
    slug, batch, to = body.get("send"), body.get("batch"), body.get("to")
    attempts = body.get("attempts", 0)
    problem = None
    if not isinstance(slug, str) or not 0 < len(slug) <= MAX_SLUG_LENGTH:
        problem = "no send"
    elif not isinstance(batch, str) or not BATCH_ID_RE.fullmatch(batch):
        problem = "no batch id"
    elif not isinstance(to, list) or not 0 < len(to) <= MAX_RECIPIENTS:
        problem = f"not a list of 1 to {MAX_RECIPIENTS} recipients"
    elif not all(isinstance(address, str) and 0 < len(address) <= MAX_ADDRESS_LENGTH for address in to):
        problem = "a recipient that is not an address"
    elif not isinstance(attempts, int) or isinstance(attempts, bool) or attempts < 0:
        problem = "a bad attempt count"
    if problem:
        log.warning("Newsletter batch %s skipped (%s): %.300r", message.message_id, problem, body)
        return None
    unique = tuple(dict.fromkeys(to))
    if len(unique) < len(to):
        log.warning("Newsletter batch %s of %s names a recipient twice; sent once", batch, slug)
    return Batch(message.message_id, slug, batch, unique, attempts + message.receive_count, body)


def handle_event(event, context=None, *, pacer=None):
    """Send each batch of an SQS event; returns the ids of the messages to retry.

    Messages are independent: one that fails is reported and the others go
    on. When the call's time runs short, the message under way and the ones
    after it are returned to the queue.
    """
    found = queues.messages(event, log)
    failed = []
    for index, message in enumerate(found):
        if _seconds_left(context) < TIME_RESERVE_SECONDS:
            outcome = OUT_OF_TIME
        else:
            try:
                outcome = deliver(message, context=context, pacer=pacer)
            except Exception:
                log.exception("Newsletter batch message %s failed; it is retried", message.message_id)
                outcome = RETRY
        if outcome == OUT_OF_TIME:
            log.warning("Out of time: %s newsletter batch message(s) left for a retry", len(found) - index)
            failed.extend(m.message_id for m in found[index:])
            break
        if outcome == RETRY:
            failed.append(message.message_id)
    return failed


def deliver(message, *, context=None, pacer=None, now=None):
    """Send one batch (an SQS message); returns DONE, RETRY or OUT_OF_TIME."""
    batch = parse(message)
    if batch is None:
        return DONE
    send = newsletter.get_send(batch.post_slug)
    if send is None:
        log.warning("Newsletter batch %s skipped: post %s has no send", batch.batch, batch.post_slug)
        return DONE
    if send.state in SEND_ENDED:
        log.info("Newsletter batch %s of %s dropped: the send is %s", batch.batch, batch.post_slug, send.state)
        return DONE
    if send.state == SEND_PAUSED:
        body = {**batch.body, "attempts": batch.attempt}
        queues.send(newsletter.SEND_QUEUE, [body], delay_seconds=PAUSED_DELAY_SECONDS)
        log.info("Newsletter send of %s is paused: batch %s back on the queue", batch.post_slug, batch.batch)
        return DONE
    keys = [(batch.post_slug, address) for address in (*batch.to, batch.marker)]
    claims = {item.email: item for item in Delivery.batch_get(keys, consistent_read=True)}
    if batch.marker in claims:
        log.info("Newsletter batch %s of %s was already sent", batch.batch, batch.post_slug)
        return DONE
    subscribers = {item.email: item for item in Subscriber.batch_get(batch.to, consistent_read=True)}
    return _Attempt(batch, send, claims, subscribers, context, pacer or instance_pacer(), now).run()


def _seconds_left(context):
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return float("inf") if remaining is None else remaining() / 1000


class _Attempt:
    """One attempt at one batch: its recipients in order, then the batch's transaction."""

    def __init__(self, batch, send, claims, subscribers, context, pacer, now):
        self.batch = batch
        self.send = send
        self.claims = claims
        self.subscribers = subscribers
        self.context = context
        self.pacer = pacer
        self.now = now or timezone.now()
        self.counts = dict.fromkeys(newsletter.PROCESSED_COUNTERS, 0)
        ours = [claim for claim in claims.values() if claim.batch == batch.batch]
        self.top = max(ours, key=lambda claim: claim.seq) if ours else None
        self.content = None
        self.last_sent = None  # our highest claim so far, sent and with no outcome written

    def run(self):
        for seq, address in enumerate(self.batch.to):
            outcome = self.recipient(seq, address)
            if outcome is not None:
                if outcome == OUT_OF_TIME:
                    self.record_last_sent()
                return outcome
        try:
            self.finish()
        except Exception:
            self.record_last_sent()
            raise
        return DONE

    # Each returns None to go on with the next recipient, or the message's outcome.
    def recipient(self, seq, address):
        claim = self.claims.get(address)
        takeover = None
        if claim is not None and claim.outcome != DELIVERY_RELEASED:
            if claim.batch != self.batch.batch:
                log.info(
                    "%s of %s is batch %s's to send, not %s's",
                    address,
                    self.batch.post_slug,
                    claim.batch,
                    self.batch.batch,
                )
                return self.count("skipped")
            if claim.outcome == DELIVERY_REJECTED:
                return self.count("rejected")
            if claim.outcome == DELIVERY_FAILED:
                return self.count("failed")
            if claim.outcome == DELIVERY_SENT or claim.seq < self.top.seq:
                return self.count("sent")
            if claim.attempt >= self.batch.attempt and claim.claimed_at > self.now - ABANDONED_AFTER:
                log.warning(
                    "Newsletter batch %s of %s is under way in another copy of its message; retried later",
                    self.batch.batch,
                    self.batch.post_slug,
                )
                return RETRY
            takeover = claim  # its SES call is in doubt: send it again
        subscriber = self.subscribers.get(address)
        if subscriber is None or subscriber.status != CONFIRMED:
            return self.count("skipped")  # unsubscribed, bounced or complained since the send started
        if _seconds_left(self.context) < TIME_RESERVE_SECONDS + self.pacer.delay():
            return OUT_OF_TIME
        if not self.claim(seq, address, takeover):
            holder = self.holder(address)
            if holder is not None and holder.batch != self.batch.batch:
                return self.count("skipped")
            log.warning(
                "Newsletter recipient %s of batch %s was claimed meanwhile; retried later", address, self.batch.batch
            )
            return RETRY
        return self.deliver(address)

    def deliver(self, address):
        try:
            services.normalise_email(address)
        except services.InvalidEmail:
            return self.reject(address, "invalid address: not sent")
        if self.content is None:
            self.content = newsletter.unpack(self.send)
        self.pacer.wait()
        message = newsletter.personalise(self.content, address)
        try:
            message_id = emails.send(message, tags={newsletter.SEND_TAG: self.batch.post_slug}, sleep=self.pacer.sleep)
        except ClientError as error:
            if rejects_address(error):
                return self.reject(address, rejection_reason(error))
            if is_throttling(error) or is_configuration_error(error) or is_server_error(error):
                level = logging.ERROR if is_configuration_error(error) else logging.WARNING
                log.log(
                    level,
                    "SES refused the newsletter to %s (%s: %s); batch %s of %s returns to the queue",
                    address,
                    error_code(error),
                    error_message(error),
                    self.batch.batch,
                    self.batch.post_slug,
                )
                self.set_outcome(address, DELIVERY_RELEASED)
                return RETRY
            log.warning(
                "SES refused the newsletter to %s (%s: %s): not sent", address, error_code(error), error_message(error)
            )
            self.set_outcome(address, DELIVERY_FAILED)
            return self.count("failed")
        log.debug("Newsletter %s sent to %s (SES message %s)", self.batch.post_slug, address, message_id)
        self.last_sent = address
        return self.count("sent")

    def count(self, counter):
        self.counts[counter] += 1
        return None

    def claim(self, seq, address, takeover):
        """The one conditional write before the SES call: False if someone else holds the address."""
        condition = Delivery.email.does_not_exist() | (Delivery.outcome == DELIVERY_RELEASED)
        if takeover is not None:
            condition |= (
                (Delivery.batch == self.batch.batch)
                & (Delivery.attempt == takeover.attempt)
                & (Delivery.seq == takeover.seq)
                & (Delivery.claimed_at == takeover.claimed_at)
                & Delivery.outcome.does_not_exist()
            )
        now = timezone.now()
        item = Delivery(
            self.batch.post_slug,
            address,
            batch=self.batch.batch,
            attempt=self.batch.attempt,
            seq=seq,
            claimed_at=now,
            expires_at=now + CLAIM_LIFETIME,
        )
        try:
            item.save(condition=condition)
        except PutError as error:
            if aws.is_conditional_check_failure(error):
                return False
            raise
        self.last_sent = None
        return True

    def holder(self, address):
        try:
            return Delivery.get(self.batch.post_slug, address, consistent_read=True)
        except Delivery.DoesNotExist:
            return None

    def set_outcome(self, address, outcome):
        """Write what became of our claim of `address` (never raises: the claim then stays in doubt)."""
        try:
            Delivery(self.batch.post_slug, address).update(
                actions=[Delivery.outcome.set(outcome)],
                condition=(Delivery.batch == self.batch.batch) & (Delivery.attempt == self.batch.attempt),
            )
        except Exception:
            log.exception("Could not record %s as %s in batch %s", address, outcome, self.batch.batch)
        if address == self.last_sent:
            self.last_sent = None

    def record_last_sent(self):
        """Before stopping: our highest claim was sent, so no later attempt may take it as in doubt."""
        if self.last_sent is not None:
            self.set_outcome(self.last_sent, DELIVERY_SENT)

    def reject(self, address, reason):
        """SES will never take `address`: never mail it again, and count it rejected."""
        services.suppress(address, BOUNCED, reason[:500])
        log.warning("Newsletter not sent to %.300r, which is now marked bounced: %s", address, reason)
        self.set_outcome(address, DELIVERY_REJECTED)
        return self.count("rejected")

    def finish(self):
        """The batch's marker and counters in one transaction; then the send may be done."""
        slug = self.batch.post_slug
        marker = Delivery(
            slug,
            self.batch.marker,
            batch=self.batch.batch,
            attempt=self.batch.attempt,
            seq=len(self.batch.to),
            claimed_at=self.now,
            expires_at=self.now + CLAIM_LIFETIME,
        )
        actions = [getattr(Send, name).add(value) for name, value in self.counts.items() if value]
        actions.append(Send.updated_at.set(timezone.now()))

        def build(transaction):
            transaction.save(marker, condition=Delivery.email.does_not_exist())
            transaction.update(Send(slug), actions=actions, condition=Send.post_slug.exists())

        try:
            transactions.write(build, connection=aws.connection(Send.Meta.region))
        except transactions.ConditionFailed:
            log.info("Newsletter batch %s of %s was counted by another copy of its message", self.batch.batch, slug)
            return
        self.last_sent = None
        log.info("Newsletter batch %s of %s: %s", self.batch.batch, slug, self.counts)
        newsletter.complete_if_finished(slug)
