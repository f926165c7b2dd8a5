"""Markdown to safe HTML: the one renderer for the site, the feeds, the API and the admin preview.

Markdown allows raw HTML, so the output is sanitised with nh3 (an
allow-list sanitiser, maintained, Rust-backed): script, style, event
handlers and javascript: URLs never reach a reader, whoever wrote the post.

Photos in a post
----------------
A post shows an uploaded photo with Markdown's image syntax and a `photo:`
address (`photos.rendering` describes it): each becomes a `<picture>` over
the photo's renditions, and a quoted title becomes a caption
(`<figure>`/`<figcaption>`) when the photo stands in its own paragraph.
The photos of a text are loaded with one call (`load_photos`, which
`posts.pages` gives every page). A photo that cannot be shown (still
processing, failed, unknown) leaves its alt text in the text. Pages with a
photo still processing are cached for a minute only
(`posts.pages.PostPage.pending_photos`), so the photo appears soon after.

Images other than these are dropped by the sanitiser, their alt text kept:
an `<img>` (raw HTML or Markdown's image syntax) may only load a rendition,
an absolute URL under the media domain's renditions prefix. Anything else
would be a request to another site on every page view, or a broken image.

Markdown and nh3 are imported on first use: pages that show no post body
(the home page, tag pages) never pay for them on a cold start.
"""

import functools
import re
from html import escape

from photos.rendering import photo_key, picture_element, rendition_url, srcset_urls

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
            allowed = all(url in image_urls or rendition_url(url) for url in srcset_urls(value))
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
    html = _IMG_TAG.sub(_image_or_alt, html) if "<img" in html else html
    return _DEAD_LINK.sub(r"\1", html) if "<a" in html else html


# A link nh3 left without an address (its scheme is not one of URL_SCHEMES,
# `javascript:`, `data:`, a malformed URL...): the page would show a dead
# link, so its text stays and the <a> goes. nh3's output never nests links.
_DEAD_LINK = re.compile(r'<a\b(?![^>]* href=")[^>]*>(.*?)</a>', re.DOTALL)


def link_is_kept(href):
    """Whether the sanitiser keeps a link to `href` (the content checks warn about those it removes)."""
    import nh3

    return ' href="' in nh3.clean(
        f'<a href="{escape(href, quote=True)}">x</a>', tags={"a"}, attributes={"a": {"href"}}, url_schemes=URL_SCHEMES
    )


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
            keys = list(dict.fromkeys(key for _, _, key in found))  # in order of appearance
            photos = self.load_photos(keys) if self.load_photos else {}
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
