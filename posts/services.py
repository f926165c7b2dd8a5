"""The edit path for posts: create, revise, publish, schedule, unpublish, delete.

Every change is one DynamoDB transaction that writes the post (guarded by its
version: a stale save fails instead of overwriting someone else's), its
revision snapshot, and the per-tag listing items of live posts, so the public
indexes never disagree with the post. Callers get `SlugTaken` or
`StaleVersion` (someone else saved first) or `SaveFailed` (DynamoDB busy
or refusing) to show the editor; nothing is half-written. How each reason
DynamoDB gives for cancelling a transaction is handled, retries included,
is in `myblog.transactions`.

After a successful write `post_changed` is sent with the post before and
after, which is how CloudFront invalidation (and anything else that follows
a change) hooks in without the edit path knowing about it.

Every writer (the admin, bulk actions, the scheduler, restores) comes
through here, so this is where a post's rules (`posts.rules`) are enforced,
on every save: `InvalidPost` names the field an editor has to change. The
limits keep each write inside DynamoDB's own (see `validate_content`), so a
long text is a clear message, never a failed transaction, and text is
cleaned of directional overrides before it is stored.
"""

import logging

from django.utils import timezone

from dynamo_admin.limits import fits_number, utf8_length
from myblog import aws, transactions
from posts import focus, redirects, rules, stored, words
from posts.models import Post, PostTag, Revision
from posts.reading import reading_minutes
from posts.rules import (
    DRAFT,
    FIELD_NAMES,
    MAX_BODY_BYTES,
    MAX_LENGTHS,
    MAX_SLUG_LENGTH,
    MAX_TAG_LENGTH,
    MAX_TAGS,
    PUBLISHED,
)
from posts.signals import post_changed

log = logging.getLogger(__name__)


EDITABLE_FIELDS = (
    "title",
    "body",
    "excerpt",
    "tags",
    "author",
    "cover_image",
    "cover_alt",
    "cover_focus",
    "cover_decorative",
    "email_subscribers",
)
# What a revision keeps of the content, and what restoring one brings back.
REVISION_FIELDS = ("title", "body", "excerpt", "tags", "cover_image", "cover_alt", "cover_focus")


class PostError(Exception):
    """Base for edit-path errors an editor can act on."""


class SlugTaken(PostError):
    def __init__(self, slug):
        super().__init__(f"A post with the slug “{slug}” already exists.")
        self.slug = slug


class StaleVersion(PostError):
    def __init__(self, slug):
        super().__init__(
            "Someone else saved this post after you opened it. Your text is kept below; "
            "copy what you need, reload the post, and apply your changes again."
        )
        self.slug = slug


class SaveFailed(PostError):
    """DynamoDB did not take the change (throttled, or it refused the items); nothing was written."""

    BUSY = (
        "The database is too busy to save this post right now, so nothing was saved. "
        "Your text is kept below: save again in a minute."
    )
    REFUSED = (
        "The database refused to save this post as it is, so nothing was saved. "
        "Your text is kept below; shorten it or remove unusual characters and save again."
    )
    BUSY_DELETING = (
        "The database is too busy to delete this post right now; nothing was deleted. Try again in a minute."
    )
    REFUSED_DELETING = "The database refused to delete this post; nothing was deleted."

    @classmethod
    def from_failure(cls, failure, deleting=False):
        if isinstance(failure, transactions.Throttled):
            return cls(cls.BUSY_DELETING if deleting else cls.BUSY)
        return cls(cls.REFUSED_DELETING if deleting else cls.REFUSED)


