"""The sitemap at any size: an index of child sitemaps, each one DynamoDB Query.

- `/sitemap.xml`, the sitemap index (what robots.txt names): the sitemap of
  pages and one child sitemap per page of posts, each with its last change;
- `/sitemaps/pages.xml`: the home page and every tag page;
- `/sitemaps/posts.xml`, then `/sitemaps/posts/<cursor>.xml`: every live
  post, oldest first, at most `MYBLOG_SITEMAP_PAGE_SIZE` per sitemap (the
  protocol allows 50,000). Each is one Query on the sitemap index (slug,
  dates and tags only, see `posts.models.SitemapIndex`).

The index and the sitemap of pages read the sitemap index from start to
end, one Query per child sitemap (a couple at 10,000 posts); every child
sitemap of posts reads one page of it. Cursors are the listings' (signed):
one the site did not make, or one no page starts from, is a 404, as is a
page that is now empty.
"""

from django.conf import settings
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe

from myblog import caching, public
from myblog.views import not_found
from posts import pages, queries

CONTENT_TYPE = "application/xml; charset=utf-8"


def _changed(post):
    return post.updated_at or post.publish_at


def _page_url(after):
    if after is None:
        return reverse("posts:sitemap-posts")
    return reverse("posts:sitemap-posts-page", args=[after.encode()])


def _respond(request, template, entries, last_modified):
    response = render(request, template, {"entries": entries}, content_type=CONTENT_TYPE, using=public.ENGINE)
    response.last_modified = last_modified
    return response


# Like listings, a sitemap's newest date can go backwards when a post is
# unpublished: conditional requests are answered by ETag.
@require_safe
@caching.public(caching.LISTING, validate_last_modified=False)
def index(request):
    """The sitemap index: the sitemap of pages, then each child sitemap of posts."""
    site = settings.MYBLOG_SITE_URL
    children = [(after, page) for after, page in pages.sitemap_pages() if page.posts]
    newest = queries.latest_change(*(page.updated_at for _, page in children))
    entries = [{"loc": site + reverse("posts:sitemap-pages"), "lastmod": newest}]
    entries += [{"loc": site + _page_url(after), "lastmod": page.updated_at} for after, page in children]
    return _respond(request, "posts/sitemap_index.xml", entries, newest)


@require_safe
@caching.public(caching.LISTING, validate_last_modified=False)
def pages_sitemap(request):
    """The home page and every tag page, each with the last change of a post it lists."""
    site = settings.MYBLOG_SITE_URL
    tags, newest = {}, None
    for _, page in pages.sitemap_pages():
        for post in page.posts:
            changed = _changed(post)
            newest = queries.latest_change(newest, changed)
            for tag in post.tags:
                tags[tag] = queries.latest_change(tags.get(tag), changed)
    entries = [{"loc": site + reverse("posts:list"), "lastmod": newest}]
    entries += [
        {"loc": site + reverse("posts:tag", args=[tag]), "lastmod": stamp} for tag, stamp in sorted(tags.items())
    ]
    return _respond(request, "posts/sitemap.xml", entries, newest)


@require_safe
@caching.public(caching.LISTING, validate_last_modified=False)
def posts_sitemap(request, cursor=None):
    """One child sitemap of posts: one Query."""
    try:
        page = pages.sitemap_page(queries.Cursor.decode(cursor) if cursor is not None else None)
    except queries.InvalidCursor:
        return not_found(request)
    if not page.posts:
        return not_found(request)
    site = settings.MYBLOG_SITE_URL
    entries = [{"loc": site + public.url("posts:detail", post.slug), "lastmod": _changed(post)} for post in page.posts]
    return _respond(request, "posts/sitemap.xml", entries, page.updated_at)
