"""Newsletter sends: one email per newly published post to every confirmed subscriber.

What a send is and how it is controlled; the work itself is a fan-out
(`subscribers.fanout`: confirmed subscribers, page by page, onto the send
queue) and the sender (`subscribers.delivery`: one SES call per recipient,
claimed first). Publishing only records the send and puts its first
fan-out message on the queue, so it returns at once whatever the number of
subscribers.

The email is rendered once, when the send starts, by whoever starts it (the
posts app); this app never imports posts. Each recipient's copy differs
only in its unsubscribe link, put where `UNSUBSCRIBE_PLACEHOLDER` is.
"""

import json
import logging
import zlib
from dataclasses import dataclass
from email.utils import formataddr
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from pynamodb.exceptions import PutError, UpdateError

from myblog import aws, queues
from subscribers import emails, tokens
from subscribers.models import (
    SEND_CANCELLED,
    SEND_COUNTERS,
    SEND_DONE,
    SEND_ENDED,
    SEND_PAUSED,
    SEND_QUEUED,
    SEND_SENDING,
    Send,
)

log = logging.getLogger(__name__)

FANOUT_QUEUE = "newsletter-fanout"
SEND_QUEUE = "newsletter-send"
# Where each recipient's own unsubscribe link goes in the HTML and the text.
UNSUBSCRIBE_PLACEHOLDER = "%%UNSUBSCRIBE_URL%%"
# The SES message tag that names the send, so bounces and complaints can be counted against it.
SEND_TAG = "myblog-send"
TEST_SUBJECT_PREFIX = "[Test] "
# Each recipient the fan-out queues ends in exactly one of these.
PROCESSED_COUNTERS = ("sent", "skipped", "failed", "rejected")


class SendError(Exception):
    """An editor's request about a send that cannot be done (the message says why)."""


@dataclass(frozen=True)
class Content:
    subject: str
    html: str
    text: str


def pack(content):
    return zlib.compress(json.dumps({"html": content.html, "text": content.text}).encode(), 9)


def unpack(send):
    data = json.loads(zlib.decompress(send.content))
    return Content(send.subject, data["html"], data["text"])


def personalise(content, email, *, unsubscribe_url=None):
    """The MIME message of `content` for `email`, with its own one-click unsubscribe link.

    It names the list it belongs to (`List-Id`, RFC 2919), which mail
    clients and providers use to file, filter and judge bulk mail.
    """
    url = unsubscribe_url or tokens.unsubscribe_url(email)
    message = emails.build_message(
        email,
        content.subject,
        content.text.replace(UNSUBSCRIBE_PLACEHOLDER, url),
        content.html.replace(UNSUBSCRIBE_PLACEHOLDER, url),
        url,
    )
    message["List-Id"] = list_id()
    return message


def list_id():
    """The newsletter's List-Id: `<blog name> <newsletter.<site host>>`."""
    host = urlsplit(settings.MYBLOG_SITE_URL).hostname or "localhost"
    return formataddr((" ".join(settings.MYBLOG_BLOG_NAME.split()), f"newsletter.{host}"))


def get_send(post_slug):
    """The send of post `post_slug`, or None if it was never sent."""
    try:
        return Send.get(post_slug, consistent_read=True)
    except Send.DoesNotExist:
        return None


def start_send(post_slug, content, *, created_by="", now=None):
    """Record the send of `post_slug` and queue its first fan-out message.

    Returns the new `Send`, or None if the post has (ever) had one: the
    conditional put is what makes a post's email go out once. If the
    fan-out message cannot be queued the send stays queued, logged, for an
    editor to start again with `resume_send`; nothing is lost.
    """
    now = now or timezone.now()
    send = Send(
        post_slug,
        subject=content.subject,
        content=pack(content),
        created_at=now,
        updated_at=now,
        created_by=created_by,
    )
    try:
        send.save(condition=Send.post_slug.does_not_exist())
    except PutError as error:
        if aws.is_conditional_check_failure(error):
            log.info("Post %s already has a newsletter send; not sending it again", post_slug)
            return None
        raise
    try:
        queue_fanout(send)
    except Exception:
        log.exception("The newsletter send of %s is recorded but its fan-out could not be queued", post_slug)
    return send


