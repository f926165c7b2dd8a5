"""sitemap.xml: the home page, every live post (newest first) and their tag pages.

One Query that reads only slugs, dates and tags (see `queries.sitemap_posts`).
"""

from django.conf import settings
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe

from myblog import caching, public
from posts import pages

CONTENT_TYPE = "application/xml; charset=utf-8"


@require_safe
@caching.public(caching.LISTING, validate_last_modified=False)
def sitemap(request):
    site = settings.MYBLOG_SITE_URL
    posts = pages.sitemap()
    newest = max((post.updated_at or post.publish_at for post in posts), default=None)
    urls = [{"loc": site + reverse("posts:list"), "lastmod": newest}]
    tags = {}
    for post in posts:
        changed = post.updated_at or post.publish_at
        urls.append({"loc": site + post.get_absolute_url(), "lastmod": changed})
        for tag in post.tags:
            tags[tag] = max(tags.get(tag, changed), changed)
    urls += [{"loc": site + reverse("posts:tag", args=[tag]), "lastmod": stamp} for tag, stamp in sorted(tags.items())]
    context = {"urls": urls}
    response = render(request, "posts/sitemap.xml", context, content_type=CONTENT_TYPE, using=public.ENGINE)
    response.last_modified = newest
    return response
