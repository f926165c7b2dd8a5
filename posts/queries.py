"""The read path for posts: the few GetItem/Query/BatchGetItem calls pages and the API need.

Never a Scan. Each function is exactly one DynamoDB call (or none), so a
page's cost is the sum of the functions it calls, which tests count.

Listings are paged with a `Cursor`: the (publish_at, slug) of the last post
shown. It maps onto the `ExclusiveStartKey` of both the published index and
the per-tag table, so "older posts" is one Query whichever listing it is,
and a page's content does not shift when a newer post is published (which
keeps older pages cacheable). A Query asks for one item more than it shows,
to know whether an older page exists without a second call.

Cursors travel in URLs, so they are signed (HMAC with the SECRET_KEY, as
the admin's are): only a cursor this site made is read. A cursor must also
lie where the listing can start from, at or before "now" (DynamoDB refuses
a start key outside the Query's key condition): `CursorOutOfRange` if not.

Keys come from URLs, so a lookup first checks that the key could exist (a
slug or tag of the shape and length posts are saved with): anything else is
"not found" without a call, instead of a key DynamoDB refuses with an error.
Photos have their own read path, `photos.queries`.
"""

import base64
import binascii
import functools
from datetime import datetime
from types import SimpleNamespace
from typing import NamedTuple

from django.core import signing
from django.utils import timezone
from pynamodb.attributes import NumberAttribute, UTCDateTimeAttribute

from posts import rules
from posts.models import SITEMAP_ATTRIBUTES, Post, PostTag
from posts.rules import FEED_PUBLISHED, MAX_CURSOR_LENGTH, MAX_PAGE_SIZE, PAGE_SIZE, is_valid_slug, is_valid_tag

# What a listing shows: a Query for a listing returns only these (the
# published index holds whole posts, bodies included).
LISTING_ATTRIBUTES = (
    "slug",
    "title",
    "excerpt",
    "tags",
    "author",
    "publish_at",
    "updated_at",
    "reading_minutes",
    # The card's cover, from the copy of its renditions on the post (`posts.stored`).
    "cover_image",
    "cover_alt",
    "cover_photo",
    "cover_focus",
)

# What a feed shows of each post: a listing's attributes and the body, as stored (`posts.stored`) and as
# written (rendered when the stored HTML is not current). Not the edit history's or the photo tracking's.
FEED_ATTRIBUTES = (
    *LISTING_ATTRIBUTES,
    "body",
    "body_html",
    "body_html_digest",
    "photos_pending",
    "photos_updated_at",
)

# What the sitemap index holds of each post (its keys and `models.SITEMAP_ATTRIBUTES`), read as `listed_item`s.
SITEMAP_ITEM_ATTRIBUTES = ("slug", "publish_at", *SITEMAP_ATTRIBUTES)


CURSOR_SALT = "posts.queries.cursor"


class InvalidCursor(ValueError):
    """A cursor that this site did not make (tampered, truncated, unsigned or stale format)."""


class CursorOutOfRange(InvalidCursor):
    """A cursor this site made, but not one the listing can start from (it lies after "now")."""


def _signer():
    # "." is not in the URL-safe base64 alphabet: the token stays one URL path segment.
    return signing.Signer(salt=CURSOR_SALT, sep=".")


