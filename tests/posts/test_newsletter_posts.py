"""Emailing a post to subscribers from the post form: the box, the first publication, the email, test and preview.

On moto: the fan-out queue is a real (mocked) SQS queue, SES is moto's.
"""

import email
import json
import logging
import re
from datetime import timedelta
from email import policy
from html import unescape
from urllib.parse import urlparse

import pytest
from botocore.exceptions import ClientError
from django.test import Client
from django.utils import timezone
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from myblog import queues
from photos.rendering import markdown_for_photo
from posts import emails, services
from posts.models import Post
from posts.rules import DRAFT, PUBLISHED, SCHEDULED
from subscribers import newsletter, tokens
from subscribers.models import SEND_QUEUED, Send
from tests.reader_fixtures import ready_photo

ADD = "/admin/posts/post/add/"
EMAIL_PREVIEW = "/admin/posts/post/email/preview/"
EMAIL_TEST = "/admin/posts/post/email/test/"


def change_url(slug):
    return f"/admin/posts/post/{slug}/change/"


def form_data(**overrides):
    data = {"title": "Hello world", "slug": "", "body": "Some *text*.", "excerpt": "", "tags": "", "author": ""}
    data.update(overrides)
    return data


def text(response):
    return unescape(response.content.decode())


def checkbox(page):
    """The rendered <input> of the “Email to subscribers” box."""
    match = re.search(r'<input[^>]*name="email_subscribers"[^>]*>', page)
    assert match, "no Email to subscribers box"
    return match.group(0)


@pytest.fixture
def fanout_queue(aws):
    """The fan-out queue `start_send` puts a send's first message on; returns a function reading its messages."""
    queues.forget_urls()
    url = aws.client("sqs").create_queue(QueueName=queues.queue_name(newsletter.FANOUT_QUEUE))["QueueUrl"]

    def messages():
        found = []
        while True:
            answer = aws.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
            batch = answer.get("Messages", [])
            if not batch:
                return found
            for message in batch:
                found.append(json.loads(message["Body"]))
                aws.client("sqs").delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    yield messages
    queues.forget_urls()


@pytest.fixture
def ses(aws, settings):
    settings.MYBLOG_SES_SENDER = "MyBlog <hello@myblog.example>"
    aws.client("sesv2").create_email_identity(EmailIdentity="myblog.example")
    return aws


def sent_messages():
    backend = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    return [email.message_from_string(m.raw_data, policy=policy.default) for m in backend.sent_messages]


@pytest.fixture
def sender(make_editor, client, aws):
    """An editor who may publish posts and control sends."""
    user = make_editor("sender", "posts.view_post", "posts.add_post", "posts.change_post", "posts.publish_post")
    from tests.admin_fixtures import grant

    user = grant(user, "subscribers.change_send", "subscribers.view_send")
    client.force_login(user)
    return client


# -- the box on the form -----------------------------------------------------------------------


def test_the_box_is_ticked_for_a_new_post_and_stored_as_chosen(editor_client):
    page = text(editor_client.get(ADD))
    box = checkbox(page)
    assert "checked" in box and "disabled" not in box
    assert "Email to subscribers" in page

    editor_client.post(ADD, form_data(title="Ticked", email_subscribers="on", _save="1"))
    editor_client.post(ADD, form_data(title="Unticked", _save="1"))
    assert Post.get("ticked").email_subscribers is True
    assert Post.get("unticked").email_subscribers is False
    # A draft keeps the editor's choice, and may still change it.
    assert "checked" in checkbox(text(editor_client.get(change_url("ticked"))))
    box = checkbox(text(editor_client.get(change_url("unticked"))))
    assert "checked" not in box and "disabled" not in box


def test_the_box_is_refused_once_the_post_was_published(editor_client, fanout_queue):
    post = services.create_post(slug="old-news", title="Old news", status=PUBLISHED, publish_at=timezone.now())
    assert post.first_published_at is not None
    page = text(editor_client.get(change_url("old-news")))
    box = checkbox(page)
    assert "disabled" in box and "checked" not in box
    assert "This post was published before" in page and "Only a post's first publication is emailed" in page

    # Ticking it anyway (a tampered form) changes nothing, and neither does unpublishing.
    editor_client.post(
        change_url("old-news"), form_data(title="Old news", email_subscribers="on", _version=str(post.version))
    )
    assert Post.get("old-news").email_subscribers is None  # as it was
    services.unpublish_post("old-news")
    assert Post.get("old-news").status == DRAFT
    box = checkbox(text(editor_client.get(change_url("old-news"))))
    assert "disabled" in box and "checked" not in box
    assert fanout_queue() == [] and newsletter.get_send("old-news") is None