class InvalidPost(PostError):
    """Content that cannot be saved; `field` names the form field to change, if one."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


def validate_slug(slug):
    if not rules.is_valid_slug(slug):
        raise InvalidPost(
            f"Use lowercase letters, numbers and single hyphens for the slug (at most {MAX_SLUG_LENGTH} characters).",
            field="slug",
        )
    return slug


def normalise_tags(tags):
    """Tags are slugs: lower-cased, hyphenated, de-duplicated, order kept.

    Raises `InvalidPost` for more than MAX_TAGS tags, a tag longer than
    MAX_TAG_LENGTH characters, or one with nothing a slug can keep.
    """
    seen = []
    for typed in tags or ():
        tag = rules.normalise_tag(typed)
        shown = str(typed).strip()
        if not tag and shown:
            # "☃" or "<>": nothing of it can be in an address. Said, not silently dropped.
            raise InvalidPost(f"“{shown[:20]}” cannot be a tag: a tag needs letters (a-z) or digits.", field="tags")
        if tag and tag not in seen:
            seen.append(tag)
    if len(seen) > MAX_TAGS:
        raise InvalidPost(f"A post can have at most {MAX_TAGS} tags; this one has {len(seen)}.", field="tags")
    for tag in seen:
        if len(tag) > MAX_TAG_LENGTH:
            raise InvalidPost(
                f"A tag can be at most {MAX_TAG_LENGTH} characters long; “{tag[:20]}…” has {len(tag)}.",
                field="tags",
            )
    return seen


def validate_body(body):
    """The body, or `InvalidPost` if it is over MAX_BODY_BYTES in UTF-8."""
    size = utf8_length(body or "")
    if size is None:
        raise InvalidPost("The text contains characters that cannot be saved.", field="body")
    if size > MAX_BODY_BYTES:
        raise InvalidPost(
            f"The text is too long to save: {-(-size // 1000):,} KB, and a post can be at most "
            f"{MAX_BODY_BYTES / 1000:,.0f} KB. Split it into several posts.",
            field="body",
        )
    return body


def validate_content(post):
    """Check an editor's fields against the limits of `posts.rules`; `InvalidPost` names the first field over.

    Cleans the text of directional overrides and normalises the tags. The limits keep the post item and its revision
    under DynamoDB's 400 KB item size and a save under its 100-item
    transactions, so nothing an editor types can make a write fail.
    """
    for name in rules.TEXT_FIELDS:
        setattr(post, name, rules.strip_bidi_controls(getattr(post, name)))
    if not post.title or not post.title.strip():
        raise InvalidPost("A post needs a title.", field="title")
    for name, limit in MAX_LENGTHS.items():
        value = getattr(post, name) or ""
        if len(value) > limit:
            raise InvalidPost(
                f"The {FIELD_NAMES[name]} can be at most {limit} characters long; it has {len(value)}.", field=name
            )
        if utf8_length(value) is None:
            raise InvalidPost(f"The {FIELD_NAMES[name]} contains characters that cannot be saved.", field=name)
    validate_body(post.body)
    post.tags = normalise_tags(post.tags)
    cover_size = utf8_length(post.cover_image) if post.cover_image else 0
    if cover_size is None or cover_size > rules.MAX_COVER_KEY_BYTES:
        raise InvalidPost("Choose the cover from the post's uploaded photos.", field="cover_image")
    try:
        post.cover_focus = focus.normalise_focus(post.cover_focus)
    except focus.InvalidFocus as error:
        raise InvalidPost(str(error), field="cover_focus") from error
    return post


def _get(slug):
    """The post `slug`; `Post.DoesNotExist` too for a slug no post can have (never sent to DynamoDB)."""
    if not rules.is_valid_slug(slug):
        raise Post.DoesNotExist()
    return Post.get(slug)


def get_revision(slug, version):
    """Revision `version` of the history `slug` (`rules.history_key`); `DoesNotExist` for keys none can have."""
    if not rules.is_valid_history_key(slug) or not fits_number(version):
        raise Revision.DoesNotExist()
    return Revision.get(slug, version)


def _tag_items(post):
    if not rules.is_live(post):
        return {}
    sort_key = rules.tag_sort_key(post.publish_at, post.slug)
    return {
        (tag, sort_key): PostTag(
            tag,
            sort_key,
            slug=post.slug,
            title=post.title,
            excerpt=post.excerpt,
            publish_at=post.publish_at,
            cover_image=post.cover_image,
            cover_alt=post.cover_alt,
            tags=list(post.tags),
            author=post.author,
            reading_minutes=post.reading_minutes,
            cover_photo=post.cover_photo,
            cover_focus=post.cover_focus,
        )
        for tag in post.tags
    }


def _content(item):
    """The revisioned content of a post or revision (tags as a fresh list)."""
    content = {name: getattr(item, name) for name in REVISION_FIELDS}
    content["tags"] = list(content["tags"])
    return content


def _snapshot(post, user, note=""):
    return Revision(
        rules.history_key(post),
        post.version,
        **_content(post),
        status=post.status,
        publish_at=post.publish_at,
        saved_at=post.updated_at,
        saved_by=user,
        note=note,
    )


def _copy(post):
    """A detached copy of a post, to remember what it was before a change."""
    return Post.from_raw_data(post.serialize()) if post is not None else None


def _set_status(post, status, publish_at, now):
    """Give `post` the status asked for, if it may change to it (see `rules.TRANSITIONS`).

    Published without a date, a post keeps the one it has: a live post its
    date, a scheduled post its time.
    """
    if status == PUBLISHED:
        publish_at = publish_at or post.publish_at
    try:
        resolved, publish_at = rules.resolve_status(status, publish_at, now)
    except ValueError as error:
        raise InvalidPost(str(error)) from error
    current = post.status if post.version is not None else None
    if not (rules.can_change_status(current, status) and rules.can_change_status(current, resolved)):
        raise InvalidPost(f"A {current} post cannot be made {resolved}; unpublish it first.")
    post.publish_at = publish_at
    post.status = resolved
    post.feed = rules.feed_of(resolved)


def _mark_first_publication(post, now):
    """Record when `post` first went live (also for a live post saved before this was recorded).

    Set once and never cleared, so unpublishing and publishing again is
    not a first publication: the newsletter (`posts.newsletter`) sends only
    on the save that sets it.
    """
    if rules.is_live(post) and post.first_published_at is None:
        post.first_published_at = post.publish_at or now


def _add_uses(transaction, uses):
    """Add `stored.use_changes`' (saves, deletes) of photo uses to a write transaction."""
    saves, deletes = uses
    for use in saves:
        transaction.save(use)
    for use in deletes:
        transaction.delete(use)


