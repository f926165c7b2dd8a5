"""Making notes for the view tests."""

from datetime import timedelta

from django.utils import timezone

from dynamo_admin.tests.models import DRAFT, Note


def add_note(key, title=None, status=DRAFT, tags=(), minutes_ago=0, body=None):
    """Save a note, `minutes_ago` older than now (the lists are newest first)."""
    note = Note(
        key=key,
        title=title or key.replace("-", " ").title(),
        status=status,
        tags=list(tags),
        body=body,
        updated_at=timezone.now() - timedelta(minutes=minutes_ago),
    )
    note.save()
    return note


def listed(response):
    """The keys of the items a change list response shows, in order."""
    assert response.status_code == 200, response.status_code
    return [note.key for note in response.context["cl"].result_list]
