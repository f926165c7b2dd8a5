"""What a post stores of its own rendering, so readers' pages need no second read and no Markdown.

When a live post is saved (`posts.services._write`), `render` loads its
photos (one BatchGetItem: the cover and the photos in its text), renders
the body to sanitised HTML and stores on the post:

- `body_html`, and `body_html_digest`: what it was rendered from (the body,
  the cover's key, the renderer's version and the media domain), so a post
  whose stored HTML is not current (saved before this existed, or by an
  older renderer) is rendered as it is read, as before (`is_current`);
- `cover_photo`: the cover's status, size and renditions (every format
  the photos app made, AVIF included when it makes them), copied onto the
  post's `PostTag` items too, so every listing shows covers from its one Query;
- `photos_pending`: whether a photo of the page was still processing or
  not there yet (such a page is rendered as it is read, and cached for a
  minute while a photo is processing, as before),
  and `photos_updated_at`, for the page's Last-Modified.

When a photo's renditions are recorded (`photos.signals.renditions_ready`:
the upload handler, the re-render job) `refresh_for_photo` renders the live
posts that show it again. They are found without a Scan: each live post
has one `PhotoUse` item per photo it shows (at most `MAX_TRACKED_PHOTOS`,
which bounds what they add to the save's transaction), written and deleted
in the post's own transaction (`use_changes`). The refresh writes only
these derived attributes, conditioned on the post's version as it read it
and without changing it (an editor with the form open can still save);
an editor's save in between fails the condition, and the refresh reads the
post again. A photo tracked by no item (over the limit) leaves its posts
rendered as they are read until their next save: slower, never wrong.

The pages a refresh changed are then purged from CloudFront
(`invalidation.refreshed_paths`): each post's page and API resource, the
feeds if its body's HTML changed, and the listings it is on if its cover
did, so the edge does not keep the photos as they were for a day.

Drafts and scheduled posts store nothing: the preview renders live, and
publishing (by an editor or the scheduler) is a save that renders.
"""

import hashlib
import logging
from typing import NamedTuple

from django.conf import settings
from pynamodb.exceptions import PynamoDBException

from myblog import aws, transactions
from myblog.storage import public_url
from photos.queries import get_photos
from photos.rendering import keys_in_markdown
from photos.status import PHOTO_PENDING
from posts import rules
from posts.models import PhotoUse, Post, PostTag, StoredPhoto, StoredRendition
from posts.rendering import render_markdown

log = logging.getLogger(__name__)

# Bump when the renderer's output changes: stored HTML of an older one is then not current.
RENDERER_VERSION = "1"
# A post item holds its body and its HTML: together at most this, so that with its other fields (at most
# about 10 KB, posts.rules) and its photo keys and cover copy it stays under DynamoDB's 400 KB item limit.
MAX_STORED_BYTES = 340_000
# PhotoUse items one post keeps (a save adds and deletes at most twice this many to its transaction).
MAX_TRACKED_PHOTOS = 10
# Attempts of a refresh when editors keep saving the post meanwhile.
REFRESH_ATTEMPTS = 3
# The most posts one photo's refresh renders again (one Query of its uses).
MAX_USES = 100

DERIVED = ("cover_photo", "body_html", "body_html_digest", "photos_pending", "photos_updated_at")


class Refreshed(NamedTuple):
    """A post rendered again by `refresh_post`: the post as written, and what readers see changed.

    `body_changed`: its HTML or its photos' date (a feed entry's update
    time); `cover_changed`: its cover as a card shows it.
    """

    post: Post
    body_changed: bool
    cover_changed: bool


def photo_keys(post):
    """The originals' keys of the photos `post` shows, its cover first."""
    if not rules.is_live(post):
        return []
    keys = [post.cover_image] if post.cover_image else []
    return list(dict.fromkeys([*keys, *keys_in_markdown(post.body)]))


def digest(post):
    """What the stored HTML of `post` must have been rendered from to be current."""
    source = "\n".join(
        [RENDERER_VERSION, public_url(settings.MYBLOG_RENDITIONS_PREFIX), post.cover_image or "", post.body or ""]
    )
    return hashlib.sha256(source.encode()).hexdigest()[:32]


def is_current(post):
    """Whether the stored HTML and cover of `post` can be served as they are."""
    return (
        post.body_html is not None
        and not post.photos_pending
        and (post.cover_photo is not None or not post.cover_image)
        and post.body_html_digest == digest(post)
    )


def stored_photo(photo):
    """A `StoredPhoto` copy of a `Photo` (None for none)."""
    if photo is None:
        return None
    return StoredPhoto(
        status=photo.status,
        width=int(photo.width) if photo.width else None,
        height=int(photo.height) if photo.height else None,
        updated_at=photo.updated_at,
        renditions=tuple(
            StoredRendition(width=int(r.width), height=int(r.height), format=r.format, key=r.key)
            for r in photo.renditions or ()
        ),
    )


def _pending(photo):
    return photo is not None and photo.status == PHOTO_PENDING


