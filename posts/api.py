"""The posts API: list published posts (cursor pagination, tag filter) and get one by slug.

Same data and cost as the HTML pages (`posts.pages`): a list is one Query,
a post one GetItem plus one BatchGetItem (its cover and inline photos).
The shapes are described in `myblog.openapi`; tests validate real
responses against that schema.
"""

from django.conf import settings
from django.http import HttpResponsePermanentRedirect
from django.urls import reverse

from myblog import caching
from myblog.jsonapi import ApiError, endpoint, json_response
from myblog.numbers import InvalidNumber, parse_whole_number
from photos.rendering import photo_sources
from posts import pages, queries, redirects, rules

LIST_PARAMETERS = {"tag", "cursor", "limit"}


def _iso(value):
    return value.isoformat().replace("+00:00", "Z") if value else None


def _absolute(url):
    return url if url.startswith(("http://", "https://")) else settings.MYBLOG_SITE_URL + url


def image_json(photo, key, alt):
    """A photo as the API shows it: the fallback URL, its size, and the srcsets (AVIF null for older photos)."""
    if not key:
        return None
    sources = photo_sources(photo, key)
    if sources is None:
        return None
    return {
        "alt": alt,
        "src": _absolute(sources.src),
        "width": sources.width,
        "height": sources.height,
        "srcset": _absolute_srcset(sources.jpeg_srcset),
        "webp_srcset": _absolute_srcset(sources.webp_srcset),
        "avif_srcset": _absolute_srcset(sources.avif_srcset),
    }


def _absolute_srcset(srcset):
    if not srcset:
        return None
    return ", ".join(_absolute(part.strip()) for part in srcset.split(", "))


def card_json(card):
    return {
        "slug": card.slug,
        "title": card.title,
        "excerpt": card.excerpt,
        "tags": list(card.tags),
        "author": card.author,
        "published_at": _iso(card.publish_at),
        "url": settings.MYBLOG_SITE_URL + card.url,
        # From the copy of its renditions the listing carries (`posts.stored`): no further read.
        "cover": image_json(card.cover_photo, card.cover_image, card.cover_alt),
    }


def post_json(page):
    post = page.post
    return {
        **card_json(pages.Card.from_item(post)),
        "updated_at": _iso(post.updated_at),
        "cover": image_json(page.cover, post.cover_image, post.cover_alt),
        "body_html": page.body_html,
    }


def _limit(value):
    if value is None:
        return rules.PAGE_SIZE
    try:
        return parse_whole_number(value, minimum=1, maximum=rules.MAX_PAGE_SIZE)
    except InvalidNumber as error:
        message = f"limit must be a whole number from 1 to {rules.MAX_PAGE_SIZE}."
        raise ApiError(400, "invalid_parameter", message) from error


@endpoint("GET", policy=caching.LISTING, validate_last_modified=False)
def post_list(request):
    unknown = set(request.GET) - LIST_PARAMETERS
    if unknown:
        raise ApiError(400, "invalid_parameter", f"Unknown parameter: {', '.join(sorted(unknown))}.")
    limit = _limit(request.GET.get("limit"))
    tag = request.GET.get("tag")
    if tag is not None and not rules.is_valid_tag(tag):
        raise ApiError(400, "invalid_parameter", "tag must be a tag slug (lowercase letters, digits and hyphens).")
    cursor = request.GET.get("cursor")
    try:
        after = queries.Cursor.decode(cursor) if cursor is not None else None
        listing = pages.tagged(tag, after, limit) if tag else pages.home(after, limit)
    except queries.InvalidCursor as error:  # not ours, or not where a listing can start
        raise ApiError(400, "invalid_cursor", "The cursor is not valid; start again without it.") from error
    data = {
        "items": [card_json(card) for card in listing.cards],
        "next_cursor": listing.next_cursor.encode() if listing.next_cursor else None,
    }
    return data, 200


@endpoint("GET", policy=caching.CONTENT)
def post_detail(request, slug):
    page = pages.post(slug)
    if page is None:
        # A renamed post: 301 to its resource now (one GetItem, only when no post is found).
        target = redirects.target_of(slug)
        if target is not None:
            return HttpResponsePermanentRedirect(reverse("api-post", args=[target]))
        raise ApiError(404, "not_found", "There is no published post with this slug.")
    response = json_response(post_json(page))
    response.last_modified = page.last_modified
    if page.pending_photos:
        response.headers["Cache-Control"] = caching.PROCESSING.header
    return response
