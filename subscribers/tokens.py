"""Signed confirm and unsubscribe links: nothing to store, nothing to guess.

Tokens are Django signatures over the normalised address with a purpose
salt, so a confirm token cannot unsubscribe and vice versa. Confirm links
expire; unsubscribe links must keep working for as long as old emails exist
(RFC 8058 one-click), so they do not.
"""

from django.conf import settings
from django.core import signing
from django.urls import reverse

CONFIRM_SALT = "myblog.subscribers.confirm"
UNSUBSCRIBE_SALT = "myblog.subscribers.unsubscribe"
CONFIRM_MAX_AGE = 60 * 60 * 24 * 7
# Longer than any token `make_token` makes (the longest address signs to
# about 320 characters): anything longer is refused unread.
MAX_TOKEN_LENGTH = 500


class InvalidToken(Exception):
    pass


def make_token(email, salt):
    return signing.dumps(email, salt=salt, compress=True)


def read_token(token, salt, max_age=None):
    try:
        return signing.loads(token, salt=salt, max_age=max_age)
    except signing.BadSignature as error:  # includes SignatureExpired
        raise InvalidToken(str(error)) from error


def confirm_token(email):
    return make_token(email, CONFIRM_SALT)


def unsubscribe_token(email):
    return make_token(email, UNSUBSCRIBE_SALT)


def email_from_confirm_token(token):
    return read_token(token, CONFIRM_SALT, max_age=CONFIRM_MAX_AGE)


def email_from_unsubscribe_token(token):
    return read_token(token, UNSUBSCRIBE_SALT)


def confirm_url(email):
    """Absolute link a new subscriber follows to confirm (double opt-in)."""
    return settings.MYBLOG_SITE_URL + reverse("subscribers:confirm", args=[confirm_token(email)])


def unsubscribe_url(email):
    """Absolute link for the email footer and the RFC 8058 List-Unsubscribe header."""
    return settings.MYBLOG_SITE_URL + reverse("subscribers:unsubscribe", args=[unsubscribe_token(email)])