def test_the_box_is_refused_for_a_post_that_already_has_a_send(editor_client, fanout_queue):
    services.create_post(slug="sent-once", title="Sent once")
    newsletter.start_send("sent-once", newsletter.Content("Sent once", "<p>x</p>", "x"))
    page = text(editor_client.get(change_url("sent-once")))
    assert "disabled" in checkbox(page)
    assert "already been started" in page


# -- the first publication starts one send ---------------------------------------------------


def test_publishing_with_the_box_starts_exactly_one_send_and_republishing_none(editor_client, editor, fanout_queue):
    editor_client.post(ADD, form_data(title="Big news", body="It *happened*.", email_subscribers="on", _publish="1"))
    post = Post.get("big-news")
    assert post.status == PUBLISHED and post.first_published_at is not None
    send = newsletter.get_send("big-news")
    assert send.state == SEND_QUEUED and send.created_by == editor.username
    assert send.subject == "Big news"
    content = newsletter.unpack(send)
    assert "It <em>happened</em>." in content.html and "It happened." in content.text
    assert fanout_queue() == [{"send": "big-news", "page": 0, "cursor": None}]

    first_published = post.first_published_at
    services.unpublish_post("big-news")
    editor_client.post(
        change_url("big-news"),
        form_data(title="Big news", email_subscribers="on", _version=str(Post.get("big-news").version), _publish="1"),
    )
    post = Post.get("big-news")
    assert post.status == PUBLISHED and post.first_published_at == first_published
    assert fanout_queue() == []
    assert len(list(Send.scan())) == 1 and newsletter.get_send("big-news").created_at == send.created_at


def test_publishing_without_the_box_sends_nothing(editor_client, fanout_queue):
    editor_client.post(ADD, form_data(title="Quiet", _publish="1"))
    assert Post.get("quiet").status == PUBLISHED
    assert newsletter.get_send("quiet") is None and fanout_queue() == []


def test_a_post_made_without_the_form_sends_nothing_unless_asked(aws, fanout_queue):
    services.create_post(slug="by-api", title="By API", status=PUBLISHED)
    assert Post.get("by-api").email_subscribers is None and newsletter.get_send("by-api") is None
    services.create_post(slug="asked", title="Asked", status=PUBLISHED, email_subscribers=True)
    assert newsletter.get_send("asked") is not None


def test_a_scheduled_post_is_sent_when_the_scheduler_publishes_it(aws, fanout_queue):
    now = timezone.now()
    services.create_post(
        slug="later",
        title="Later",
        status=SCHEDULED,
        publish_at=now + timedelta(minutes=1),
        email_subscribers=True,
        now=now,
        user="editor",
    )
    assert newsletter.get_send("later") is None and fanout_queue() == []
    assert services.publish_due_posts(now=now + timedelta(minutes=5)) == ["later"]
    send = newsletter.get_send("later")
    assert send is not None and send.state == SEND_QUEUED and send.created_by == "scheduler"
    assert fanout_queue() == [{"send": "later", "page": 0, "cursor": None}]
    assert services.publish_due_posts(now=now + timedelta(minutes=10)) == []
    assert fanout_queue() == []


def test_a_send_that_cannot_start_is_logged_never_fails_the_publish_and_can_be_started(
    sender, fanout_queue, monkeypatch, caplog
):
    def refused(*args, **kwargs):
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "busy"}}, "PutItem")

    original = newsletter.start_send
    monkeypatch.setattr(newsletter, "start_send", refused)
    with caplog.at_level(logging.ERROR, logger="posts.newsletter"):
        response = sender.post(ADD, form_data(title="Unlucky", email_subscribers="on", _publish="1"))
    assert response.status_code == 302
    assert Post.get("unlucky").status == PUBLISHED
    assert "could not be started" in caplog.text
    page = text(sender.get(change_url("unlucky")))
    assert "The email to subscribers was not started" in page
    assert 'name="action" value="start"' in page

    # Saving the post again (the box no longer offered) keeps the panel saying so.
    version = str(Post.get("unlucky").version)
    sender.post(change_url("unlucky"), form_data(title="Unlucky", body="Edited.", _version=version))
    assert Post.get("unlucky").body == "Edited." and Post.get("unlucky").email_subscribers is True
    assert "The email to subscribers was not started" in text(sender.get(change_url("unlucky")))

    monkeypatch.setattr(newsletter, "start_send", original)
    response = sender.post("/admin/posts/post/unlucky/send/", {"action": "start"})
    assert response.status_code == 302 and response["Location"] == change_url("unlucky")
    assert newsletter.get_send("unlucky").state == SEND_QUEUED
    assert fanout_queue() == [{"send": "unlucky", "page": 0, "cursor": None}]
    assert "The email to subscribers is started." in text(sender.get(change_url("unlucky")))
    # Nothing more to start.
    sender.post("/admin/posts/post/unlucky/send/", {"action": "start"})
    assert len(list(Send.scan())) == 1


