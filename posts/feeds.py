"""RSS 2.0 and Atom 1.0 feeds of the newest posts, with their full content.

Built with Django's `feedgenerator` (the syndication framework's writer,
without its class machinery), imported on first use to keep it off the
cold start of other pages. One Query and one BatchGetItem per feed.
"""

from django.conf import settings
from django.http import HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_safe

from myblog import caching
from posts import pages


def _build(feed_class, feed_url_name):
    site = settings.MYBLOG_SITE_URL
    feed = feed_class(
        title=settings.MYBLOG_BLOG_NAME,
        link=site + reverse("posts:list"),
        description=settings.MYBLOG_BLOG_DESCRIPTION,
        feed_url=site + reverse(feed_url_name),
        language="en",
    )
    entries = pages.feed()
    for entry in entries:
        card = entry.card
        link = site + card.url
        feed.add_item(
            title=card.title,
            link=link,
            description=entry.content_html,
            unique_id=link,
            unique_id_is_permalink=True,
            pubdate=card.publish_at,
            updateddate=entry.updated_at,
            author_name=card.author or None,
            categories=card.tags,
        )
    return feed, any(entry.pending_photos for entry in entries)


def _respond(built):
    feed, pending_photos = built
    response = HttpResponse(content_type=feed.content_type)
    feed.write(response, "utf-8")
    response.last_modified = feed.latest_post_date() if feed.items else None
    if pending_photos:
        # Kept briefly, like a post page, until the photos' renditions exist.
        response.headers["Cache-Control"] = caching.PROCESSING.header
    return response


# Like listings, a feed's newest date can go backwards when a post is
# unpublished: conditional requests are answered by ETag.
@require_safe
@caching.public(caching.LISTING, validate_last_modified=False)
def rss(request):
    from django.utils.feedgenerator import Rss201rev2Feed

    return _respond(_build(Rss201rev2Feed, "posts:rss"))


@require_safe
@caching.public(caching.LISTING, validate_last_modified=False)
def atom(request):
    from django.utils.feedgenerator import Atom1Feed

    return _respond(_build(Atom1Feed, "posts:atom"))
