"""The newsletter email of a post: its subject, HTML and plain text.

Rendered once, when the post first goes live (or for a test or a preview
from the post form), into a `subscribers.newsletter.Content` that every
recipient gets, with `UNSUBSCRIBE_PLACEHOLDER` where each one's own link
goes.

An email is read far from the site, so everything in it is absolute: links
resolve against the post's address on the site (`MYBLOG_SITE_URL`), images
are renditions at their public URLs (through CloudFront when the site has
a media domain). The body is the site's own sanitised rendering
(`posts.rendering`, over the same photo renditions as the post page),
turned into what mail clients can show: `<picture>` becomes its JPEG
`<img>` (few clients pick from a `srcset`), and each element gets its
styles inline, since many clients drop a `<style>` block. The one
`<style>` block there is only adds dark-mode colours for the clients that
honour `prefers-color-scheme`; the rest get the light colours, which stay
readable wherever the client inverts them.

The plain-text alternative is made from the same HTML, so both say the
same thing.
"""

import re
import textwrap
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from myblog import public
from photos.rendering import fallback_src
from posts import pages
from posts.rendering import ALLOWED_TAGS
from subscribers.newsletter import UNSUBSCRIBE_PLACEHOLDER, Content

TEMPLATE_HTML = "emails/newsletter.html"
TEMPLATE_TEXT = "emails/newsletter.txt"
TEMPLATE_SUBJECT = "emails/newsletter_subject.txt"

# What survives of the site's HTML in an email: no <picture>/<source> (their
# <img> stays), no srcset, sizes or lazy loading, no classes.
EMAIL_TAGS = ALLOWED_TAGS - {"picture", "source"}
EMAIL_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title"},
    "th": {"align"},
    "td": {"align"},
}
URL_ATTRIBUTES = {"href", "src"}
FONT = "-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif"
MONO = "SFMono-Regular,Menlo,Consolas,monospace"
# Inline styles for each element of the body (light colours; dark ones in the template's <style>).
STYLES = {
    "p": "margin:0 0 16px;font-size:17px;line-height:1.6;",
    "h2": "margin:28px 0 12px;font-size:22px;line-height:1.3;",
    "h3": "margin:24px 0 10px;font-size:19px;line-height:1.3;",
    "h4": "margin:20px 0 8px;font-size:17px;line-height:1.3;",
    "h5": "margin:20px 0 8px;font-size:16px;line-height:1.3;",
    "h6": "margin:20px 0 8px;font-size:15px;line-height:1.3;",
    "a": "color:#0b57b0;text-decoration:underline;",
    "ul": "margin:0 0 16px;padding-left:24px;font-size:17px;line-height:1.6;",
    "ol": "margin:0 0 16px;padding-left:24px;font-size:17px;line-height:1.6;",
    "li": "margin:0 0 4px;",
    "blockquote": "margin:0 0 16px;padding:0 0 0 14px;border-left:4px solid #d9dbe0;color:#4f5560;",
    "pre": f"margin:0 0 16px;padding:12px;background:#f3f4f6;border-radius:6px;overflow:auto;"
    f"font:14px/1.5 {MONO};white-space:pre-wrap;",
    "code": f"font-family:{MONO};font-size:15px;",
    "img": "display:block;max-width:100%;height:auto;border:0;margin:0 auto;",
    "figure": "margin:0 0 16px;",
    "figcaption": "margin:6px 0 0;font-size:14px;color:#4f5560;text-align:center;",
    "table": "border-collapse:collapse;margin:0 0 16px;font-size:15px;",
    "th": "border:1px solid #d9dbe0;padding:6px 10px;text-align:left;",
    "td": "border:1px solid #d9dbe0;padding:6px 10px;",
    "hr": "border:0;border-top:1px solid #d9dbe0;margin:24px 0;",
}


def site_url(path):
    """The absolute URL of a path of the public site."""
    return settings.MYBLOG_SITE_URL + path


def post_url(post):
    """The post's absolute address on the site (reversed in the public URLconf: no admin loaded)."""
    return site_url(reverse("posts:detail", args=[post.slug], urlconf=public.PUBLIC_URLCONF))


def absolute(url, base):
    """`url` resolved against `base` (the post's address); absolute URLs and mailto: stay as they are."""
    url = (url or "").strip()
    if not url or urlsplit(url).scheme:
        return url
    return urljoin(base, url)


def email_html(body_html, base):
    """The site's sanitised body HTML as an email shows it: absolute URLs, inline styles, no <picture>."""
    import nh3

    def resolve(element, attribute, value):
        return absolute(value, base) if attribute in URL_ATTRIBUTES else value

    return nh3.clean(
        body_html,
        tags=EMAIL_TAGS,
        attributes=EMAIL_ATTRIBUTES,
        attribute_filter=resolve,
        url_schemes={"http", "https", "mailto"},
        link_rel=None,
        set_tag_attribute_values={tag: {"style": style} for tag, style in STYLES.items() if tag in EMAIL_TAGS},
    )


