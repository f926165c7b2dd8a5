"""Site-wide pages: robots.txt, /favicon.ico, the API's description and docs, and the error pages.

Every error page has two faces: JSON in the API's error shape for a request
under /api/ (an API client parses the body whatever went wrong, even a
malformed Host header or multipart body that no view got to see), and the
site's own page, in its layout, everywhere else. The 403 templates are not
named 403.html and 403_csrf.html: Django's default views would pick those
up for any URLconf, rendering the site's layout where its URLs are missing.
"""

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views import defaults
from django.views.decorators.http import require_safe

from myblog import caching, icons, jsonapi, public
from myblog.jsonapi import json_response


@require_safe
@caching.public(caching.STATIC)
def robots_txt(request):
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /subscribe/",
        "Disallow: /api/",
        "",
        f"Sitemap: {settings.MYBLOG_SITE_URL}{reverse('posts:sitemap')}",
        "",
    ]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")


@require_safe
@caching.public(caching.STATIC)
def favicon_ico(request):
    """The icon, for browsers and tools that ask for /favicon.ico on their own (never a 404).

    The PNG touch icon, read from the package (browsers take a PNG at this
    address), cached like robots.txt: a deploy is what changes it.
    """
    return HttpResponse(icons.path(icons.TOUCH_ICON).read_bytes(), content_type="image/png")


# The OpenAPI document is large and only these two views need it: it is
# imported on their first request, not on every cold start. They are API
# endpoints: a wrong method gets the API's JSON 405, not a CSRF page.
@jsonapi.endpoint("GET", policy=caching.STATIC)
def openapi_json(request):
    from myblog import openapi

    return json_response(openapi.schema())


@jsonapi.endpoint("GET", policy=caching.STATIC)
def api_docs(request):
    import json

    from myblog import openapi

    context = {
        "doc": openapi.schema(),
        "operations": list(openapi.operations()),
        "schemas": {
            name: json.dumps(spec, indent=2) for name, spec in openapi.schema()["components"]["schemas"].items()
        },
    }
    return render(request, "api/docs.html", context, using=public.ENGINE)


def not_found(request, exception=None):
    """The 404 page (Django's handler404 too): short-lived at the edge, never personal."""
    response = render(request, "404.html", status=404, using=public.ENGINE)
    response.headers["Cache-Control"] = caching.NEGATIVE.header
    return response


def bad_request(request, message):
    """A 400 page for a malformed link (a tampered page cursor, ...)."""
    response = render(request, "400.html", {"message": message}, status=400, using=public.ENGINE)
    response.headers["Cache-Control"] = caching.NEGATIVE.header
    return response


def request_error(request, exception=None):
    """Django's handler400: a request Django refused before or around the view.

    A Host header outside ALLOWED_HOSTS, a multipart body that cannot be
    parsed, too many form fields: the client's fault, so a 400, and never
    the exception's text (it may echo the request back).
    """
    if jsonapi.is_api_request(request):
        return jsonapi.private_error(400, "bad_request", "The request is malformed.")
    message = "The browser sent a request this site cannot read."
    return render(request, "400.html", {"message": message}, status=400, using=public.ENGINE)


def _forbidden():
    return jsonapi.private_error(403, "forbidden", "This request is not allowed.")


def permission_denied(request, exception=None):
    """Django's handler403."""
    if jsonapi.is_api_request(request):
        return _forbidden()
    context = {"in_admin": public.is_admin_request(request)}
    return render(request, "permission_denied.html", context, status=403, using=public.ENGINE)


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: a form sent without a valid token (an old page, or cookies blocked).

    The API takes no CSRF token, so under /api/ this is only reached by a
    path that is no endpoint; it still answers JSON.
    """
    if jsonapi.is_api_request(request):
        return _forbidden()
    return render(request, "csrf_failure.html", status=403, using=public.ENGINE)


def server_error(request):
    """Django's handler500: JSON under /api/ (API clients parse it), the 500 page elsewhere."""
    if jsonapi.is_api_request(request):
        return jsonapi.server_error()
    return defaults.server_error(request)
