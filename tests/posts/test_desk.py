"""The editor's desk: autosave slots, presence heartbeats, their endpoints, the editor's time zone."""

import json
import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from posts import autosaves, presence, services
from posts.models import Post, Revision
from tests.admin_fixtures import POST_PERMISSIONS

AUTOSAVE = "/admin/posts/post/desk/autosave/"
DISCARD = "/admin/posts/post/desk/autosave/discard/"
PRESENCE = "/admin/posts/post/desk/presence/"
LEAVE = "/admin/posts/post/desk/presence/leave/"
ADD = "/admin/posts/post/add/"


def change_url(slug):
    return f"/admin/posts/post/{slug}/change/"


@pytest.fixture
def desk_client(client, make_editor, dynamodb):
    client.force_login(make_editor("editor", *POST_PERMISSIONS))
    return client


# -- autosave slots ---------------------------------------------------------------------------


def test_a_slot_keeps_the_fields_and_never_touches_the_post(dynamodb):
    post = services.create_post(slug="kites", title="Kites", body="Old.", user="ed")
    autosaves.save_slot("kites", "ed", {"title": "Kites!", "body": "New.", "csrfmiddlewaretoken": "x"}, base_version=1)
    slot = autosaves.get_slot("kites", "ed")
    assert autosaves.slot_fields(slot) == {"title": "Kites!", "body": "New."}
    assert int(slot.base_version) == 1
    assert autosaves.get_slot("kites", "someone-else") is None
    stored = Post.get("kites")
    assert (stored.version, stored.body) == (post.version, "Old.")
    assert len(list(Revision.query("kites"))) == 1


def test_an_expired_slot_is_not_offered_though_ttl_has_not_deleted_it(dynamodb):
    now = timezone.now()
    autosaves.save_slot(None, "ed", {"title": "Draft"}, now=now)
    assert autosaves.get_slot(None, "ed", now=now + autosaves.LIFETIME - timedelta(seconds=1)) is not None
    assert autosaves.get_slot(None, "ed", now=now + autosaves.LIFETIME) is None
    autosaves.delete_slot(None, "ed")
    assert autosaves.get_slot(None, "ed", now=now) is None


def test_the_tables_expire_their_items_through_ttl(dynamodb):
    from myblog import aws
    from posts.models import Autosave, Presence

    client = aws.client("dynamodb")
    for model in (Autosave, Presence):
        described = client.describe_time_to_live(TableName=model.Meta.table_name)["TimeToLiveDescription"]
        assert described == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}


@pytest.mark.parametrize(
    "values",
    [{}, {"title": ["not", "text"]}, {"body": "x" * (autosaves.MAX_BYTES + 1)}],
)
def test_bad_slots_are_refused(dynamodb, values):
    with pytest.raises(autosaves.BadSlot):
        autosaves.save_slot("kites", "ed", values)


# -- presence ---------------------------------------------------------------------------------


def test_heartbeats_show_the_other_editors_until_they_expire(dynamodb):
    start = timezone.now()
    presence.heartbeat("kites", "ann", "Ann Lee", now=start)
    presence.heartbeat("kites", "bob", now=start + timedelta(seconds=5))
    assert [p.name for p in presence.others("kites", "bob", now=start + timedelta(seconds=6))] == ["Ann Lee"]
    assert [p.user for p in presence.others("kites", "ann", now=start + timedelta(seconds=6))] == ["bob"]
    # Ann renews: her `since` stays.
    later = start + timedelta(seconds=40)
    presence.heartbeat("kites", "ann", "Ann Lee", now=later)
    (ann,) = presence.others("kites", "bob", now=later)
    assert abs(ann.since - start) < timedelta(seconds=1)
    # Not renewed within its lifetime: gone, though the item is still there.
    gone = later + presence.LIFETIME
    assert presence.others("kites", "bob", now=gone) == []
    # Back after expiring: a new `since`.
    presence.heartbeat("kites", "ann", "Ann Lee", now=gone)
    (ann,) = presence.others("kites", "bob", now=gone)
    assert abs(ann.since - gone) < timedelta(seconds=1)


