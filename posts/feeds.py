"""RSS 2.0, Atom 1.0 and JSON Feed 1.1 feeds of the newest posts, with their full content.

RSS and Atom are built with Django's `feedgenerator` (the syndication
framework's writer, without its class machinery), imported on first use to
keep it off the cold start of other pages. The JSON Feed is a dict, as its
specification (https://jsonfeed.org/version/1.1) lays out. All three show
the same entries (`pages.feed`): one Query and one BatchGetItem per feed.

Each entry's HTML (`entry_html`) starts with the post's cover, as its page
shows it, then its body, every URL in it absolute: a feed is read away
from the site. The JSON Feed also names the cover as the item's `image`.
"""

import functools
import json
import re
from typing import NamedTuple

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.cache import set_response_etag
from django.views.decorators.http import require_safe

from myblog import caching
from photos.rendering import BODY_SIZES, fallback_src
from posts import pages


def _xml_document(feed_class, feed_url_name, entries):
    """The XML of the RSS or Atom feed of `entries`."""
    site = settings.MYBLOG_SITE_URL
    feed = feed_class(
        title=settings.MYBLOG_BLOG_NAME,
        link=site + reverse("posts:list"),
        description=settings.MYBLOG_BLOG_DESCRIPTION,
        feed_url=site + reverse(feed_url_name),
        language="en",
    )
    for entry in entries:
        card = entry.card
        link = site + card.url
        feed.add_item(
            title=card.title,
            link=link,
            description=entry_html(entry, site),
            unique_id=link,
            unique_id_is_permalink=True,
            pubdate=card.publish_at,
            updateddate=entry.updated_at,
            author_name=card.author or None,
            categories=card.tags,
        )
    # Written whole, not streamed into the response: the XML writer's hundreds of small writes would each
    # become a chunk for the WSGI layer to encode and join again.
    return feed.writeString("utf-8")


def _latest(entries):
    """A feed's Last-Modified: the latest publication or update of its entries, None for an empty feed."""
    dates = (date for entry in entries for date in (entry.updated_at, entry.card.publish_at) if date)
    return max(dates, default=None)


class Document(NamedTuple):
    content: bytes  # as the response carries it
    etag: str  # Django's `set_response_etag` of `content`


def document(make, *args, entries):
    """The `Document` of `make(*args, entries=...)`, a feed's text, remembered for the process.

    A feed is the same bytes for every reader until a post in it changes,
    and writing twenty entries' XML or JSON was most of a warm feed's time.
    The entries are still read on every request (one Query): the memo only
    spares writing them out again (and hashing them for the ETag). Its key is everything the document is
    made from: the entries (every field of each card, its HTML and dates),
    the site's URL, name and description, and the URLconf and script prefix
    of its links.
    """
    key = (
        make,
        args,
        tuple(entries),
        settings.MYBLOG_SITE_URL,
        settings.MYBLOG_BLOG_NAME,
        settings.MYBLOG_BLOG_DESCRIPTION,
        get_urlconf(),
        get_script_prefix(),
    )
    try:
        return _remembered(*key)
    except TypeError:  # a field that cannot be a key: made as it is
        return _document(make(*args, entries=entries))


@functools.lru_cache(maxsize=16)
def _remembered(make, args, entries, *context):
    return _document(make(*args, entries=list(entries)))


def _document(text):
    response = set_response_etag(HttpResponse(text))
    return Document(response.content, response.headers["ETag"])


def _response(entries, make, *args, content_type):
    made = document(make, *args, entries=entries)
    response = HttpResponse(made.content, content_type=content_type)
    response.headers["ETag"] = made.etag
    response.last_modified = _latest(entries)
    if any(entry.pending_photos for entry in entries):
        # Kept briefly, like a post page, until the photos' renditions exist.
        response.headers["Cache-Control"] = caching.PROCESSING.header
    return response


def _xml_response(feed_class, feed_url_name):
    return _response(pages.feed(), _xml_document, feed_class, feed_url_name, content_type=feed_class.content_type)


# Like listings, a feed's newest date can go backwards when a post is
# unpublished: conditional requests are answered by ETag.
@require_safe
@caching.public(caching.LISTING, validate_last_modified=False)
def rss(request):
    from django.utils.feedgenerator import Rss201rev2Feed

    return _xml_response(Rss201rev2Feed, "posts:rss")


@require_safe
@caching.public(caching.LISTING, validate_last_modified=False)
def atom(request):
    from django.utils.feedgenerator import Atom1Feed

    return _xml_response(Atom1Feed, "posts:atom")


JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
JSON_FEED_CONTENT_TYPE = "application/feed+json"

# Every URL attribute of the sanitised HTML (nh3 writes each value in double quotes).
_URL_ATTRIBUTE = re.compile(r'\b(href|src|srcset)="([^"]*)"')


def absolute_url(url, site):
    """`url` under `site` if it is site-relative ("/media/..."), as it is otherwise."""
    return site + url if url.startswith("/") and not url.startswith("//") else url


def absolute_urls(html, site):
    """`html` with its site-relative URLs ("/media/...") made absolute under `site`.

    A feed is read away from the site, where a reader has no base URL to
    resolve a relative link or image against.
    """

    def replace(match):
        name, value = match.groups()
        if name == "srcset":
            candidates = (candidate.strip().split(" ", 1) for candidate in value.split(","))
            value = ", ".join(" ".join([absolute_url(parts[0], site), *parts[1:]]) for parts in candidates if parts[0])
        else:
            value = absolute_url(value, site)
        return f'{name}="{value}"'

    return _URL_ATTRIBUTE.sub(replace, html)


def entry_html(entry, site):
    """A feed entry's HTML: the post's cover (none while it is processing), then its body; every URL absolute."""
    return absolute_urls(f"{entry.card.cover_picture(BODY_SIZES)}{entry.content_html}", site)


def cover_url(card, site):
    """The absolute URL of the JPEG a feed names as the post's image (the one its `<img>` falls back to), or None."""
    src = fallback_src(card.cover_photo, card.cover_image)  # (None while the cover is processing)
    return absolute_url(src, site) if src else None


def json_feed_document(entries):
    """The JSON Feed 1.1 document of `entries` (`pages.FeedEntry`), every URL absolute."""
    site = settings.MYBLOG_SITE_URL
    items = []
    for entry in entries:
        card = entry.card
        url = site + card.url
        item = {
            "id": url,
            "url": url,
            "title": card.title,
            "content_html": entry_html(entry, site),
            "date_published": card.publish_at,
            "date_modified": entry.updated_at or card.publish_at,
            "tags": list(card.tags),
        }
        image = cover_url(card, site)
        if image:
            item["image"] = image
        if card.excerpt:
            item["summary"] = card.excerpt
        if card.author:
            item["authors"] = [{"name": card.author}]
        items.append(item)
    return {
        "version": JSON_FEED_VERSION,
        "title": settings.MYBLOG_BLOG_NAME,
        "home_page_url": site + reverse("posts:list"),
        "feed_url": site + reverse("posts:json-feed"),
        "description": settings.MYBLOG_BLOG_DESCRIPTION,
        "language": "en",
        "items": items,
    }


def _json_feed_text(entries):
    return json.dumps(json_feed_document(entries), cls=DjangoJSONEncoder, ensure_ascii=False, indent=1)


@require_safe
@caching.public(caching.LISTING, validate_last_modified=False)
def json_feed(request):
    return _response(pages.feed(), _json_feed_text, content_type=f"{JSON_FEED_CONTENT_TYPE}; charset=utf-8")
