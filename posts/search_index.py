"""The search index: built from the live posts, stored as one object in S3, rebuilt when a post changes.

There is no search server. The index is a gzipped JSON object in the
private media bucket (`MYBLOG_SEARCH_INDEX_KEY`, under `search/`, which
CloudFront cannot read: its bucket policy grants it `static/` and
`media/renditions/` only). It holds, for each live post, what a result card
shows (slug, title, excerpt, tags, author, date, cover) and the post's
terms (`posts.search_text`) with their frequencies, so `posts.search` ranks
results with BM25 at query time from the stored figures alone.

Layout (format 1)::

    {"format": 1, "built_at": "<ISO 8601>", "fields": [...],
     "posts": [[slug, title, excerpt, tags, author, published_at, cover_image, cover_alt, length], ...],
     "terms": {"<term>": "<posting list>", ...}}

`posts` are newest first; a post's number is its place in that list.
A posting list is "<gap>[:<tf>],<gap>[:<tf>],...": the post numbers that
hold the term, ascending, each written as its distance from the previous
one, and the term's weighted frequency in that post when it is not 1.
Frequencies and lengths are weighted by field (`FIELD_WEIGHTS`): a word in
the title counts as much as four in the body. Posting lists stay strings
until a query needs one, so loading the index parses one string per term.

When it is rebuilt: `on_post_changed` (a `posts.signals.post_changed`
receiver) queues a rebuild whenever what it holds changes: a post
published, changed while live, unpublished or deleted. Reading every live
post takes seconds at thousands of posts, so it never runs inside the
editor's request: the message (`{"slugs": [...]}` on the `search-index`
queue) goes to `handle_event`, bound to the queue, which coalesces a batch
of messages into one rebuild. A rebuild reads every live post with Queries
on the published index (never a Scan), then lays the posts it was asked
about over them, read by key (the index is eventually consistent and may not
show a write made a moment ago), and writes with a conditional put: only
if the object is still the one it saw before reading (`IfMatch` its ETag,
or `IfNoneMatch: *` when there is none). Two rebuilds racing cannot leave
the older one in place: the loser's put fails and it starts again, reading
the posts after the winner wrote. A rebuild that fails returns its messages
to the queue (retried, then kept in its dead-letter queue); a rebuild that
cannot be queued is logged and never fails the editor's save: the post is
saved, and `manage.py rebuild-search-index` (or the next change) repairs
the index.

Bulk work (an import, seeding thousands of posts) wraps its saves in
`deferred()`: one rebuild queued at the end instead of one per save.

Results pages are kept at the edge for minutes (`posts.search.RESULTS`),
so a rebuild ends by queueing a purge of them (`{"purge": "search"}` on
the same queue, delayed by `purge_delay_seconds()`): only once every
function instance has rechecked the index's ETag
(`MYBLOG_SEARCH_INDEX_CHECK_SECONDS`) can no instance answer a miss from
its old copy, which the edge would then keep for minutes again. The same
handler makes the CloudFront invalidation of the search pages and the
API's searches when the message arrives. A purge that cannot be queued or
made is logged: the results pages then expire on their own.
"""

import contextlib
import gzip
import json
import logging
import math
import threading
import time
from collections import Counter

from botocore.exceptions import ClientError
from django.conf import settings
from django.utils import timezone

from myblog import aws, queues
from posts import invalidation, rules
from posts.search_text import markdown_text, terms

log = logging.getLogger(__name__)

FORMAT = 1
FIELDS = ["slug", "title", "excerpt", "tags", "author", "published_at", "cover_image", "cover_alt", "length"]
# How much a term counts in each field of a post (BM25F-style weights).
FIELD_WEIGHTS = {"title": 4, "tags": 3, "excerpt": 2, "body": 1}
# What a rebuild reads of each post (the published index holds whole posts).
POST_ATTRIBUTES = ["slug", "title", "excerpt", "tags", "author", "publish_at", "cover_image", "cover_alt", "body"]
# A change to any of these, or to whether the post is live, changes the index.
INDEXED_FIELDS = ("title", "excerpt", "tags", "author", "publish_at", "cover_image", "cover_alt", "body")
# Conditional puts lost to a concurrent rebuild before giving up (and logging).
MAX_ATTEMPTS = 4
CONTENT_TYPE = "application/gzip"

