"""Posts, their tag listings, revisions and photos, as PynamoDB models.

The constant keys, the statuses and the sort key's shape are rules of
their own (`posts.rules`). Keys are designed for the pages, so that every public read is one GetItem or
one Query:

- a post by slug: `Post` GetItem (hash key `slug`);
- published posts, newest first: `Post.published_index` (sparse: only live
  posts carry `feed`), range `publish_at`;
- posts by tag, newest first: `PostTag` Query (one item per live post and
  tag, copied from the post when it is published);
- the admin: every post newest first (`Post.all_index`), or one status
  (`Post.status_index`), both by `updated_at`;
- a post's history: `Revision` Query (hash `slug`, range `version`);
- a photo's renditions: `Photo` GetItem / BatchGetItem by its S3 key;
- the photos uploaded for a post (the CMS photo panel): `Photo.post_index`
  (sparse: only photos uploaded from a post's form carry `post_slug`).
"""

from django.conf import settings
from django.utils import timezone
from pynamodb.attributes import (
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from myblog.aws import DynamoModel, table_name

# `placeholders`: the admin's placeholder model (content type, permissions), loaded with these models.
from posts import placeholders, rules  # noqa: F401
from posts.rules import DRAFT, KIND_POST


class PublishedIndex(GlobalSecondaryIndex):
    """Live posts, newest first: Query feed='published', ScanIndexForward=False."""

    class Meta:
        index_name = "published-index"
        projection = AllProjection()

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
    created_at = UTCDateTimeAttribute(default=timezone.now)
    updated_at = UTCDateTimeAttribute(default=timezone.now)
    updated_by = UnicodeAttribute(default="")
    kind = UnicodeAttribute(default=KIND_POST)
    feed = UnicodeAttribute(null=True)  # rules.FEED_PUBLISHED while live, absent otherwise
    version = VersionAttribute()

    published_index = PublishedIndex()
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


class Revision(DynamoModel):
    """A snapshot of a post as saved: the post's history, newest last."""

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
    saved_at = UTCDateTimeAttribute(default=timezone.now)
    saved_by = UnicodeAttribute(default="")
    note = UnicodeAttribute(default="")


class Rendition(MapAttribute):
    width = NumberAttribute()
    height = NumberAttribute()
    format = UnicodeAttribute()  # "jpeg" or "webp"
    key = UnicodeAttribute()  # S3 key under MYBLOG_RENDITIONS_PREFIX


PHOTO_PENDING = "pending"
PHOTO_READY = "ready"
PHOTO_FAILED = "failed"


class PostPhotosIndex(GlobalSecondaryIndex):
    """The photos uploaded for one post, oldest first: Query post_slug=<slug>."""

    class Meta:
        index_name = "post-index"
        projection = AllProjection()

    post_slug = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class Photo(DynamoModel):
    """An uploaded photo (its original's S3 key) and its generated renditions."""

    class Meta:
        table_name = table_name("photos")
        region = settings.AWS_REGION
        billing_mode = "PAY_PER_REQUEST"

    key = UnicodeAttribute(hash_key=True)  # e.g. media/originals/2026/11/<uuid>.jpg
    status = UnicodeAttribute(default=PHOTO_PENDING)
    width = NumberAttribute(null=True)  # upright (EXIF-applied) size of the original
    height = NumberAttribute(null=True)
    content_type = UnicodeAttribute(null=True)
    renditions = ListAttribute(of=Rendition, default=list)
    error = UnicodeAttribute(null=True)
    etag = UnicodeAttribute(null=True)  # the original's ETag the renditions were made from
    alt = UnicodeAttribute(default="")
    post_slug = UnicodeAttribute(null=True)  # the post it was uploaded for
    uploaded_by = UnicodeAttribute(default="")
    created_at = UTCDateTimeAttribute(default=timezone.now)
    updated_at = UTCDateTimeAttribute(default=timezone.now)

    post_index = PostPhotosIndex()