def _write(post, previous, user, note="", also=None):
    """Write post + revision + tag items in one transaction.

    The post's VersionAttribute adds `version = <loaded>` (or "does not
    exist" for a new post) as the transaction's condition. `also(transaction)`
    adds more items (a new post's claim on its slug, see `create_post`).
    """
    post.reading_minutes = reading_minutes(post.body)
    stored.render(post)  # the body's HTML and the cover's renditions, for the readers' pages
    uses = stored.use_changes(post, previous)
    old_items = _tag_items(previous)
    new_items = _tag_items(post)

    def build(transaction):
        transaction.save(post)
        for key, item in old_items.items():
            if key not in new_items:
                transaction.delete(item)
        for item in new_items.values():
            transaction.save(item)
        _add_uses(transaction, uses)
        words.add_to_transaction(transaction, post, previous)
        # The post's version after this write is its current one + 1.
        revision = _snapshot(post, user, note)
        revision.version = (post.version or 0) + 1
        transaction.save(revision)
        if also is not None:
            also(transaction)

    try:
        transactions.write(build, connection=aws.connection(Post.Meta.region))
    except transactions.ConditionFailed as error:
        if previous is None:
            raise SlugTaken(post.slug) from error
        raise StaleVersion(post.slug) from error
    except transactions.TransactionFailed as error:
        raise SaveFailed.from_failure(error) from error
    post_changed.send(sender=Post, post=post, previous=previous)
    return post


def create_post(*, slug, title, user="", status=DRAFT, publish_at=None, now=None, **fields):
    """Create a post; `SlugTaken` when the slug is in use (conditional write)."""
    now = now or timezone.now()
    validate_slug(slug)
    if not isinstance(title, str) or not title.strip():
        raise InvalidPost("A post needs a title.", field="title")
    post = Post(slug, title=title.strip(), created_at=now, updated_at=now, updated_by=user)
    for name, value in fields.items():
        if name not in EDITABLE_FIELDS:
            raise TypeError(f"unexpected field {name!r}")
        setattr(post, name, value)
    post.author = post.author or user
    validate_content(post)
    _set_status(post, status, publish_at, now)
    _mark_first_publication(post, now)
    try:
        # Condition: the slug is no renamed post's old address (nothing more to read for a new slug).
        return _write(post, None, user, note="Created", also=redirects.claim(slug, reclaiming=False))
    except SlugTaken:
        if not redirects.is_redirected(slug):
            raise
    # A renamed post's old slug: its redirect goes, and this post's history is its own.
    post.history_id = redirects.new_history_key(slug)
    return _write(post, None, user, note="Created", also=redirects.claim(slug, reclaiming=True))


