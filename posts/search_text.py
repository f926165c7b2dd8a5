"""Words for search: how a post's text and a reader's query become terms.

The index (`posts.search_index`) and the query side (`posts.search`) cut
text into terms the same way, here, so a word in a post and the same word
typed by a reader always meet: Unicode letters and digits, case-folded,
accents removed ("Café" and "cafe" are one term), plain plurals made
singular (`stem`), and very short stop words dropped (they are in every
post and would only grow the index).

A post's body is Markdown. Its plain text is taken without rendering it
(rendering every body would make a rebuild of a large blog take minutes):
the words of link and image texts stay, their addresses go, and so do
HTML tags; Markdown's punctuation is not a word anyway.
"""

import functools
import re
import unicodedata

# A term is a run of letters and digits (any script); "_" is not a letter.
WORD_RE = re.compile(r"[^\W_]+")
# Longer runs are not words a reader types (hashes, base64, URLs' remains).
MAX_TERM_LENGTH = 40

STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "for",
        "from",
        "has",
        "have",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "our",
        "so",
        "that",
        "the",
        "their",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "we",
        "were",
        "will",
        "with",
        "you",
        "your",
    ]
)

_IMAGE_OR_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_REFERENCE_DEFINITION = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*\S+.*$", re.MULTILINE)
_AUTOLINK_OR_TAG = re.compile(r"<[^>\n]*>")
_BARE_URL = re.compile(r"\b(?:https?|ftp|photo|mailto):\S+")


def normalise(word):
    """A word as the index keeps it: case-folded, without accents."""
    folded = unicodedata.normalize("NFKD", word.casefold())
    return "".join(char for char in folded if not unicodedata.combining(char))


def stem(term):
    """The singular of a plain English plural ("kites" -> "kite"); any other term as it is.

    Deliberately tiny: one rule, applied to the index and the queries
    alike, so "kite" finds "kites" and "kites" finds "kite".
    """
    if len(term) > 3 and term.endswith("s") and not term.endswith(("ss", "us", "is")):
        return term[:-1]
    return term


@functools.lru_cache(maxsize=100_000)
def _term(word):
    """The term a word is indexed under, or None (a stop word, or too long). Words repeat: cached."""
    term = word.lower() if word.isascii() else normalise(word)
    if not term or len(term) > MAX_TERM_LENGTH or term in STOP_WORDS:
        return None
    return stem(term)


def terms(text):
    """The terms of `text`, in order, repeats kept (for term frequencies), stop words dropped."""
    found = [_term(word) for word in WORD_RE.findall(text or "")]
    return [term for term in found if term is not None]


def markdown_text(markdown):
    """The readable words of a Markdown body: link and image texts kept, addresses and tags dropped."""
    text = _REFERENCE_DEFINITION.sub(" ", markdown or "")
    text = _IMAGE_OR_LINK.sub(r" \1 ", text)
    text = _AUTOLINK_OR_TAG.sub(" ", text)
    return _BARE_URL.sub(" ", text)
