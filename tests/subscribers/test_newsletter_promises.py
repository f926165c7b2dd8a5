"""The site promises subscribers what the newsletter does: one email for each new post, unsubscribe any time."""

import re

import pytest
from django.test import Client

from posts import services as posts
from posts.rules import PUBLISHED
from subscribers import services, tokens

pytestmark = pytest.mark.usefixtures("no_sql")


def test_the_subscribe_page_promises_one_email_for_each_new_post(aws):
    page = Client().get("/subscribe/").content.decode()
    assert "One email for each new post, when it is published." in page
    assert "unsubscribe at any time" in page


def test_the_confirm_page_says_what_comes_next(aws):
    services.subscribe("c@example.com")
    browser = Client(enforce_csrf_checks=True)
    path = f"/subscribe/confirm/{tokens.confirm_token('c@example.com')}/"
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', browser.get(path).content.decode()).group(1)
    page = browser.post(path, {"csrfmiddlewaretoken": token}).content.decode()
    assert "you will get one email for each new post, from the next one on" in page
    assert "unsubscribe at any time" in page


def test_the_post_pages_invitation_promises_the_same(aws):
    posts.create_post(slug="invite", title="Invite", status=PUBLISHED)
    for path in ("/", "/posts/invite/"):
        page = Client().get(path).content.decode()
        assert "One email for each new post, no tracking, unsubscribe any time." in page
