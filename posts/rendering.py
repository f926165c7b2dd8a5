"""Markdown to safe HTML: the one renderer for the site, the feeds, the API and the admin preview.

Markdown allows raw HTML, so the output is sanitised with nh3 (an
allow-list sanitiser, maintained, Rust-backed): script, style, event
handlers and javascript: URLs never reach a reader, whoever wrote the post.

Photos in a post
----------------
A post shows an uploaded photo with Markdown's image syntax whose address
is `photo:` followed by the S3 key of the photo's original::

    ![A red kite over the ridge](photo:media/originals/2026/11/3f9c2b.jpg)
    ![A red kite over the ridge](photo:media/originals/2026/11/3f9c2b.jpg "Caption under the photo")

The alt text is required for accessibility (describe the photo; leave it
empty only for a purely decorative one). A quoted title becomes a caption
(`<figure>`/`<figcaption>`) when the photo stands in its own paragraph. The
CMS inserts this form (`markdown_for_photo`). The original's public URL
(`myblog.storage.public_url(key)`, e.g.
`https://<cloudfront>/media/originals/2026/11/3f9c2b.jpg`) is understood
too, so a pasted link works the same.

On display every reference becomes a `<picture>`: a WebP `srcset` and a
JPEG `srcset` over the renditions the thumbnail handler made, with `width`
and `height` (no layout shift), `loading="lazy"` and `decoding="async"`.
The photos of a page are fetched with one BatchGetItem (`load_photos`).

Readers only ever get renditions. An original keeps the camera's EXIF
metadata, GPS position included, so it is never linked from a public page,
a feed or the API (and CloudFront cannot read it): a photo whose renditions
are not ready yet, whose processing failed or that does not exist shows its
alt text in the text instead. Pages with a photo still processing are cached
for a minute only (`posts.pages.PostPage.pending_photos`), so the photo
appears soon after. The admin's preview, which only editors see, passes
`original_url` to show such a photo from a short-lived presigned URL.

Images other than these are dropped by the sanitiser, their alt text kept:
an `<img>` (raw HTML or Markdown's image syntax) may only load a rendition,
an absolute URL under the media domain's renditions prefix. Anything else
would be a request to another site on every page view, or a broken image.

Markdown and nh3 are imported on first use: pages that show no post body
(the home page, tag pages) never pay for them on a cold start.
"""

import functools
import re
from typing import NamedTuple

from django.conf import settings
from django.utils.html import escape
from django.utils.safestring import mark_safe

from myblog.storage import key_from_public_url, public_url

ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "del",
    "em",
    "figcaption",
    "figure",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "li",
    "ol",
    "p",
    "picture",
    "pre",
    "source",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height", "loading", "decoding", "srcset", "sizes"},
    "source": {"srcset", "sizes", "type"},
    "code": {"class"},
    "th": {"align"},
    "td": {"align"},
}
URL_SCHEMES = {"http", "https", "mailto"}


def markdown_extensions():
    """Markdown's extensions the site uses, as instances.

    Never by short name ("fenced_code"): Markdown resolves short names
    through its package's entry points, which live in the `.dist-info`
    metadata, and the deployment package may not carry them.
    """
    from markdown.extensions.fenced_code import FencedCodeExtension
    from markdown.extensions.sane_lists import SaneListExtension
    from markdown.extensions.smarty import SmartyExtension
    from markdown.extensions.tables import TableExtension

    return [FencedCodeExtension(), TableExtension(), SaneListExtension(), SmartyExtension()]


PHOTO_SCHEME = "photo:"
# How wide a photo is drawn: the text column is at most 44rem (704 px) wide
# with 1rem of padding each side on narrow screens (templates/site.css).
BODY_SIZES = "(min-width: 46rem) 44rem, calc(100vw - 2rem)"
FALLBACK_WIDTH = 960  # the JPEG a browser without srcset support gets

# Photo statuses, as `posts.models` spells them (not imported: this module
# must not pull the models into a cold start that renders nothing).
_READY, _FAILED = "ready", "failed"


def markdown_for_photo(key, alt="", caption=""):
    """The Markdown the CMS inserts to place the photo whose original is `key`."""
    alt = " ".join(alt.split()).replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
    title = ' "{}"'.format(" ".join(caption.split()).replace('"', "&quot;")) if caption.strip() else ""
    return f"![{alt}]({PHOTO_SCHEME}{key}{title})"


def photo_key(src):
    """The original's S3 key a Markdown image address refers to, or None."""
    src = (src or "").strip()
    if src.startswith(PHOTO_SCHEME):
        key = src[len(PHOTO_SCHEME) :].strip()
        return key if key.startswith(settings.MYBLOG_ORIGINALS_PREFIX) and ".." not in key else None
    key = key_from_public_url(src)
    return key if key and key.startswith(settings.MYBLOG_ORIGINALS_PREFIX) else None


