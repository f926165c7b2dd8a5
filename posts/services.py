"""The edit path for posts: create, revise, publish, schedule, unpublish, delete.

Every change is one DynamoDB transaction that writes the post (guarded by its
version: a stale save fails instead of overwriting someone else's), its
revision snapshot, and the per-tag listing items of live posts, so the public
indexes never disagree with the post. Callers get `SlugTaken` or
`StaleVersion` to show the editor; nothing is half-written.

After a successful write `post_changed` is sent with the post before and
after, which is how CloudFront invalidation (and anything else that follows
a change) hooks in without the edit path knowing about it.
"""

import re

from django.dispatch import Signal
from django.utils import timezone
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from myblog import aws
from posts.models import (
    DRAFT,
    FEED_PUBLISHED,
    PUBLISHED,
    SCHEDULED,
    STATUSES,
    Post,
    PostTag,
    Revision,
)

# Sent after a post is created, changed or deleted: kwargs `post` (None when
# deleted) and `previous` (None when created).
post_changed = Signal()

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_SLUG_LENGTH = 100
EDITABLE_FIELDS = ("title", "body", "excerpt", "tags", "author", "cover_image", "cover_alt")


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


class InvalidPost(PostError):
    pass


def validate_slug(slug):
    if not slug or len(slug) > MAX_SLUG_LENGTH or not SLUG_RE.match(slug):
        raise InvalidPost(
            f"Use lowercase letters, numbers and single hyphens for the slug (at most {MAX_SLUG_LENGTH} characters)."
        )
    return slug


def normalise_tags(tags):
    """Tags are slugs: lower-cased, hyphenated, de-duplicated, order kept."""
    seen = []
    for tag in tags or ():
        tag = re.sub(r"[^a-z0-9]+", "-", str(tag).strip().lower()).strip("-")
        if tag and tag not in seen:
            seen.append(tag)
    return seen


def _is_conditional_failure(error):
    reasons = getattr(error, "cancellation_reasons", None) or []
    codes = {reason.code for reason in reasons if reason is not None}
    return "ConditionalCheckFailed" in codes or error.cause_response_code == "ConditionalCheckFailedException"


def _tag_items(post):
    if post is None or not post.is_live:
        return {}
    sort_key = PostTag.make_sort_key(post.publish_at, post.slug)
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
        )
        for tag in post.tags
    }


def _snapshot(post, user, note=""):
    return Revision(
        post.slug,
        post.version,
        title=post.title,
        body=post.body,
        excerpt=post.excerpt,
        tags=list(post.tags),
        status=post.status,
        publish_at=post.publish_at,
        cover_image=post.cover_image,
        cover_alt=post.cover_alt,
        saved_at=post.updated_at,
        saved_by=user,
        note=note,
    )


def _copy(post):
    """A detached copy of a post, to remember what it was before a change."""
    return Post.from_raw_data(post.serialize()) if post is not None else None


def _set_status(post, status, publish_at, now):
    if status not in STATUSES:
        raise InvalidPost(f"Unknown status “{status}”.")
    if status == PUBLISHED:
        # Keep the original date when re-publishing an edited live post.
        post.publish_at = publish_at or post.publish_at or now
        if post.publish_at > now:
            status = SCHEDULED
    elif status == SCHEDULED:
        if publish_at is None:
            raise InvalidPost("Choose the date and time the post should go live.")
        post.publish_at = publish_at
        if publish_at <= now:
            status = PUBLISHED
    else:
        post.publish_at = publish_at
    post.status = status
    post.feed = FEED_PUBLISHED if status == PUBLISHED else None


def _write(post, previous, user, note=""):
    """Write post + revision + tag items in one transaction.

    The post's VersionAttribute adds `version = <loaded>` (or "does not
    exist" for a new post) as the transaction's condition.
    """
    old_items = _tag_items(previous)
    new_items = _tag_items(post)
    connection = aws.connection(Post.Meta.region)
    try:
        with TransactWrite(connection=connection) as transaction:
            transaction.save(post)
            for key, item in old_items.items():
                if key not in new_items:
                    transaction.delete(item)
            for item in new_items.values():
                transaction.save(item)
            # The post's version after this write is its current one + 1.
            revision = _snapshot(post, user, note)
            revision.version = (post.version or 0) + 1
            transaction.save(revision)
    except TransactWriteError as error:
        if _is_conditional_failure(error):
            if previous is None:
                raise SlugTaken(post.slug) from error
            raise StaleVersion(post.slug) from error
        raise
    post_changed.send(sender=Post, post=post, previous=previous)
    return post