def update_post(slug, *, expected_version, user="", status=None, publish_at=None, now=None, note="", **fields):
    """Save an editor's changes to a post loaded at `expected_version`.

    Raises `StaleVersion` if anyone saved the post since, or if it was
    deleted; the caller keeps the editor's input to show it again.
    """
    now = now or timezone.now()
    if not fits_number(expected_version):
        # Not a version any post has had (a tampered form): nothing to overwrite.
        raise StaleVersion(slug)
    try:
        current = _get(slug)
    except Post.DoesNotExist as error:
        raise StaleVersion(slug) from error
    previous = _copy(current)
    for name, value in fields.items():
        if name not in EDITABLE_FIELDS:
            raise TypeError(f"unexpected field {name!r}")
        setattr(current, name, value)
    validate_content(current)
    current.updated_at = now
    current.updated_by = user
    current.version = expected_version
    if status is not None:
        _set_status(current, status, publish_at, now)
    _mark_first_publication(current, now)
    return _write(current, previous, user, note=note)


def publish_post(slug, *, expected_version=None, user="", publish_at=None, now=None):
    """Publish now (or at `publish_at`, which schedules it if in the future)."""
    post = _get(slug)
    version = expected_version if expected_version is not None else post.version
    return update_post(
        slug, expected_version=version, user=user, status=PUBLISHED, publish_at=publish_at, now=now, note="Published"
    )


def unpublish_post(slug, *, expected_version=None, user="", now=None):
    """Take a post off the site (back to draft); it keeps its content."""
    post = _get(slug)
    version = expected_version if expected_version is not None else post.version
    return update_post(slug, expected_version=version, user=user, status=DRAFT, now=now, note="Unpublished")


def delete_post(slug, *, expected_version=None, user=""):
    """Delete a post and its tag listings (its revisions stay as history)."""
    post = _get(slug)
    if expected_version is not None:
        post.version = expected_version

    def build(transaction):
        transaction.delete(post)
        for item in _tag_items(post).values():
            transaction.delete(item)
        _add_uses(transaction, stored.use_changes(None, post))
        words.add_to_transaction(transaction, None, post)

    try:
        transactions.write(build, connection=aws.connection(Post.Meta.region))
    except transactions.ConditionFailed as error:
        raise StaleVersion(slug) from error
    except transactions.TransactionFailed as error:
        raise SaveFailed.from_failure(error, deleting=True) from error
    post_changed.send(sender=Post, post=None, previous=post)


def publish_due_posts(now=None, user="scheduler"):
    """Publish every scheduled post whose time has come; returns their slugs.

    Run on a schedule (a Zappa `events` rate expression). One Query on the
    status index; a post edited meanwhile (stale version) is left for the
    next run rather than overwritten, one that cannot be saved as it is
    (over a limit introduced after it was scheduled) is logged and left
    scheduled for an editor to fix, and one DynamoDB did not take (busy) is
    logged and left for the next run, without holding up the others.
    """
    now = now or timezone.now()
    published = []
    for post in Post.status_index.query(rules.SCHEDULED, filter_condition=Post.publish_at <= now):
        try:
            update_post(
                post.slug,
                expected_version=post.version,
                user=user,
                status=PUBLISHED,
                publish_at=post.publish_at,
                now=now,
                note="Published on schedule",
            )
        except StaleVersion:
            continue
        except InvalidPost as error:
            log.error("Scheduled post %s cannot be published until it is edited: %s", post.slug, error)
            continue
        except SaveFailed as error:
            log.error("Scheduled post %s was not published this time: %s", post.slug, error)
            continue
        published.append(post.slug)
    return published


def restore_revision(slug, version, *, expected_version, user="", now=None):
    """Bring back the content of revision `version` as a new save.

    The post keeps its status and dates (restoring never publishes or
    unpublishes); the restore is itself a revision, so it can be undone.
    `StaleVersion` if the post changed since the editor loaded it. Keys no
    post or revision can have are refused before any call.
    """
    which = version if fits_number(version) else "with this number"
    if not rules.is_valid_slug(slug) or not fits_number(version):
        raise InvalidPost(f"This post has no revision {which}.")
    try:
        post = _get(slug)
    except Post.DoesNotExist as error:
        raise StaleVersion(slug) from error
    try:
        revision = get_revision(rules.history_key(post), version)
    except Revision.DoesNotExist as error:
        raise InvalidPost(f"This post has no revision {which}.") from error
    return update_post(
        slug,
        expected_version=expected_version,
        user=user,
        now=now,
        note=f"Restored revision {version}",
        **_content(revision),
    )


