"""The rules a post follows, in one place: its statuses, keys, slugs, tags and limits.

The read path (`posts.queries`, `posts.pages`, the API, the views and
feeds), the edit path (`posts.services`), the admin's form and the OpenAPI
document all take these from here, so a URL the site accepts, a value the
editor may save and what the API document promises cannot disagree. The
edit path turns a broken rule into an editor's message; the read path
treats a key no post can have as "not found" without asking DynamoDB.

Plain values and functions on plain values (or on anything with a post's
`status`, `feed` and `publish_at`): importing it loads no model, so every
layer can.
"""

import re
import unicodedata

# -- statuses -------------------------------------------------------------------------------------

DRAFT = "draft"
SCHEDULED = "scheduled"
PUBLISHED = "published"
STATUSES = (DRAFT, SCHEDULED, PUBLISHED)
STATUS_CHOICES = [(DRAFT, "Draft"), (SCHEDULED, "Scheduled"), (PUBLISHED, "Published")]

# The status changes an editor may ask for, from each status. Saving a post
# in the status it has is always allowed (re-publishing a live post keeps it
# live); a live post is not rescheduled: it is unpublished first.
TRANSITIONS = {
    None: frozenset({DRAFT, SCHEDULED, PUBLISHED}),  # a new post
    DRAFT: frozenset({SCHEDULED, PUBLISHED}),
    SCHEDULED: frozenset({DRAFT, SCHEDULED, PUBLISHED}),
    PUBLISHED: frozenset({DRAFT}),
}


def can_change_status(current, new):
    """Whether a post in status `current` (None: not created yet) may be saved with status `new`."""
    return new in STATUSES and (new == current or new in TRANSITIONS.get(current, ()))


# -- keys: the constant strings of the indexes, and the per-tag sort key -------------------------

# The hash key of the sparse published index: only live posts carry it.
FEED_PUBLISHED = "published"
# The hash key of the "every post" index the admin lists.
KIND_POST = "post"
# A PostTag's sort key is "<publish_at>#<slug>": newest last, unique per post.
SORT_KEY_SEPARATOR = "#"
SORT_KEY_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"
# Sorts after every slug character: "<time>#~" is above every post of that time.
SORT_KEY_CEILING = "~"


def tag_sort_key(publish_at, slug):
    """The sort key of a post's PostTag items."""
    return f"{publish_at.strftime(SORT_KEY_TIME_FORMAT)}{SORT_KEY_SEPARATOR}{slug}"


def tag_sort_key_ceiling(moment):
    """A sort key above every post published at or before `moment` and below every later one."""
    return tag_sort_key(moment, "") + SORT_KEY_CEILING


# -- slugs and tags -------------------------------------------------------------------------------

# Lowercase ASCII letters and digits in runs joined by single hyphens. Always
# matched against the whole string (`fullmatch`; in JSON Schema, anchored by
# `slug_schema_pattern`): with `match` and `$`, "news\n" would pass.
SLUG_PATTERN = r"[a-z0-9]+(?:-[a-z0-9]+)*"
SLUG_RE = re.compile(SLUG_PATTERN)
MAX_SLUG_LENGTH = 100
# Tags are slugs. Each is a PostTag hash key and a PostTag item per live
# post, and a save deletes the old ones and writes the new ones in one
# transaction, so their number bounds it (2 + 2 * MAX_TAGS items).
MAX_TAGS = 20
MAX_TAG_LENGTH = 50
_NOT_SLUG_CHARACTERS = re.compile(r"[^a-z0-9]+")


def _is_slug(value, max_length):
    return isinstance(value, str) and 0 < len(value) <= max_length and SLUG_RE.fullmatch(value) is not None


def is_valid_slug(value):
    """Whether `value` is a slug a post can have (every saved post's slug is)."""
    return _is_slug(value, MAX_SLUG_LENGTH)


# A post's history key (`history_key`): its slug, or a slug and a suffix no slug has.
HISTORY_KEY_RE = re.compile(rf"{SLUG_PATTERN}(?:~[0-9a-z]+)?")
MAX_FORMER_SLUGS = 25


def history_key(post):
    """The key a post's revisions are kept under (`Revision.slug`).

    A post's own slug until it is renamed; a renamed post keeps the key it
    had (its first slug), so its history needs no copying. A new post
    taking a renamed post's old slug gets that slug with a suffix, so the
    two histories never mix (see `posts.redirects`).
    """
    return getattr(post, "history_id", None) or post.slug


def is_valid_history_key(value):
    return isinstance(value, str) and 0 < len(value) <= MAX_SLUG_LENGTH + 30 and HISTORY_KEY_RE.fullmatch(value)


def is_valid_tag(value):
    """Whether `value` is a tag a post can have (every saved post's tags are)."""
    return _is_slug(value, MAX_TAG_LENGTH)


def slug_schema_pattern():
    """`SLUG_PATTERN` for JSON Schema (ECMA-262 regular expressions, which search unless anchored)."""
    return f"^{SLUG_PATTERN}$"


