"""SES bounce and complaint notifications (delivered through SNS).

An address that bounced permanently, or whose owner marked our mail as
spam, must never be mailed again: SES suspends senders whose bounce or
complaint rates stay high. Transient bounces (mailbox full, greylisting)
are logged only; SES has already retried them.

SES publishes either "notifications" (`notificationType`) or, through a
configuration set's event destination, "events" (`eventType`); both carry
the same `bounce` / `complaint` objects, and both are understood here.
"""

import json
import logging
from dataclasses import dataclass

from myblog import events
from subscribers import services
from subscribers.models import BOUNCED, COMPLAINED

log = logging.getLogger(__name__)

SUPPRESSING_BOUNCE_TYPES = {"Permanent"}


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


def handle_event(event):
    """Suppress every address an SNS-wrapped SES notification names.

    Returns the suppressions applied. Every record is attempted; a failure
    of DynamoDB is raised afterwards so that SNS/Lambda retry the event
    (suppressing twice is harmless).
    """
    applied = []
    retry_error = None
    for message in ses_messages(event):
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