_deferred = threading.local()


class RebuildFailed(RuntimeError):
    """The index could not be written (S3 refused, or every attempt lost a race)."""


def _iso(value):
    return value.isoformat().replace("+00:00", "Z") if value else None


def _tag_words(tags):
    return " ".join(tag.replace("-", " ") for tag in tags)


def weighted_terms(post):
    """Counter of a post's terms (weighted by field) and its weighted length."""
    counts = Counter()
    fields = {
        "title": post.title,
        "tags": _tag_words(post.tags or ()),
        "excerpt": post.excerpt,
        "body": markdown_text(post.body),
    }
    length = 0
    for name, text in fields.items():
        found = terms(text)
        weight = FIELD_WEIGHTS[name]
        length += weight * len(found)
        for term, count in Counter(found).items():
            counts[term] += weight * count
    return counts, length


def _posting(numbers_and_counts):
    parts, previous = [], 0
    for number, count in numbers_and_counts:
        gap = number - previous
        previous = number
        parts.append(str(gap) if count == 1 else f"{gap}:{count}")
    return ",".join(parts)


def build(posts, now=None):
    """The index (a dict, see the module's docstring) of `posts`, which it orders newest first."""
    ordered = sorted(posts, key=lambda post: (post.publish_at, post.slug), reverse=True)
    rows, postings = [], {}
    for number, post in enumerate(ordered):
        counts, length = weighted_terms(post)
        for term, count in counts.items():
            postings.setdefault(term, []).append((number, count))
        rows.append(
            [
                post.slug,
                post.title,
                post.excerpt or "",
                list(post.tags or ()),
                post.author or "",
                _iso(post.publish_at),
                post.cover_image,
                post.cover_alt or "",
                length,
            ]
        )
    return {
        "format": FORMAT,
        "built_at": _iso(now or timezone.now()),
        "fields": FIELDS,
        "posts": rows,
        "terms": {term: _posting(entries) for term, entries in sorted(postings.items())},
    }


def encode(index):
    """The index as the bytes stored in S3 (compact JSON, gzipped)."""
    data = json.dumps(index, ensure_ascii=False, separators=(",", ":")).encode()
    return gzip.compress(data, compresslevel=6, mtime=0)


def decode(body):
    """The index dict stored as `body` (bytes); ValueError if it is not one."""
    try:
        index = json.loads(gzip.decompress(body))
    except (OSError, EOFError, UnicodeDecodeError, ValueError) as error:
        raise ValueError("The search index is not readable.") from error
    if not isinstance(index, dict) or index.get("format") != FORMAT:
        raise ValueError("The search index has an unknown format.")
    return index


# -- reading the posts ----------------------------------------------------------------------------


def live_posts(now=None):
    """Every live post (the fields the index needs): Queries on the published index, all its pages.

    Only rebuilds call this, on the edit path or from the command line:
    no request a reader makes ever does.
    """
    from posts.models import Post

    now = now or timezone.now()
    return list(
        Post.published_index.query(
            rules.FEED_PUBLISHED,
            Post.publish_at <= now,
            scan_index_forward=False,
            attributes_to_get=POST_ATTRIBUTES,
        )
    )


def changes(post, previous):
    """The change from `previous` to `post` (either may be None), as {slug: the post now, or None}.

    A renamed post (the slugs differ) leaves its old slug and appears at its new one.
    """
    if post is not None and previous is not None and post.slug != previous.slug:
        return {previous.slug: None, post.slug: post}
    return {(post or previous).slug: post}


def _with_changes(posts, changed, now):
    """`posts` with `changed` ({slug: post or None}) applied, whatever the published index already showed."""
    kept = [item for item in posts if item.slug not in changed]
    kept += [post for post in changed.values() if post is not None and rules.is_visible(post, now)]
    return kept