def test_leaving_deletes_the_heartbeat(dynamodb):
    presence.heartbeat("kites", "ann")
    presence.leave("kites", "ann")
    assert presence.others("kites", "bob") == []
    presence.leave("kites", "ann")  # twice is fine


# -- the endpoints ------------------------------------------------------------------------------


def test_autosave_endpoint_saves_the_editors_slot_and_the_form_offers_it(desk_client):
    services.create_post(slug="kites", title="Kites", body="Old.", user="someone")
    answer = desk_client.post(AUTOSAVE, {"post": "kites", "title": "Kites", "body": "Typed.", "base_version": "1"})
    assert answer.status_code == 200 and "saved_at" in answer.json()
    assert autosaves.slot_fields(autosaves.get_slot("kites", "editor"))["body"] == "Typed."
    page = desk_client.get(change_url("kites")).content.decode()
    offered = json.loads(re.search(r'id="desk-autosave-slot" type="application/json">(.*?)</script>', page).group(1))
    assert offered["fields"]["body"] == "Typed." and offered["base_version"] == 1
    assert Post.get("kites").body == "Old."
    # Discard deletes it.
    assert desk_client.post(DISCARD, {"post": "kites"}).json() == {"discarded": True}
    assert autosaves.get_slot("kites", "editor") is None


def test_a_successful_save_deletes_the_slot(desk_client):
    desk_client.post(AUTOSAVE, {"post": "", "title": "New one", "body": "Typed."})
    assert autosaves.get_slot(None, "editor") is not None
    assert "desk-autosave-slot" in desk_client.get(ADD).content.decode()
    saved = desk_client.post(ADD, {"title": "New one", "slug": "", "body": "Typed.", "excerpt": "", "tags": ""})
    assert saved.status_code == 302
    assert autosaves.get_slot(None, "editor") is None


def test_desk_endpoints_refuse_get_and_bad_input(desk_client):
    services.create_post(slug="kites", title="Kites", user="ed")
    for url in (AUTOSAVE, DISCARD, PRESENCE, LEAVE):
        answer = desk_client.get(url)
        assert answer.status_code == 405 and "error" in answer.json()
    refusals = [
        (AUTOSAVE, {"post": "Not a slug!", "title": "x"}, 400),
        (AUTOSAVE, {"post": "kites"}, 400),  # nothing to save
        (AUTOSAVE, {"post": "kites", "title": "x", "base_version": "two"}, 400),
        (AUTOSAVE, {"post": "kites", "body": "x" * (autosaves.MAX_BYTES + 10)}, 400),
        (AUTOSAVE, {"post": "missing", "title": "x"}, 404),
        (PRESENCE, {"post": ""}, 400),
        (PRESENCE, {"post": "missing"}, 404),
        (LEAVE, {"post": "../x"}, 400),
    ]
    for url, data, status in refusals:
        answer = desk_client.post(url, data)
        assert answer.status_code == status, (url, data, answer.content)
        assert "error" in answer.json()


def test_desk_endpoints_need_staff_the_change_permission_and_csrf(client, make_editor, dynamodb):
    services.create_post(slug="kites", title="Kites", user="ed")
    client.force_login(make_editor("viewer", "view_post"))
    for url in (AUTOSAVE, DISCARD, PRESENCE, LEAVE):
        answer = client.post(url, {"post": "kites", "title": "x"})
        assert answer.status_code == 403 and "error" in answer.json()
    assert client.post(AUTOSAVE, {"post": "", "title": "x"}).status_code == 403
    client.force_login(make_editor("outsider", *POST_PERMISSIONS, staff=False))
    assert client.post(AUTOSAVE, {"post": "kites", "title": "x"}).status_code == 302  # to the login page
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(make_editor("editor", *POST_PERMISSIONS))
    assert strict.post(AUTOSAVE, {"post": "kites", "title": "x"}).status_code == 403
    assert strict.post(PRESENCE, {"post": "kites"}).status_code == 403
    assert autosaves.get_slot("kites", "editor") is None


