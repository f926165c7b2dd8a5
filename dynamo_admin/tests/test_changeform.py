"""Add, change and delete: conditional writes, optimistic locking, keys checked before DynamoDB sees them."""

from html import unescape

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.messages import get_messages

from dynamo_admin.forms import VERSION_FIELD
from dynamo_admin.options import STALE_MESSAGE
from dynamo_admin.tests.helpers import add_note
from dynamo_admin.tests.models import DONE, Note
from dynamo_admin.tests.site import NoteAdmin, note_url


def note_form(**overrides):
    data = {"key": "new-note", "title": "New note", "status": "draft", "tags": "", "body": ""}
    data.update(overrides)
    return data


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_add_puts_the_item_and_logs_it(editor_client):
    response = editor_client.post(note_url("add"), note_form(tags="aws, django", body="Text"))
    assert response.status_code == 302 and response.url == note_url("changelist")
    note = Note.get("new-note")
    assert (note.title, note.tags, note.body, note.version) == ("New note", ["aws", "django"], "Text", 1)
    entry = LogEntry.objects.get()
    assert (entry.object_id, entry.action_flag, entry.object_repr) == ("new-note", ADDITION, "New note")
    assert messages_of(response) == ["The note “New note” was added successfully."]


def test_the_add_page_shows_the_fieldsets(editor_client):
    html = editor_client.get(note_url("add")).content.decode()
    assert "<h2" in html and "Sorting" in html
    assert html.index('name="key"') < html.index('name="body"') < html.index('name="status"')


def test_adding_a_key_in_use_is_a_form_error_and_keeps_the_text(editor_client):
    add_note("taken", title="First")
    response = editor_client.post(note_url("add"), note_form(key="taken", title="Second", body="Mine"))
    assert response.status_code == 200
    assert response.context["form"].errors == {"key": ["This key is already in use."]}
    assert "Mine" in response.content.decode() and Note.get("taken").title == "First"


def test_a_key_dynamodb_cannot_hold_is_a_form_error(editor_client):
    response = editor_client.post(note_url("add"), note_form(key="k" * 2049))
    assert response.status_code == 200
    assert response.context["form"].errors == {"key": ["This key is too long."]}
    assert list(Note.scan()) == []


def test_a_missing_title_is_a_form_error(editor_client):
    response = editor_client.post(note_url("add"), note_form(title=""))
    assert response.status_code == 200 and "title" in response.context["form"].errors


def test_change_saves_the_new_values_and_logs_the_changed_fields(editor_client):
    add_note("edit-me", title="Before")
    response = editor_client.post(
        note_url("change", "edit-me"), note_form(key="ignored", title="After", status=DONE, **{VERSION_FIELD: "1"})
    )
    assert response.status_code == 302
    note = Note.get("edit-me")
    assert (note.title, note.status, note.version) == ("After", DONE, 2)
    assert not Note.count("ignored")  # the key of an item never changes
    entry = LogEntry.objects.get()
    assert entry.action_flag == CHANGE and entry.get_change_message() == "Changed Title and Status."


def test_the_change_page_shows_the_item_its_read_only_fields_and_its_links(editor_client):
    add_note("shown", title="Shown", body="Body text")
    response = editor_client.get(note_url("change", "shown"))
    html = unescape(response.content.decode())
    assert response.context["form"]["key"].field.disabled
    assert "Body text" in html and "<label>Version:</label><div" in html and "<label>Updated:</label>" in html
    assert note_url("history", "shown") in html and note_url("delete", "shown") in html


def test_a_stale_save_is_refused_and_keeps_the_editors_text(editor_client):
    add_note("shared", title="Original")
    opened = editor_client.get(note_url("change", "shared")).context["form"][VERSION_FIELD].value()
    assert (
        editor_client.post(
            note_url("change", "shared"), note_form(title="Theirs", **{VERSION_FIELD: opened})
        ).status_code
        == 302
    )
    response = editor_client.post(note_url("change", "shared"), note_form(title="Mine", **{VERSION_FIELD: opened}))
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [STALE_MESSAGE]
    assert 'value="Mine"' in response.content.decode() and Note.get("shared").title == "Theirs"


def test_a_save_without_the_version_never_overwrites_blindly(editor_client):
    add_note("shared", title="Original")
    for version in ("", "x" * 50, str(10**40)):
        response = editor_client.post(
            note_url("change", "shared"), note_form(title="Blind", **{VERSION_FIELD: version})
        )
        assert response.status_code == 200
    assert Note.get("shared").title == "Original"


def test_an_admin_without_a_form_shows_the_item_read_only(editor_client, monkeypatch):
    monkeypatch.setattr(NoteAdmin, "form", None)
    monkeypatch.setattr(NoteAdmin, "fieldsets", None)
    add_note("fixed", title="Fixed")
    response = editor_client.get(note_url("change", "fixed"))
    assert response.status_code == 200 and response.context["form"] is None
    assert response.context["title"] == "View note" and "<label>Version:</label>" in response.content.decode()
    assert editor_client.post(note_url("change", "fixed"), note_form(title="Changed")).status_code == 200
    assert Note.get("fixed").title == "Fixed"


def test_delete_asks_then_deletes_and_logs(editor_client):
    add_note("doomed", title="Doomed")
    confirm = editor_client.get(note_url("delete", "doomed"))
    assert confirm.status_code == 200 and "Are you sure?" in confirm.content.decode()
    assert Note.count("doomed") == 1
    response = editor_client.post(note_url("delete", "doomed"), {"post": "yes"})
    assert response.status_code == 302 and response.url == note_url("changelist")
    assert Note.count("doomed") == 0
    assert LogEntry.objects.get().action_flag == DELETION
    assert messages_of(response) == ["The note “Doomed” was deleted successfully."]


def test_a_key_that_names_no_item_redirects_with_a_message(editor_client):
    for key, views in (("missing", ("change", "delete")), ("k" * 3000, ("change", "delete", "history"))):
        for view in views:
            response = editor_client.get(note_url(view, key))
            assert response.status_code == 302 and response.url == "/admin/", (view, len(key))
            message = messages_of(response)[-1]
            assert "doesn’t exist" in message and len(message) < 200


def test_the_bare_item_url_redirects_to_its_change_page(editor_client):
    add_note("bare")
    response = editor_client.get(note_url("changelist") + "bare/")
    assert response.status_code == 302 and response.url == note_url("change", "bare")
