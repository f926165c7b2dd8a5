"""What each public page shows, assembled from the read path.

The HTML views, the feeds and the JSON API all build on these functions, so
the site and the API always agree and cost the same: a listing is one Query
plus one BatchGetItem for its cover photos; a post is one GetItem plus one
BatchGetItem for its cover and inline photos. Nothing here touches SQL.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime

from django.urls import reverse

from posts import queries
from posts.models import PHOTO_PENDING, Photo, Post
from posts.rendering import BODY_SIZES, CARD_SIZES, picture_html, render_markdown

FEED_SIZE = 20
SITEMAP_SIZE = 1000
TAG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def _pending(photo):
    return photo is not None and photo.status == PHOTO_PENDING


@dataclass
class Card:
    """A post as a listing shows it (from a `Post` or a `PostTag` item)."""

    slug: str
    title: str
    excerpt: str
    tags: list
    author: str
    publish_at: datetime
    cover_image: str | None
    cover_alt: str
    cover: Photo | None = None
    updated_at: datetime | None = None

    @classmethod
    def from_item(cls, item):
        return cls(
            slug=item.slug,
            title=item.title,
            excerpt=item.excerpt,
            tags=list(item.tags),
            author=item.author,
            publish_at=item.publish_at,
            cover_image=item.cover_image,
            cover_alt=item.cover_alt,
            updated_at=getattr(item, "updated_at", None),
        )

    @property
    def url(self):
        return reverse("posts:detail", args=[self.slug])

    @property
    def cover_html(self):
        if not self.cover_image:
            return ""
        return picture_html(self.cover, self.cover_image, self.cover_alt, sizes=CARD_SIZES)


@dataclass
class Listing:
    """One page of a listing: cards, newest first, and the cursor of the next (older) page."""

    cards: list
    next_cursor: queries.Cursor | None
    tag: str | None = None
    pending_photos: bool = False

    @property
    def updated_at(self):
        return queries.latest_change(*(card.updated_at or card.publish_at for card in self.cards))


@dataclass
class PostPage:
    post: Post
    body_html: str
    cover: Photo | None
    photos: dict = field(default_factory=dict)

    @property
    def cover_html(self):
        if not self.post.cover_image:
            return ""
        return picture_html(
            self.cover, self.post.cover_image, self.post.cover_alt, sizes=BODY_SIZES, loading="eager",
            fetchpriority="high",
        )  # fmt: skip

    @property
    def last_modified(self):
        """When anything the page shows last changed: the post, or a photo's renditions."""
        return queries.latest_change(self.post.updated_at, *(photo.updated_at for photo in self.photos.values()))

    @property
    def pending_photos(self):
        """True while a photo on the page still waits for its renditions."""
        keys = {self.post.cover_image, *self.photos}
        return any(_pending(self.photos.get(key)) for key in keys if key)


def _with_covers(items, next_cursor, tag=None):
    cards = [Card.from_item(item) for item in items]
    photos = queries.get_photos(card.cover_image for card in cards)
    for card in cards:
        card.cover = photos.get(card.cover_image)
    pending = any(_pending(photo) for photo in photos.values())
    return Listing(cards, next_cursor, tag=tag, pending_photos=pending)


def home(after=None, limit=queries.PAGE_SIZE):
    """The newest posts: Query (published index) + BatchGetItem (covers)."""
    return _with_covers(*queries.latest_posts(limit, after))


def valid_tag(tag):
    return isinstance(tag, str) and len(tag) <= 100 and bool(TAG_RE.match(tag))


def tagged(tag, after=None, limit=queries.PAGE_SIZE):
    """The newest posts with a tag: Query (post-tags) + BatchGetItem (covers)."""
    return _with_covers(*queries.posts_tagged(tag, limit, after), tag=tag)


def post(slug):
    """A live post with its body rendered, or None: GetItem + BatchGetItem (cover and inline photos)."""
    found = queries.get_live_post(slug)
    if found is None:
        return None
    photos = {}

    def load_photos(keys):
        # Called once by the renderer with the body's photos; the cover rides along.
        photos.update(queries.get_photos({*keys, found.cover_image}))
        return photos

    body_html = render_markdown(found.body, load_photos=load_photos)
    if found.cover_image and not photos:
        photos = queries.get_photos([found.cover_image])
    return PostPage(found, body_html, photos.get(found.cover_image), photos)


@dataclass
class FeedEntry:
    card: Card
    content_html: str
    updated_at: datetime


def feed(limit=FEED_SIZE):
    """The newest posts with their full content: Query + one BatchGetItem for every photo in them."""
    posts, _ = queries.latest_posts(limit)
    keys = {post.cover_image for post in posts}
    for item in posts:
        render_markdown(item.body, load_photos=lambda found: keys.update(found) or {})
    photos = queries.get_photos(keys)
    entries = []
    for item in posts:
        card = Card.from_item(item)
        card.cover = photos.get(item.cover_image)
        content = render_markdown(item.body, load_photos=lambda _keys: photos)
        entries.append(FeedEntry(card, content, item.updated_at))
    return entries


def sitemap():
    """The newest live posts (slug, dates and tags only): one Query."""
    return queries.sitemap_posts(SITEMAP_SIZE)
