"""Template context shared by every page: the blog's name and base URL."""

from django.conf import settings


def site(request):
    return {
        "blog_name": settings.MYBLOG_BLOG_NAME,
        "blog_description": settings.MYBLOG_BLOG_DESCRIPTION,
        "site_url": settings.MYBLOG_SITE_URL,
    }
