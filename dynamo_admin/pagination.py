"""Cursor pagination over DynamoDB Query results.

DynamoDB has no offsets and no cheap counts: a page ends where the response's
`LastEvaluatedKey` says and the next one starts there. So the change list
pages with a cursor (that key) instead of page numbers, and the cost of a
page is bounded by the request `Limit`, whatever the size of the table.

A filter expression is applied by DynamoDB *after* reading, so a page may
match few items. Rather than keep reading until the page is full (which on a
rare match reads the whole table), a page makes at most `max_requests`
requests and then stops, telling the editor how far it got.

The cursor travels in the URL, so it is signed: a tampered cursor is
ignored instead of being sent to DynamoDB.
"""

from dataclasses import dataclass, field

from django.core import signing

CURSOR_SALT = "dynamo_admin.cursor"


def encode_cursor(last_evaluated_key):
    """A URL-safe, signed token for a `LastEvaluatedKey` ('' for none)."""
    if not last_evaluated_key:
        return ""
    return signing.dumps(last_evaluated_key, salt=CURSOR_SALT, compress=True)


def decode_cursor(token):
    """The `LastEvaluatedKey` a token stands for, or None if absent or invalid."""
    if not token:
        return None
    try:
        value = signing.loads(token, salt=CURSOR_SALT)
    except signing.BadSignature:
        return None
    return value if isinstance(value, dict) else None


@dataclass
class Page:
    items: list = field(default_factory=list)
    # Where the next page starts; None at the end of the results.
    last_evaluated_key: dict | None = None
    # Items DynamoDB read for this page (before any filter expression).
    scanned: int = 0
    # True when the page stopped on its request budget rather than filling up.
    partial: bool = False

    @property
    def next_cursor(self):
        return encode_cursor(self.last_evaluated_key)

    @property
    def has_next(self):
        return self.last_evaluated_key is not None


def query_page(model, query, *, page_size, start_key=None, max_requests=1):
    """Run `query(page_size=..., last_evaluated_key=...)` one DynamoDB page at a time.

    `query` is a PynamoDB `Model.query` or `Index.query` call with its hash
    key and conditions bound (e.g. a `functools.partial`). Returns a `Page`
    of at most `page_size` model instances after at most `max_requests`
    requests, each reading at most the items the page still lacks.
    """
    results = query(page_size=page_size, last_evaluated_key=start_key)
    pages = results.page_iter
    page = Page(last_evaluated_key=start_key)
    for request_number in range(max_requests):
        pages.page_size = page_size - len(page.items)
        try:
            raw = next(pages)
        except StopIteration:
            page.last_evaluated_key = None
            break
        page.items.extend(model.from_raw_data(item) for item in raw.get("Items", []))
        page.scanned += raw.get("ScannedCount", 0)
        page.last_evaluated_key = pages.last_evaluated_key
        if page.last_evaluated_key is None or len(page.items) >= page_size:
            break
        if request_number == max_requests - 1:
            page.partial = True
    return page
