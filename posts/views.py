"""Public pages for posts: home, older pages, tag pages and the post itself.

Each view is a call or two to `posts.pages` (at most two DynamoDB calls,
never SQL) and a template; `myblog.caching` makes the response cacheable at the
edge and answers conditional requests. Nothing here reads the session or
the user, so an editor's cookies never make a public page personal.
"""

from django.conf import settings
from django.http import HttpResponsePermanentRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe

from myblog import caching, public
from myblog.views import bad_request, not_found
from photos.rendering import photo_sources
from posts import pages, queries, redirects, related, rules, structured_data


def _site_url(path):
    return settings.MYBLOG_SITE_URL + path


def _absolute(url):
    return url if url.startswith(("http://", "https://")) else settings.MYBLOG_SITE_URL + url


def _listing_response(request, listing, after, cursor, first_url_name, page_url_name, page_args=()):
    """A listing page, linked to its older page and (past the first) its newer one: one more Query for that."""
    next_url = prev_url = None
    if listing.next_cursor:
        next_url = reverse(page_url_name, args=[*page_args, listing.next_cursor.encode()])
    if after is not None:
        newer = pages.newer_page(after, tag=listing.tag)
        prev_url = (
            reverse(page_url_name, args=[*page_args, newer.encode()])
            if newer
            else reverse(first_url_name, args=page_args)
        )
    context = {
        "listing": listing,
        "cursor": cursor,
        "next_url": next_url,
        "prev_url": prev_url,
        "canonical_url": _site_url(request.path_info),
    }
    response = render(request, "posts/post_list.html", context, using=public.ENGINE)
    response.last_modified = listing.updated_at
    return response


def _decode(cursor):
    return queries.Cursor.decode(cursor) if cursor is not None else None


def _invalid_cursor(request, error):
    """A cursor the site did not make is a malformed link (400); one that no listing can start from, no page (404)."""
    if isinstance(error, queries.CursorOutOfRange):
        return not_found(request)
    return bad_request(request, "This page link is not valid.")


# Last-Modified of a listing is informative only: unpublishing a post can
# make it go backwards, so conditional requests are answered by ETag.
@require_safe
@caching.public(caching.LISTING, validate_last_modified=False)
def post_list(request, cursor=None):
    try:
        after = _decode(cursor)
        listing = pages.home(after)
    except queries.InvalidCursor as error:
        return _invalid_cursor(request, error)
    if after and not listing.cards:
        return not_found(request)
    return _listing_response(request, listing, after, cursor, "posts:list", "posts:page")


@require_safe
@caching.public(caching.LISTING, validate_last_modified=False)
def tag(request, tag, cursor=None):
    if not rules.is_valid_tag(tag):
        return not_found(request)
    try:
        after = _decode(cursor)
        listing = pages.tagged(tag, after)
    except queries.InvalidCursor as error:
        return _invalid_cursor(request, error)
    if not listing.cards:
        return not_found(request)
    return _listing_response(request, listing, after, cursor, "posts:tag", "posts:tag-page", [tag])


@require_safe
@caching.public(caching.POST)
def post_detail(request, slug):
    page = pages.post(slug)
    if page is None:
        # A renamed post's old address: one GetItem, only when no post is found.
        target = redirects.target_of(slug)
        if target is not None:
            return HttpResponsePermanentRedirect(reverse("posts:detail", args=[target]))
        return not_found(request)
    og_image = None
    if page.post.cover_image:
        sources = photo_sources(page.cover, page.post.cover_image)
        if sources is not None:
            og_image = _absolute(sources.src)
    canonical_url = _site_url(page.post.get_absolute_url())
    context = {
        "page": page,
        "post": page.post,
        "og_image": og_image,
        "canonical_url": canonical_url,
        "json_ld": structured_data.json_ld_script(structured_data.post_graph(page, url=canonical_url, image=og_image)),
        "related": related.related_posts(page.post),  # one more Query: the post's first tag
    }
    response = render(request, "posts/post_detail.html", context, using=public.ENGINE)
    response.last_modified = page.last_modified
    if page.pending_photos:
        response.headers["Cache-Control"] = caching.PROCESSING.header
    return response
