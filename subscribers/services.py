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

from myblog import aws
from subscribers.models import (
    CONFIRMED,
    PENDING,
    SUPPRESSED,
    UNSUBSCRIBED,
    Subscriber,
)

# One message for every invalid address, whatever is wrong with it.
INVALID_EMAIL_MESSAGE = "Enter a valid email address."
# RFC 5321 limits and DNS label rules: junk such as "a@b.c1", "x@-y.com" or a
# 200-character local part is refused before it costs a write or an email.
MAX_EMAIL_LENGTH = 254
MAX_LOCAL_PART_LENGTH = 64
# The local part: RFC 5322 "dot-atom" (printable ASCII letters, digits and
# !#$%&'*+/=?^_`{|}~- in runs joined by single dots). No spaces, no control
# characters, nothing non-ASCII: SES sends only 7-bit ASCII addresses (it
# does not offer SMTPUTF8), so anything else could never get an email.
# Quoted local parts ("john doe"@example.com) are valid but almost unused and
# refused by many providers; they are not accepted either.
LOCAL_PART_RE = re.compile(r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
DOMAIN_LABEL_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
TOP_LEVEL_DOMAIN_RE = re.compile(r"[a-z]{2,63}|xn--[a-z0-9-]{1,59}")


class InvalidEmail(ValueError):
    pass


def normalise_email(value):
    """The address as stored and mailed: trimmed, lower-cased, its domain in ASCII; or InvalidEmail.

    An internationalised domain (bücher.example) is accepted and stored in
    its ASCII form (xn--bcher-kva.example), which is what SES needs and what
    the same address typed either way normalises to. The local part must be
    ASCII already (see LOCAL_PART_RE).
    """
    if not isinstance(value, str):
        raise InvalidEmail(INVALID_EMAIL_MESSAGE)
    email = value.strip()
    if not email or len(email) > MAX_EMAIL_LENGTH:
        raise InvalidEmail(INVALID_EMAIL_MESSAGE)
    local, _, domain = email.rpartition("@")
    # Checked for ASCII before lower-casing: "\N{KELVIN SIGN}".lower() is "k".
    if not local.isascii() or len(local) > MAX_LOCAL_PART_LENGTH or not LOCAL_PART_RE.fullmatch(local.lower()):
        raise InvalidEmail(INVALID_EMAIL_MESSAGE)
    domain = ascii_domain(domain)
    labels = domain.split(".")
    if (
        len(labels) < 2
        or not all(DOMAIN_LABEL_RE.fullmatch(label) for label in labels)
        or not TOP_LEVEL_DOMAIN_RE.fullmatch(labels[-1])
    ):
        raise InvalidEmail(INVALID_EMAIL_MESSAGE)
    email = f"{local.lower()}@{domain}"
    if len(email) > MAX_EMAIL_LENGTH:
        raise InvalidEmail(INVALID_EMAIL_MESSAGE)
    return email


def ascii_domain(domain):
    """`domain` lower-cased, as IDNA A-labels (Punycode) if it is internationalised; or InvalidEmail.

    Uses IDNA 2008 with the UTS #46 mapping, as browsers and mail clients
    do; `idna` is imported only for such domains (it is large for a cold start).
    """
    if domain.isascii() and "xn--" not in domain.lower():
        return domain.lower()
    import idna

    try:
        ascii_form = idna.encode(domain, uts46=True).decode("ascii")
        idna.decode(ascii_form)  # every A-label must decode: no made-up "xn--" labels
    except (idna.IDNAError, UnicodeError, ValueError) as error:
        raise InvalidEmail(INVALID_EMAIL_MESSAGE) from error
    return ascii_form.lower()


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
        if aws.is_conditional_check_failure(error):
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
        if not aws.is_conditional_check_failure(error):
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
        if aws.is_conditional_check_failure(error):
            return False
        raise
    return True
