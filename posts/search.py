"""Search for readers: a query ranked with BM25 over the S3 index, with no search server and no DynamoDB call.

The index (`posts.search_index` describes it and rebuilds it) is loaded on
the first search a function instance serves and kept in memory. It is
rechecked at most every `MYBLOG_SEARCH_INDEX_CHECK_SECONDS`, with one
GetObject carrying `IfNoneMatch` its ETag: S3 answers 304 (nothing read)
while it is unchanged, or the new index. So a warm search costs no call at
all, and never touches DynamoDB. If S3 cannot be read, the copy in memory
keeps serving; only an instance that never loaded one answers "search is
unavailable" (`SearchUnavailable`).

Ranking is BM25 (k1 = 1.2, b = 0.75) over the stored term frequencies and
post lengths, which are weighted by field (a title word counts four times,
a tag three, an excerpt word twice, a body word once): a post about the
words typed beats a post that mentions them. Posts matching more of the
words rank higher (the words are ORed, as search engines do); ties go to
the newer post. The last word typed also matches as a prefix ("serverl"
finds "serverless"), a little below an exact match, as readers type
words unfinished.

A query is bounded before any work: at most `MAX_QUERY_LENGTH` characters
and `MAX_QUERY_WORDS` words (`InvalidQuery` beyond), and a page number up
to `MAX_PAGE`, so no input can make a search expensive.
"""

import bisect
import logging
import math
import threading
import time
from typing import NamedTuple

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.utils.dateparse import parse_datetime
from django.utils.html import escape
from django.utils.safestring import mark_safe

from myblog import aws, caching
from posts.pages import card_html
from posts.search_text import MAX_TERM_LENGTH, WORD_RE, normalise, stem, terms

log = logging.getLogger(__name__)

MAX_QUERY_LENGTH = 200
MAX_QUERY_WORDS = 10
PAGE_SIZE = 10
MAX_PAGE_SIZE = 50
MAX_PAGE = 20
# The last word matches as a prefix from this many characters, and expands
# to at most this many terms (the shortest first, being the likeliest).
MIN_PREFIX_LENGTH = 3
MAX_PREFIX_TERMS = 20
PREFIX_WEIGHT = 0.8
K1 = 1.2
B = 0.75

# Results change when the index does: the edge keeps them for minutes, not a day.
RESULTS = caching.Policy(max_age=caching.MINUTE, s_maxage=5 * caching.MINUTE, stale_if_error=caching.HOUR)


class InvalidQuery(ValueError):
    """A query over the limits (too long, too many words): the reader is told to shorten it."""


class SearchUnavailable(RuntimeError):
    """The index cannot be read and this instance has no copy of it."""


class Query(NamedTuple):
    """A reader's query: its text, the terms it looks for, and the last word as a prefix (or None)."""

    text: str
    terms: tuple
    prefix: str | None

    @property
    def is_empty(self):
        return not self.terms and not self.prefix

    def matches(self, term):
        """Whether `term` (a normalised word) is one this query looks for: for highlighting."""
        return stem(term) in self.terms or (self.prefix is not None and term.startswith(self.prefix))


def parse_query(text):
    """The `Query` for what a reader typed; `InvalidQuery` if it is over the limits."""
    if not isinstance(text, str):
        raise InvalidQuery("Type the words to search for.")
    if len(text) > MAX_QUERY_LENGTH:
        raise InvalidQuery(f"Search for at most {MAX_QUERY_LENGTH} characters.")
    words = WORD_RE.findall(text)
    if len(words) > MAX_QUERY_WORDS:
        raise InvalidQuery(f"Search for at most {MAX_QUERY_WORDS} words.")
    found = list(dict.fromkeys(terms(text)))
    prefix = None
    # A word still being typed ends the text; "kites " or "kites," is finished.
    if words and text.endswith(words[-1]):
        last = stem(normalise(words[-1]))
        if MIN_PREFIX_LENGTH <= len(last) <= MAX_TERM_LENGTH:
            prefix = last
            found = [term for term in found if term != last]
    return Query(text.strip(), tuple(found), prefix)


