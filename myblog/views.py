"""Site-wide pages: robots.txt and the error pages."""

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe

from myblog import caching, public


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