class Sources(NamedTuple):
    """What a browser needs to pick the right file for a photo."""

    src: str
    width: int | None
    height: int | None
    jpeg_srcset: str = ""
    webp_srcset: str = ""


def photo_sources(photo, key, original_url=None):
    """`Sources` for a photo (a `posts.models.Photo` or None) whose original is `key`.

    Its renditions only: None when they are not there (the photo is still
    processing, failed, or does not exist). `original_url(key)`, which only
    the admin's preview passes, gives the URL to show a photo still
    processing from its original.
    """
    if photo is None or photo.status == _FAILED:
        return None
    renditions = list(photo.renditions) if photo.status == _READY else []
    jpegs = sorted((r for r in renditions if r.format == "jpeg"), key=lambda r: r.width)
    webps = sorted((r for r in renditions if r.format == "webp"), key=lambda r: r.width)
    if not jpegs:
        if photo.status == _READY or original_url is None:
            return None
        width, height = photo.width, photo.height
        return Sources(original_url(key), int(width) if width else None, int(height) if height else None)
    fallback = next((r for r in jpegs if r.width >= FALLBACK_WIDTH), jpegs[-1])
    widest = jpegs[-1]
    return Sources(
        src=public_url(fallback.key),
        width=int(widest.width),
        height=int(widest.height),
        jpeg_srcset=_srcset(jpegs),
        webp_srcset=_srcset(webps),
    )


def _srcset(renditions):
    return ", ".join(f"{public_url(r.key)} {int(r.width)}w" for r in renditions)


def rendition_url(url):
    """Whether `url` addresses a rendition: under the media domain's renditions prefix, no way out of it.

    Browsers resolve dot segments (also percent-encoded ones), read a
    backslash as a slash and drop tabs and newlines, so any of those could
    lead out of the prefix (to an original): such URLs are refused. The
    URLs the site makes (`public_url` of a rendition key) have none.
    """
    prefix = public_url(settings.MYBLOG_RENDITIONS_PREFIX)
    if not url.startswith(prefix):
        return False
    path = url[len(prefix) :]
    if "%2e" in path.lower() or any(char in "\\?#" or char.isspace() or not char.isprintable() for char in path):
        return False
    return all(segment not in ("", ".", "..") for segment in path.split("/"))


def _srcset_urls(srcset):
    """The URLs of a `srcset` (each candidate is a URL and an optional descriptor)."""
    return [candidate.split()[0] if candidate.strip() else "" for candidate in srcset.split(",")]


def _picture_attributes(photo, key, alt, sizes, loading, fetchpriority, title, original_url=None):
    """The attributes of the WebP <source> (None without WebP renditions) and of the <img>."""
    sources = photo_sources(photo, key, original_url)
    if sources is None:
        return None
    img = {"src": sources.src, "alt": alt or ""}
    if sources.jpeg_srcset:
        img["srcset"] = sources.jpeg_srcset
        img["sizes"] = sizes
    if sources.width and sources.height:
        img["width"] = str(sources.width)
        img["height"] = str(sources.height)
    if title:
        img["title"] = title
    img["loading"] = loading
    img["decoding"] = "async"
    if fetchpriority:
        img["fetchpriority"] = fetchpriority
    source = {"type": "image/webp", "srcset": sources.webp_srcset, "sizes": sizes} if sources.webp_srcset else None
    return source, img


def picture_element(
    photo, key, alt="", *, sizes=BODY_SIZES, loading="lazy", fetchpriority=None, title=None, original_url=None
):
    """An ElementTree `<picture>` (or `<img>`) for a photo, or None if it cannot be shown."""
    from xml.etree import ElementTree

    attributes = _picture_attributes(photo, key, alt, sizes, loading, fetchpriority, title, original_url)
    if attributes is None:
        return None
    source, img = attributes
    if source is None:
        return ElementTree.Element("img", img)
    picture = ElementTree.Element("picture")
    ElementTree.SubElement(picture, "source", source)
    ElementTree.SubElement(picture, "img", img)
    return picture


def _tag(name, attributes):
    return f"<{name}" + "".join(f' {attribute}="{escape(value)}"' for attribute, value in attributes.items()) + ">"


def picture_html(
    photo, key, alt="", *, sizes=BODY_SIZES, loading="lazy", fetchpriority=None, title=None, original_url=None
):
    """`picture_element` as safe HTML for templates ("" if it cannot be shown)."""
    attributes = _picture_attributes(photo, key, alt, sizes, loading, fetchpriority, title, original_url)
    if attributes is None:
        return ""
    source, img = attributes
    if source is None:
        return mark_safe(_tag("img", img))  # noqa: S308 - every value escaped by _tag
    return mark_safe(f"<picture>{_tag('source', source)}{_tag('img', img)}</picture>")  # noqa: S308 - as above


