"""HTTP caching for public responses: Cache-Control, ETag, Last-Modified and 304s.

CloudFront carries the read load, so every public response says how long
it may be kept, separately for browsers (`max-age`, which nobody can purge)
and for the edge (`s-maxage`, which publishing purges: see
`posts.invalidation`). `stale-while-revalidate` lets the edge answer at once
while it refreshes an expired copy; `stale-if-error` keeps the blog readable
if the origin fails.

Pages that carry a CSRF token (forms) use Django's `never_cache`.
Anything that is not explicitly public is private: `PrivateByDefaultMiddleware`
marks every other response `private, no-store`, and demotes a "public"
response that sets a cookie or varies on one (a CSRF-bearing form, a session),
so no reader's token or editor's page can ever be stored at the edge.

Validators: every public response gets a strong ETag over its body (it
changes when anything on the page changes, including a photo's renditions
or a template after a deploy). Last-Modified is sent where the view knows
it; a view that can only approximate it (a listing loses its newest date
when a post is unpublished) sets `validate_last_modified=False`, so a
client that sends only If-Modified-Since gets a full response rather
than a wrong 304.
"""

import functools
from typing import NamedTuple

from django.utils.cache import get_conditional_response, set_response_etag
from django.utils.http import http_date, parse_http_date_safe

MINUTE = 60
HOUR = 60 * MINUTE
DAY = 24 * HOUR
WEEK = 7 * DAY

PRIVATE = "private, no-store"


class Policy(NamedTuple):
    """How long a kind of response may be cached by browsers and by the edge."""

    max_age: int
    s_maxage: int
    stale_while_revalidate: int = 0
    stale_if_error: int = 0

    @property
    def header(self):
        parts = ["public", f"max-age={self.max_age}", f"s-maxage={self.s_maxage}"]
        if self.stale_while_revalidate:
            parts.append(f"stale-while-revalidate={self.stale_while_revalidate}")
        if self.stale_if_error:
            parts.append(f"stale-if-error={self.stale_if_error}")
        return ", ".join(parts)


# Pages and API reads that publishing invalidates: the edge keeps them for a
# day (an edit purges them at once); browsers recheck after a few minutes.
CONTENT = Policy(max_age=5 * MINUTE, s_maxage=DAY, stale_while_revalidate=DAY, stale_if_error=WEEK)
# A post's page: once it is unpublished or changed, a reader's browser shows
# the old one for at most a minute. The edge keeps it for a day and is
# invalidated on every change; no stale-while-revalidate, which browsers
# honour too and would let them show a stale post once more for a day.
POST = Policy(max_age=MINUTE, s_maxage=DAY, stale_if_error=WEEK)
# Listings change with every new post: browsers recheck every minute.
LISTING = Policy(max_age=MINUTE, s_maxage=DAY, stale_while_revalidate=DAY, stale_if_error=WEEK)
# A page whose photos are still being processed: refetch soon to get the renditions.
PROCESSING = Policy(max_age=MINUTE, s_maxage=MINUTE)
# What only a deploy changes (robots.txt, the API schema and its docs).
STATIC = Policy(max_age=HOUR, s_maxage=DAY, stale_while_revalidate=DAY, stale_if_error=WEEK)
# "Not found" and rejected reads: cheap to repeat, but must not outlive a publish for long.
NEGATIVE = Policy(max_age=MINUTE, s_maxage=5 * MINUTE)


def make_private(response):
    response.headers["Cache-Control"] = PRIVATE
    return response


def finish(request, response, policy, *, validate_last_modified=True):
    """Make `response` cacheable under `policy` and answer conditional requests.

    A view gives its content's date as `response.last_modified` (a datetime).
    Only successful GET/HEAD responses get validators and can become a 304;
    a 404 or 400 is cached under `NEGATIVE` instead, and a 301 (an old
    address) under `policy`, without validators. A view may have chosen
    another policy for its response (photos still processing): it is kept.
    """
    if request.method not in ("GET", "HEAD"):
        return make_private(response)
    if response.status_code in (400, 404, 410):
        response.headers.setdefault("Cache-Control", NEGATIVE.header)
        return response
    if response.status_code == 301:
        # A renamed post's old address: kept like the page it leads to, and
        # purged with it (`posts.invalidation`); no validators, no body.
        response.headers.setdefault("Cache-Control", policy.header)
        return response
    if response.status_code != 200 or response.streaming:
        return make_private(response)
    response.headers.setdefault("Cache-Control", policy.header)
    last_modified = getattr(response, "last_modified", None)
    if last_modified is not None:
        response.headers["Last-Modified"] = http_date(last_modified.timestamp())
    if "ETag" not in response.headers:  # (a view whose content it remembered gives the content's ETag with it)
        set_response_etag(response)
    return conditional_response(request, response, validate_last_modified)


def conditional_response(request, response, validate_last_modified=True):
    """A 304 (or 412) when the client's copy is current, else `response`.

    Django's `get_conditional_response` implements RFC 9110's precedence
    (If-None-Match wins over If-Modified-Since); it is given Last-Modified
    only when that date is exact.
    """
    last_modified = None
    if validate_last_modified and response.headers.get("Last-Modified"):
        last_modified = parse_http_date_safe(response.headers["Last-Modified"])
    return get_conditional_response(
        request, etag=response.headers.get("ETag"), last_modified=last_modified, response=response
    )


def public(policy, *, validate_last_modified=True):
    """View decorator: cache the view's response under `policy` (see `finish`).

    The view may set `response.last_modified` (a datetime) and its own
    Cache-Control (to choose another policy for this response).
    """

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            response = view(request, *args, **kwargs)
            return finish(request, response, policy, validate_last_modified=validate_last_modified)

        return wrapper

    return decorator


class PrivateByDefaultMiddleware:
    """Responses are private unless a view made them public, and never public with cookies.

    First in MIDDLEWARE, so it sees the final response: after the CSRF and
    session middleware have added their cookies and Vary headers.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        cache_control = response.headers.get("Cache-Control", "")
        if not cache_control:
            return make_private(response)
        if "public" in cache_control and (response.cookies or _varies_on_cookie(response)):
            return make_private(response)
        return response


def _varies_on_cookie(response):
    vary = response.headers.get("Vary", "")
    return any(part.strip().lower() in ("cookie", "*") for part in vary.split(","))