# -- S3 -------------------------------------------------------------------------------------------


def _s3():
    return aws.client("s3")


def location():
    return settings.MYBLOG_MEDIA_BUCKET, settings.MYBLOG_SEARCH_INDEX_KEY


def _error_code(error):
    return error.response.get("Error", {}).get("Code", "")


def _status(error):
    return error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")


def current_etag():
    """The stored index's ETag, or None if there is none yet (one HeadObject)."""
    bucket, key = location()
    try:
        return _s3().head_object(Bucket=bucket, Key=key)["ETag"]
    except ClientError as error:
        if _status(error) == 404 or _error_code(error) in ("404", "NoSuchKey", "NotFound"):
            return None
        raise


class LostRace(Exception):
    """Another rebuild wrote the index after this one read it."""


def _put_object_if(client, headers, **params):
    """PutObject with its condition (`If-Match` / `If-None-Match`) set as the request's headers.

    Lambda's python3.11 runtime provides botocore 1.30 beside the package
    (devstack/lambda-runtime-requirements.txt), older than PutObject's
    IfMatch and IfNoneMatch parameters, and refuses them before sending
    anything. S3 reads the headers whichever SDK sets them, so they are
    added to the request, the same bytes a newer botocore sends.
    """

    def add_headers(request, **kwargs):
        for name, value in headers.items():
            request.headers[name] = value

    event = "before-sign.s3.PutObject"
    client.meta.events.register(event, add_headers)
    try:
        return client.put_object(**params)
    finally:
        client.meta.events.unregister(event, add_headers)


def write(body, etag):
    """Put `body` only if the stored index is still `etag` (None: only if there is none); returns the new ETag."""
    bucket, key = location()
    condition = {"If-Match": etag} if etag else {"If-None-Match": "*"}
    try:
        response = _put_object_if(_s3(), condition, Bucket=bucket, Key=key, Body=body, ContentType=CONTENT_TYPE)
    except ClientError as error:
        if _status(error) in (409, 412) or _error_code(error) in ("PreconditionFailed", "ConditionalRequestConflict"):
            raise LostRace() from error
        raise
    return response["ETag"]


# -- rebuilding -----------------------------------------------------------------------------------


def rebuild(changed=None, now=None):
    """Rebuild and store the index from the live posts; returns (index, ETag).

    `changed` ({slug: post or None}, see `changes`) are the changes that
    asked for it, laid over what the Queries return. Raises `RebuildFailed` if S3 refuses, or if every
    attempt lost its conditional put to a concurrent rebuild.
    """
    for attempt in range(1, MAX_ATTEMPTS + 1):
        stamp = now or timezone.now()
        try:
            etag = current_etag()
            posts = _with_changes(live_posts(stamp), changed or {}, stamp)
            index = build(posts, stamp)
            return index, write(encode(index), etag)
        except LostRace:
            log.info("Search index rebuild lost a race (attempt %d); reading the posts again", attempt)
            time.sleep(0.05 * attempt)
        except ClientError as error:
            raise RebuildFailed(f"S3 refused the search index: {error}") from error
    raise RebuildFailed(f"The search index kept changing during {MAX_ATTEMPTS} rebuilds.")


def affects_index(post, previous):
    """Whether changing `previous` into `post` (either may be None) changes what the index holds."""
    was_live, is_live = rules.is_live(previous), rules.is_live(post)
    if not was_live and not is_live:
        return False
    if was_live != is_live or post.slug != previous.slug:
        return True
    return any(getattr(post, name) != getattr(previous, name) for name in INDEXED_FIELDS)


QUEUE = "search-index"
PURGE = {"purge": "search"}
# Seconds past the instances' recheck interval before the purge: a recheck
# that was just starting when the index was written has its answer by then.
PURGE_MARGIN_SECONDS = 5
MAX_DELAY_SECONDS = 900  # SQS's longest delay


