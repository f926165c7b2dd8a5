"""Structured data for search engines: JSON-LD `BlogPosting` and `BreadcrumbList` of a post page.

JSON-LD sits in a `<script type="application/ld+json">` block: a data
block, which browsers never execute, so the site's Content-Security-Policy
(no scripts at all) neither needs nor gets an exception for it. Its text is
escaped as Django's `json_script` escapes (`<`, `>` and `&` as `\\u003C`,
...), so a title containing `</script>` cannot end the block early.
"""

import json

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

_SCRIPT_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


def json_ld_script(data):
    """`data` as a `<script type="application/ld+json">` block, safe to put in HTML."""
    text = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":"))
    escaped = mark_safe(text.translate(_SCRIPT_ESCAPES))  # noqa: S308 - nothing in it can end the block
    return format_html('<script type="application/ld+json">{}</script>', escaped)


def post_graph(page, *, url, image=None):
    """The JSON-LD of a post page (`pages.PostPage`) at the absolute `url`: its BlogPosting and breadcrumbs."""
    site = settings.MYBLOG_SITE_URL
    post = page.post
    home = site + reverse("posts:list")
    posting = {
        "@type": "BlogPosting",
        "@id": url + "#post",
        "headline": post.title,
        "url": url,
        "mainEntityOfPage": {"@type": "WebPage", "@id": url},
        "datePublished": post.publish_at,
        "dateModified": post.updated_at or post.publish_at,
        "publisher": {"@type": "Organization", "name": settings.MYBLOG_BLOG_NAME, "url": home},
        "inLanguage": "en",
    }
    if post.excerpt:
        posting["description"] = post.excerpt
    if post.author:
        posting["author"] = {"@type": "Person", "name": post.author}
    if image:
        posting["image"] = [image]
    if post.tags:
        posting["keywords"] = list(post.tags)
    if page.reading_minutes:
        posting["timeRequired"] = f"PT{page.reading_minutes}M"
    trail = [(settings.MYBLOG_BLOG_NAME, home)]
    if post.tags:
        trail.append((f"#{post.tags[0]}", site + reverse("posts:tag", args=[post.tags[0]])))
    trail.append((post.title, url))
    breadcrumbs = {
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": position, "name": name, "item": link}
            for position, (name, link) in enumerate(trail, 1)
        ],
    }
    return {"@context": "https://schema.org", "@graph": [posting, breadcrumbs]}
