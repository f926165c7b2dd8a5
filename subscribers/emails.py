"""Subscriber emails: building them, and sending them through SES.

Messages are built as MIME (text and HTML alternatives) and sent with SESv2
`SendEmail` raw content: the one form that carries our own headers both on
AWS and on the local emulator. Every message to a subscriber carries the
RFC 8058 one-click unsubscribe headers (`List-Unsubscribe` with the signed
HTTPS link, and `List-Unsubscribe-Post`), which large mailbox providers
require of bulk senders, and the same link in its footer.

SES throttles a sender that exceeds its sending rate; those errors are
retried here with exponential backoff and jitter (on top of botocore's own
retries), everything else is raised to the caller.
"""

import logging
import random
import time
from email.message import EmailMessage
from email.utils import formatdate

from botocore.exceptions import ClientError
from django.conf import settings
from django.template.loader import render_to_string

from myblog import aws
from subscribers import tokens
from subscribers.ses_errors import THROTTLING_CODES, error_code

log = logging.getLogger(__name__)

SEND_ATTEMPTS = 5
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 4.0


def welcome_context(email, *, imported=False, name=None):
    return {
        "email": email,
        # How the address got here, which the email must say truly: the
        # subscribe form, or an editors' CSV import (`subscribers.imports`).
        "imported": imported,
        "name": name,
        "blog_name": settings.MYBLOG_BLOG_NAME,
        "site_url": settings.MYBLOG_SITE_URL,
        "confirm_url": tokens.confirm_url(email),
        "unsubscribe_url": tokens.unsubscribe_url(email),
    }


def welcome_message(email, *, imported=False, name=None):
    """The welcome email with the double opt-in link, as a MIME message.

    `imported`: the address came from an editors' import, not from the
    reader's own sign-up; `name` is the name the import gave, if any.
    """
    context = welcome_context(email, imported=imported, name=name)
    subject = render_to_string("emails/welcome_subject.txt", context).strip()
    text = render_to_string("emails/welcome.txt", context)
    html = render_to_string("emails/welcome.html", context)
    return build_message(email, subject, text, html, context["unsubscribe_url"])


def build_message(to, subject, text, html, unsubscribe_url):
    message = EmailMessage()
    message["From"] = settings.MYBLOG_SES_SENDER
    message["To"] = to
    message["Subject"] = " ".join(subject.split())  # no header injection through newlines
    message["Date"] = formatdate(usegmt=True)
    message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def send(message, *, tags=None, sleep=time.sleep):
    """Send `message` through SES; returns SES's message id.

    `tags` ({name: value}) become the message's SES tags, which SES hands
    back in the message's bounce and complaint notifications (names and
    values: ASCII letters, digits, "_" and "-"). Throttling is retried up to
    SEND_ATTEMPTS times with full-jitter exponential backoff (pausing with
    `sleep`); other errors are raised at once.
    """
    params = {
        "FromEmailAddress": message["From"],
        "Destination": {"ToAddresses": [message["To"]]},
        "Content": {"Raw": {"Data": message.as_bytes()}},
    }
    if settings.MYBLOG_SES_CONFIGURATION_SET:
        params["ConfigurationSetName"] = settings.MYBLOG_SES_CONFIGURATION_SET
    if tags:
        params["EmailTags"] = [{"Name": name, "Value": value} for name, value in tags.items()]
    client = aws.client("sesv2")
    for attempt in range(1, SEND_ATTEMPTS + 1):
        try:
            return client.send_email(**params)["MessageId"]
        except ClientError as error:
            code = error_code(error)
            if code not in THROTTLING_CODES or attempt == SEND_ATTEMPTS:
                raise
            delay = random.uniform(0, min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt))
            log.warning("SES throttled the send to %s (%s); retrying in %.2fs", message["To"], code, delay)
            sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover
