"""SES bounce and complaint notifications (delivered through SNS).

An address that bounced permanently, or whose owner marked our mail as
spam, must never be mailed again: SES suspends senders whose bounce or
complaint rates stay high. Transient bounces (mailbox full, greylisting)
are logged only; SES has already retried them.

SES publishes either "notifications" (`notificationType`) or, through a
configuration set's event destination, "events" (`eventType`); both carry
the same `bounce` / `complaint` objects, and both are understood here.

The deliverability guard: a newsletter email carries the SES tag
`newsletter.SEND_TAG` naming its send, which SES hands back in the
message's `mail.tags`. Each permanent bounce and each complaint is counted
against that send (once, however often SNS delivers the notification), and
once at least GUARD_MIN_SENT emails went out, the send pauses itself when
its complaint or bounce rate passes `MYBLOG_NEWSLETTER_MAX_COMPLAINT_RATE` or
`MYBLOG_NEWSLETTER_MAX_BOUNCE_RATE`: SES reviews, then suspends, accounts
whose rates stay above 0.1% (complaints) and 5% (bounces). The admin shows
why it paused, and an editor decides whether to resume.
"""

import json
import logging
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from myblog import aws, events, transactions
from subscribers import newsletter, services
from subscribers.models import BOUNCED, COMPLAINED, SEND_QUEUED, SEND_SENDING, Delivery, Send

log = logging.getLogger(__name__)

SUPPRESSING_BOUNCE_TYPES = {"Permanent"}
# Below this many emails sent, a rate says little: a few early complaints do not pause a send.
GUARD_MIN_SENT = 100


@dataclass(frozen=True)
class Suppression:
    email: str
    status: str  # BOUNCED or COMPLAINED
    reason: str


def ses_messages(event):
    """The SES notification (a dict) inside each SNS record; malformed ones skipped."""
    records = events.records(event, "SNS", log)
    messages = []
    for record in records:
        try:
            message = json.loads(record["Sns"]["Message"])
        except (KeyError, TypeError, ValueError) as error:
            log.warning("Malformed SNS record skipped (%s): %.300r", error, record)
            continue
        if not isinstance(message, dict):
            log.warning("SNS message is not an SES notification: %.300r", message)
            continue
        messages.append(message)
    return messages


def suppressions(message):
    """The addresses an SES notification says must not be mailed again.

    A notification of another shape (a part that is not the object or list
    SES sends) suppresses nobody: it is logged and skipped, never raised,
    since SNS would only deliver the same message again.
    """
    kind = _text(message.get("notificationType")) or _text(message.get("eventType"))
    if kind == "Bounce":
        bounce = _object(message.get("bounce"))
        bounce_type = _text(bounce.get("bounceType"))
        recipients = _recipients(bounce.get("bouncedRecipients"))
        if bounce_type not in SUPPRESSING_BOUNCE_TYPES:
            log.info("%s bounce for %s: not suppressed", bounce_type or "Unknown", _addresses(recipients))
            return []
        return [
            Suppression(
                address,
                BOUNCED,
                _reason("bounce", bounce_type, bounce.get("bounceSubType"), recipient.get("diagnosticCode")),
            )
            for recipient, address in _valid(recipients)
        ]
    if kind == "Complaint":
        complaint = _object(message.get("complaint"))
        feedback = _text(complaint.get("complaintFeedbackType")) or "unspecified"
        recipients = _recipients(complaint.get("complainedRecipients"))
        return [Suppression(address, COMPLAINED, _reason("complaint", feedback)) for _, address in _valid(recipients)]
    log.info("SES %.50s notification ignored", kind or "unknown")
    return []


@dataclass(frozen=True)
class SendReport:
    """A bounce or a complaint of one recipient of a newsletter send."""

    post_slug: str
    email: str
    counter: str  # "bounced" or "complained": the send's counter


def send_reports(message):
    """The newsletter bounces and complaints an SES notification reports (none if it is not a newsletter's).

    Only permanent bounces count: SES retried the others, and they say
    nothing against the list.
    """
    slug = send_tag(message)
    if slug is None:
        return []
    kind = _text(message.get("notificationType")) or _text(message.get("eventType"))
    if kind == "Bounce":
        bounce = _object(message.get("bounce"))
        if _text(bounce.get("bounceType")) not in SUPPRESSING_BOUNCE_TYPES:
            return []
        recipients, counter = _recipients(bounce.get("bouncedRecipients")), "bounced"
    elif kind == "Complaint":
        recipients, counter = _recipients(_object(message.get("complaint")).get("complainedRecipients")), "complained"
    else:
        return []
    return [SendReport(slug, address, counter) for _, address in _valid(recipients)]


