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
"""

from django.template.backends.django import DjangoTemplates

PUBLIC_URLCONF = "myblog.public_urls"
ENGINE = "public"
ADMIN_PREFIX = "/admin"


class PublicSiteMiddleware:
    """Resolve everything outside /admin/ with the public URLconf."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if not (path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/")):
            request.urlconf = PUBLIC_URLCONF
        return self.get_response(request)


class PublicTemplates(DjangoTemplates):
    """Django templates with the built-in tags and filters only (plus any named in OPTIONS)."""

    def get_templatetag_libraries(self, custom_libraries):
        return dict(custom_libraries)