# -- the email -------------------------------------------------------------------------------------

ATTRIBUTE_URLS = re.compile(r'\s(?:href|src)="([^"]*)"')


def test_the_email_has_absolute_links_the_cover_rendition_and_works_in_dark_mode(aws):
    cover = ready_photo("newsletter-cover")
    inline = ready_photo("newsletter-inline")
    body = (
        "Read [the other post](/posts/other/), [a section](#details), [a page](notes/) and "
        "[elsewhere](https://example.org/x).\n\n"
        + markdown_for_photo(inline.key, "A kite", "Over the ridge")
        + '\n\n<script>alert(1)</script><a href="javascript:alert(1)">bad</a>\n\n- one\n- two\n'
    )
    post = services.create_post(
        slug="kites",
        title="Kites & <ridges>",
        excerpt="Birds at dawn.",
        body=body,
        cover_image=cover.key,
        cover_alt="The ridge",
    )
    content = emails.render(post)
    html, plain = content.html, content.text
    assert content.subject == "Kites & <ridges>"
    assert "<title>Kites &amp; &lt;ridges&gt;</title>" in html

    urls = ATTRIBUTE_URLS.findall(html)
    assert urls and all(
        url.startswith(("https://", "mailto:")) or url == newsletter.UNSUBSCRIBE_PLACEHOLDER for url in urls
    ), urls
    assert "https://blog.example.com/posts/other/" in urls
    assert "https://blog.example.com/posts/kites/#details" in urls
    assert "https://blog.example.com/posts/kites/notes/" in urls
    assert "https://example.org/x" in urls
    # The cover and the inline photo: JPEG renditions, through CloudFront.
    rendition = "https://d111111abcdef8.cloudfront.net/media/renditions/"
    cover_src = re.search(r'<img src="([^"]+)" alt="The ridge"', html).group(1)
    assert cover_src.startswith(rendition) and cover_src.endswith(".jpg")
    inline_src = re.search(r'<img alt="A kite" src="([^"]+)"', html).group(1)
    assert inline_src.startswith(rendition)
    assert "originals" not in html and "<picture" not in html and "srcset" not in html
    # Sanitised as on the site.
    assert "<script" not in html and "javascript:" not in html
    # Inline styles, and dark mode for the clients that follow it.
    assert '<p style="' in html and '<li style="' in html
    assert '<meta name="color-scheme" content="light dark">' in html
    assert "@media (prefers-color-scheme: dark)" in html
    assert re.search(r'<a[^>]+href="https://blog.example.com/posts/kites/"[^>]*>Read on the site</a>', html)
    assert f'href="{newsletter.UNSUBSCRIBE_PLACEHOLDER}"' in html

    # The plain text says the same, with its links written out.
    assert "Kites & <ridges>" in plain and "Birds at dawn." in plain
    assert "the other post (https://blog.example.com/posts/other/)" in plain
    assert "Read on the site: https://blog.example.com/posts/kites/" in plain
    assert "[A kite]" in plain and "- one\n- two" in plain
    assert newsletter.UNSUBSCRIBE_PLACEHOLDER in plain
    assert "<" not in plain.replace("<ridges>", "")


def test_without_a_media_domain_renditions_are_made_absolute_on_the_site(aws, settings):
    cover = ready_photo("local-cover")
    settings.MEDIA_URL = "/media/"
    post = services.create_post(slug="local", title="Local", cover_image=cover.key, cover_alt="Local cover")
    html = emails.render(post).html
    assert re.search(r'<img src="https://blog\.example\.com/media/renditions/[^"]+\.jpg" alt="Local cover"', html)


