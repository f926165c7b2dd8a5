"""Who has a post's form open: heartbeats with a DynamoDB TTL.

Each open form renews its editor's item (hash: the post's slug, range: the
user name) every `HEARTBEAT` seconds; an item not renewed within `LIFETIME`
is over. Leaving the page deletes it (`leave`, sent as a beacon); a closed
laptop or a lost connection leaves it to expire. DynamoDB's TTL deletion is
lazy (up to days late), so `others` ignores expired items itself: what
decides is `expires_at`, never the item's existence.

The reads are one Query per heartbeat (the post's partition: a handful of
items); the writes one conditional UpdateItem, plus a PutItem when the
editor arrives (or comes back after expiring), which restarts `since`.
"""

from datetime import timedelta

from django.utils import timezone
from pynamodb.exceptions import UpdateError

from myblog.aws import is_conditional_check_failure
from posts.models import Presence

HEARTBEAT = 20  # seconds between two heartbeats of an open form (presence.js)
LIFETIME = timedelta(seconds=3 * HEARTBEAT)  # two missed heartbeats, then the editor is gone
MAX_NAME_LENGTH = 150


def heartbeat(slug, user, name="", *, now=None):
    """Record that `user` has the post `slug` open; returns their `Presence`."""
    now = now or timezone.now()
    name = (name or user)[:MAX_NAME_LENGTH]
    item = Presence(slug, user)
    try:
        # Still here: keep `since`, push the expiry on.
        item.update(
            actions=[
                Presence.seen_at.set(now),
                Presence.expires_at.set(now + LIFETIME),
                Presence.name.set(name),
            ],
            condition=Presence.expires_at > now,
        )
        return item
    except UpdateError as error:
        if not is_conditional_check_failure(error):
            raise
    # New here, or back after expiring (the old item may linger until TTL deletes it).
    item = Presence(slug, user, name=name, since=now, seen_at=now, expires_at=now + LIFETIME)
    item.save()
    return item


def leave(slug, user):
    """`user` closed the post's form (a DeleteItem; already gone is fine)."""
    Presence(slug, user).delete()


def others(slug, user, *, now=None):
    """The other editors with the post `slug` open now, longest there first (one Query)."""
    now = now or timezone.now()
    present = [
        item
        for item in Presence.query(slug)
        if item.user != user and item.expires_at is not None and item.expires_at > now
    ]
    return sorted(present, key=lambda item: item.since)


def describe(item):
    """An editor's presence for the form: {"user", "name", "since": ISO UTC}."""
    return {"user": item.user, "name": item.name or item.user, "since": item.since.isoformat()}
