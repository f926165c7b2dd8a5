"""Actions on the selected items: permissions, confirmation, selections DynamoDB could not read."""

from django.contrib.admin.models import CHANGE, DELETION, LogEntry
from django.contrib.messages import get_messages

from dynamo_admin.changelist import ACTION_CHECKBOX_NAME
from dynamo_admin.tests.helpers import add_note
from dynamo_admin.tests.models import DONE, DRAFT, Note
from dynamo_admin.tests.site import NoteAdmin, note_url


def run(client, action, keys, **extra):
    return client.post(note_url("changelist"), {"action": action, ACTION_CHECKBOX_NAME: keys, **extra})


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_the_list_offers_the_actions_the_user_may_run(editor_client, client, make_editor):
    response = editor_client.get(note_url("changelist"))
    assert response.context["actions"] == [
        ("archive_selected", "Mark selected notes done"),
        ("delete_selected", "Delete selected notes"),
    ]
    client.force_login(make_editor("view", "delete", username="deleter"))
    assert client.get(note_url("changelist")).context["actions"] == [("delete_selected", "Delete selected notes")]


def test_an_action_runs_on_each_selected_item_once(editor_client):
    add_note("a")
    add_note("b")
    add_note("c")
    response = run(editor_client, "archive_selected", ["a", "b", "a"])
    assert response.status_code == 302
    assert [Note.get(key).status for key in ("a", "b", "c")] == [DONE, DONE, DRAFT]
    assert messages_of(response) == ["Archived 2 notes."]
    assert sorted(LogEntry.objects.filter(action_flag=CHANGE).values_list("object_id", flat=True)) == ["a", "b"]


def test_an_action_the_user_may_not_run_changes_nothing(client, make_editor, notes, site_urls):
    add_note("a")
    client.force_login(make_editor("view", "change", username="no-archive"))
    response = run(client, "archive_selected", ["a"])
    assert response.status_code == 302 and messages_of(response) == ["No action selected."]
    assert Note.get("a").status == DRAFT


def test_bulk_delete_asks_first_then_deletes(editor_client):
    add_note("a", title="A")
    add_note("b", title="B")
    confirm = run(editor_client, "delete_selected", ["a", "b", "missing"])
    assert confirm.status_code == 200 and confirm.context["keys"] == ["a", "b"]
    assert Note.count("a") == 1
    done = run(editor_client, "delete_selected", ["a", "b"], post="yes")
    assert done.status_code == 302 and messages_of(done) == ["Deleted 2 notes."]
    assert (Note.count("a"), Note.count("b")) == (0, 0)
    assert LogEntry.objects.filter(action_flag=DELETION).count() == 2


def test_no_selection_an_unknown_action_or_too_many_items_change_nothing(editor_client, monkeypatch):
    add_note("a")
    monkeypatch.setattr(NoteAdmin, "max_action_items", 2)
    for action, keys, message in (
        ("archive_selected", [], "Items must be selected in order to perform actions on them."),
        ("drop_table", ["a"], "No action selected."),
        ("archive_selected", ["a", "b", "c"], "Select at most 2 items at a time."),
        ("archive_selected", ["k" * 3000], "The selected items do not exist."),
    ):
        response = run(editor_client, action, keys)
        assert response.status_code == 302 and messages_of(response)[-1] == message
    assert Note.get("a").status == DRAFT and not LogEntry.objects.exists()


def test_actions_none_offers_no_actions(editor_client, monkeypatch):
    monkeypatch.setattr(NoteAdmin, "actions", None)
    add_note("a")
    response = editor_client.get(note_url("changelist"))
    assert response.context["actions"] == [] and ACTION_CHECKBOX_NAME not in response.content.decode()