def create_post(*, slug, title, user="", status=DRAFT, publish_at=None, now=None, **fields):
    """Create a post; `SlugTaken` when the slug is in use (conditional write)."""
    now = now or timezone.now()
    validate_slug(slug)
    if not title or not title.strip():
        raise InvalidPost("A post needs a title.")
    post = Post(slug, title=title.strip(), created_at=now, updated_at=now, updated_by=user)
    for name, value in fields.items():
        if name not in EDITABLE_FIELDS:
            raise TypeError(f"unexpected field {name!r}")
        setattr(post, name, value)
    post.tags = normalise_tags(post.tags)
    post.author = post.author or user
    _set_status(post, status, publish_at, now)
    return _write(post, None, user, note="Created")


def update_post(slug, *, expected_version, user="", status=None, publish_at=None, now=None, note="", **fields):
    """Save an editor's changes to a post loaded at `expected_version`.

    Raises `StaleVersion` if anyone saved the post since, or if it was
    deleted; the caller keeps the editor's input to show it again.
    """
    now = now or timezone.now()
    try:
        current = Post.get(slug)
    except Post.DoesNotExist as error:
        raise StaleVersion(slug) from error
    previous = _copy(current)
    for name, value in fields.items():
        if name not in EDITABLE_FIELDS:
            raise TypeError(f"unexpected field {name!r}")
        setattr(current, name, value)
    if not current.title or not current.title.strip():
        raise InvalidPost("A post needs a title.")
    current.tags = normalise_tags(current.tags)
    current.updated_at = now
    current.updated_by = user
    current.version = expected_version
    if status is not None:
        _set_status(current, status, publish_at if status != PUBLISHED else (publish_at or current.publish_at), now)
    return _write(current, previous, user, note=note)


def publish_post(slug, *, expected_version=None, user="", publish_at=None, now=None):
    """Publish now (or at `publish_at`, which schedules it if in the future)."""
    post = Post.get(slug)
    version = expected_version if expected_version is not None else post.version
    return update_post(
        slug, expected_version=version, user=user, status=PUBLISHED, publish_at=publish_at, now=now, note="Published"
    )


def unpublish_post(slug, *, expected_version=None, user="", now=None):
    """Take a post off the site (back to draft); it keeps its content."""
    post = Post.get(slug)
    version = expected_version if expected_version is not None else post.version
    return update_post(slug, expected_version=version, user=user, status=DRAFT, now=now, note="Unpublished")


def delete_post(slug, *, expected_version=None, user=""):
    """Delete a post and its tag listings (its revisions stay as history)."""
    post = Post.get(slug)
    if expected_version is not None:
        post.version = expected_version
    connection = aws.connection(Post.Meta.region)
    try:
        with TransactWrite(connection=connection) as transaction:
            transaction.delete(post)
            for item in _tag_items(post).values():
                transaction.delete(item)
    except TransactWriteError as error:
        if _is_conditional_failure(error):
            raise StaleVersion(slug) from error
        raise
    post_changed.send(sender=Post, post=None, previous=post)


def publish_due_posts(now=None, user="scheduler"):
    """Publish every scheduled post whose time has come; returns their slugs.

    Run on a schedule (a Zappa `events` rate expression). One Query on the
    status index; a post edited meanwhile (stale version) is left for the
    next run rather than overwritten.
    """
    now = now or timezone.now()
    published = []
    for post in Post.status_index.query(SCHEDULED, filter_condition=Post.publish_at <= now):
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
        published.append(post.slug)
    return published


def restore_revision(slug, version, *, expected_version, user="", now=None):
    """Bring back the content of revision `version` as a new save.

    The post keeps its status and dates (restoring never publishes or
    unpublishes); the restore is itself a revision, so it can be undone.
    `StaleVersion` if the post changed since the editor loaded it.
    """
    try:
        revision = Revision.get(slug, version)
    except Revision.DoesNotExist as error:
        raise InvalidPost(f"This post has no revision {version}.") from error
    return update_post(
        slug,
        expected_version=expected_version,
        user=user,
        now=now,
        note=f"Restored revision {version}",
        title=revision.title,
        body=revision.body,
        excerpt=revision.excerpt,
        tags=list(revision.tags),
        cover_image=revision.cover_image,
        cover_alt=revision.cover_alt,
    )