class Cursor(NamedTuple):
    """Where a listing page ends: the last post shown on it."""

    publish_at: datetime
    slug: str

    def encode(self):
        """An opaque, signed, URL-safe token for links and the API's `next_cursor`."""
        text = f"{Post.publish_at.serialize(self.publish_at)}|{self.slug}"
        return _signer().sign(base64.urlsafe_b64encode(text.encode()).decode().rstrip("="))

    @classmethod
    def decode(cls, token):
        """Parse `token` strictly: anything `encode` did not produce is `InvalidCursor`."""
        if not isinstance(token, str) or not 0 < len(token) <= MAX_CURSOR_LENGTH:
            raise InvalidCursor("The cursor is not valid.")
        try:
            payload = _signer().unsign(token)
            text = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
            stamp, slug = text.split("|")
            publish_at = Post.publish_at.deserialize(stamp)
        except (signing.BadSignature, binascii.Error, UnicodeDecodeError, ValueError) as error:
            raise InvalidCursor("The cursor is not valid.") from error
        if not is_valid_slug(slug):
            raise InvalidCursor("The cursor is not valid.")
        return cls(publish_at, slug)

    @classmethod
    def after(cls, item):
        return cls(item.publish_at, item.slug)

    def check_within(self, now):
        """`CursorOutOfRange` unless a listing of what is live at `now` can start after this cursor."""
        if self.publish_at > now:
            raise CursorOutOfRange("The cursor is not valid.")
        return self

    def published_index_key(self):
        return {
            "slug": {"S": self.slug},
            "feed": {"S": FEED_PUBLISHED},
            "publish_at": {"S": Post.publish_at.serialize(self.publish_at)},
        }

    def post_tag_key(self, tag):
        return {"tag": {"S": tag}, "sort_key": {"S": rules.tag_sort_key(self.publish_at, self.slug)}}


def _now(now):
    return now or timezone.now()


def get_live_post(slug, now=None):
    """The published post with this slug, or None (drafts and scheduled posts never): one GetItem."""
    if not is_valid_slug(slug):
        return None
    try:
        post = Post.get(slug)
    except Post.DoesNotExist:
        return None
    return post if rules.is_visible(post, _now(now)) else None


def listed_item(model, raw, names):
    """An item of a listing Query as an object with only the attributes `names` (defaults as `model` gives them).

    Cheaper than `model.from_raw_data`, which sets up every attribute of
    the model (a post has dozens) for each of a listing's items.
    """
    attributes = model.get_attributes()
    values = {}
    for name in names:
        attribute = attributes[name]
        value = raw.get(attribute.attr_name)
        if value and "NULL" not in value:
            stored, kind = attribute.get_value(value), type(attribute)
            values[name] = _scalar(kind, stored) if kind in SCALARS else attribute.deserialize(stored)
        else:
            default = attribute.default
            values[name] = default() if callable(default) else default
    return SimpleNamespace(**values)


# Attributes whose value depends on the stored string alone, and is immutable: a listing reads the same
# dates and numbers request after request, and parsing them was a third of making its items.
SCALARS = (UTCDateTimeAttribute, NumberAttribute)


@functools.lru_cache(maxsize=4096)
def _scalar(kind, stored):
    return kind().deserialize(stored)


def _first_page(results, model, limit, names=None):
    """Read only the first page of a Query: exactly one call, whatever DynamoDB's 1 MB cap does.

    With `names`, the items are `listed_item`s carrying those attributes only.
    """
    try:
        page = next(results.page_iter)
    except StopIteration:
        return [], None
    raws = page.get("Items", [])
    items = [listed_item(model, raw, names) for raw in raws] if names else [model.from_raw_data(raw) for raw in raws]
    more = len(items) > limit or bool(page.get("LastEvaluatedKey"))
    items = items[:limit]
    return items, (Cursor.after(items[-1]) if more and items else None)


def _check_limit(limit):
    if not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValueError(f"limit must be between 1 and {MAX_PAGE_SIZE}")


def latest_posts(
    limit=PAGE_SIZE, after=None, *, now=None, last_evaluated_key=None, attributes=None, listed=False, paged=True
):
    """One page of live posts, newest first, and the `Cursor` of the next page (or None).

    One Query on the sparse published index; `after` (or its older name
    `last_evaluated_key`) is the cursor a previous page returned. With
    `attributes` (e.g. `LISTING_ATTRIBUTES`) the posts carry only those;
    with `listed` too, they are `listed_item`s rather than `Post`s. Without
    `paged` (a feed has no next page), the Query reads `limit` posts, not
    one more to know whether another page exists, and the cursor is None.
    `CursorOutOfRange` for a cursor after `now`.
    """
    _check_limit(limit)
    now = _now(now)
    after = after or last_evaluated_key
    if after is not None:
        after.check_within(now)
    asked = limit + 1 if paged else limit
    results = Post.published_index.query(
        FEED_PUBLISHED,
        Post.publish_at <= now,
        scan_index_forward=False,
        limit=asked,
        page_size=asked,
        last_evaluated_key=after.published_index_key() if after else None,
        attributes_to_get=list(attributes) if attributes else None,
    )
    items, cursor = _first_page(results, Post, limit, names=attributes if listed else None)
    return items, cursor if paged else None


