"""Newsletter sends in the admin: the post's send panel, its JSON status, its controls, and the list of sends."""

from datetime import timedelta
from html import unescape

import pytest
from django.test import Client
from django.utils import timezone

from myblog import queues
from posts import services
from posts.rules import PUBLISHED
from subscribers import newsletter
from subscribers.models import SEND_CANCELLED, SEND_PAUSED, SEND_QUEUED, SEND_SENDING, Send
from tests.admin_fixtures import POST_PERMISSIONS, grant

SENDS = "/admin/subscribers/send/"


def change_url(slug):
    return f"/admin/posts/post/{slug}/change/"


def status_url(slug):
    return f"/admin/posts/post/{slug}/send/status/"


def control_url(slug):
    return f"/admin/posts/post/{slug}/send/"


def text(response):
    return unescape(response.content.decode())


@pytest.fixture
def fanout_queue(aws):
    queues.forget_urls()
    url = aws.client("sqs").create_queue(QueueName=queues.queue_name(newsletter.FANOUT_QUEUE))["QueueUrl"]

    def count():
        name = "ApproximateNumberOfMessages"
        return int(aws.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=[name])["Attributes"][name])

    yield count
    queues.forget_urls()


@pytest.fixture
def controller(make_editor, client, aws):
    """An editor who may publish and control sends."""
    user = make_editor("controller", *POST_PERMISSIONS)
    user = grant(user, "subscribers.change_send", "subscribers.view_send")
    client.force_login(user)
    return client


def sent_post(slug, title=None, *, now=None, **counts):
    """A live post whose send has started, with the counters given."""
    now = now or timezone.now()
    services.create_post(slug=slug, title=title or slug.title(), status=PUBLISHED, publish_at=now, now=now)
    send = newsletter.start_send(slug, newsletter.Content(title or slug.title(), "<p>x</p>", "x"), now=now)
    if counts:
        send.update(actions=[getattr(Send, name).set(value) for name, value in counts.items()])
    return newsletter.get_send(slug)


# -- the post's page ---------------------------------------------------------------------------


def test_the_post_page_shows_its_send_with_progress_and_controls(controller, fanout_queue):
    sent_post("launch", "Launch day", state=SEND_SENDING, audience=200, sent=50, skipped=2, failed=1, bounced=3)
    page = text(controller.get(change_url("launch")))
    assert 'id="send-panel"' in page and 'data-state="sending"' in page
    assert f'data-status-url="{status_url("launch")}"' in page
    assert '<progress class="send-progress" max="100" value="26"' in page  # 53 of 200
    for label, field, value in (
        ("Queued", "audience", 200),
        ("Sent", "sent", 50),
        ("Skipped", "skipped", 2),
        ("Failed", "failed", 1),
        ("Bounced", "bounced", 3),
    ):
        assert f'<dt>{label}</dt><dd data-field="{field}">{value}</dd>' in page
    assert "Sending" in page
    # Pause and cancel are offered (buttons of the form outside the post form); resume is not.
    assert f'<form method="post" id="send-control" action="{control_url("launch")}" hidden>' in page
    pause = page.split('value="pause"', 1)[1].split(">", 1)[0]
    resume = page.split('value="resume"', 1)[1].split(">", 1)[0]
    assert "hidden" not in pause and "hidden" in resume
    assert 'src="/static/posts/admin/post_email.js"' in page


def test_a_paused_send_says_why(controller, fanout_queue):
    sent_post("paused")
    newsletter.pause_send("paused", "The complaint rate 0.2% passed the limit of 0.1%.")
    page = text(controller.get(change_url("paused")))
    assert "Paused" in page and "The complaint rate 0.2% passed the limit of 0.1%." in page


def test_editors_without_the_send_permission_see_the_send_but_no_controls(editor_client, fanout_queue):
    sent_post("seen")
    page = text(editor_client.get(change_url("seen")))
    assert 'id="send-panel"' in page
    assert 'id="send-control"' not in page and 'value="pause"' not in page
    assert editor_client.post(control_url("seen"), {"action": "pause"}).status_code == 403
    assert newsletter.get_send("seen").state == SEND_QUEUED


def test_a_post_waiting_for_its_first_publication_says_it_will_be_emailed(editor_client, aws):
    services.create_post(slug="soon", title="Soon", email_subscribers=True)
    page = text(editor_client.get(change_url("soon")))
    assert "This post will be emailed to every confirmed subscriber when it is published" in page
    services.create_post(slug="never", title="Never", email_subscribers=False)
    assert 'id="send-panel"' not in text(editor_client.get(change_url("never")))


# -- the status the panel polls ----------------------------------------------------------------------


def test_the_status_view_answers_json_behind_login_and_permission(editor_client, make_editor, fanout_queue):
    sent_post("status", audience=10, sent=4, rejected=1)
    response = Client().get(status_url("status"))
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    nobody = Client()
    nobody.force_login(make_editor("nobody"))
    response = nobody.get(status_url("status"))
    assert response.status_code == 403 and "error" in response.json()

    response = editor_client.get(status_url("status"))
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    status = response.json()
    assert status["post"] == "status" and status["state"] == SEND_QUEUED and status["state_label"] == "Queued"
    assert (status["audience"], status["sent"], status["rejected"], status["processed"], status["percent"]) == (
        10,
        4,
        1,
        5,
        50,
    )
    assert set(status) >= {"skipped", "failed", "bounced", "complained", "paused_reason", "fanout_done"}
    services.create_post(slug="unsent", title="Unsent")
    assert editor_client.get(status_url("unsent")).status_code == 404