def canonical_text(text):
    """The words of `text` as the index keeps them, one space apart: the `q` of a result page's canonical URL.

    "Kites  over the Bay!" and "kites over the bay" find the same posts,
    so search engines are told they are one page.
    """
    return " ".join(normalise(word) for word in WORD_RE.findall(text or ""))


# -- the index in memory --------------------------------------------------------------------------


def _decode_posting(posting):
    """[(post number, weighted frequency), ...] from a stored posting list."""
    entries, number = [], 0
    for part in posting.split(","):
        gap, _, count = part.partition(":")
        number += int(gap)
        entries.append((number, int(count) if count else 1))
    return entries


class SearchIndex:
    """An index as loaded from S3: the posts' card data and postings, ranked with BM25."""

    def __init__(self, data):
        self.posts = data["posts"]
        self.postings = data["terms"]
        self.built_at = data.get("built_at")
        length_at = data["fields"].index("length")
        lengths = [row[length_at] for row in self.posts]
        self.lengths = lengths
        self.average_length = (sum(lengths) / len(lengths)) if lengths else 1.0
        self._terms = None

    @classmethod
    def empty(cls):
        from posts import search_index

        return cls({"posts": [], "terms": {}, "fields": search_index.FIELDS})

    def __len__(self):
        return len(self.posts)

    def _sorted_terms(self):
        if self._terms is None:
            self._terms = sorted(self.postings)
        return self._terms

    def completions(self, prefix):
        """The indexed terms starting with `prefix`, shortest first (at most MAX_PREFIX_TERMS)."""
        ordered = self._sorted_terms()
        found = []
        for position in range(bisect.bisect_left(ordered, prefix), len(ordered)):
            if not ordered[position].startswith(prefix):
                break
            found.append(ordered[position])
        found.sort(key=len)
        return found[:MAX_PREFIX_TERMS]

    def term_scores(self, term):
        """{post number: BM25 score of `term` in it}."""
        posting = self.postings.get(term)
        if not posting:
            return {}
        entries = _decode_posting(posting)
        count = len(self.posts)
        idf = math.log(1 + (count - len(entries) + 0.5) / (len(entries) + 0.5))
        average = self.average_length or 1.0
        scores = {}
        for number, frequency in entries:
            norm = K1 * (1 - B + B * self.lengths[number] / average)
            scores[number] = idf * frequency * (K1 + 1) / (frequency + norm)
        return scores

    def rank(self, query):
        """[(post number, score), ...] best first: the posts matching `query`."""
        totals = {}
        for term in query.terms:
            for number, score in self.term_scores(term).items():
                totals[number] = totals.get(number, 0.0) + score
        if query.prefix:
            best = {}
            for term in self.completions(query.prefix):
                weight = 1.0 if term == query.prefix else PREFIX_WEIGHT
                for number, score in self.term_scores(term).items():
                    best[number] = max(best.get(number, 0.0), weight * score)
            for number, score in best.items():
                totals[number] = totals.get(number, 0.0) + score
        return sorted(totals.items(), key=lambda item: (-item[1], item[0]))

    def card(self, number):
        from posts.pages import Card

        slug, title, excerpt, tags, author, published_at, _cover, _alt, _length = self.posts[number]
        return Card(
            slug=slug,
            title=title,
            excerpt=excerpt,
            tags=tuple(tags),
            author=author,
            publish_at=parse_datetime(published_at.replace("Z", "+00:00")),
        )