def send_tag(message):
    """The post slug in the notification's `mail.tags[SEND_TAG]` (a list of one value, as SES sends it), or None."""
    value = _object(_object(message.get("mail")).get("tags")).get(newsletter.SEND_TAG)
    if isinstance(value, list):
        value = value[0] if len(value) == 1 else None
    return value if isinstance(value, str) and 0 < len(value) <= 200 else None


def record_report(report, now=None):
    """Count `report` against its send (once: a redelivered notification counts nothing); True if counted.

    One transaction: the recipient's delivery item is marked (only if it
    exists and is not marked yet) and the send's counter is added.
    """
    now = now or timezone.now()
    mark = Delivery.bounced_at if report.counter == "bounced" else Delivery.complained_at

    def build(transaction):
        transaction.update(
            Delivery(report.post_slug, report.email),
            actions=[mark.set(now)],
            condition=Delivery.email.exists() & mark.does_not_exist(),
        )
        transaction.update(
            Send(report.post_slug),
            actions=[getattr(Send, report.counter).add(1), Send.updated_at.set(now)],
            condition=Send.post_slug.exists(),
        )

    try:
        transactions.write(build, connection=aws.connection(Send.Meta.region))
    except transactions.ConditionFailed:
        log.info(
            "%s of %s in send %s: already counted, or not a recipient", report.counter, report.email, report.post_slug
        )
        return False
    return True


def guard(post_slug):
    """Pause the send if its complaint or bounce rate passed its limit; returns the reason, or None."""
    send = newsletter.get_send(post_slug)
    if send is None or send.state not in (SEND_QUEUED, SEND_SENDING):
        return None
    sent = int(send.sent or 0)
    if sent < GUARD_MIN_SENT:
        return None
    limits = (
        ("complaint", int(send.complained or 0), settings.MYBLOG_NEWSLETTER_MAX_COMPLAINT_RATE),
        ("bounce", int(send.bounced or 0), settings.MYBLOG_NEWSLETTER_MAX_BOUNCE_RATE),
    )
    for name, count, limit in limits:
        if count / sent > limit:
            reason = (
                f"Paused: the {name} rate reached {_percent(count / sent)} ({count:,} of {sent:,} sent); "
                f"the limit is {_percent(limit)}."
            )
            try:
                newsletter.pause_send(post_slug, reason)
            except newsletter.SendError:
                return None  # paused, cancelled or done meanwhile
            log.warning("Newsletter send of %s: %s", post_slug, reason)
            return reason
    return None


def _percent(rate):
    return f"{rate * 100:.3g}%"


def _text(value):
    return value if isinstance(value, str) else ""


def _object(value):
    return value if isinstance(value, dict) else {}


def _recipients(value):
    """The recipient objects of a notification's list (anything else in it is no recipient)."""
    return [recipient for recipient in value if isinstance(recipient, dict)] if isinstance(value, list) else []


def _addresses(recipients):
    return ", ".join(str(recipient.get("emailAddress"))[:100] for recipient in recipients)


def _valid(recipients):
    for recipient in recipients:
        try:
            yield recipient, services.normalise_email(recipient.get("emailAddress"))
        except services.InvalidEmail:
            log.warning("SES notification names an invalid address: %.100r", recipient.get("emailAddress"))


def _reason(*parts):
    return ": ".join(str(part) for part in parts if part)[:500]


def _count_against_send(message):
    guarded = set()
    for report in send_reports(message):
        if record_report(report):
            guarded.add(report.post_slug)
    for post_slug in guarded:
        guard(post_slug)


def handle_event(event):
    """Suppress every address an SNS-wrapped SES notification names; count newsletters' against their send.

    Returns the suppressions applied. Every record is attempted; a failure
    of DynamoDB is raised afterwards so that SNS/Lambda retry the event
    (suppressing twice is harmless).
    """
    applied = []
    retry_error = None
    for message in ses_messages(event):
        try:
            _count_against_send(message)
        except Exception as error:
            log.exception("Could not count an SES notification against its newsletter send")
            retry_error = error
        for suppression in suppressions(message):
            try:
                known = services.suppress(suppression.email, suppression.status, suppression.reason)
            except Exception as error:
                log.exception("Could not suppress %s", suppression.email)
                retry_error = error
                continue
            if known:
                log.info("Suppressed %s (%s)", suppression.email, suppression.reason)
                applied.append(suppression)
            else:
                log.info("SES reported %s, who is not a subscriber", suppression.email)
    if retry_error is not None:
        raise retry_error
    return applied