def render_markdown(text, load_photos=None, *, original_url=None):
    """Render editor Markdown to sanitised HTML (a plain string).

    `load_photos(keys)` returns {key: Photo} for the photo references found;
    it is called once, with every key of the text (see the module docstring).
    Without it, no photo is shown. `original_url(key)` is for the admin's
    preview only: photos still processing are shown from the URL it gives.
    """
    import markdown

    originals = set()
    if original_url is not None:
        original_url = _recording(original_url, originals)
    md = markdown.Markdown(
        extensions=[*markdown_extensions(), _post_extension()(load_photos, original_url)], output_format="html"
    )
    return sanitise_html(md.convert(text or ""), image_urls=originals)


def _recording(original_url, urls):
    def recorded(key):
        url = original_url(key)
        urls.add(url)
        return url

    return recorded


def sanitise_html(html, image_urls=frozenset()):
    """Sanitised `html`: allowed tags and attributes only, images of renditions only.

    `image_urls` are further image URLs to keep (the presigned originals of
    the admin's preview). An image left without a `src` is replaced by its
    alt text.
    """
    import nh3

    def filter_images(element, attribute, value):
        if attribute == "src" and element == "img":
            allowed = value in image_urls or rendition_url(value)
        elif attribute == "srcset":
            allowed = all(url in image_urls or rendition_url(url) for url in _srcset_urls(value))
        else:
            return value
        return value if allowed else None

    html = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=filter_images,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )
    return _IMG_TAG.sub(_image_or_alt, html) if "<img" in html else html


# nh3 writes every attribute value in double quotes with `&`, `<`, `>` and
# `"` escaped, so in its output an <img> tag ends at the first `>`.
_IMG_TAG = re.compile(r"<img\b[^>]*>")
_ALT = re.compile(r' alt="([^"]*)"')


def _image_or_alt(match):
    """An <img> tag as is if it has a src; else its alt text (already escaped by nh3)."""
    tag = match.group(0)
    if ' src="' in tag:
        return tag
    alt = _ALT.search(tag)
    return alt.group(1) if alt else ""


@functools.cache
def _post_extension():
    """The Markdown extension class (built on first use, with Markdown's import)."""
    from markdown.extensions import Extension
    from markdown.treeprocessors import Treeprocessor

    class PhotoTreeprocessor(Treeprocessor):
        """Turns photo references into <picture>, and # headings into <h2>.

        The page title is the only <h1>; a level-one heading in the body
        would break the document outline, so it is demoted.
        """

        def __init__(self, md, load_photos, original_url):
            super().__init__(md)
            self.load_photos = load_photos
            self.original_url = original_url

        def run(self, root):
            found = []
            for parent in root.iter():
                if parent.tag == "h1":
                    parent.tag = "h2"
                for child in parent:
                    if child.tag == "img":
                        key = photo_key(child.get("src"))
                        if key:
                            found.append((parent, child, key))
            if not found:
                return
            photos = self.load_photos({key for _, _, key in found}) if self.load_photos else {}
            for parent, img, key in found:
                _replace_image(parent, img, key, photos.get(key), self.original_url)

    class PostExtension(Extension):
        def __init__(self, load_photos, original_url):
            super().__init__()
            self.load_photos = load_photos
            self.original_url = original_url

        def extendMarkdown(self, md):  # noqa: N802 - Markdown's API
            # After the inline patterns (priority 20) have made the <img> elements.
            processor = PhotoTreeprocessor(md, self.load_photos, self.original_url)
            md.treeprocessors.register(processor, "myblog-photos", 15)

    return PostExtension


def _replace_image(parent, img, key, photo, original_url=None):
    from xml.etree import ElementTree  # what Markdown builds its tree with

    alt = img.get("alt", "")
    caption = img.get("title")
    element = picture_element(photo, key, alt, original_url=original_url)
    index = list(parent).index(img)
    tail = img.tail
    parent.remove(img)
    if element is None:
        # No renditions to show: keep the description in the text flow.
        _insert_text(parent, index, alt + (tail or ""))
        return
    alone = parent.tag == "p" and len(parent) == 0 and not (parent.text or "").strip() and not (tail or "").strip()
    if caption and alone:
        parent.tag = "figure"
        parent.text = None
        parent.append(element)
        figcaption = ElementTree.SubElement(parent, "figcaption")
        figcaption.text = caption
        return
    if caption:
        (element.find("img") if element.tag == "picture" else element).set("title", caption)
    element.tail = tail
    parent.insert(index, element)


def _insert_text(parent, index, text):
    if index == 0:
        parent.text = (parent.text or "") + text
    else:
        previous = parent[index - 1]
        previous.tail = (previous.tail or "") + text
