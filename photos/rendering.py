"""How pages show a photo: the `photo:` reference in Markdown, and `<picture>` with srcsets.

A text shows an uploaded photo with Markdown's image syntax whose address
is `photo:` followed by the S3 key of the photo's original::

    ![A red kite over the ridge](photo:media/originals/2026/11/3f9c2b.jpg)
    ![A red kite over the ridge](photo:media/originals/2026/11/3f9c2b.jpg "Caption under the photo")

The CMS inserts this form (`markdown_for_photo`). The original's public URL
(`myblog.storage.public_url(key)`) is understood too, so a pasted link
works the same (`photo_key`).

On display a photo becomes a `<picture>`: an AVIF `<source>`, then a WebP
`<source>` (browsers take the first type they support: AVIF is the
lightest), and a JPEG `srcset` on the `<img>`, with `width` and `height` (no layout shift),
`loading="lazy"` and `decoding="async"` (`picture_element` for Markdown's
tree, `picture_html` for templates, `photo_sources` for the API).

Readers only ever get renditions. An original keeps the camera's EXIF
metadata, GPS position included, so it is never linked from a public page,
a feed or the API (and CloudFront cannot read it): a photo whose renditions
are not ready yet, whose processing failed or that does not exist cannot
be shown (None or ""), and the page shows its alt text instead. Only the
admin's preview passes `original_url`, to show a photo still processing to
its editor from a short-lived presigned URL. `rendition_url` is the test a
sanitiser applies to every image URL left in a text.

Nothing here reads DynamoDB or imports the models: the caller loads the
photos (`photos.queries`) and passes them in.
"""

import re
from typing import NamedTuple

from django.conf import settings
from django.utils.html import escape
from django.utils.safestring import mark_safe

from myblog.storage import key_from_public_url, public_url
from photos.keys import is_original_key
from photos.status import PHOTO_FAILED, PHOTO_READY

PHOTO_SCHEME = "photo:"
# How wide a photo is drawn: the text column (`.wrap`, border-box) is at most
# 44rem wide including 1rem of padding each side, so 42rem (672 px) from a
# 44rem viewport up and the viewport less 2rem below (templates/site.css).
BODY_SIZES = "(min-width: 44rem) 42rem, calc(100vw - 2rem)"
# A card's cover (`.card-cover` in templates/site.css): 7rem wide, 11rem from a 44rem viewport up.
CARD_SIZES = "(min-width: 44rem) 11rem, 7rem"
FALLBACK_WIDTH = 960  # the JPEG a browser without srcset support gets
# The address of each Markdown image (`![alt](address "title")`) in a text.
MARKDOWN_IMAGE_RE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)")


def markdown_for_photo(key, alt="", caption=""):
    """The Markdown the CMS inserts to place the photo whose original is `key`."""
    alt = " ".join(alt.split()).replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
    title = ' "{}"'.format(" ".join(caption.split()).replace('"', "&quot;")) if caption.strip() else ""
    return f"![{alt}]({PHOTO_SCHEME}{key}{title})"


def photo_key(src):
    """The original's S3 key a Markdown image address refers to, or None."""
    src = (src or "").strip()
    key = src[len(PHOTO_SCHEME) :].strip() if src.startswith(PHOTO_SCHEME) else key_from_public_url(src)
    return key if is_original_key(key) else None


def keys_in_markdown(text):
    """The originals' keys of the photos a Markdown text shows, in order, each once."""
    keys = (photo_key(match.group(1)) for match in MARKDOWN_IMAGE_RE.finditer(text or ""))
    return list(dict.fromkeys(key for key in keys if key))


class Sources(NamedTuple):
    """What a browser needs to pick the right file for a photo."""

    src: str
    width: int | None
    height: int | None
    jpeg_srcset: str = ""
    webp_srcset: str = ""
    avif_srcset: str = ""  # "" for photos made before AVIF renditions existed


def photo_sources(photo, key, original_url=None):
    """`Sources` for a photo (a `photos.models.Photo` or None) whose original is `key`.

    Its renditions only: None when they are not there (the photo is still
    processing, failed, or does not exist). `original_url(key)`, which only
    the admin's preview passes, gives the URL to show a photo still
    processing from its original.
    """
    if photo is None or photo.status == PHOTO_FAILED:
        return None
    renditions = list(photo.renditions) if photo.status == PHOTO_READY else []
    jpegs = sorted((r for r in renditions if r.format == "jpeg"), key=lambda r: r.width)
    webps = sorted((r for r in renditions if r.format == "webp"), key=lambda r: r.width)
    avifs = sorted((r for r in renditions if r.format == "avif"), key=lambda r: r.width)
    if not jpegs:
        if photo.status == PHOTO_READY or original_url is None:
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
        avif_srcset=_srcset(avifs),
    )


def fallback_src(photo, key):
    """The URL of the JPEG a photo's `<img>` falls back to (`Sources.src`), or None without renditions.

    What is shown where a `<picture>` cannot be: a feed item's `image`, a
    newsletter's cover.
    """
    sources = photo_sources(photo, key) if key else None
    return sources.src if sources is not None else None


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


def srcset_urls(srcset):
    """The URLs of a `srcset` (each candidate is a URL and an optional descriptor)."""
    return [candidate.split()[0] if candidate.strip() else "" for candidate in srcset.split(",")]


def _picture_attributes(photo, key, alt, sizes, loading, fetchpriority, title, original_url=None):
    """The attributes of each <source> (AVIF first, then WebP: those there are) and of the <img>."""
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
    source_list = [
        {"type": content_type, "srcset": srcset, "sizes": sizes}
        for content_type, srcset in (("image/avif", sources.avif_srcset), ("image/webp", sources.webp_srcset))
        if srcset
    ]
    return source_list, img


def picture_element(
    photo, key, alt="", *, sizes=BODY_SIZES, loading="lazy", fetchpriority=None, title=None, original_url=None
):
    """An ElementTree `<picture>` (or `<img>`) for a photo, or None if it cannot be shown."""
    from xml.etree import ElementTree

    attributes = _picture_attributes(photo, key, alt, sizes, loading, fetchpriority, title, original_url)
    if attributes is None:
        return None
    source_list, img = attributes
    if not source_list:
        return ElementTree.Element("img", img)
    picture = ElementTree.Element("picture")
    for source in source_list:
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
    source_list, img = attributes
    if not source_list:
        return mark_safe(_tag("img", img))  # noqa: S308 - every value escaped by _tag
    sources = "".join(_tag("source", source) for source in source_list)
    return mark_safe(f"<picture>{sources}{_tag('img', img)}</picture>")  # noqa: S308 - as above