def normalise_tag(text):
    """What an editor typed as a tag, as a slug: lower-cased, hyphenated ('' if nothing is left).

    Accents are dropped rather than the letters that carry them (“Café” is
    `cafe`, not `caf`): compatibility decomposition, then the combining
    marks go. Whatever is still not a-z or 0-9 becomes a hyphen.
    """
    text = unicodedata.normalize("NFKD", strip_bidi_controls(str(text)))
    text = "".join(char for char in text if not unicodedata.combining(char))
    return _NOT_SLUG_CHARACTERS.sub("-", text.strip().lower()).strip("-")


# -- what an editor types -------------------------------------------------------------------------

# In characters: generous for prose, small next to DynamoDB's 400 KB item.
# PostTag items copy the title, excerpt, author and cover of a live post,
# once per tag.
MAX_LENGTHS = {"title": 200, "excerpt": 500, "author": 100, "cover_alt": 300}
FIELD_NAMES = {"title": "title", "excerpt": "excerpt", "author": "author", "cover_alt": "cover image description"}
# The body in UTF-8 bytes, which is what DynamoDB counts: a post item and its
# revision each hold a body. 300 KB is about 50,000 words of English (a short
# book); at worst (every other field at its limit in 4-byte characters)
# an item stays under 310 KB of the 400 KB allowed.
MAX_BODY_BYTES = 300_000
# The cover is an S3 key of an original (S3 keys are at most 1024 bytes).
MAX_COVER_KEY_BYTES = 1024
# The text fields of a post, which are cleaned of bidi controls when saved.
TEXT_FIELDS = ("title", "body", "excerpt", "author", "cover_alt")

# Unicode's explicit directional embeddings, overrides and isolates
# (U+202A-U+202E, U+2066-U+2069). Invisible, they reorder the characters
# around them, so "gpj.exe" can display as "exe.jpg": text spoofing. No
# right-to-left writing needs them in a title or an article (the Unicode
# bidi algorithm orders such text by itself). The directional marks
# (U+200E, U+200F, U+061C) are kept: they only set the direction of
# neighbouring punctuation, which right-to-left text legitimately needs,
# and cannot reorder the text around them.
BIDI_CONTROLS = frozenset(chr(code) for code in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)])
_BIDI_CONTROLS_TABLE = dict.fromkeys(map(ord, BIDI_CONTROLS))


def strip_bidi_controls(text):
    """`text` without directional embeddings, overrides and isolates (see `BIDI_CONTROLS`)."""
    return text.translate(_BIDI_CONTROLS_TABLE) if isinstance(text, str) else text


# -- live posts and their dates --------------------------------------------------------------------


def is_live(post):
    """Whether `post` is published (its time may still be coming: see `is_visible`)."""
    return post is not None and post.status == PUBLISHED and post.feed == FEED_PUBLISHED


def is_visible(post, now):
    """Readers see a post only while it is published and its time has come."""
    return is_live(post) and post.publish_at is not None and post.publish_at <= now


def keeps_date(post):
    """A live post keeps its date when it is saved or published again: links and feeds do not move."""
    return is_live(post)


def publish_date(post, now):
    """When `post` (None: not created yet) goes live if an editor publishes it `now`."""
    return post.publish_at if keeps_date(post) else now


def resolve_status(status, publish_at, now):
    """The (status, publish_at) a post is saved with when `status` is asked for at `publish_at`.

    Publishing at a future time schedules, scheduling at a time already
    past publishes, and a draft keeps whatever date it is given. Raises
    ValueError for an unknown status or a schedule without a time.
    """
    if status not in STATUSES:
        raise ValueError(f"Unknown status “{status}”.")
    if status == PUBLISHED:
        publish_at = publish_at or now
        return (SCHEDULED if publish_at > now else PUBLISHED), publish_at
    if status == SCHEDULED:
        if publish_at is None:
            raise ValueError("Choose the date and time the post should go live.")
        return (PUBLISHED if publish_at <= now else SCHEDULED), publish_at
    return DRAFT, publish_at


def feed_of(status):
    """The published index's hash key for a post in `status` (None: not in the index)."""
    return FEED_PUBLISHED if status == PUBLISHED else None


# -- listings ----------------------------------------------------------------------------------

PAGE_SIZE = 10
MAX_PAGE_SIZE = 50
# The longest page cursor the site makes (a signed (publish_at, slug) of the
# longest slug is about 220 characters): anything longer is refused unread.
MAX_CURSOR_LENGTH = 300
# The sitemaps protocol allows 50,000 URLs per sitemap; one page of the
# sitemap is one Query, which DynamoDB caps at 1 MB read, about 6,000
# entries of the sitemap index. The size a page asks for is a setting
# (MYBLOG_SITEMAP_PAGE_SIZE), at most this.
MAX_SITEMAP_PAGE_SIZE = 50_000