# -- pause, resume, cancel -------------------------------------------------------------------------


def test_pause_resume_and_cancel_from_the_post_page(controller, fanout_queue):
    sent_post("controlled")
    assert fanout_queue() == 1
    response = controller.post(control_url("controlled"), {"action": "pause"})
    assert response.status_code == 302 and response["Location"] == change_url("controlled")
    send = newsletter.get_send("controlled")
    assert send.state == SEND_PAUSED and send.paused_reason == "Paused by controller."
    assert "The email to subscribers is paused" in text(controller.get(change_url("controlled")))

    controller.post(control_url("controlled"), {"action": "resume"})
    assert newsletter.get_send("controlled").state == SEND_SENDING
    assert fanout_queue() == 2  # the fan-out carries on from its cursor

    controller.post(control_url("controlled"), {"action": "cancel"})
    assert newsletter.get_send("controlled").state == SEND_CANCELLED
    # An ended send cannot be resumed: a message, not an error page.
    controller.post(control_url("controlled"), {"action": "resume"})
    page = text(controller.get(change_url("controlled")))
    assert "cannot be made sending" in page and newsletter.get_send("controlled").state == SEND_CANCELLED
    assert 'value="pause"' in page and 'value="cancel"' in page  # present for the script, hidden
    assert page.split('value="cancel"', 1)[1].split(">", 1)[0].count("hidden") == 1


def test_the_controls_need_post_csrf_and_the_permission(controller, make_editor, fanout_queue):
    sent_post("guarded")
    assert controller.get(control_url("guarded")).status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(grant(make_editor("strict", *POST_PERMISSIONS), "subscribers.change_send"))
    assert strict.post(control_url("guarded"), {"action": "cancel"}).status_code == 403
    assert Client().post(control_url("guarded"), {"action": "cancel"}).status_code == 302  # to the login page
    assert newsletter.get_send("guarded").state == SEND_QUEUED
    controller.post(control_url("guarded"), {"action": "explode"})
    assert newsletter.get_send("guarded").state == SEND_QUEUED


# -- the list of sends -------------------------------------------------------------------------------


def test_the_list_of_sends_is_newest_first_and_links_each_post(controller, fanout_queue):
    now = timezone.now()
    sent_post("older", "Older post", now=now - timedelta(days=2), audience=5, sent=5, state="done")
    sent_post("newer", "Newer post", now=now - timedelta(hours=1), audience=8, sent=2)
    page = text(controller.get(SENDS))
    assert page.index("Newer post") < page.index("Older post")
    assert '<a href="/admin/posts/post/newer/change/">Newer post</a>' in page
    assert "Sent" in page and '<progress max="100" value="100">' in page
    assert "Delete selected" not in page and "/admin/subscribers/send/add/" not in page
    assert 'href="/admin/subscribers/send/"' in text(controller.get("/admin/"))


def test_the_list_of_sends_pauses_and_cancels_selected_sends(controller, fanout_queue):
    sent_post("one")
    sent_post("two")
    controller.post(SENDS, {"action": "pause_selected", "_selected_action": ["one", "two"]})
    assert [newsletter.get_send(s).state for s in ("one", "two")] == [SEND_PAUSED, SEND_PAUSED]
    controller.post(SENDS, {"action": "cancel_selected", "_selected_action": ["one"]})
    assert newsletter.get_send("one").state == SEND_CANCELLED
    page = text(controller.get(SENDS))
    assert "Cancelled 1 newsletter send." in page


def test_a_send_page_is_read_only_and_cannot_be_deleted(controller, fanout_queue):
    sent_post("kept", "Kept post", audience=3, sent=3)
    page = text(controller.get("/admin/subscribers/send/kept/change/"))
    assert "Kept post" in page and 'name="_save"' not in page and "deletelink" not in page
    assert controller.post("/admin/subscribers/send/kept/delete/").status_code == 403
    assert newsletter.get_send("kept") is not None


def test_the_list_of_sends_needs_its_permission(editor_client, fanout_queue):
    # Every post permission, none of the sends'.
    assert editor_client.get(SENDS).status_code == 403


def test_a_send_that_cannot_be_read_leaves_the_post_page_working(editor_client, aws, monkeypatch, caplog):
    from botocore.exceptions import ClientError

    services.create_post(slug="dark", title="Dark", email_subscribers=True)

    def denied(slug):
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetItem")

    monkeypatch.setattr(newsletter, "get_send", denied)
    response = editor_client.get(change_url("dark"))
    assert response.status_code == 200
    page = text(response)
    assert "could not be read right now" in page
    assert 'name="email_subscribers"' in page  # still offered: the send's conditional put guards it
    assert editor_client.get(status_url("dark")).status_code == 503
    assert "could not be read" in caplog.text