def _move_indexes(previous, renamed):
    """Move a renamed post's word items and photo uses to its new slug, in a second transaction.

    Both are keyed by slug. They cannot join the rename's own transaction:
    with every tag, word and photo moving, and the redirects, it could pass
    DynamoDB's 100 items. A failure here is logged: the post is renamed and
    readable; `manage.py backfill-post-words` rewrites the words, and its
    next save its photo uses.
    """
    uses = stored.use_changes(renamed, previous)

    def build(transaction):
        words.add_to_transaction(transaction, renamed, previous)
        _add_uses(transaction, uses)

    try:
        transactions.write(build, connection=aws.connection(Post.Meta.region))
    except transactions.TransactionFailed:
        log.exception(
            "Post %s renamed to %s: its search words and photo uses were not moved", previous.slug, renamed.slug
        )


def _put_renamed(transaction, post, version):
    """Put `post` at its new slug with `version`, on condition that no post has that slug.

    PynamoDB's save of a versioned item either requires the version it has
    (an existing item) or writes version 1 (a new one); a renamed post is a
    new item that must carry on its version, so that its revision numbers
    go on from those its history has. Saved as new, then given its version.
    """
    data = post.serialize()
    data.pop("version", None)
    transaction.save(Post.from_raw_data(data))  # condition: the slug has no post (no version there)
    transaction._put_items[-1]["Item"]["version"] = {"N": str(version)}


def rename_post(slug, new_slug, *, expected_version, user="", now=None):
    """Give the post `slug` the slug `new_slug`; returns the renamed post.

    A DynamoDB key cannot change, so in one transaction: the post is put
    at the new slug (condition: no post there) and deleted at the old one
    (condition: the version the editor loaded), its tag listings are moved
    with it, a revision notes the rename, and the redirects are written,
    old slug -> new slug for this and every earlier slug of the post
    (`posts.redirects`: chains collapse). Renaming back onto a former slug
    removes that slug's redirect.

    History follows without copying: the renamed post keeps its history key
    (`rules.history_key`: its first slug), so revisions stay where they are
    and numbering goes on (the post's version carries over). Photos
    uploaded for it are moved to the new slug after the transaction (best
    effort, see `redirects.move_photos`).

    `SlugTaken` when a post has `new_slug`; `StaleVersion` when the post
    changed or went meanwhile; `InvalidPost` for a slug no post can have.
    `post_changed` is sent once, with the post before (old slug) and after
    (new slug): the receivers tell a rename by the slugs.
    """
    now = now or timezone.now()
    new_slug = (new_slug or "").strip()
    validate_slug(new_slug)
    if new_slug == slug:
        raise InvalidPost("This is already the post's slug; type the new one.", field="slug")
    if not fits_number(expected_version):
        raise StaleVersion(slug)
    try:
        current = Post.get(slug, consistent_read=True) if rules.is_valid_slug(slug) else None
    except Post.DoesNotExist:
        current = None
    if current is None or current.version != expected_version:
        raise StaleVersion(slug)
    try:
        Post.get(new_slug, consistent_read=True)
    except Post.DoesNotExist:
        pass
    else:
        raise SlugTaken(new_slug)
    previous = _copy(current)
    renamed = _copy(current)
    renamed.slug = new_slug
    renamed.history_id = rules.history_key(current)
    renamed.former_slugs, redirect_writes = redirects.rename_items(current, new_slug, user=user, now=now)
    renamed.updated_at = now
    renamed.updated_by = user
    version = current.version + 1
    old_items, new_items = _tag_items(previous), _tag_items(renamed)
    revision = _snapshot(renamed, user, note=f"Renamed from {slug} to {new_slug}")
    revision.version = version
    stale_redirect = new_slug in (current.former_slugs or [])

    def build(transaction):
        transaction.delete(current)  # condition: the loaded version
        _put_renamed(transaction, renamed, version)
        for item in old_items.values():
            transaction.delete(item)
        for item in new_items.values():
            transaction.save(item)
        transaction.save(revision)
        for item, condition in redirect_writes:
            transaction.save(item, condition=condition)
        if stale_redirect:
            transaction.delete(redirects.PostRedirect(new_slug))

    try:
        transactions.write(build, connection=aws.connection(Post.Meta.region))
    except transactions.ConditionFailed as error:
        try:
            Post.get(new_slug, consistent_read=True)
        except Post.DoesNotExist:
            raise StaleVersion(slug) from error
        raise SlugTaken(new_slug) from error
    except transactions.TransactionFailed as error:
        raise SaveFailed.from_failure(error) from error
    renamed.version = version
    _move_indexes(previous, renamed)
    redirects.move_photos(slug, new_slug)
    post_changed.send(sender=Post, post=renamed, previous=previous)
    return renamed
