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

from django.conf import settings
from django.utils import timezone
from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection

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
    saved_at = UTCDateTimeAttribute(default=timezone.now)
    saved_by = UnicodeAttribute(default="")
    note = UnicodeAttribute(default="")


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
