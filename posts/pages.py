"""What each public page shows, assembled from the read path.

The HTML views, the feeds and the JSON API all build on these functions, so
the site and the API always agree and cost the same: a listing (home, tag
pages, the API's list) is one Query, and an older page of the site one more (where
its newer page starts, for its rel=prev link); a post is one GetItem plus one
BatchGetItem for its cover and inline photos; a feed is one Query plus one
BatchGetItem for the photos in its posts; a child sitemap is one Query of
the lean sitemap index. Nothing here touches SQL.

Listings show each post's cover from the copy of its renditions the post
and its listing items carry (`posts.stored`): still one Query, no second
call for the photos. Cards crop it around its focal point (`posts.focus`).
A post shows its cover, and shares it as its Open Graph image. A live post
saved with its HTML current is served from what it stored: one GetItem,
no Markdown (`stored_page`); others are rendered as they are read.

Every page loads its photos the same way, through `photos.queries`: the
post page and the admin's preview with one `PageLoader` each (`post_page`),
the feeds with one `get_photos` for all their posts. Readers only ever get
a photo's renditions, never its original (which keeps the camera's EXIF,
GPS position included): see `photos.rendering`.
"""

import functools
from collections.abc import Callable
from datetime import datetime
from typing import NamedTuple

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf
from django.utils import formats, timezone, translation
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

from myblog import public
from photos import queries as photo_queries
from photos.models import Photo
from photos.rendering import BODY_SIZES, CARD_SIZES, picture_html
from photos.status import PHOTO_PENDING
from posts import focus, queries, reading, rules, stored
from posts.models import Post
from posts.rendering import render_markdown

FEED_SIZE = 20


def _pending(photo):
    return photo is not None and photo.status == PHOTO_PENDING


class Card(NamedTuple):
    """A post as a listing shows it (from a `Post` or a `PostTag` item)."""

    slug: str
    title: str
    excerpt: str
    tags: list
    author: str
    publish_at: datetime
    updated_at: datetime | None = None
    reading_minutes: int | None = None  # stored with the post (see `posts.reading`)
    # The cover and the copy of its renditions (`posts.stored`), and its focal point (`posts.focus`).
    cover_image: str | None = None
    cover_alt: str = ""
    cover_photo: object = None
    cover_focus: str | None = None

    # What a search hit highlights (`posts.search.Hit`); a listing shows the title and excerpt as they are.
    title_html = None
    excerpt_html = None

    @classmethod
    def from_item(cls, item):
        return cls(
            slug=item.slug,
            title=item.title,
            excerpt=item.excerpt,
            tags=tuple(item.tags),
            author=item.author,
            publish_at=item.publish_at,
            updated_at=getattr(item, "updated_at", None),
            reading_minutes=getattr(item, "reading_minutes", None),
            cover_image=getattr(item, "cover_image", None),
            cover_alt=getattr(item, "cover_alt", "") or "",
            cover_photo=getattr(item, "cover_photo", None),
            cover_focus=getattr(item, "cover_focus", None),
        )

    @property
    def url(self):
        return public.url("posts:detail", self.slug)

    @property
    def tag_links(self):
        """(tag, URL of its page) for each tag."""
        return [(tag, public.url("posts:tag", tag)) for tag in self.tags]

    @property
    def cover_html(self):
        """The cover as the card shows it ("" without one, or while it is processing)."""
        return self.cover_picture(CARD_SIZES)

    def cover_picture(self, sizes):
        """The cover as a `<picture>` displayed at `sizes` ("" without one, or while it is processing)."""
        if not self.cover_image or self.cover_photo is None:
            return ""
        return picture_html(self.cover_photo, self.cover_image, self.cover_alt, sizes=sizes)

    @property
    def focus_classes(self):
        return focus.focus_classes(self.cover_focus)

    @property
    def html(self):
        return card_html(self)


def card_html(card):
    """The `<li>` a listing (or a search result) shows for a card.

    Built here rather than in a template: a listing shows ten or more
    cards, and the template engine's cost per variable, per card, was most
    of a listing's time. Everything from the post is escaped;
    `title_html` and `excerpt_html` (a search hit's highlighting) are safe
    HTML, escaped all the same unless marked so.

    A plain `Card`'s HTML is remembered for the process (`_plain_card_html`).
    """
    if type(card) is Card:
        key = (
            card,
            timezone.get_current_timezone_name(),
            translation.get_language(),
            get_urlconf(),
            get_script_prefix(),
            settings.MEDIA_URL,
        )
        try:
            return _plain_card_html(*key)
        except TypeError:  # a field that cannot be a key (a list of tags, a photo model): built as it is
            pass
    return _card_html(card)


