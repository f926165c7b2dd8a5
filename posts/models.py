"""Posts, their tag listings and revisions, as PynamoDB models.

The constant keys, the statuses and the sort key's shape are rules of
their own (`posts.rules`). Keys are designed for the pages, so that every public read is one GetItem or
one Query:

- a post by slug: `Post` GetItem (hash key `slug`);
- published posts, newest first: `Post.published_index` (sparse: only live
  posts carry `feed`), range `publish_at`;
- the sitemap: `Post.sitemap_index`, the same keys with only the slug,
  dates and tags projected (see `SitemapIndex`);
- posts by tag, newest first: `PostTag` Query (one item per live post and
  tag, copied from the post when it is published);
- the admin: every post newest first (`Post.all_index`), or one status
  (`Post.status_index`), both by `updated_at`;
- a post's history: `Revision` Query (hash: the post's history key, see
  `rules.history_key`; range `version`);
- a renamed post's old address: `PostRedirect` GetItem (hash `slug`), read
  only when no post has the slug asked for.

Photos are the `photos` app's (`photos.models.Photo`); a post refers to
its cover by the original's S3 key, and photos uploaded for a post carry
its slug as their owner.
"""

import functools
import json
from datetime import datetime
from typing import NamedTuple

from django.conf import settings
from django.utils import timezone
from pynamodb.attributes import (
    Attribute,
    BooleanAttribute,
    ListAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.constants import STRING
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection

from myblog.aws import DynamoModel, table_name

# `placeholders`: the admin's placeholder model (content type, permissions), loaded with these models.
from posts import placeholders, rules  # noqa: F401
from posts.rules import DRAFT, KIND_POST


class StoredRendition(NamedTuple):
    width: int
    height: int
    format: str  # any the photos app makes: "jpeg", "webp", ...
    key: str


class StoredPhoto(NamedTuple):
    """A copy of what pages need of a `photos.models.Photo`: its status, size and renditions (any format).

    Copied onto a post and its listing items by `posts.stored`, so cards and
    warm post pages show the cover without reading the photo. It has the
    attributes `photos.rendering` reads of a Photo, so it renders as one.
    """

    status: str
    width: int | None = None
    height: int | None = None
    updated_at: datetime | None = None
    renditions: tuple = ()


class StoredPhotoAttribute(Attribute):
    """A `StoredPhoto` as one compact JSON string.

    Not a map of maps: a listing reads one per card, and botocore and
    PynamoDB take far longer to parse ten renditions of four attributes
    each (most of a warm home page's time) than `json.loads` takes for one
    string.
    """

    attr_type = STRING

    def serialize(self, value):
        return json.dumps(
            {
                "status": value.status,
                "width": value.width,
                "height": value.height,
                "updated_at": value.updated_at.isoformat() if value.updated_at else None,
                "renditions": [[r.format, r.width, r.height, r.key] for r in value.renditions],
            },
            separators=(",", ":"),
        )

    def deserialize(self, value):
        return _stored_photo(value)


# A listing reads the same few covers on every request: one `StoredPhoto` per string, shared (it is immutable).
@functools.lru_cache(maxsize=2048)
def _stored_photo(value):
    data = json.loads(value)
    stamp = data.get("updated_at")
    return StoredPhoto(
        status=data["status"],
        width=data.get("width"),
        height=data.get("height"),
        updated_at=datetime.fromisoformat(stamp) if stamp else None,
        renditions=tuple(
            StoredRendition(width=width, height=height, format=fmt, key=key)
            for fmt, width, height, key in data.get("renditions", ())
        ),
    )


class PublishedIndex(GlobalSecondaryIndex):
    """Live posts, newest first: Query feed='published', ScanIndexForward=False."""

    class Meta:
        index_name = "published-index"
        projection = AllProjection()

    feed = UnicodeAttribute(hash_key=True)
    publish_at = UTCDateTimeAttribute(range_key=True)


# What a sitemap shows of a post, besides its keys (slug, feed, publish_at).
SITEMAP_ATTRIBUTES = ("updated_at", "tags")


class SitemapIndex(GlobalSecondaryIndex):
    """Live posts by date with only what a sitemap needs: slug, dates and tags.

    The published index holds whole posts, so one of its Queries (capped by
    DynamoDB at 1 MB read) stops after a few hundred posts of typical size;
    an item of this one is about 150 bytes, so one Query reads thousands.
    Keyed like the published index (sparse on `feed`), so every live post
    is in it from the moment the index exists: nothing new is written.
    """

    class Meta:
        index_name = "sitemap-index"
        projection = IncludeProjection(list(SITEMAP_ATTRIBUTES))

    feed = UnicodeAttribute(hash_key=True)
    publish_at = UTCDateTimeAttribute(range_key=True)


class StatusIndex(GlobalSecondaryIndex):
    """Posts of one status, most recently updated first (admin filter, scheduler)."""

    class Meta:
        index_name = "status-index"
        projection = AllProjection()

    status = UnicodeAttribute(hash_key=True)
    updated_at = UTCDateTimeAttribute(range_key=True)


class AllPostsIndex(GlobalSecondaryIndex):
    """Every post, most recently updated first (admin change list)."""

    class Meta:
        index_name = "all-index"
        projection = AllProjection()

    kind = UnicodeAttribute(hash_key=True)
    updated_at = UTCDateTimeAttribute(range_key=True)


class Post(DynamoModel):
    class Meta:
        table_name = table_name("posts")
        region = settings.AWS_REGION
        billing_mode = "PAY_PER_REQUEST"

    slug = UnicodeAttribute(hash_key=True)
    title = UnicodeAttribute()
    body = UnicodeAttribute(default="")  # Markdown, rendered and sanitised on display
    excerpt = UnicodeAttribute(default="")
    tags = ListAttribute(of=UnicodeAttribute, default=list)  # slugs, in the editor's order
    status = UnicodeAttribute(default=DRAFT)
    # When the post goes (scheduled) or went (published) live.
    publish_at = UTCDateTimeAttribute(null=True)
    author = UnicodeAttribute(default="")
    cover_image = UnicodeAttribute(null=True)  # S3 key of the original photo
    cover_alt = UnicodeAttribute(default="")
    # The editor said the cover adds nothing to the text: its empty description is meant (see posts.checks).
    cover_decorative = BooleanAttribute(null=True)
    created_at = UTCDateTimeAttribute(default=timezone.now)
    updated_at = UTCDateTimeAttribute(default=timezone.now)
    updated_by = UnicodeAttribute(default="")
    kind = UnicodeAttribute(default=KIND_POST)
    feed = UnicodeAttribute(null=True)  # rules.FEED_PUBLISHED while live, absent otherwise
    # posts.reading.reading_minutes(body), stored for the cards (listings never read bodies);
    # absent on posts not saved since it was added, whose cards then show none.
    reading_minutes = NumberAttribute(null=True)
    # The newsletter: whether the post is emailed to subscribers when it first
    # goes live (None: never chosen, which sends nothing), and when that was.
    # Only the first publication can send (see `posts.newsletter`).
    email_subscribers = BooleanAttribute(null=True)
    first_published_at = UTCDateTimeAttribute(null=True)
    # The cover's focal point, "x,y" fractions of its width and height (cards crop around it).
    cover_focus = UnicodeAttribute(null=True)
    # Written by `posts.stored` on every save (and when a photo the post shows becomes ready):
    # the cover's renditions, the body rendered (for the text it was rendered from: `body_html_digest`),
    # whether a photo was still processing, when its photos last changed, and the photos that
    # have a `PhotoUse` item. Absent on posts saved before, which are rendered as they are read.
    cover_photo = StoredPhotoAttribute(null=True)
    body_html = UnicodeAttribute(null=True)
    body_html_digest = UnicodeAttribute(null=True)
    photos_pending = BooleanAttribute(null=True)
    photos_updated_at = UTCDateTimeAttribute(null=True)
    photo_keys = ListAttribute(of=UnicodeAttribute, null=True)
    # Renaming (`posts.services.rename_post`): the key its revisions are kept
    # under when that is not its slug, and the slugs it had, newest first.
    history_id = UnicodeAttribute(null=True)
    former_slugs = ListAttribute(of=UnicodeAttribute, default=list)
    version = VersionAttribute()

    published_index = PublishedIndex()
    sitemap_index = SitemapIndex()
    status_index = StatusIndex()
    all_index = AllPostsIndex()

    def __str__(self):
        return self.title

    @property
    def is_live(self):
        return rules.is_live(self)

    def get_absolute_url(self):
        return f"/posts/{self.slug}/"


class PostTag(DynamoModel):
    """One item per (tag, live post): the tag page is a single Query.

    Carries a copy of what a listing shows, so the tag page needs no
    further reads. Written and deleted with the post by `posts.services`.
    """

    class Meta:
        table_name = table_name("post-tags")
        region = settings.AWS_REGION
        billing_mode = "PAY_PER_REQUEST"

    tag = UnicodeAttribute(hash_key=True)
    sort_key = UnicodeAttribute(range_key=True)  # rules.tag_sort_key(): "<publish_at ISO>#<slug>", newest last
    slug = UnicodeAttribute()
    title = UnicodeAttribute()
    excerpt = UnicodeAttribute(default="")
    publish_at = UTCDateTimeAttribute()
    cover_image = UnicodeAttribute(null=True)
    cover_alt = UnicodeAttribute(default="")
    tags = ListAttribute(of=UnicodeAttribute, default=list)
    author = UnicodeAttribute(default="")
    reading_minutes = NumberAttribute(null=True)
    cover_photo = StoredPhotoAttribute(null=True)  # as on the post (see `posts.stored`)
    cover_focus = UnicodeAttribute(null=True)


class Revision(DynamoModel):
    """A snapshot of a post as saved: the post's history, newest last.

    `slug` is the post's history key (`rules.history_key`): its slug, or
    for a renamed post the slug it had when its history began, so the
    history follows the post through renames without copying it.
    """

    class Meta:
        table_name = table_name("post-revisions")
        region = settings.AWS_REGION
        billing_mode = "PAY_PER_REQUEST"

    slug = UnicodeAttribute(hash_key=True)
    version = NumberAttribute(range_key=True)
    title = UnicodeAttribute()
    body = UnicodeAttribute(default="")
    excerpt = UnicodeAttribute(default="")
    tags = ListAttribute(of=UnicodeAttribute, default=list)
    status = UnicodeAttribute(default=DRAFT)
    publish_at = UTCDateTimeAttribute(null=True)
    cover_image = UnicodeAttribute(null=True)
    cover_alt = UnicodeAttribute(default="")
    cover_focus = UnicodeAttribute(null=True)
    saved_at = UTCDateTimeAttribute(default=timezone.now)
    saved_by = UnicodeAttribute(default="")
    note = UnicodeAttribute(default="")


class PhotoUse(DynamoModel):
    """One item per (photo, post showing it): the posts to render again when a photo's renditions change.

    Query photo=<original's key> instead of a Scan of the posts. Written and
    deleted in the post's own transaction (`posts.stored.use_changes`), so
    they agree with what the post shows; a post records which photos have
    one (`Post.photo_keys`).
    """

    class Meta:
        table_name = table_name("photo-uses")
        region = settings.AWS_REGION
        billing_mode = "PAY_PER_REQUEST"

    photo = UnicodeAttribute(hash_key=True)
    slug = UnicodeAttribute(range_key=True)


# --- The editor's desk: autosave slots and who has a post open -------------
# Neither is content: no revision, no version, nothing readers see. Both
# expire through DynamoDB TTL, which deletes lazily (up to days late), so
# their readers also compare `expires_at` themselves (`posts.autosaves`,
# `posts.presence`).


class Autosave(DynamoModel):
    """One editor's unsaved form values of one post (`post` is "+new" for a post not yet saved)."""

    class Meta:
        table_name = table_name("post-autosaves")
        region = settings.AWS_REGION
        billing_mode = "PAY_PER_REQUEST"

    post = UnicodeAttribute(hash_key=True)
    user = UnicodeAttribute(range_key=True)
    fields = UnicodeAttribute()  # JSON object: form field name -> the text the editor typed
    base_version = NumberAttribute(null=True)  # the post's version the form was loaded at
    saved_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute()


class Presence(DynamoModel):
    """A heartbeat: `user` has the post's form open (until `expires_at`, unless renewed)."""

    class Meta:
        table_name = table_name("post-presence")
        region = settings.AWS_REGION
        billing_mode = "PAY_PER_REQUEST"

    post = UnicodeAttribute(hash_key=True)
    user = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute(default="")
    since = UTCDateTimeAttribute()
    seen_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute()


class PostWord(DynamoModel):
    """One item per (word, post) of a post's title, tags and slug: the admin's word search.

    Keys are designed for a prefix Query: the hash key is the word's first
    two letters (the whole word when it has one), the range key
    `<word>#<slug>`, so the posts having a word that starts with what an
    editor typed are one Query (`begins_with`) of that prefix. What the
    change list filters and sorts on is copied onto the item, so matches are
    ordered without reading the posts. Written and deleted with the post in
    its transaction by `posts.services` (see `posts.words`).
    """

    class Meta:
        table_name = table_name("post-words")
        region = settings.AWS_REGION
        billing_mode = "PAY_PER_REQUEST"

    prefix = UnicodeAttribute(hash_key=True)
    word_slug = UnicodeAttribute(range_key=True)  # "<word>#<slug>"
    slug = UnicodeAttribute()
    status = UnicodeAttribute(default=DRAFT)
    updated_at = UTCDateTimeAttribute()
    tags = ListAttribute(of=UnicodeAttribute, default=list)


class PostRedirect(DynamoModel):
    """A renamed post's old slug and the slug it has now (`posts.redirects`).

    Read with one GetItem, and only when a post page or API request finds
    no post: a normal page costs nothing more. Always points at the post's
    current slug (renaming again rewrites every redirect to it), and a new
    post taking the old slug removes it.
    """

    class Meta:
        table_name = table_name("post-redirects")
        region = settings.AWS_REGION
        billing_mode = "PAY_PER_REQUEST"

    slug = UnicodeAttribute(hash_key=True)
    target = UnicodeAttribute()
    renamed_at = UTCDateTimeAttribute(default=timezone.now)
    renamed_by = UnicodeAttribute(default="")