def test_presence_endpoint_answers_the_other_editors(client, make_editor, dynamodb):
    services.create_post(slug="kites", title="Kites", user="ed")
    ann = make_editor("ann", *POST_PERMISSIONS)
    ann.first_name, ann.last_name = "Ann", "Lee"
    ann.save()
    make_editor("bob", *POST_PERMISSIONS)
    client.force_login(ann)
    assert client.post(PRESENCE, {"post": "kites"}).json() == {"others": [], "heartbeat": presence.HEARTBEAT}
    other = Client()
    other.force_login(User.objects.get(username="bob"))
    (seen,) = other.post(PRESENCE, {"post": "kites"}).json()["others"]
    assert (seen["user"], seen["name"]) == ("ann", "Ann Lee")
    assert client.post(LEAVE, {"post": "kites"}).json() == {"left": True}
    assert other.post(PRESENCE, {"post": "kites"}).json()["others"] == []


# -- the editor's time zone ------------------------------------------------------------------


def test_go_live_at_round_trips_in_the_editors_zone(desk_client):
    answer = desk_client.post(
        ADD,
        {
            "title": "Later",
            "slug": "later",
            "body": "Soon.",
            "excerpt": "",
            "tags": "",
            "publish_at": "2031-01-15T15:54",
            "editor_tz": "America/New_York",
            "_schedule": "Schedule",
        },
        follow=True,
    )
    post = Post.get("later")
    assert post.publish_at == datetime(2031, 1, 15, 20, 54, tzinfo=UTC)
    messages = [str(m) for m in answer.context["messages"]]
    assert messages == [
        "The post “Later” was scheduled to go live on 15 January 2031, 15:54 America/New_York (20:54 UTC)."
    ]
    # The form shows it back in the zone the browser's cookie names, and says so.
    desk_client.cookies["myblog_tz"] = "America/New_York"
    page = unescape(desk_client.get(change_url("later")).content.decode())
    assert 'value="2031-01-15T15:54"' in page
    assert "Time zone: America/New_York." in page
    assert "goes live on 15 January 2031, 15:54 America/New_York (20:54 UTC)." in page
    # In UTC (no cookie) the message names UTC, with one full stop.
    del desk_client.cookies["myblog_tz"]
    page = unescape(desk_client.get(change_url("later")).content.decode())
    assert 'value="2031-01-15T20:54"' in page and "goes live on 15 January 2031, 20:54 UTC." in page
    assert ".." not in re.sub(r"\.\.\.|…", "", page.split("post-state", 1)[1].split("</p>", 1)[0])


@pytest.mark.parametrize("zone", ["Mars/Olympus", "../../etc/passwd", "", "x" * 100])
def test_an_unknown_zone_is_ignored(desk_client, zone):
    desk_client.post(
        ADD,
        {
            "title": "Later",
            "slug": "later",
            "body": "b",
            "excerpt": "",
            "tags": "",
            "publish_at": "2031-01-15T15:54",
            "editor_tz": zone,
            "_schedule": "Schedule",
        },
    )
    assert Post.get("later").publish_at == datetime(2031, 1, 15, 15, 54, tzinfo=UTC)


def test_a_time_that_does_not_exist_in_the_zone_is_a_form_error(desk_client):
    # 2031-03-09 02:30 does not happen in New York (the clocks go from 02:00 to 03:00).
    answer = desk_client.post(
        ADD,
        {
            "title": "Later",
            "slug": "later",
            "body": "b",
            "excerpt": "",
            "tags": "",
            "publish_at": "2031-03-09T02:30",
            "editor_tz": "America/New_York",
            "_schedule": "Schedule",
        },
    )
    assert answer.status_code == 200 and "publish_at" in answer.context["adminform"].form.errors


def test_a_draft_saved_in_another_zone_says_so_without_a_date(desk_client):
    answer = desk_client.post(
        ADD,
        {
            "title": "Plain",
            "slug": "plain",
            "body": "b",
            "excerpt": "",
            "tags": "",
            "publish_at": "",
            "editor_tz": "Asia/Tokyo",
            "_save": "Save draft",
        },
        follow=True,
    )
    assert [str(m) for m in answer.context["messages"]] == ["The post “Plain” was saved as a draft."]
