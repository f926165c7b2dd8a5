"""Old addresses of renamed posts: `PostRedirect` items, old slug -> current slug.

Renaming a post (`posts.services.rename_post`) stores one redirect per slug
the post ever had, all pointing at its current slug: renaming a -> b -> c
leaves a -> c and b -> c (a chain is collapsed when it is made, so a
reader is never sent through more than one 301). The post item keeps the
slugs it had (`Post.former_slugs`, newest first, at most
`rules.MAX_FORMER_SLUGS`), which is how the next rename finds the
redirects to rewrite without a Scan or an index.

Readers pay nothing for this: the post page and the API look a redirect up
(`target_of`, one GetItem) only when no post has the slug asked for.

A redirect is followed only while the post it points at is visible to
readers (one more GetItem, only for a slug that has a redirect): an old
address of a draft, of a post still scheduled or of one unpublished or
deleted answers 404 like any unknown slug, so it never reveals a slug that
is not public; a 301 to a 404 would. The item is kept all the same: it
reserves the slug (`claim`: a new post there gets a history of its own),
and the old addresses redirect again once the post is published.
Publishing, unpublishing and renaming purge them from CloudFront
(`posts.invalidation`).

A new post taking an old slug (`claim`) removes its redirect, and gets a
history key of its own (`rules.history_key`), so it never shows, or
overwrites, the revisions of the post that had the slug before. Renaming a
post back onto one of its own former slugs removes that redirect in the
rename's transaction.

Photos uploaded for a post are grouped by its slug (`Photo.owner`); a
rename moves them to the new slug (`move_photos`) so the post's photo
panel keeps listing them. Their S3 keys do not contain the slug, so the
photos in the post's text and its cover keep working whatever happens.
"""

import logging

from django.utils import timezone
from pynamodb.exceptions import UpdateError

from myblog import aws
from photos.models import Photo
from photos.queries import photos_of_owner
from posts import rules
from posts.models import Post, PostRedirect

log = logging.getLogger(__name__)


def target_of(slug, now=None):
    """The slug readers are sent to from `slug`, or None.

    One GetItem (none for a slug no post can have), and one more of the
    target's status and date when there is a redirect: None unless the
    post there is visible to readers.
    """
    if not rules.is_valid_slug(slug):
        return None
    try:
        target = PostRedirect.get(slug).target
    except PostRedirect.DoesNotExist:
        return None
    try:
        post = Post.get(target, attributes_to_get=["slug", "status", "feed", "publish_at"])
    except Post.DoesNotExist:
        return None
    return target if rules.is_visible(post, now or timezone.now()) else None


def current_redirects(slugs):
    """{slug: PostRedirect} of those of `slugs` that have one (one BatchGetItem; the admin's rename only)."""
    slugs = [slug for slug in dict.fromkeys(slugs) if rules.is_valid_slug(slug)]
    if not slugs:
        return {}
    return {item.slug: item for item in PostRedirect.batch_get(slugs)}


def rename_items(post, new_slug, *, user="", now=None):
    """What renaming `post` to `new_slug` writes: (former slugs the post keeps, [(redirect, condition)]).

    The old slug always redirects (no post has it after the rename). A
    former slug redirects only while its redirect still points at this
    post: one a new post has taken since (`claim`) is dropped from the
    list. Each rewritten redirect is conditional on still pointing here,
    so a slug taken meanwhile cancels the rename instead of being taken back.
    """
    now = now or timezone.now()
    existing = current_redirects(post.former_slugs or [])
    kept = [
        slug
        for slug in post.former_slugs or []
        if slug != new_slug and slug in existing and existing[slug].target == post.slug
    ]
    former = [post.slug, *kept][: rules.MAX_FORMER_SLUGS]
    writes = [(PostRedirect(post.slug, target=new_slug, renamed_at=now, renamed_by=user), None)]
    for slug in former[1:]:
        item = PostRedirect(slug, target=new_slug, renamed_at=now, renamed_by=user)
        writes.append((item, PostRedirect.target == post.slug))
    return former, writes


def claim(slug, *, reclaiming):
    """What a new post's transaction adds for its slug (`services.create_post`).

    Not `reclaiming`: a condition that the slug has no redirect, at no cost
    (a delete that only succeeds on no item). It fails the transaction for
    a renamed post's old slug, which is then created again `reclaiming`:
    its redirect deleted in the same transaction, and the post given a
    history key of its own (`new_history_key`), since the renamed post's
    revisions may still be kept under the slug.
    """

    def add(transaction):
        if reclaiming:
            transaction.delete(PostRedirect(slug))
        else:
            transaction.delete(PostRedirect(slug), condition=PostRedirect.slug.does_not_exist())

    return add


def is_redirected(slug):
    """Whether `slug` redirects (one consistent GetItem, after a new post's save was refused)."""
    try:
        PostRedirect.get(slug, consistent_read=True)
    except PostRedirect.DoesNotExist:
        return False
    return True


def new_history_key(slug):
    """A history key for a new post at a renamed post's old slug: the slug and a suffix no slug has."""
    return f"{slug}~{timezone.now().strftime('%Y%m%d%H%M%S%f')}"


def move_photos(old_slug, new_slug):
    """Give the photos uploaded for `old_slug` to `new_slug` (each only if still the old slug's); returns how many.

    After the rename's transaction, and best effort: a photo left behind
    still shows on the post (its key is unchanged); only the photo panel
    would not list it until it is used in the text again.
    """
    moved = 0
    try:
        for photo in photos_of_owner(old_slug):
            try:
                Photo(photo.key).update(actions=[Photo.owner.set(new_slug)], condition=Photo.owner == old_slug)
            except UpdateError as error:
                if not aws.is_conditional_check_failure(error):
                    raise
                continue
            moved += 1
    except Exception:
        log.exception("The photos of %s could not all be moved to %s", old_slug, new_slug)
    return moved
