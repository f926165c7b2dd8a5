"""Emailing a post to subscribers: on its first publication, once, if its editor ticked the box.

The post form's "Email to subscribers" box is stored on the post
(`Post.email_subscribers`); the edit path records when a post first goes
live (`Post.first_published_at`, set once). `on_post_changed`, connected to
`posts.signals.post_changed`, starts the send on the save that sets it,
whoever makes that save: the form, a bulk action or the scheduler. The
email is rendered then (`posts.emails`) and handed to
`subscribers.newsletter.start_send`, whose conditional put makes a post's
email go out once ever: unpublishing and publishing again, a double click
or two schedulers never send it twice.

The post is already saved when the send starts, so a send that cannot be
started (DynamoDB or SQS refusing, a template error) never fails the save:
it is logged, and the post's page in the admin says the email was not
started and offers to start it (`start_again`).
"""

import logging

from django.utils import timezone

from posts import emails, rules
from subscribers import newsletter
from subscribers.models import SEND_QUEUED

log = logging.getLogger(__name__)


def is_first_publication(post, previous):
    """Whether the save from `previous` to `post` is the post's first publication."""
    return (
        post is not None
        and rules.is_live(post)
        and post.first_published_at is not None
        and not rules.is_live(previous)
        and (previous is None or previous.first_published_at is None)
    )


def was_published(post):
    """Whether `post` (None: not created yet) has been live, now or before."""
    return post is not None and (post.first_published_at is not None or rules.is_live(post))


def email_refusal(post, send=None):
    """Why `post` can no longer be emailed to subscribers (None: it can, on its first publication)."""
    if post is None:
        return None
    if send is not None:
        return "This post's email to subscribers has already been started; a post is emailed once."
    if was_published(post):
        since = post.first_published_at or post.publish_at
        when = f" (first on {since:%Y-%m-%d %H:%M} UTC)" if since else ""
        return (
            f"This post was published before{when}. Only a post's first publication is emailed to subscribers, "
            "so unpublishing and publishing it again never sends it twice."
        )
    return None


def start(post, *, created_by=""):
    """Render `post`'s email and start its send; returns the `Send`, or None if it was not started.

    None both when the post already has a send (the conditional put) and
    when the send could not be started (logged; `start_again` retries).
    """
    try:
        content = emails.render(post)
        return newsletter.start_send(post.slug, content, created_by=created_by)
    except Exception:
        log.exception("The email of post %s to subscribers could not be started", post.slug)
        return None


def on_post_changed(sender, post, previous, **kwargs):
    """Start the newsletter send of a post on its first publication, if its box is ticked."""
    if is_first_publication(post, previous) and post.email_subscribers:
        start(post, created_by=post.updated_by)


class StartRefused(Exception):
    """The editor asked to start a send that cannot be started now (the message says why)."""


def start_again(post, *, user="", now=None):
    """Start the send of a live post whose send was never started, or carry on one whose fan-out was not queued.

    Raises `StartRefused` (a message for the editor) when there is nothing to start.
    """
    now = now or timezone.now()
    send = newsletter.get_send(post.slug)
    if send is not None:
        if send.state != SEND_QUEUED:
            raise StartRefused(f"The send is {send.state}: there is nothing to start.")
        try:
            return newsletter.resume_send(post.slug, now=now)
        except newsletter.SendError as error:
            raise StartRefused(str(error)) from error
    if not rules.is_live(post) or not post.email_subscribers:
        raise StartRefused("Only a live post whose “Email to subscribers” box was ticked can be emailed.")
    content = emails.render(post)
    send = newsletter.start_send(post.slug, content, created_by=user, now=now)
    if send is None:
        raise StartRefused("This post's email has already been started.")
    return send


def send_test(post, to):
    """Send `post`'s email once to `to`, marked as a test (one SES call); returns SES's message id."""
    return newsletter.send_test(to, emails.render(post))
