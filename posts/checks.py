"""Content checks of a post before it goes live: what readers (and screen readers) would stumble on.

Plain functions over the post's Markdown rendered to HTML (before the
sanitiser, so what it would remove is still there to be seen), each
returning `Finding`s. They are warnings: the editor may publish anyway.
The post form shows them after a save or a reload (server side) and, as
the editor types, through the admin's JSON endpoint (`posts/static/posts/checks.js`).

- images without a description (a photo in the text whose alt text is
  empty, a cover without `cover_alt`);
- headings that skip a level (the page's title is the only <h1>, so the
  text starts at <h2>, and `#` headings are shown as <h2>);
- links whose text says nothing out of context ("click here", "read more",
  or no text at all), and links the sanitiser removes (their scheme is not
  allowed: they are shown as plain text);
- very long paragraphs.
"""

import re
from dataclasses import asdict, dataclass
from html.parser import HTMLParser

from posts.rendering import link_is_kept, markdown_extensions

# Link texts that say nothing about where the link goes, once lower-cased and without punctuation.
VAGUE_LINK_TEXTS = frozenset(
    {"click here", "here", "read more", "more", "click", "this", "link", "this link", "go", "continue"}
)
# A paragraph longer than this many words is hard to read on a phone.
MAX_PARAGRAPH_WORDS = 250


@dataclass(frozen=True)
class Finding:
    code: str  # a stable name: "image-alt", "cover-alt", "heading-skip", "link-text", "link-removed", "long-paragraph"
    message: str
    level: str = "warning"

    def as_json(self):
        return asdict(self)


class _Outline(HTMLParser):
    """What the checks need of the rendered text: images, headings, links and paragraphs, in order."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.images = []  # (alt or None, src)
        self.headings = []  # (level, text)
        self.links = []  # (href or None, text, has_image)
        self.paragraphs = []  # text
        self._heading = None
        self._link = None
        self._paragraph = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append((attrs.get("alt"), attrs.get("src") or ""))
            if self._link is not None:
                self._link["image"] = True
        elif re.fullmatch(r"h[1-6]", tag):
            self._heading = {"level": int(tag[1]), "text": []}
        elif tag == "a":
            self._link = {"href": attrs.get("href"), "text": [], "image": False}
        elif tag == "p":
            self._paragraph = []

    def handle_endtag(self, tag):
        if re.fullmatch(r"h[1-6]", tag) and self._heading is not None:
            self.headings.append((self._heading["level"], "".join(self._heading["text"]).strip()))
            self._heading = None
        elif tag == "a" and self._link is not None:
            self.links.append((self._link["href"], " ".join("".join(self._link["text"]).split()), self._link["image"]))
            self._link = None
        elif tag == "p" and self._paragraph is not None:
            self.paragraphs.append("".join(self._paragraph))
            self._paragraph = None

    def handle_data(self, data):
        if self._heading is not None:
            self._heading["text"].append(data)
        if self._link is not None:
            self._link["text"].append(data)
        if self._paragraph is not None:
            self._paragraph.append(data)


def outline(markdown_text):
    import markdown

    parser = _Outline()
    parser.feed(markdown.markdown(markdown_text or "", extensions=markdown_extensions(), output_format="html"))
    parser.close()
    return parser


def _short(text, limit=40):
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def image_descriptions(parsed):
    findings = []
    for alt, src in parsed.images:
        if not (alt or "").strip():
            name = src.rsplit("/", 1)[-1] or src
            findings.append(
                Finding(
                    "image-alt",
                    f"The image “{_short(name)}” has no description: screen readers cannot say what it shows. "
                    "Write one (Insert into text asks for it), or leave it empty only if it is decorative.",
                )
            )
    return findings


def cover_description(cover_image, cover_alt, cover_decorative=False):
    if cover_image and not (cover_alt or "").strip() and not cover_decorative:
        return [Finding("cover-alt", "The cover photo has no description (Set as cover asks for it).")]
    return []


def heading_levels(parsed):
    findings = []
    previous = 1  # the page's title
    for level, text in parsed.headings:
        level = max(level, 2)  # a level-one heading is shown as <h2>
        if level > previous + 1:
            findings.append(
                Finding(
                    "heading-skip",
                    f"The heading “{_short(text)}” is a level-{level} heading after a level-{previous} one: "
                    f"make it level {previous + 1} ({'#' * previous}# in Markdown) so the outline has no gap.",
                )
            )
        previous = level
    return findings


def link_texts(parsed):
    findings = []
    for href, text, has_image in parsed.links:
        plain = re.sub(r"[^\w\s]", "", text.casefold()).strip()
        if not plain and not has_image:
            findings.append(Finding("link-text", f"A link to {_short(href or 'nowhere')} has no text."))
        elif plain in VAGUE_LINK_TEXTS:
            findings.append(
                Finding(
                    "link-text",
                    f"The link text “{text}” says nothing out of context: name where it goes "
                    "(screen readers list links by their text).",
                )
            )
    return findings


def removed_links(parsed):
    findings = []
    for href, text, _ in parsed.links:
        if href is None or not link_is_kept(href):
            findings.append(
                Finding(
                    "link-removed",
                    f"The link “{_short(text) or href}” to {_short(href or '(no address)')} is removed when the "
                    "post is shown (only http, https and mailto addresses are kept): readers see its text only.",
                )
            )
    return findings


def long_paragraphs(parsed):
    findings = []
    for text in parsed.paragraphs:
        count = len(text.split())
        if count > MAX_PARAGRAPH_WORDS:
            findings.append(
                Finding(
                    "long-paragraph",
                    f"The paragraph starting “{_short(text)}” has {count} words: "
                    f"consider splitting it (over {MAX_PARAGRAPH_WORDS} is hard to read on a phone).",
                )
            )
    return findings


def check_post(body, cover_image=None, cover_alt="", cover_decorative=False):
    """Every finding for a post's content, in the order of the checks above."""
    parsed = outline(body)
    return [
        *image_descriptions(parsed),
        *cover_description(cover_image, cover_alt, cover_decorative),
        *heading_levels(parsed),
        *link_texts(parsed),
        *removed_links(parsed),
        *long_paragraphs(parsed),
    ]