def test_each_recipients_copy_has_its_own_one_click_unsubscribe(aws):
    post = services.create_post(slug="headers", title="Headers", body="Text.")
    message = newsletter.personalise(emails.render(post), "reader@example.com")
    unsubscribe = message["List-Unsubscribe"].strip("<>")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe.startswith("https://blog.example.com/")
    token = urlparse(unsubscribe).path.rstrip("/").rsplit("/", 1)[-1]
    assert tokens.email_from_unsubscribe_token(token) == "reader@example.com"
    for part in (message.get_body(("plain",)), message.get_body(("html",))):
        body = part.get_content()
        assert unsubscribe in body and newsletter.UNSUBSCRIBE_PLACEHOLDER not in body


# -- test and preview from the form ----------------------------------------------------------------


def test_send_a_test_to_me_sends_the_forms_unsaved_content_to_the_editor(editor_client, ses):
    response = editor_client.post(EMAIL_TEST, form_data(title="Draft title", body="Unsaved *words*."))
    assert response.status_code == 200
    assert response.json() == {"message": "A test email was sent to editor@example.com."}
    (message,) = sent_messages()
    assert message["To"] == "editor@example.com"
    assert message["Subject"] == "[Test] Draft title"
    assert "Unsaved <em>words</em>." in message.get_body(("html",)).get_content()
    assert "Unsaved words." in message.get_body(("plain",)).get_content()
    assert message["List-Unsubscribe"] == "<https://blog.example.com/subscribe/>"
    assert list(Post.scan()) == [] and list(Send.scan()) == []


def test_send_a_test_for_a_saved_post_uses_the_form_not_the_saved_text(editor_client, ses):
    services.create_post(slug="saved", title="Saved", body="Saved text.")
    response = editor_client.post(EMAIL_TEST, {**form_data(title="Saved", body="Edited text."), "post": "saved"})
    assert response.status_code == 200
    (message,) = sent_messages()
    assert "Edited text." in message.get_body(("plain",)).get_content()
    assert "Saved text." not in message.get_body(("plain",)).get_content()


def test_send_a_test_without_an_email_address_says_so(client, make_editor, ses):
    user = make_editor("nomail", "posts.view_post", "posts.add_post", "posts.change_post")
    user.email = ""
    user.save()
    client.force_login(user)
    assert "Your account has no email address" in text(client.get(ADD))
    response = client.post(EMAIL_TEST, form_data())
    assert response.status_code == 400
    assert "Your account has no email address" in response.json()["error"]
    assert sent_messages() == []


def test_send_a_test_that_ses_refuses_is_a_message_not_a_500(editor_client, aws):
    # No verified identity: SES refuses the sender.
    response = editor_client.post(EMAIL_TEST, form_data())
    assert response.status_code == 502 and "could not be sent" in response.json()["error"]


def test_preview_email_renders_the_forms_content(editor_client):
    response = editor_client.post(EMAIL_PREVIEW, form_data(title="Preview me", body="A [link](/posts/x/)."))
    assert response.status_code == 200
    data = response.json()
    assert data["subject"] == "Preview me"
    assert '<a href="https://blog.example.com/posts/x/"' in data["html"]
    assert newsletter.UNSUBSCRIBE_PLACEHOLDER not in data["html"] + data["text"]
    assert "A link (https://blog.example.com/posts/x/)." in data["text"]
    assert editor_client.post(EMAIL_PREVIEW, form_data(title="")).status_code == 400


def test_email_preview_and_test_need_post_csrf_and_an_editor(editor_client, client, editor, make_editor, ses):
    for url in (EMAIL_PREVIEW, EMAIL_TEST):
        assert editor_client.get(url).status_code == 405
        strict = Client(enforce_csrf_checks=True)
        strict.force_login(editor)
        assert strict.post(url, form_data()).status_code == 403
        assert Client().post(url, form_data()).status_code == 302  # to the login page
    client.force_login(make_editor("viewer", "posts.view_post"))
    assert client.post(EMAIL_PREVIEW, form_data()).status_code == 403
    assert client.post(EMAIL_TEST, form_data()).status_code == 403
    assert sent_messages() == []


def test_the_form_offers_preview_and_test_buttons(editor_client):
    page = text(editor_client.get(ADD))
    assert 'id="email-preview-button"' in page and 'id="email-test-button"' in page
    assert f'data-preview-url="{EMAIL_PREVIEW}"' in page and f'data-test-url="{EMAIL_TEST}"' in page
    assert "The test goes to editor@example.com." in page