def cover_url(page):
    """The absolute URL of the cover's JPEG rendition, or None (no cover, or no renditions yet)."""
    src = fallback_src(page.cover, page.post.cover_image)
    return absolute(src, site_url("/")) if src else None


def render(post):
    """The newsletter email of `post` (saved or not): one BatchGetItem for its photos.

    Photos are shown from their renditions only; one still processing is
    left out (its alt text stays), as on the post page.
    """
    page = pages.post_page(post)
    url = post_url(post)
    body = email_html(page.body_html, url)
    context = {
        "post": post,
        "title": post.title,
        "excerpt": post.excerpt,
        "body_html": body,
        "body_text": html_to_text(body),
        "cover_url": cover_url(page),
        "cover_alt": post.cover_alt,
        "post_url": url,
        "site_url": settings.MYBLOG_SITE_URL,
        "blog_name": settings.MYBLOG_BLOG_NAME,
        "unsubscribe_url": UNSUBSCRIBE_PLACEHOLDER,
    }
    subject = " ".join(render_to_string(TEMPLATE_SUBJECT, context, using=public.ENGINE).split())
    html = render_to_string(TEMPLATE_HTML, context, using=public.ENGINE)
    text = render_to_string(TEMPLATE_TEXT, context, using=public.ENGINE)
    return Content(subject=subject, html=html, text=text)


# -- plain text ------------------------------------------------------------------------------

BLOCKS = {"p", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "figure", "figcaption", "table", "tr", "hr"}
WIDTH = 72


class _TextWriter(HTMLParser):
    """The text of sanitised body HTML: paragraphs, list items, links as “text (url)”, images as their alt."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocks = []  # (text, preformatted, prefix, is a list item)
        self.current = []
        self.links = []  # the hrefs of the open <a> elements
        self.lists = []  # a counter (ol) or None (ul) per open list
        self.quote = 0
        self.pre = 0
        self.prefix = ""

    def flush(self):
        text = "".join(self.current)
        self.current = []
        if text.strip():
            self.blocks.append((text, bool(self.pre), "> " * self.quote + self.prefix, bool(self.lists)))
            self.prefix = ""  # a list item's marker goes on its first block only

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in BLOCKS or tag in ("ul", "ol", "li"):
            self.flush()
        if tag == "blockquote":
            self.quote += 1
        elif tag == "pre":
            self.pre += 1
        elif tag in ("ul", "ol"):
            self.lists.append(0 if tag == "ol" else None)
        elif tag == "li":
            depth = "  " * max(0, len(self.lists) - 1)
            if self.lists and self.lists[-1] is not None:
                self.lists[-1] += 1
                self.prefix = f"{depth}{self.lists[-1]}. "
            else:
                self.prefix = f"{depth}- "
        elif tag == "a":
            self.links.append(attrs.get("href") or "")
        elif tag == "img" and attrs.get("alt"):
            self.current.append(f"[{attrs['alt']}]")
        elif tag == "br":
            self.current.append("\n")
        elif tag in ("td", "th") and self.current:
            self.current.append(" | ")
        elif tag == "hr":
            self.blocks.append(("* * *", True, "", False))

    def handle_endtag(self, tag):
        if tag == "a" and self.links:
            href = self.links.pop()
            shown = "".join(self.current)
            if href and not shown.rstrip().endswith(href) and not href.startswith("mailto:"):
                self.current.append(f" ({href})")
        if tag in BLOCKS or tag in ("ul", "ol", "li"):
            self.flush()
        if tag == "blockquote":
            self.quote = max(0, self.quote - 1)
        elif tag == "pre":
            self.pre = max(0, self.pre - 1)
        elif tag in ("ul", "ol") and self.lists:
            self.lists.pop()

    def handle_data(self, data):
        self.current.append(data)

    def text(self):
        self.flush()
        out = []
        previous_in_list = False
        for text, preformatted, prefix, in_list in self.blocks:
            # The items of a list go on consecutive lines; other blocks are paragraphs.
            if out:
                out.append("\n" if in_list and previous_in_list else "\n\n")
            previous_in_list = in_list
            if preformatted:
                out.append("\n".join(prefix + line for line in text.strip("\n").split("\n")))
                continue
            words = re.sub(r"[ \t\r\f\v]+", " ", text).strip()
            lines = [
                textwrap.fill(
                    line.strip(),
                    WIDTH,
                    initial_indent=prefix if index == 0 else " " * len(prefix),
                    subsequent_indent=" " * len(prefix),
                    break_long_words=False,
                    break_on_hyphens=False,
                )
                for index, line in enumerate(words.split("\n"))
            ]
            out.append("\n".join(lines))
        return "".join(out)


def html_to_text(html):
    writer = _TextWriter()
    writer.feed(html)
    writer.close()
    return writer.text()
