"""The subscribe form and the pages behind the email links: CSRF, clear messages, never cached, no SQL."""

import re

import pytest
from django.test import Client

from subscribers import services, tokens
from subscribers.models import CONFIRMED, PENDING, UNSUBSCRIBED, RateLimit, Subscriber

pytestmark = pytest.mark.usefixtures("no_sql")

NEVER_CACHED = "max-age=0, no-cache, no-store, must-revalidate, private"


@pytest.fixture
def browser():
    """A browser-like client: CSRF checks on, as in production."""
    return Client(enforce_csrf_checks=True)


def _csrf(browser, path="/subscribe/"):
    page = browser.get(path)
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)


def test_the_form_page_carries_a_csrf_token_and_is_never_cached(aws, browser):
    response = browser.get("/subscribe/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="csrfmiddlewaretoken"' in html and "csrftoken" in response.cookies
    assert '<label for="id_email">Email address</label>' in html
    assert 'type="email"' in html and 'autocomplete="email"' in html
    assert response["Cache-Control"] == NEVER_CACHED
    assert "sessionid" not in response.cookies


def test_posting_without_the_csrf_token_is_refused(aws, browser):
    response = browser.post("/subscribe/", {"email": "a@example.com"})
    assert response.status_code == 403
    assert not list(Subscriber.scan())


def test_subscribing_shows_the_same_clear_message_for_new_and_known_addresses(aws, browser):
    services.subscribe("known@example.com")
    pages = []
    for email in ("new@example.com", "known@example.com"):
        response = browser.post("/subscribe/", {"email": email, "csrfmiddlewaretoken": _csrf(browser)})
        assert response.status_code == 200
        assert response["Cache-Control"] == NEVER_CACHED
        pages.append(response.content.decode())
    assert "Check your inbox" in pages[0] and "confirmation link" in pages[0]
    # The pages differ only by the (masked) CSRF token.
    assert re.sub(r'value="[^"]+"', "", pages[0]) == re.sub(r'value="[^"]+"', "", pages[1])
    assert Subscriber.get("new@example.com").status == PENDING


def test_an_invalid_address_is_shown_back_with_an_accessible_error(aws, browser):
    response = browser.post("/subscribe/", {"email": "not-an-email", "csrfmiddlewaretoken": _csrf(browser)})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'aria-invalid="true"' in html and 'aria-describedby="email-error"' in html
    assert '<p class="error" id="email-error" role="alert">Enter a valid email address.</p>' in html
    assert 'value="not-an-email"' in html
    assert not list(Subscriber.scan())


@pytest.mark.parametrize("email", ["a\u0000b@example.com", "a\u0007b@example.com", "x" * 300 + "@example.com"])
def test_every_invalid_address_gets_the_same_message(aws, browser, email):
    response = browser.post("/subscribe/", {"email": email, "csrfmiddlewaretoken": _csrf(browser)})
    assert response.status_code == 400
    html = response.content.decode()
    assert '<p class="error" id="email-error" role="alert">Enter a valid email address.</p>' in html
    assert not list(Subscriber.scan())


def test_bots_filling_the_hidden_field_get_the_same_answer_and_nothing_happens(aws, browser):
    response = browser.post(
        "/subscribe/", {"email": "bot@example.com", "website": "http://spam", "csrfmiddlewaretoken": _csrf(browser)}
    )
    assert response.status_code == 200 and "Check your inbox" in response.content.decode()
    assert not list(Subscriber.scan())
    assert not list(RateLimit.scan())


def test_the_form_is_rate_limited(aws, browser, settings, rate_clock):
    settings.MYBLOG_SUBSCRIBE_RATE_LIMIT = 1
    token = _csrf(browser)
    assert browser.post("/subscribe/", {"email": "a@example.com", "csrfmiddlewaretoken": token}).status_code == 200
    response = browser.post("/subscribe/", {"email": "b@example.com", "csrfmiddlewaretoken": token})
    assert response.status_code == 429
    assert "Too many sign-up attempts" in response.content.decode() and int(response["Retry-After"]) > 0
    assert Subscriber.count("b@example.com") == 0


def test_a_confirm_link_shows_a_button_and_confirms_on_post(aws, browser):
    services.subscribe("c@example.com")
    path = f"/subscribe/confirm/{tokens.confirm_token('c@example.com')}/"
    page = browser.get(path)
    assert page.status_code == 200 and page["Cache-Control"] == NEVER_CACHED
    assert "Confirm subscription</button>" in page.content.decode()
    # Opening the link (a mail scanner fetching it) does not confirm.
    assert Subscriber.get("c@example.com").status == PENDING
    response = browser.post(path, {"csrfmiddlewaretoken": _csrf(browser, path)})
    assert response.status_code == 200 and "Subscription confirmed" in response.content.decode()
    assert Subscriber.get("c@example.com").status == CONFIRMED


def test_a_bad_confirm_link_says_so(aws, browser):
    response = browser.get("/subscribe/confirm/forged-token/")
    assert response.status_code == 400
    assert "invalid or has expired" in response.content.decode()


def test_an_unsubscribe_link_takes_one_click_posts_without_csrf(aws, browser):
    services.subscribe("u@example.com")
    path = tokens.unsubscribe_url("u@example.com").removeprefix("https://blog.example.com")
    page = browser.get(path)
    assert page.status_code == 200 and "Unsubscribe</button>" in page.content.decode()
    assert Subscriber.get("u@example.com").status == PENDING
    response = browser.post(path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200 and "You are unsubscribed" in response.content.decode()
    assert response["Cache-Control"] == NEVER_CACHED
    assert Subscriber.get("u@example.com").status == UNSUBSCRIBED
    assert browser.post("/subscribe/unsubscribe/forged/").status_code == 400
