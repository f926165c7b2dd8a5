"""The admin log of an item, and Django's permissions applied to a PynamoDB model."""

from django.contrib.admin.models import LogEntry

from dynamo_admin.forms import VERSION_FIELD
from dynamo_admin.tests.helpers import add_note
from dynamo_admin.tests.models import Note
from dynamo_admin.tests.site import note_url


def test_history_lists_the_items_admin_log_newest_first(editor_client):
    editor_client.post(note_url("add"), {"key": "logged", "title": "Logged", "status": "draft"})
    editor_client.post(
        note_url("change", "logged"), {"key": "logged", "title": "Renamed", "status": "draft", VERSION_FIELD: "1"}
    )
    response = editor_client.get(note_url("history", "logged"))
    assert response.status_code == 200
    assert [entry.get_change_message() for entry in response.context["action_list"]] == ["Changed Title.", "Added."]
    assert "editor" in response.content.decode()


def test_the_history_of_a_deleted_item_is_kept(editor_client):
    add_note("gone", title="Gone")
    editor_client.post(note_url("delete", "gone"), {"post": "yes"})
    response = editor_client.get(note_url("history", "gone"))
    assert response.status_code == 200 and len(response.context["action_list"]) == 1


def test_the_index_lists_the_model_for_those_who_may_see_it(client, make_editor, notes, site_urls):
    client.force_login(make_editor("view"))
    html = client.get("/admin/").content.decode()
    assert note_url("changelist") in html and "Notes" in html
    client.force_login(make_editor(username="nobody"))
    assert note_url("changelist") not in client.get("/admin/").content.decode()


def test_anonymous_and_non_staff_users_are_sent_to_login(client, django_user_model, notes, site_urls):
    assert client.get(note_url("changelist")).url.startswith("/admin/login/")
    client.force_login(django_user_model.objects.create_user("reader", "r@example.com", "pw-reader-123"))
    assert client.get(note_url("changelist")).url.startswith("/admin/login/")


def test_staff_without_the_models_permissions_is_refused(client, make_editor, notes, site_urls):
    add_note("secret")
    client.force_login(make_editor(username="outsider"))
    for url in (note_url("changelist"), note_url("add"), note_url("change", "secret"), note_url("history", "secret")):
        assert client.get(url).status_code == 403, url


def test_view_permission_shows_a_read_only_form(client, make_editor, notes, site_urls):
    add_note("look", title="Look")
    client.force_login(make_editor("view"))
    response = client.get(note_url("change", "look"))
    assert response.status_code == 200 and response.context["title"] == "View note"
    assert all(field.disabled for field in response.context["form"].fields.values())
    assert response.context["submit_buttons"] == [] and note_url("delete", "look") not in response.content.decode()
    post = client.post(note_url("change", "look"), {"key": "look", "title": "Changed", VERSION_FIELD: "1"})
    assert post.status_code == 403 and Note.get("look").title == "Look"
    assert client.get(note_url("add")).status_code == 403


def test_delete_needs_the_delete_permission(client, make_editor, notes, site_urls):
    add_note("keep")
    client.force_login(make_editor("view", "change"))
    assert client.post(note_url("delete", "keep"), {"post": "yes"}).status_code == 403
    assert Note.count("keep") == 1 and not LogEntry.objects.exists()