@functools.lru_cache(maxsize=1024)
def _plain_card_html(card, zone, language, urlconf, script_prefix, media_url):
    """`_card_html(card)`, remembered: a listing shows the same cards to every reader, request after request.

    A card's HTML depends only on the card (every field the post gives it,
    its cover's renditions included) and on what the request sets: the time
    zone and language of its date, and the URLconf, script prefix and media
    URL of its links, which are the rest of the memo's key. A post saved
    again or a cover rendered again is a different card: it cannot go stale.
    """
    return _card_html(card)


def _card_html(card):
    slug = conditional_escape(card.slug)
    published = timezone.template_localtime(card.publish_at)
    machine_date, shown_date = _formatted_dates(published.isoformat(), translation.get_language())
    cover = card.cover_html
    parts = [
        f'<li class="card">\n  <article aria-labelledby="post-{slug}">\n    ',
        f'<div class="card-cover {conditional_escape(card.focus_classes)}">{cover}</div>' if cover else "",
        f'\n\n    <h2 id="post-{slug}"><a href="{conditional_escape(card.url)}">',
        conditional_escape(card.title_html or card.title),
        '</a></h2>\n    <p class="meta"><time datetime="',
        conditional_escape(machine_date),
        '">',
        conditional_escape(shown_date),
        "</time>",
        f" · {conditional_escape(card.author)}" if card.author else "",
        f" · {conditional_escape(card.reading_minutes)} min read" if card.reading_minutes else "",
        "</p>\n    ",
        f"<p>{conditional_escape(card.excerpt_html or card.excerpt)}</p>" if card.excerpt else "",
        "\n    ",
    ]
    if card.tags:
        links = "".join(
            f'<li><a href="{conditional_escape(url)}">#{conditional_escape(tag)}</a></li>'
            for tag, url in card.tag_links
        )
        parts.append(f'<ul class="tags" aria-label="Tags">{links}</ul>')
    parts.append("\n  </article>\n</li>\n")
    return mark_safe("".join(parts))  # noqa: S308 - every value above is escaped


@functools.lru_cache(maxsize=1024)
def _formatted_dates(local_iso, language):
    """A card's date for `<time datetime>` and as readers see it: from the local time and language only."""
    published = datetime.fromisoformat(local_iso)
    return formats.date_format(published, "c"), formats.date_format(published, "j F Y")


class Listing(NamedTuple):
    """One page of a listing: cards, newest first, and the cursor of the next (older) page."""

    cards: list
    next_cursor: queries.Cursor | None
    tag: str | None = None

    @property
    def updated_at(self):
        return queries.latest_change(*(card.updated_at or card.publish_at for card in self.cards))


class PostPage(NamedTuple):
    """A live post as its page shows it: the body rendered, the photos of the page loaded.

    `original_url` is for the admin's preview only (see `posts.preview`):
    the URL of an original, to show a photo still processing to its editor.
    """

    post: Post
    body_html: str
    cover: Photo | None
    photos: dict
    original_url: Callable[[str], str] | None = None

    @property
    def cover_html(self):
        if not self.post.cover_image:
            return ""
        # The cover is the first thing a reader sees: loaded at once, not lazily.
        post = self.post
        return picture_html(
            self.cover,
            post.cover_image,
            post.cover_alt,
            sizes=BODY_SIZES,
            loading="eager",
            fetchpriority="high",
            original_url=self.original_url,
        )

    @property
    def reading_minutes(self):
        stored_minutes = getattr(self.post, "reading_minutes", None)
        return stored_minutes if stored_minutes is not None else reading.reading_minutes(self.post.body)

    @property
    def last_modified(self):
        """When anything the page shows last changed: the post, or a photo's renditions."""
        return queries.latest_change(
            self.post.updated_at,
            getattr(self.post, "photos_updated_at", None),
            *(photo.updated_at for photo in self.photos.values()),
        )

    @property
    def pending_photos(self):
        """True while a photo on the page still waits for its renditions."""
        keys = {self.post.cover_image, *self.photos}
        return any(_pending(self.photos.get(key)) for key in keys if key)


def _listing(items, next_cursor, tag=None):
    return Listing([Card.from_item(item) for item in items], next_cursor, tag=tag)


def home(after=None, limit=rules.PAGE_SIZE):
    """The newest posts: one Query (published index)."""
    return _listing(*queries.latest_posts(limit, after, attributes=queries.LISTING_ATTRIBUTES, listed=True))