def queue_fanout(send):
    """Put the fan-out message for the send's next page on the queue."""
    queues.send(FANOUT_QUEUE, [fanout_message(send.post_slug, int(send.fanout_page), send.fanout_cursor)])


def fanout_message(post_slug, page, cursor):
    return {"send": post_slug, "page": page, "cursor": cursor}


def _change_state(post_slug, state, *, allowed, reason="", now=None):
    now = now or timezone.now()
    actions = [Send.state.set(state), Send.paused_reason.set(reason), Send.updated_at.set(now)]
    if state in SEND_ENDED:
        actions.append(Send.finished_at.set(now))
    try:
        Send(post_slug).update(actions=actions, condition=Send.post_slug.exists() & Send.state.is_in(*allowed))
    except UpdateError as error:
        if aws.is_conditional_check_failure(error):
            current = get_send(post_slug)
            if current is None:
                raise SendError("This post has no newsletter send.") from error
            raise SendError(f"The send is {current.state} and cannot be made {state}.") from error
        raise
    return get_send(post_slug)


def pause_send(post_slug, reason, *, now=None):
    """Stop sending (recipients not yet sent stay queued); `reason` is shown in the admin."""
    return _change_state(post_slug, SEND_PAUSED, allowed=(SEND_QUEUED, SEND_SENDING), reason=reason, now=now)


def resume_send(post_slug, *, now=None):
    """Carry on a paused send (or start one whose fan-out never got queued).

    Batches that came while it was paused went back to the queue for later;
    if every recipient was already processed, the send is done now.
    """
    send = _change_state(post_slug, SEND_SENDING, allowed=(SEND_PAUSED, SEND_QUEUED), now=now)
    if not send.fanout_done:
        queue_fanout(send)
        return send
    return complete_if_finished(post_slug, now=now) or send


def cancel_send(post_slug, *, now=None):
    """Send no more of this email; what was sent stays sent."""
    return _change_state(post_slug, SEND_CANCELLED, allowed=(SEND_QUEUED, SEND_SENDING, SEND_PAUSED), now=now)


def processed(send):
    """How many recipients of the send are done with: sent, skipped, failed or rejected."""
    return sum(int(getattr(send, name) or 0) for name in PROCESSED_COUNTERS)


def complete_if_finished(post_slug, *, now=None):
    """Mark the send done if the fan-out is over and every recipient it queued is processed.

    Called by the sender after each batch and by the fan-out after its last
    page (whichever comes last sees the send complete), and on resume.
    Returns the send if this call marked it done, else None.
    """
    send = get_send(post_slug)
    if send is None or send.state != SEND_SENDING or not send.fanout_done:
        return None
    if processed(send) != int(send.audience or 0):
        return None
    now = now or timezone.now()
    try:
        send.update(
            actions=[Send.state.set(SEND_DONE), Send.finished_at.set(now), Send.updated_at.set(now)],
            condition=(Send.state == SEND_SENDING) & (Send.fanout_done == True),  # noqa: E712
        )
    except UpdateError as error:
        if aws.is_conditional_check_failure(error):
            return None  # paused, cancelled or done meanwhile
        raise
    log.info("Newsletter send of %s is done: %s", post_slug, progress(send))
    return send


def progress(send):
    """What the admin shows of a send: its state and counters, and how far it is (0-100)."""
    counts = {name: int(getattr(send, name) or 0) for name in SEND_COUNTERS}
    audience = int(send.audience or 0)
    done = processed(send)
    percent = 100 if send.state == SEND_DONE else (min(99, done * 100 // audience) if audience else 0)
    return {
        "post": send.post_slug,
        "state": send.state,
        "paused_reason": send.paused_reason,
        "audience": audience,
        "fanout_done": bool(send.fanout_done),
        "processed": done,
        "percent": percent,
        "created_at": send.created_at.isoformat(),
        "finished_at": send.finished_at.isoformat() if send.finished_at else None,
        **counts,
    }


def send_test(to, content):
    """Send the email once to `to` (the editor), marked as a test; returns SES's message id.

    One SES call, so it may run in a request. The unsubscribe link points at
    the site's subscribe page: the editor is not a subscriber.
    """
    test = Content(TEST_SUBJECT_PREFIX + content.subject, content.html, content.text)
    return emails.send(
        personalise(test, to, unsubscribe_url=settings.MYBLOG_SITE_URL + reverse("subscribers:subscribe"))
    )