def posts_tagged(tag, limit=PAGE_SIZE, after=None, *, now=None):
    """One page of live posts with `tag`, newest first (`PostTag` items), and the next `Cursor`.

    One Query on the per-tag table, whose items carry what a listing shows;
    none for a tag no post can have. `CursorOutOfRange` for a cursor after `now`.
    """
    _check_limit(limit)
    if not is_valid_tag(tag):
        return [], None
    now = _now(now)
    if after is not None:
        after.check_within(now)
    ceiling = rules.tag_sort_key_ceiling(now)
    results = PostTag.query(
        tag,
        PostTag.sort_key < ceiling,
        scan_index_forward=False,
        limit=limit + 1,
        page_size=limit + 1,
        last_evaluated_key=after.post_tag_key(tag) if after else None,
    )
    return _first_page(results, PostTag, limit)


def newer_page_cursor(after, limit=PAGE_SIZE, *, tag=None, now=None):
    """Where the newer page before the one that starts after `after` starts: a `Cursor`, or None for the first page.

    That page ends with the post `after` names, so it starts after the
    `limit`-th post newer than it: one Query, oldest first from `after`,
    of the published index (or of the tag's items, with `tag`). Fewer
    newer posts than that: the newer page is the listing's first.
    """
    _check_limit(limit)
    now = _now(now)
    after.check_within(now)
    if tag is None:
        results = Post.published_index.query(
            FEED_PUBLISHED,
            Post.publish_at <= now,
            scan_index_forward=True,
            limit=limit,
            page_size=limit,
            last_evaluated_key=after.published_index_key(),
            attributes_to_get=["slug", "publish_at"],
        )
        model = Post
    else:
        results = PostTag.query(
            tag,
            PostTag.sort_key < rules.tag_sort_key_ceiling(now),
            scan_index_forward=True,
            limit=limit,
            page_size=limit,
            last_evaluated_key=after.post_tag_key(tag),
            attributes_to_get=["tag", "sort_key", "slug", "publish_at"],
        )
        model = PostTag
    try:
        page = next(results.page_iter)
    except StopIteration:
        return None
    items = page.get("Items", [])
    return Cursor.after(model.from_raw_data(items[limit - 1])) if len(items) >= limit else None


def sitemap_page(limit, after=None, *, now=None):
    """One page of the sitemap: live posts oldest first (slug, dates and tags only), and the next `Cursor`.

    The posts are `listed_item`s with `SITEMAP_ITEM_ATTRIBUTES`.

    One Query on the sitemap index, whose items hold nothing else (about
    150 bytes each), so thousands fit in the 1 MB DynamoDB reads per Query.
    Oldest first, so a new post lands on the last page and the others keep
    their boundaries. A page cut short by the 1 MB cap ends where the Query
    stopped, and the next page starts there: no post is skipped whatever the
    items weigh. `CursorOutOfRange` for a cursor after `now`.
    """
    if not isinstance(limit, int) or not 1 <= limit <= rules.MAX_SITEMAP_PAGE_SIZE:
        raise ValueError(f"limit must be between 1 and {rules.MAX_SITEMAP_PAGE_SIZE}")
    now = _now(now)
    if after is not None:
        after.check_within(now)
    results = Post.sitemap_index.query(
        FEED_PUBLISHED,
        Post.publish_at <= now,
        scan_index_forward=True,
        limit=limit + 1,
        page_size=limit + 1,
        last_evaluated_key=after.published_index_key() if after else None,
    )
    return _first_page(results, Post, limit, names=SITEMAP_ITEM_ATTRIBUTES)


def latest_change(*stamps):
    """The latest of some timestamps (None ignored), for Last-Modified."""
    stamps = [stamp for stamp in stamps if stamp is not None]
    return max(stamps) if stamps else None
