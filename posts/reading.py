"""How long a post takes to read, from its Markdown: a plain function of the text.

Words are counted in the text a reader sees: link targets, photo
references, HTML tags and Markdown's punctuation are not words. Scripts
written without spaces between words (Chinese, Japanese) are counted by
character, at the pace their readers read them. Each photo adds a few
seconds, as a reader stops to look.
"""

import math
import re

WORDS_PER_MINUTE = 230
# Chinese and Japanese characters (Han, kana), read at about this pace.
CHARACTERS_PER_MINUTE = 500
SECONDS_PER_IMAGE = 10

# Patterns compiled on first use (by `re`, which caches them): the cards of
# a listing carry their stored minutes, so a reader's cold start rarely
# counts, and the class of Chinese and Japanese characters alone takes
# ~25 ms to compile.
_IMAGE = r"!\[([^\]]*)\]\([^)]*\)"
_LINK_TARGET = r"\]\([^)]*\)"
_HTML_TAG = r"<[^>]+>"
_URL = r"\bhttps?://\S+"
_CHARACTER_SCRIPTS = r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
_WORD = r"[^\W_]+(?:['’-][^\W_]+)*"


def reading_minutes(markdown):
    """Whole minutes to read `markdown` (at least 1 for any text, 0 for none)."""
    text = markdown or ""
    images = len(re.findall(_IMAGE, text))
    text = re.sub(_IMAGE, r" \1 ", text)
    text = re.sub(_URL, " ", re.sub(_HTML_TAG, " ", re.sub(_LINK_TARGET, "] ", text)))
    characters = len(re.findall(_CHARACTER_SCRIPTS, text))
    words = len(re.findall(_WORD, re.sub(_CHARACTER_SCRIPTS, " ", text)))
    if not words and not characters and not images:
        return 0
    minutes = words / WORDS_PER_MINUTE + characters / CHARACTERS_PER_MINUTE + images * SECONDS_PER_IMAGE / 60
    return max(1, math.ceil(minutes))