def on_post_changed(sender, post=None, previous=None, **kwargs):
    """`post_changed` receiver: queue a rebuild if the change shows in the index; log, never raise."""
    if not settings.MYBLOG_SEARCH_AUTO_UPDATE or not affects_index(post, previous):
        return
    if getattr(_deferred, "depth", 0):
        _deferred.pending.update(changes(post, previous))
        return
    queue_rebuild(changes(post, previous))


def queue_rebuild(changed):
    """Put a rebuild for the posts `changed` ({slug: ...}) on the queue; False (logged) if SQS refused it."""
    try:
        queues.send(QUEUE, [{"slugs": sorted(changed)}])
    except Exception:  # the post is saved; the next change or the command repairs the index
        log.exception(
            "Search index rebuild after a change to %s not queued; run manage.py rebuild-search-index",
            ", ".join(sorted(changed)),
        )
        return False
    return True


def purge_delay_seconds():
    """How long after a rebuild its results pages are purged (see the module's docstring)."""
    return min(MAX_DELAY_SECONDS, math.ceil(settings.MYBLOG_SEARCH_INDEX_CHECK_SECONDS) + PURGE_MARGIN_SECONDS)


def results_paths():
    """The CloudFront paths of every cached search: the pages (`/search/?q=...`) and the API's."""
    return [
        invalidation.public_path("posts:search") + "*",
        invalidation.public_path("api-search") + "*",
    ]


def queue_purge():
    """Queue the purge of the results pages, delayed; False (logged) if SQS refused it."""
    try:
        queues.send(QUEUE, [PURGE], delay_seconds=purge_delay_seconds())
    except Exception:  # the index is written; cached results pages expire within minutes
        log.exception("Search results purge not queued; cached results pages expire on their own")
        return False
    return True


def _asked_about(messages, log=log):
    """The slugs a batch of rebuild messages names (malformed ones logged and left out)."""
    slugs = set()
    for message in messages:
        named = message.body.get("slugs")
        if not isinstance(named, list) or not all(isinstance(slug, str) for slug in named):
            log.warning("Search index message %s without a list of slugs: rebuilt anyway", message.message_id)
            continue
        slugs.update(slug for slug in named if rules.is_valid_slug(slug))
    return slugs


def _current(slugs):
    """{slug: the post as it is now, or None if it is gone}: consistent GetItems, so no change is missed."""
    from posts.models import Post

    found = {}
    for slug in sorted(slugs):
        try:
            found[slug] = Post.get(slug, consistent_read=True, attributes_to_get=POST_ATTRIBUTES + ["status", "feed"])
        except Post.DoesNotExist:
            found[slug] = None
    return found


def handle_event(event, context=None):
    """The `search-index` queue's handler: one rebuild for a whole batch of messages, and the purges due.

    Any message but a purge, malformed ones included, asks for a rebuild of
    everything, so a batch is one rebuild whatever it holds; a rebuild then
    queues its purge. If the rebuild fails, its messages are returned to the
    queue; a purge is made once, whatever came of it (see the docstring).
    """
    messages = queues.messages(event, log)
    purges = [message for message in messages if message.body == PURGE]
    rebuilds = [message for message in messages if message.body != PURGE]
    failed = []
    if rebuilds:
        try:
            index, etag = rebuild(_current(_asked_about(rebuilds)))
        except Exception:
            log.exception("Search index rebuild failed; its %d messages are retried", len(rebuilds))
            failed = [message.message_id for message in rebuilds]
        else:
            log.info("Search index rebuilt: %d posts, %s", len(index["posts"]), etag)
            queue_purge()
    if purges:
        invalidation.invalidate(results_paths(), reference="search")
    return queues.batch_response(failed)


@contextlib.contextmanager
def deferred():
    """Within this block, changes do not queue a rebuild one by one: one is queued at the end."""
    if not getattr(_deferred, "depth", 0):
        _deferred.pending = {}
    _deferred.depth = getattr(_deferred, "depth", 0) + 1
    try:
        yield
    finally:
        _deferred.depth -= 1
        if not _deferred.depth and _deferred.pending:
            changed, _deferred.pending = _deferred.pending, {}
            queue_rebuild(changed)
