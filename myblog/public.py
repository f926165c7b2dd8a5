"""Keeping the CMS off the readers' path: the public site's own URLconf and template engine.

One Lambda serves both readers and editors, and a cold start pays for every
module it imports. Django's admin is the heaviest part of MyBlog (the stock
admin, the PynamoDB admin layer, forms, previews, its template tag
libraries), and readers never use it. So:

- the admin is installed with `SimpleAdminConfig` (no autodiscovery at
  start-up); `myblog.urls`, the full URLconf, discovers the admin modules
  when it is first imported, which only requests under /admin/ (and code
  outside requests, such as tests and commands) do;
- `PublicSiteMiddleware` resolves every other request with
  `myblog.public_urls`, which holds the site and the API only, so neither
  resolving nor reversing a public URL imports the admin;
- public views render with the "public" template engine
  (`PublicTemplates`), which loads Django's built-in tags only, instead of
  importing every installed app's template tag libraries (the admin's
  among them) on its first render. It has no `user` or `messages` in its
  context either: a public page cannot touch the session by accident.

Public responses also carry a Content-Security-Policy that makes "no
external requests" a browser-enforced rule: no scripts at all, the one
inline stylesheet (`templates/site.css`, allowed by its hash), images from
the site and its media and static domains only (photos, the icons), forms
posted to the site only, and no fetches but the site's robots.txt (which tools
such as Lighthouse read from within the page). The post pages' JSON-LD is a data block, which
browsers never run: the policy needs no exception for it.
"""

import base64
import functools
import hashlib
from urllib.parse import urlsplit

from django.conf import settings
from django.template.backends.django import DjangoTemplates
from django.urls import get_script_prefix, get_urlconf, reverse

PUBLIC_URLCONF = "myblog.public_urls"
ENGINE = "public"
ADMIN_PREFIX = "/admin"


def is_admin_request(request):
    path = request.path_info
    return path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/")


class PublicSiteMiddleware:
    """Resolve everything outside /admin/ with the public URLconf."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if is_admin_request(request):
            return self.get_response(request)
        request.urlconf = PUBLIC_URLCONF
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", content_security_policy())
        return response


def stylesheet_hash():
    """The CSP source for the site's inline stylesheet, `'sha256-<base64>'`."""
    css = (settings.BASE_DIR / "templates" / "site.css").read_bytes()
    digest = base64.b64encode(hashlib.sha256(css).digest()).decode()
    return f"'sha256-{digest}'"


@functools.cache
def content_security_policy():
    # Photos come from the media domain, the icons from the static files' (the same CloudFront domain when both are).
    images = ["'self'"]
    for url in (settings.MEDIA_URL, settings.STATIC_URL):
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if parts.netloc and origin not in images:
            images.append(origin)
    return "; ".join(
        [
            "default-src 'none'",
            f"img-src {' '.join(images)}",
            f"style-src {stylesheet_hash()}",
            # Crawlers' tools (Lighthouse, DevTools) fetch robots.txt in the page's context: allow that one URL only.
            f"connect-src {settings.MYBLOG_SITE_URL}/robots.txt",
            "form-action 'self'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ]
    )


def url(name, *args):
    """`reverse(name, args=args)`, remembered for the process: a listing links each card and tag.

    What `reverse` returns depends only on the URLconf, the script prefix
    and its arguments, which are the memo's key: it cannot go stale.
    """
    return _reversed(get_urlconf(), get_script_prefix(), name, args)


@functools.lru_cache(maxsize=4096)
def _reversed(urlconf, script_prefix, name, args):
    return reverse(name, urlconf=urlconf, args=args)


class PublicTemplates(DjangoTemplates):
    """Django templates with the built-in tags and filters only (plus any named in OPTIONS)."""

    def get_templatetag_libraries(self, custom_libraries):
        return dict(custom_libraries)
