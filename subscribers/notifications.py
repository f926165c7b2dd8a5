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
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list):
        log.warning("SNS event without Records skipped: %.200r", event)
        return []
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
    """The addresses an SES notification says must not be mailed again."""
    kind = message.get("notificationType") or message.get("eventType")
    if kind == "Bounce":
        bounce = message.get("bounce") or {}
        bounce_type = bounce.get("bounceType", "")
        recipients = bounce.get("bouncedRecipients") or []
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
        complaint = message.get("complaint") or {}
        feedback = complaint.get("complaintFeedbackType") or "unspecified"
        recipients = complaint.get("complainedRecipients") or []
        return [Suppression(address, COMPLAINED, _reason("complaint", feedback)) for _, address in _valid(recipients)]
    log.info("SES %s notification ignored", kind or "unknown")
    return []


def _addresses(recipients):
    return ", ".join(str(r.get("emailAddress")) for r in recipients if isinstance(r, dict))


def _valid(recipients):
    for recipient in recipients:
        if not isinstance(recipient, dict):
            continue
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