def render(post):
    """Store on `post` its rendered body and its photos' state (nothing for a post that is not live).

    One BatchGetItem (none for a post without photos). A body whose HTML
    would make the item too large keeps none: it is rendered when read.
    """
    for name in DERIVED:
        setattr(post, name, None)
    if not rules.is_live(post):
        return post
    keys = photo_keys(post)
    try:
        photos = get_photos(keys)
    except PynamoDBException:
        # Saved all the same; without its photos the page is rendered when read.
        log.exception("The photos of %s could not be read; its page is rendered when read", post.slug)
        return post
    asked = []

    def load(found):
        asked.extend(found)
        return photos

    html = render_markdown(post.body, load_photos=load)
    shown = [photos.get(key) for key in dict.fromkeys([*keys[: 1 if post.cover_image else 0], *asked])]
    post.cover_photo = stored_photo(photos.get(post.cover_image)) if post.cover_image else None
    # A photo not there yet (its upload's event still to come) may be ready later: as one processing.
    post.photos_pending = any(photo is None or _pending(photo) for photo in shown)
    stamps = [photo.updated_at for photo in shown if photo is not None and photo.updated_at]
    post.photos_updated_at = max(stamps) if stamps else None
    if len(html.encode()) + len((post.body or "").encode()) <= MAX_STORED_BYTES:
        post.body_html = html
        post.body_html_digest = digest(post)
    return post


def use_changes(post, previous):
    """(PhotoUse items to save, items to delete) for `post` replacing `previous`; sets `post.photo_keys`.

    Either may be None: a new post (`previous` None) or a deleted one
    (`post` None). Uses are keyed by slug, so a renamed post's all move.
    """
    new = photo_keys(post)[:MAX_TRACKED_PHOTOS] if post is not None else []
    old = list(previous.photo_keys or []) if previous is not None else []
    if post is not None:
        post.photo_keys = new or None
    same_slug = post is not None and previous is not None and post.slug == previous.slug
    kept = set(new) & set(old) if same_slug else set()
    saves = [PhotoUse(key, post.slug) for key in new if key not in kept]
    deletes = [PhotoUse(key, previous.slug) for key in old if key not in kept]
    return saves, deletes


def _values(post):
    return {name: _comparable(getattr(post, name)) for name in DERIVED}


def _comparable(value):
    return Post.cover_photo.serialize(value) if isinstance(value, StoredPhoto) else value


def _unversioned_update(transaction, model, hash_key, range_key, actions, condition):
    """Add an update to `transaction` that leaves a versioned item's version as it is.

    PynamoDB's own update always increments the version; a refresh must
    not, or an editor's open form would become stale because a photo was
    processed.
    """
    hash_key, range_key = model._serialize_keys(hash_key, range_key)
    kwargs = model._get_connection().get_operation_kwargs(
        hash_key=hash_key, range_key=range_key, actions=actions, condition=condition
    )
    transaction._update_items.append(kwargs)


def _card_cover(photo):
    """What a card shows of a cover: not its date, which only the post's Last-Modified uses."""
    return None if photo is None else photo._replace(updated_at=None)


def _actions(post):
    actions = []
    for name in DERIVED:
        attribute = getattr(Post, name)
        value = getattr(post, name)
        actions.append(attribute.remove() if value is None else attribute.set(value))
    return actions


def refresh_post(slug):
    """Render the live post `slug` again from its photos as they are now; a `Refreshed`, or None if unchanged.

    Conditioned on the version read (never overwriting a newer save) and
    read again if an editor saved meanwhile, up to REFRESH_ATTEMPTS times.
    """
    for _attempt in range(REFRESH_ATTEMPTS):
        try:
            post = Post.get(slug, consistent_read=True)
        except Post.DoesNotExist:
            return None
        if not rules.is_live(post):
            return None
        before, previous_cover = _values(post), post.cover_photo
        render(post)
        if _values(post) == before:
            return None
        tag_key = rules.tag_sort_key(post.publish_at, post.slug)
        cover = post.cover_photo

        def build(transaction, post=post, tag_key=tag_key, cover=cover):
            _unversioned_update(transaction, Post, post.slug, None, _actions(post), Post.version == post.version)
            for tag in post.tags:
                action = PostTag.cover_photo.remove() if cover is None else PostTag.cover_photo.set(cover)
                _unversioned_update(transaction, PostTag, tag, tag_key, [action], PostTag.slug == post.slug)

        try:
            transactions.write(build, connection=aws.connection(Post.Meta.region))
        except transactions.ConditionFailed:
            continue
        after = _values(post)
        return Refreshed(
            post,
            body_changed=any(after[name] != before[name] for name in ("body_html", "photos_updated_at")),
            cover_changed=_card_cover(post.cover_photo) != _card_cover(previous_cover),
        )
    log.warning("Post %s kept changing while its photos were rendered again; it is rendered when read", slug)
    return None


def refresh_for_photo(key):
    """Render again every live post that shows the photo `key`; a `Refreshed` for each that changed.

    One Query of the photo's uses, then a read and a conditional write per post.
    """
    changed = []
    for use in PhotoUse.query(key, limit=MAX_USES):
        refreshed = refresh_post(use.slug)
        if refreshed is not None:
            changed.append(refreshed)
    return changed


def on_renditions_ready(sender, photo, job=None, **kwargs):
    """`photos.signals.renditions_ready`: the photo's posts rendered again and purged, or logged.

    A failure leaves them correct: rendered as they are read. Photos of a
    re-render `job` are not purged one by one: the job purges once, when it
    ends (`posts.invalidation.on_job_ended`).
    """
    try:
        changed = refresh_for_photo(photo.key)
    except (PynamoDBException, transactions.TransactionFailed):
        log.exception("The posts showing %s were not rendered again; they are rendered when read", photo.key)
        return
    if changed and job is None:
        # Imported here: the purge is the write path's, not a reader's page's.
        from posts import invalidation

        log.info("Rendered again with %s: %s", photo.key, ", ".join(item.post.slug for item in changed))
        invalidation.invalidate(invalidation.refreshed_paths(changed), reference="photo")
