"""Template context shared by every page: the blog's name, base URL and icons."""

from django.conf import settings

from myblog import icons


def site(request):
    return {
        "blog_name": settings.MYBLOG_BLOG_NAME,
        "blog_description": settings.MYBLOG_BLOG_DESCRIPTION,
        "site_url": settings.MYBLOG_SITE_URL,
        "site_icons": icons.icon_urls(),
    }