class IndexCache:
    """The index this function instance holds, rechecked by ETag at most every N seconds."""

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.index = None
        self.etag = None
        self.checked_at = None
        self._lock = threading.Lock()

    def get(self):
        with self._lock:
            now = self.clock()
            fresh = self.checked_at is not None and now - self.checked_at < settings.MYBLOG_SEARCH_INDEX_CHECK_SECONDS
            if self.index is None or not fresh:
                self._refresh(now)
            return self.index

    def _refresh(self, now):
        # The index's builder (and its queue) on the first search only: the
        # search URLs are imported on every cold start, searches are rare.
        from posts import search_index

        bucket, key = search_index.location()
        condition = {"IfNoneMatch": self.etag} if self.index is not None and self.etag else {}
        try:
            response = aws.client("s3").get_object(Bucket=bucket, Key=key, **condition)
            loaded = SearchIndex(search_index.decode(response["Body"].read()))
        except ClientError as error:
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            code = error.response.get("Error", {}).get("Code", "")
            if status == 304 or code in ("304", "NotModified"):
                self.checked_at = now
                return
            if code == "NoSuchKey":
                log.warning("No search index at s3://%s/%s yet: run manage.py rebuild-search-index", bucket, key)
                self.index, self.etag, self.checked_at = SearchIndex.empty(), None, now
                return
            self._keep_or_fail(now, error)
            return
        except (BotoCoreError, ValueError, KeyError) as error:
            self._keep_or_fail(now, error)
            return
        self.index, self.etag, self.checked_at = loaded, response["ETag"], now

    def _keep_or_fail(self, now, error):
        if self.index is None:
            log.error("The search index cannot be read: %s", error)
            raise SearchUnavailable("The search index cannot be read.") from error
        log.warning("The search index cannot be rechecked; serving the copy in memory: %s", error)
        self.checked_at = now


_cache = IndexCache()


def current_index():
    """The index, loaded on first use and rechecked by ETag (see `IndexCache`)."""
    return _cache.get()


def forget_index():
    """Drop this instance's copy of the index (tests)."""
    global _cache
    _cache = IndexCache()


# -- results --------------------------------------------------------------------------------------


def highlight(text, query):
    """`text` escaped, with the words `query` looks for in `<mark>`: safe to show as HTML."""
    parts, position = [], 0
    for match in WORD_RE.finditer(text or ""):
        if query.matches(normalise(match.group())):
            parts.append(escape(text[position : match.start()]))
            parts.append(f"<mark>{escape(match.group())}</mark>")
            position = match.end()
    parts.append(escape((text or "")[position:]))
    return mark_safe("".join(parts))  # noqa: S308 - every piece of text above is escaped


class Hit:
    """A result: its `Card` (whose attributes it shows as its own), with the title and excerpt highlighted."""

    def __init__(self, card, query, score):
        self.card = card
        self.score = score
        self.title_html = highlight(card.title, query)
        self.excerpt_html = highlight(card.excerpt, query) if card.excerpt else ""

    @property
    def html(self):
        return card_html(self)

    def __getattr__(self, name):
        if name == "card":  # not set yet (a copy being made): never recurse
            raise AttributeError(name)
        return getattr(self.card, name)


class Results(NamedTuple):
    """One page of results for a query."""

    query: Query
    hits: list
    total: int
    page: int
    page_size: int

    @property
    def pages(self):
        return max(1, math.ceil(self.total / self.page_size))

    @property
    def next_page(self):
        return self.page + 1 if self.page < min(self.pages, MAX_PAGE) else None

    @property
    def previous_page(self):
        return self.page - 1 if self.page > 1 else None


def search(query, page=1, page_size=None):
    """Page `page` of the posts matching `query` (a `Query`); no S3 call for a query with no terms."""
    page_size = page_size or PAGE_SIZE
    if query.is_empty:
        return Results(query, [], 0, page, page_size)
    index = current_index()
    ranked = index.rank(query)
    start = (page - 1) * page_size
    hits = [Hit(index.card(number), query, score) for number, score in ranked[start : start + page_size]]
    return Results(query, hits, len(ranked), page, page_size)
