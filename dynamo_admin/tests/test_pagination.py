"""Cursor pagination: signed cursors, and pages that cost a bounded number of requests."""

from datetime import timedelta
from functools import partial

from django.utils import timezone

from dynamo_admin.pagination import decode_cursor, encode_cursor, query_page
from dynamo_admin.tests.models import KIND_NOTE, Note


def add_notes(count, title=lambda number: "T", prefix="n"):
    now = timezone.now()
    for number in range(count):
        Note(key=f"{prefix}-{number}", title=title(number), updated_at=now - timedelta(minutes=number)).save()


def test_cursor_round_trips_and_rejects_tampering():
    key = {"key": {"S": "a"}, "kind": {"S": "note"}, "updated_at": {"S": "2026-11-25T10:00:00.000000+0000"}}
    token = encode_cursor(key)
    assert decode_cursor(token) == key
    assert decode_cursor(token[:-2] + "xx") is None
    assert decode_cursor("garbage") is None and decode_cursor("") is None and encode_cursor(None) == ""


def test_a_cursor_signed_for_another_purpose_is_refused():
    from django.core import signing

    token = signing.dumps({"key": {"S": "a"}}, compress=True)  # signed, but without the cursor's salt
    assert decode_cursor(token) is None


def test_query_page_makes_a_bounded_number_of_requests(notes):
    add_notes(12)
    query = partial(Note.all_index.query, KIND_NOTE, scan_index_forward=False, filter_condition=Note.title == "nope")
    page = query_page(Note, query, page_size=3, max_requests=2)
    assert page.items == [] and page.scanned == 6 and page.partial and page.has_next
    rest = query_page(Note, query, page_size=3, start_key=page.last_evaluated_key, max_requests=10)
    assert rest.scanned == 6 and not rest.has_next and not rest.partial


def test_query_page_never_returns_more_than_a_page(notes):
    add_notes(7, title=lambda number: "Match" if number % 2 else "Other", prefix="q")
    query = partial(Note.all_index.query, KIND_NOTE, scan_index_forward=False, filter_condition=Note.title == "Match")
    seen = []
    start = None
    while True:
        page = query_page(Note, query, page_size=2, start_key=start, max_requests=5)
        assert len(page.items) <= 2
        seen += [note.key for note in page.items]
        if not page.has_next:
            break
        start = page.last_evaluated_key
    assert sorted(seen) == ["q-1", "q-3", "q-5"]
