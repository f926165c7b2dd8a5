"""The edit path for subscribers: subscribe, confirm, unsubscribe, suppress.

Every write is conditional on the item's state, so concurrent or repeated
requests (a double-clicked form, a retried API call, a redelivered SNS
notification) converge on the same result. Sign-up answers the same way
whether or not the address was already known, so the form cannot be used
to learn who subscribes.
"""

import re

from django.utils import timezone
from pynamodb.exceptions import PutError, UpdateError

from subscribers.models import (
    CONFIRMED,
    PENDING,
    SUPPRESSED,
    UNSUBSCRIBED,
    Subscriber,
)

MAX_EMAIL_LENGTH = 254
# Deliberately simple: one @, no spaces, a dot in the domain. SES rejects
# what this lets through that is not deliverable.
EMAIL_RE = re.compile(r"^[^@\s<>()\[\],;:\"]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$")
# RFC 5321 limits and DNS label rules: junk such as "a@b.c1", "x@-y.com" or a
# 200-character local part is refused before it costs a write or an email.
MAX_LOCAL_PART_LENGTH = 64
DOMAIN_LABEL_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
TOP_LEVEL_DOMAIN_RE = re.compile(r"^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$")


class InvalidEmail(ValueError):
    pass


def normalise_email(value):
    """Trimmed, lower-cased address, or InvalidEmail."""
    if not isinstance(value, str):
        raise InvalidEmail("Enter a valid email address.")
    email = value.strip().lower()
    if not email or len(email) > MAX_EMAIL_LENGTH or not EMAIL_RE.match(email):
        raise InvalidEmail("Enter a valid email address.")
    local, _, domain = email.rpartition("@")
    labels = domain.split(".")
    if (
        len(local) > MAX_LOCAL_PART_LENGTH
        or not all(DOMAIN_LABEL_RE.match(label) for label in labels)
        or not TOP_LEVEL_DOMAIN_RE.match(labels[-1])
    ):
        raise InvalidEmail("Enter a valid email address.")
    return email


def _is_conditional_failure(error):
    return getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException"


def subscribe(address, now=None):
    """Add a pending subscriber; returns True if this call created them.

    An address already present (pending, confirmed or suppressed) is left
    as it is: no second welcome email, no resurrecting a bounced address.
    The stream INSERT of a new item is what sends the welcome email.
    """
    email = normalise_email(address)
    now = now or timezone.now()
    try:
        Subscriber(email, status=PENDING, created_at=now).save(condition=Subscriber.email.does_not_exist())
    except PutError as error:
        if _is_conditional_failure(error):
            return False
        raise
    return True


def confirm(email, now=None):
    """Confirm a pending subscriber; True if confirmed now or already."""
    now = now or timezone.now()
    subscriber = Subscriber(email)
    try:
        subscriber.update(
            actions=[Subscriber.status.set(CONFIRMED), Subscriber.confirmed_at.set(now)],
            condition=Subscriber.email.exists() & (Subscriber.status == PENDING),
        )
    except UpdateError as error:
        if not _is_conditional_failure(error):
            raise
        try:
            return Subscriber.get(email).status == CONFIRMED
        except Subscriber.DoesNotExist:
            return False
    return True


def unsubscribe(email, now=None):
    """Stop all mail to an address; idempotent, silent for unknown addresses."""
    return _set_suppressed(email, UNSUBSCRIBED, "unsubscribed", now)


def suppress(email, status, reason, now=None):
    """Mark an address bounced or complained (SES notifications): never mail it again."""
    if status not in SUPPRESSED:
        raise ValueError(f"{status!r} is not a suppressed status")
    return _set_suppressed(email, status, reason, now)


def _set_suppressed(email, status, reason, now):
    now = now or timezone.now()
    try:
        Subscriber(email).update(
            actions=[
                Subscriber.status.set(status),
                Subscriber.unsubscribed_at.set(now),
                Subscriber.suppressed_reason.set(reason),
            ],
            condition=Subscriber.email.exists(),
        )
    except UpdateError as error:
        if _is_conditional_failure(error):
            return False
        raise
    return True
