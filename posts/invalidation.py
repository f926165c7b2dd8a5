"""CloudFront invalidation of exactly the paths a change to a post affects.

The edge keeps pages for a day (`myblog.caching`), so a change must purge
what it altered, and only that: invalidations cost money past the free
tier, and at most 15 wildcard paths may be in progress at once. Connected
to `posts.signals.post_changed` in `PostsConfig.ready()`.

What a change touches, given the post before and after:

- neither version visible to readers (a draft edited, a post scheduled):
  nothing;
- a visible post: its page and API resource, the feeds (they carry the
  full text: RSS, Atom and JSON Feed) and the sitemap index and its child
  sitemaps (their last-modified dates; `/sitemaps/*` is one path);
- and, if it appeared, disappeared, or changed anything a listing shows
  (title, excerpt, date, author, tags, reading time, cover): the home page and its older
  pages, the tag pages of its old and new tags, the API's lists, and the
  post pages (`/posts/*`: one path), whose related posts show its card.
- a renamed post (`posts.services.rename_post`: the slugs differ) is all
  of that at both addresses: the old page and API resource now redirect,
  and every listing links to the new one.
- and, if it appeared, disappeared or was renamed, the page and API
  resource of every slug it had (`Post.former_slugs`): their 301s are
  cached at the edge like pages, and are followed only while the post is
  visible (`posts.redirects`), so they change with it.

A live post rendered again because a photo it shows changed
(`posts.stored`: renditions ready) is its page and API resource, the feeds
if its body's HTML changed, and its listings if its cover did
(`refreshed_paths`). A photo re-render job (`photos.rerender`) is purged
once, when it ends: everything (`on_job_ended`). Search results pages
are purged by the search index's rebuild, once every function instance
has the new index (`posts.search_index`).

Older pages are addressed by cursors in their path (`/page/<cursor>/`), so
`/page/*` and `/tags/<tag>/*` reach every cached page of a listing; the
API's lists differ by query string, reached by `/api/posts?*`.

A failure to invalidate is logged with the paths (to rerun by hand) and
never fails the editor's save: the content is already written.
"""

import functools
import logging
import uuid

from django.conf import settings
from django.urls import reverse

from myblog import aws
from myblog.public import PUBLIC_URLCONF
from photos.signals import RERENDER_JOB
from posts import rules

log = logging.getLogger(__name__)

LISTED_FIELDS = (
    "title",
    "excerpt",
    "publish_at",
    "author",
    "tags",
    "reading_minutes",
    "cover_image",
    "cover_alt",
    "cover_focus",
)


# Paths are the public site's: reversed in its own URLconf, so a save made
# outside a request (the scheduler's Lambda) does not load the admin.
public_path = functools.partial(reverse, urlconf=PUBLIC_URLCONF)


def _listing_changed(post, previous):
    return any(getattr(post, name) != getattr(previous, name) for name in LISTED_FIELDS)


def changed_paths(post, previous):
    """The CloudFront paths to purge after `previous` became `post` (either may be None)."""
    was_visible, is_visible = rules.is_live(previous), rules.is_live(post)
    if not was_visible and not is_visible:
        return []
    slugs = list(dict.fromkeys(item.slug for item in (previous, post) if item is not None))
    renamed = len(slugs) > 1
    if was_visible != is_visible or renamed:
        former = [slug for item in (post, previous) if item is not None for slug in item.former_slugs or ()]
        slugs = list(dict.fromkeys([*slugs, *former]))
    paths = [
        *(public_path("posts:detail", args=[slug]) for slug in slugs),
        *(public_path("api-post", args=[slug]) for slug in slugs),
        *_feed_paths(),
        public_path("posts:sitemap"),
        public_path("posts:sitemap-pages").rsplit("/", 1)[0] + "/*",
    ]
    if was_visible != is_visible or renamed or _listing_changed(post, previous):
        tags = set(previous.tags if was_visible else ()) | set(post.tags if is_visible else ())
        paths += _listing_paths(tags)
    return paths


def _listing_paths(tags):
    home = public_path("posts:list")
    api_list = public_path("api-posts")
    return [
        home,
        home + "page/*",
        api_list,
        api_list + "?*",
        *(public_path("posts:tag", args=[tag]) + "*" for tag in sorted(tags)),
        # Post pages show the cards of related posts (`posts.related`): any page sharing a tag may show this one.
        public_path("posts:detail", args=["-"]).removesuffix("-/") + "*",
    ]


def _feed_paths():
    return [public_path("posts:rss"), public_path("posts:atom"), public_path("posts:json-feed")]


def refreshed_paths(refreshes):
    """The paths to purge after `posts.stored.refresh_post` rendered live posts again (`Refreshed` items).

    One list for them all: the listings once, with every post's tags.
    """
    paths = []
    for item in refreshes:
        paths += [public_path("posts:detail", args=[item.post.slug]), public_path("api-post", args=[item.post.slug])]
    if any(item.body_changed for item in refreshes):
        paths += _feed_paths()
    covers = [item for item in refreshes if item.cover_changed]
    if covers:
        paths += _listing_paths({tag for item in covers for tag in item.post.tags})
    return list(dict.fromkeys(paths))


def invalidate(paths, reference=None):
    """Ask CloudFront to purge `paths`; returns the invalidation id, or None if none was made."""
    distribution = settings.MYBLOG_CLOUDFRONT_DISTRIBUTION_ID
    if not distribution or not paths:
        return None
    try:
        response = aws.client("cloudfront").create_invalidation(
            DistributionId=distribution,
            InvalidationBatch={
                "Paths": {"Quantity": len(paths), "Items": list(paths)},
                "CallerReference": f"{reference or 'myblog'}-{uuid.uuid4().hex}",
            },
        )
    except Exception:  # any failure: the save already happened, an editor must not see an error
        log.exception("CloudFront invalidation failed for %s; rerun it for: %s", distribution, " ".join(paths))
        return None
    invalidation_id = response["Invalidation"]["Id"]
    log.info("CloudFront invalidation %s: %s", invalidation_id, " ".join(paths))
    return invalidation_id


def on_post_changed(sender, post=None, previous=None, **kwargs):
    """`post_changed` receiver: purge what the change altered."""
    paths = changed_paths(post, previous)
    if paths:
        invalidate(paths, reference=f"post-{(post or previous).slug}")


# Everything the edge keeps: pages, API answers, and media, whose renditions a re-render overwrites in place.
EVERYTHING = "/*"


def on_job_ended(sender, job=None, state=None, **kwargs):
    """`job_ended` receiver: after a photo re-render that rendered any photo, one purge of everything.

    A re-render changes the renditions of every photo (overwritten in place
    under the same keys) and so the pages of every post that shows one:
    one path, `/*`, instead of one invalidation per photo, which would run
    into CloudFront's limit of 15 wildcard paths in progress.
    """
    if job is not None and job.kind == RERENDER_JOB and int(job.done or 0) > 0:
        invalidate([EVERYTHING], reference=f"job-{job.job_id}")
