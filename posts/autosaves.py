"""Autosave slots: what an editor typed in the post form and has not saved.

One slot per (post, editor): the hash key is the post's slug, or `NEW_POST`
for the add form (which has no slug yet; "+" never appears in a slug, so no
post can collide with it), the range key the editor's user name. A slot is
scratch, not content: writing it never touches the post, its version or its
revisions, and it expires after `LIFETIME` through DynamoDB TTL. TTL deletes
lazily (often a day or two late), so `get_slot` treats an expired slot as
absent itself.

Only the form fields an editor writes are kept (`FIELDS`), as the text the
form held (the date as typed in the editor's zone, with the zone), bounded
so an item stays far below DynamoDB's 400 KB.
"""

import json
from datetime import timedelta

from django.utils import timezone

from posts import rules
from posts.forms import PostForm
from posts.models import Autosave

NEW_POST = "+new"
LIFETIME = timedelta(days=7)
# The post form's fields a slot keeps (the add form's slug too), and the zone its times are in.
FIELDS = (*PostForm.Meta.fields, "editor_tz")
# The body's own limit, plus room for the other fields: JSON-escaping can
# grow text, and every byte counts towards DynamoDB's 400 KB item limit.
MAX_BYTES = rules.MAX_BODY_BYTES + 20_000
MAX_USER_LENGTH = 150


class BadSlot(ValueError):
    """The values cannot be kept (unknown post key, not text, too large)."""


def slot_key(slug):
    """The hash key of the slot of the post `slug` (empty or None: the add form)."""
    if not slug:
        return NEW_POST
    if not isinstance(slug, str) or not rules.is_valid_slug(slug):
        raise BadSlot("There is no post with this address.")
    return slug


def clean_fields(values):
    """The slot's fields from `values` (a dict or QueryDict): text only, known names only, bounded."""
    fields = {}
    for name in FIELDS:
        value = values.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise BadSlot(f"The field “{name}” must be text.")
        fields[name] = value
    if not fields:
        raise BadSlot("There is nothing to autosave.")
    encoded = json.dumps(fields, ensure_ascii=False)
    if len(encoded.encode()) > MAX_BYTES:
        raise BadSlot("The text is too long to autosave.")
    return encoded


def save_slot(slug, user, values, *, base_version=None, now=None):
    """Keep `values` as `user`'s slot of the post `slug` (a PutItem); returns the slot."""
    now = now or timezone.now()
    if not user or len(user) > MAX_USER_LENGTH:
        raise BadSlot("Unknown editor.")
    slot = Autosave(
        slot_key(slug),
        user,
        fields=clean_fields(values),
        base_version=base_version,
        saved_at=now,
        expires_at=now + LIFETIME,
    )
    slot.save()
    return slot


def get_slot(slug, user, *, now=None):
    """`user`'s live slot of the post `slug` (one GetItem), or None (none, or expired)."""
    now = now or timezone.now()
    try:
        slot = Autosave.get(slot_key(slug), user)
    except Autosave.DoesNotExist:
        return None
    if slot.expires_at is not None and slot.expires_at <= now:
        return None
    return slot


def delete_slot(slug, user):
    """Drop `user`'s slot of the post `slug` (a DeleteItem; nothing to drop is fine)."""
    Autosave(slot_key(slug), user).delete()


def slot_fields(slot):
    """The slot's fields as a dict."""
    try:
        fields = json.loads(slot.fields)
    except ValueError:
        return {}
    return fields if isinstance(fields, dict) else {}


def describe(slot):
    """What the form needs to offer the slot: {"saved_at": ISO UTC, "base_version", "fields"}."""
    return {
        "saved_at": slot.saved_at.isoformat(),
        "base_version": int(slot.base_version) if slot.base_version is not None else None,
        "fields": slot_fields(slot),
    }
