"""The change list: newest first from an index, cursor pages, filters, prefix search."""

from html import unescape

from dynamo_admin.tests.helpers import add_note, listed
from dynamo_admin.tests.models import DONE, Note
from dynamo_admin.tests.site import NoteAdmin, note_url


def test_the_list_is_newest_first_in_cursor_pages(editor_client):
    for number in range(7):
        add_note(f"n-{number}", minutes_ago=number)
    first = editor_client.get(note_url("changelist"))
    assert listed(first) == ["n-0", "n-1", "n-2"]  # list_per_page = 3
    html = unescape(first.content.decode())
    assert "3 notes on this page." in html and "First page" not in html
    second = editor_client.get(note_url("changelist") + first.context["cl"].next_page_url)
    assert listed(second) == ["n-3", "n-4", "n-5"] and "First page" in second.content.decode()
    third = editor_client.get(note_url("changelist") + second.context["cl"].next_page_url)
    assert listed(third) == ["n-6"] and third.context["cl"].next_page_url == ""


def test_rows_show_the_columns_and_link_the_first_to_the_change_page(editor_client):
    add_note("first-note", title="First <note>")
    html = editor_client.get(note_url("changelist")).content.decode()
    assert f'<th class="field-title"><a href="{note_url("change", "first-note")}">First &lt;note&gt;</a></th>' in html
    assert '<td class="field-status">draft</td>' in html
    assert '<th scope="col" class="column-updated"><div class="text"><span>Updated</span>' in html


def test_the_default_list_display_shows_each_item_as_text(editor_client, monkeypatch):
    monkeypatch.setattr(NoteAdmin, "list_display", ("__str__",))
    add_note("plain", title="Plain title")
    html = editor_client.get(note_url("changelist")).content.decode()
    assert "<span>Note</span>" in html and ">Plain title</a></th>" in html


def test_a_tampered_cursor_falls_back_to_the_first_page(editor_client):
    for number in range(4):
        add_note(f"n-{number}", minutes_ago=number)
    response = editor_client.get(note_url("changelist") + "?cursor=eyJrZXkiOnsiUyI6Im4tMiJ9fQ:forged")
    assert listed(response) == ["n-0", "n-1", "n-2"] and response.context["cl"].is_first_page


def test_the_status_filter_reads_the_status_index(editor_client, monkeypatch):
    add_note("draft-1", minutes_ago=1)
    add_note("done-1", status=DONE, minutes_ago=2)
    add_note("done-2", status=DONE, minutes_ago=3)
    read = []
    real_query = Note.status_index.query
    monkeypatch.setattr(
        Note.status_index, "query", lambda *args, **kwargs: read.append(args) or real_query(*args, **kwargs)
    )
    response = editor_client.get(note_url("changelist") + "?status=done")
    assert listed(response) == ["done-1", "done-2"] and read == [("done",)]
    assert not response.context["cl"].query.filtered  # one Query on the index, no filter expression


def test_an_unknown_status_is_ignored(editor_client):
    add_note("draft-1")
    assert listed(editor_client.get(note_url("changelist") + "?status=deleted")) == ["draft-1"]


def test_the_tag_filter_combines_with_the_status_filter(editor_client):
    add_note("a", tags=["aws"], status=DONE, minutes_ago=1)
    add_note("b", tags=["aws"], minutes_ago=2)
    add_note("c", tags=["django"], status=DONE, minutes_ago=3)
    assert listed(editor_client.get(note_url("changelist") + "?tag=AWS")) == ["a", "b"]  # normalised
    assert listed(editor_client.get(note_url("changelist") + "?tag=aws&status=done")) == ["a"]


def test_a_rare_match_reads_a_bounded_number_of_items_per_page(editor_client, monkeypatch):
    monkeypatch.setattr(NoteAdmin, "list_per_page", 2)
    monkeypatch.setattr(NoteAdmin, "max_requests_per_page", 3)
    for number in range(10):
        add_note(f"n-{number}", minutes_ago=number, tags=["rare"] if number == 9 else [])
    response = editor_client.get(note_url("changelist") + "?tag=rare")
    changelist = response.context["cl"]
    assert listed(response) == [] and changelist.page.partial and changelist.page.scanned == 6
    assert "Search further" in response.content.decode()
    rest = editor_client.get(note_url("changelist") + changelist.next_page_url)
    assert listed(rest) == ["n-9"]


def test_search_is_a_prefix_match_on_the_key_or_the_title(editor_client):
    add_note("aws-lambda", title="Serverless", minutes_ago=1)
    add_note("django-admin", title="Admin for AWS", minutes_ago=2)
    add_note("other", title="Nothing", minutes_ago=3)
    assert listed(editor_client.get(note_url("changelist") + "?q=AWS")) == ["aws-lambda"]  # keys are lower-cased
    assert listed(editor_client.get(note_url("changelist") + "?q=Admin")) == ["django-admin"]  # titles as typed
    assert listed(editor_client.get(note_url("changelist") + "?q=zzz")) == []


def test_an_exact_key_is_found_at_once_even_beyond_the_first_page(editor_client, monkeypatch):
    monkeypatch.setattr(NoteAdmin, "max_requests_per_page", 1)
    add_note("old-note", title="Old", minutes_ago=100)
    for number in range(6):
        add_note(f"old-note-{number}", title="Newer", minutes_ago=number)
    response = editor_client.get(note_url("changelist") + "?q=old-note")
    assert listed(response)[0] == "old-note" and 'class="exact-match"' in response.content.decode()


def test_an_exact_hit_that_fails_the_active_filter_is_left_out(editor_client):
    add_note("kept", status=DONE)
    assert listed(editor_client.get(note_url("changelist") + "?q=kept&status=draft")) == []


def test_a_search_for_a_key_dynamodb_cannot_hold_finds_nothing(editor_client):
    add_note("x")
    assert listed(editor_client.get(note_url("changelist") + "?q=" + "x" * 3000)) == []