def tagged(tag, after=None, limit=rules.PAGE_SIZE):
    """The newest posts with a tag: one Query (post-tags)."""
    return _listing(*queries.posts_tagged(tag, limit, after), tag=tag)


def newer_page(after, tag=None, limit=rules.PAGE_SIZE):
    """The cursor of the page before (newer than) the page after `after`, None for the first: one Query."""
    return queries.newer_page_cursor(after, limit, tag=tag)


def post_page(post, original_url=None):
    """The `PostPage` of `post`: its body rendered, its cover and inline photos loaded with one BatchGetItem.

    The public page and the admin's preview are both built here, so they
    show the same photos the same way; `original_url` is the preview's.
    """
    loader = photo_queries.PageLoader(post.cover_image)
    body_html = render_markdown(post.body, load_photos=loader, original_url=original_url)
    photos = loader.photos()
    return PostPage(post, body_html, photos.get(post.cover_image), photos, original_url=original_url)


def stored_page(post):
    """The `PostPage` of `post` from what it stored when saved (`posts.stored`), or None if that is not current.

    No call and no Markdown: the HTML, the cover's renditions and the
    photos' last change are on the post. Not for the admin's preview,
    which renders the editor's text as it is.
    """
    if not stored.is_current(post):
        return None
    cover = post.cover_photo if post.cover_image else None
    return PostPage(post, post.body_html, cover, {post.cover_image: cover} if cover is not None else {})


def post(slug):
    """A live post with its body rendered, or None: one GetItem, plus a BatchGetItem unless stored (`stored_page`)."""
    found = queries.get_live_post(slug)
    if found is None:
        return None
    return stored_page(found) or post_page(found)


class FeedEntry(NamedTuple):
    card: Card
    content_html: str
    updated_at: datetime
    pending_photos: bool  # a photo in it still waits for its renditions


def feed(limit=FEED_SIZE):
    """The newest posts with their full content: one Query, and one BatchGetItem for the photos of those not stored.

    A post whose stored HTML is current (`posts.stored`) is served as
    stored. The others' bodies are rendered twice: once to collect their
    photo references, once with the photos fetched in a single call.
    """
    posts, _ = queries.latest_posts(limit, attributes=queries.FEED_ATTRIBUTES, listed=True, paged=False)
    live = [item for item in posts if not stored.is_current(item)]
    keys_by_post = {}
    for item in live:
        found_keys = keys_by_post[item.slug] = []
        render_markdown(item.body, load_photos=lambda found, into=found_keys: into.extend(found) or {})
    photos = photo_queries.get_photos([key for keys in keys_by_post.values() for key in keys])
    entries = []
    for item in posts:
        if item.slug not in keys_by_post:
            updated_at = queries.latest_change(item.updated_at, item.photos_updated_at)
            entries.append(FeedEntry(Card.from_item(item), item.body_html, updated_at, False))
            continue
        entries.append(
            FeedEntry(
                Card.from_item(item),
                render_markdown(item.body, load_photos=lambda _keys: photos),
                item.updated_at,
                any(_pending(photos.get(key)) for key in keys_by_post[item.slug]),
            )
        )
    return entries


class SitemapPage(NamedTuple):
    """The posts of one child sitemap, oldest first, and the cursor of the next one (or None)."""

    posts: list
    next_cursor: queries.Cursor | None

    @property
    def updated_at(self):
        return queries.latest_change(*(post.updated_at or post.publish_at for post in self.posts))


def sitemap_page_size():
    """Posts per child sitemap: the `MYBLOG_SITEMAP_PAGE_SIZE` setting, within what the protocol allows."""
    return min(max(1, settings.MYBLOG_SITEMAP_PAGE_SIZE), rules.MAX_SITEMAP_PAGE_SIZE)


def sitemap_page(after=None):
    """The child sitemap of posts that starts after `after` (None: the first): one Query."""
    return SitemapPage(*queries.sitemap_page(sitemap_page_size(), after))


def sitemap_pages():
    """Every child sitemap of posts, in order, as (its start cursor, its `SitemapPage`): one Query each.

    What the sitemap index and the sitemap of tag pages need: the first
    reads where each page starts, the second every post's tags. Each Query
    reads the sitemap index only (about 150 bytes a post), so a blog of
    10,000 posts costs two. An empty blog has one empty page.
    """
    found, after = [], None
    while True:
        page = sitemap_page(after)
        found.append((after, page))
        if page.next_cursor is None:
            return found
        after = page.next_cursor
