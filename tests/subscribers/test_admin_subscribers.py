"""The subscribers CMS: list, status filter, email search, unsubscribe, CSV export."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from subscribers import services
from subscribers.admin import SubscriberAdmin, csv_cell
from subscribers.models import CONFIRMED, PENDING, UNSUBSCRIBED, Subscriber

CHANGELIST = "/admin/subscribers/subscriber/"
SUBSCRIBER_PERMISSIONS = (
    "subscribers.view_subscriber",
    "subscribers.change_subscriber",
    "subscribers.delete_subscriber",
    "subscribers.export_subscriber",
)


@pytest.fixture
def staff_client(client, make_editor, aws):
    client.force_login(make_editor("office", *SUBSCRIBER_PERMISSIONS))
    return client


def add(email, status=PENDING, minutes_ago=0):
    services.subscribe(email, now=timezone.now() - timedelta(minutes=minutes_ago))
    if status == CONFIRMED:
        services.confirm(email)
    elif status == UNSUBSCRIBED:
        services.unsubscribe(email)


def listed(response):
    return [s.email for s in response.context["cl"].result_list]


def rows(response):
    content = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(content)))


def test_list_is_newest_first_and_filters_by_status(staff_client):
    add("old@example.com", CONFIRMED, minutes_ago=30)
    add("mid@example.com", minutes_ago=20)
    add("new@example.com", UNSUBSCRIBED, minutes_ago=10)
    assert listed(staff_client.get(CHANGELIST)) == ["new@example.com", "mid@example.com", "old@example.com"]
    assert listed(staff_client.get(CHANGELIST, {"status": CONFIRMED})) == ["old@example.com"]
    assert listed(staff_client.get(CHANGELIST, {"status": UNSUBSCRIBED})) == ["new@example.com"]


def test_search_by_email_prefix_or_exact_address(staff_client):
    add("ann@example.com", minutes_ago=5)
    add("bob@example.org")
    assert listed(staff_client.get(CHANGELIST, {"q": "AN"})) == ["ann@example.com"]
    assert listed(staff_client.get(CHANGELIST, {"q": "bob@example.org"})) == ["bob@example.org"]
    assert listed(staff_client.get(CHANGELIST, {"q": "example"})) == []
    # An exact hit that fails the active filter is not shown.
    assert listed(staff_client.get(CHANGELIST, {"q": "bob@example.org", "status": CONFIRMED})) == []


def test_unsubscribe_action(staff_client):
    add("leaving@example.com", CONFIRMED)
    add("staying@example.com", CONFIRMED)
    response = staff_client.post(
        CHANGELIST, {"action": "unsubscribe_selected", "_selected_action": ["leaving@example.com"]}, follow=True
    )
    assert "Unsubscribed 1 subscriber." in response.content.decode()
    assert Subscriber.get("leaving@example.com").status == UNSUBSCRIBED
    assert Subscriber.get("staying@example.com").status == CONFIRMED
    # The admin log shows the change; a subscriber nobody changed in the admin says so plainly.
    history = staff_client.get(CHANGELIST + "leaving@example.com/history/").content.decode()
    assert "office" in history and 'id="change-history"' in history
    history = staff_client.get(CHANGELIST + "staying@example.com/history/").content.decode()
    assert "No changes to this subscriber have been made in the admin yet." in history


def test_export_selected_and_export_all_matching_as_csv(staff_client):
    add("a@example.com", CONFIRMED, minutes_ago=2)
    add("b@example.com", minutes_ago=1)
    response = staff_client.post(CHANGELIST, {"action": "export_selected", "_selected_action": ["b@example.com"]})
    assert response["Content-Type"].startswith("text/csv")
    table = rows(response)
    assert table[0][:2] == ["email", "status"] and [r[:2] for r in table[1:]] == [["b@example.com", PENDING]]
    everything = rows(staff_client.get(CHANGELIST + "export/"))
    assert [r[0] for r in everything[1:]] == ["b@example.com", "a@example.com"]
    confirmed = rows(staff_client.get(CHANGELIST + "export/", {"status": CONFIRMED}))
    assert [r[0] for r in confirmed[1:]] == ["a@example.com"]
    assert 'href="/admin/subscribers/subscriber/export/?status=confirmed"' in staff_client.get(
        CHANGELIST, {"status": CONFIRMED}
    ).content.decode().replace("&amp;", "&")


def test_csv_cells_never_start_a_formula():
    assert csv_cell("=HYPERLINK(1)@x.com") == "'=HYPERLINK(1)@x.com"
    assert csv_cell("+1@example.com") == "'+1@example.com"
    assert csv_cell(None) == "" and csv_cell("plain@example.com") == "plain@example.com"


def test_export_and_unsubscribe_need_their_permissions(client, make_editor, aws):
    add("private@example.com", CONFIRMED)
    client.force_login(make_editor("viewer", "subscribers.view_subscriber"))
    page = client.get(CHANGELIST).content.decode()
    assert "private@example.com" in page
    assert "export_selected" not in page and "unsubscribe_selected" not in page and "Export as CSV" not in page
    assert client.get(CHANGELIST + "export/").status_code == 403
    client.post(CHANGELIST, {"action": "unsubscribe_selected", "_selected_action": ["private@example.com"]})
    assert Subscriber.get("private@example.com").status == CONFIRMED


def test_no_add_and_a_read_only_detail_page(staff_client):
    add("someone@example.com")
    assert staff_client.get(CHANGELIST + "add/").status_code == 403
    page = staff_client.get(CHANGELIST + "someone@example.com/change/").content.decode()
    assert "someone@example.com" in page and "Pending confirmation" in page and "<form method" not in page
    assert "Add subscriber" not in staff_client.get(CHANGELIST).content.decode()


def test_delete_selected_subscribers_after_confirmation(staff_client):
    add("erase@example.com")
    selection = {"action": "delete_selected", "_selected_action": ["erase@example.com"]}
    assert "Are you sure" in staff_client.post(CHANGELIST, selection).content.decode()
    staff_client.post(CHANGELIST, {**selection, "post": "yes"})
    with pytest.raises(Subscriber.DoesNotExist):
        Subscriber.get("erase@example.com")


def test_the_subscribers_admin_passes_the_system_checks():
    from django.contrib import admin

    from subscribers.placeholders import Subscriber as SubscriberPlaceholder

    model_admin = admin.site._registry[SubscriberPlaceholder]
    assert isinstance(model_admin, SubscriberAdmin) and model_admin.check() == []
