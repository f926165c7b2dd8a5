"""The admin's word search: a post's words as items of their own, found by prefix.

The change list finds a word anywhere in a post's title, tags or slug, at
any number of posts, without a Scan and without reading posts that do not
match. Each post has one `PostWord` item per distinct word (normalised as
the readers' search does it: case-folded, accents removed, `posts.search_text`),
hash key the word's first two letters, range key `<word>#<slug>`. A search
term is then one Query (`prefix = term[:2] AND begins_with(word_slug, term)`),
the posts matching every term are the intersection of those Queries, and
the items carry the post's status, tags and update time, so the change
list filters and orders the matches before reading any post (one
BatchGetItem for the page shown).

The items are written in the post's own transaction (`posts.services._write`:
`add_to_transaction`), so the search never disagrees with the posts. A
transaction holds at most 100 items and a save already writes the post,
its revision, up to 2 x 20 tag items and 2 x 10 photo uses
(`posts.stored`), so a post keeps at most
`MAX_WORDS` words (title words first, then tags, then the slug's), and a
save writes at most 2 x `MAX_WORDS` word items (the new ones, and deletes
of the words it lost). Every save rewrites the post's items, since their
copy of the status and update time changes with it.

A one-letter term matches only one-letter words (its prefix is the whole
hash key); longer terms match as prefixes ("scal" finds "scale").
"""

from dataclasses import dataclass, field

from posts.models import PostWord
from posts.search_text import MAX_TERM_LENGTH, STOP_WORDS, WORD_RE, normalise

# Words kept per post: with the post, its revision, 2 x 20 tag items and 2 x 10
# photo uses, a save stays within DynamoDB's 100 transaction items (see the module doc).
MAX_WORDS = 19
# Terms of one search that are queried (the longest ones); more only narrow it.
MAX_QUERY_TERMS = 5
# Query pages read per term (each up to 1 MB, some 10,000 items): a term in
# more posts than that makes the answer partial, and says so.
MAX_PAGES_PER_TERM = 10
PREFIX_LENGTH = 2
SEPARATOR = "#"


def words(text):
    """The searchable words of `text`, normalised, in order, without repeats or stop words."""
    found = []
    for raw in WORD_RE.findall(text or ""):
        word = normalise(raw)[:MAX_TERM_LENGTH]
        if word and word not in STOP_WORDS and word not in found:
            found.append(word)
    return found


def post_words(post):
    """The words a post is found by: its title's, then its tags', then its slug's (at most MAX_WORDS)."""
    found = words(post.title)
    for text in [*(tag.replace("-", " ") for tag in post.tags or ()), post.slug.replace("-", " ")]:
        found.extend(word for word in words(text) if word not in found)
    return found[:MAX_WORDS]


def prefix_of(word):
    return word[:PREFIX_LENGTH]


def word_items(post):
    """{range key: PostWord} of a post (none for no post)."""
    if post is None:
        return {}
    items = {}
    for word in post_words(post):
        key = f"{word}{SEPARATOR}{post.slug}"
        items[(prefix_of(word), key)] = PostWord(
            prefix_of(word),
            key,
            slug=post.slug,
            status=post.status,
            updated_at=post.updated_at,
            tags=list(post.tags or ()),
        )
    return items


def add_to_transaction(transaction, post, previous):
    """Put `post`'s word items in a write transaction and delete those of `previous` it lost.

    `post` None deletes the post's words (the post is being deleted).
    """
    new = word_items(post)
    for key, item in word_items(previous).items():
        if key not in new:
            transaction.delete(item)
    for item in new.values():
        transaction.save(item)


@dataclass
class Match:
    """A post found by a search, with what the change list filters and orders on."""

    slug: str
    status: str
    updated_at: object
    tags: list = field(default_factory=list)


@dataclass
class SearchResult:
    terms: list
    matches: list  # of Match, most recently updated first
    # False when a term was in more posts than one search reads (MAX_PAGES_PER_TERM).
    complete: bool = True
    queries: int = 0


def query_terms(text):
    """The terms of a search, longest first (the most telling), at most MAX_QUERY_TERMS.

    A one-letter term beside longer ones is left out: as a prefix it cannot
    be one Query (see the module doc), and the longer ones narrow the search.
    """
    terms = sorted(words(text), key=len, reverse=True)
    if terms and len(terms[0]) >= PREFIX_LENGTH:
        terms = [term for term in terms if len(term) >= PREFIX_LENGTH]
    return terms[:MAX_QUERY_TERMS]


def _term_matches(term, max_pages):
    """({slug: Match} of the posts having a word starting with `term`, complete, requests made)."""
    if len(term) < PREFIX_LENGTH:
        condition = PostWord.word_slug.startswith(term + SEPARATOR)
    else:
        condition = PostWord.word_slug.startswith(term)
    results = PostWord.query(prefix_of(term), condition, consistent_read=True)
    pages = results.page_iter
    found = {}
    requests = 0
    for raw in pages:
        requests += 1
        for data in raw.get("Items", []):
            item = PostWord.from_raw_data(data)
            found[item.slug] = Match(item.slug, item.status, item.updated_at, list(item.tags or ()))
        if pages.last_evaluated_key is None:
            return found, True, requests
        if requests >= max_pages:
            return found, False, requests
    return found, True, requests


def search(text, *, max_pages=MAX_PAGES_PER_TERM):
    """The posts having, for every term of `text`, a word starting with it: one Query per term.

    No terms (nothing but stop words or punctuation) finds nothing.
    """
    terms = query_terms(text)
    result = SearchResult(terms=terms, matches=[])
    found = None
    for term in terms:
        matches, complete, requests = _term_matches(term, max_pages)
        result.queries += requests
        result.complete = result.complete and complete
        found = matches if found is None else {slug: m for slug, m in found.items() if slug in matches}
        if not found:
            break
    if found:
        result.matches = sorted(found.values(), key=lambda m: (m.updated_at, m.slug), reverse=True)
    return result


def backfill(report=None):
    """Write the word items of every post (Queries on `Post.all_index`, batch writes); returns (posts, items).

    For posts saved before the word search existed: saving a post keeps its
    own words up to date from then on. Safe to run again (it overwrites).
    """
    from posts.models import Post
    from posts.rules import KIND_POST

    posts = items = 0
    with PostWord.batch_write() as batch:
        for post in Post.all_index.query(KIND_POST):
            for item in word_items(post).values():
                batch.save(item)
                items += 1
            posts += 1
            if report and posts % 1000 == 0:
                report(posts, items)
    return posts, items
