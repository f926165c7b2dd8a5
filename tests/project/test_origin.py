"""Only CloudFront reaches the site once an origin secret is configured; sign-ups count valid addresses only."""

import hmac

import pytest
from django.core import checks
from django.test import Client

from myblog import origin
from subscribers.models import RateLimit, Subscriber
from tests.reader_fixtures import publish

SECRET = "origin-secret-for-the-tests-0123456789abcdef"
NEW_SECRET = "the-next-origin-secret-after-rotation-9876543210"
VIEWER = "CloudFront-Viewer-Address"


@pytest.fixture
def secret(settings):
    settings.MYBLOG_ORIGIN_VERIFY_SECRET = SECRET
    return SECRET


def through_cloudfront(value=SECRET, viewer="203.0.113.9:50432"):
    return {"X-Origin-Verify": value, VIEWER: viewer}


def subscribe(client, email, headers):
    return client.post("/api/subscribers", {"email": email}, content_type="application/json", headers=headers)


def test_without_a_secret_every_request_is_served(aws, client):
    publish("hello")
    assert client.get("/").status_code == 200
    assert client.get("/api/posts").status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Origin-Verify": ""},
        {"X-Origin-Verify": "guess"},
        {"X-Origin-Verify": SECRET[:-1]},
        {"X-Origin-Verify": SECRET + " "},
        {"X-Origin-Verify": SECRET.upper()},
        {"X-Origin-Verify": "ünïcödé" + SECRET},
        {"X-Origin-Verify-Other": SECRET},
        {VIEWER: "203.0.113.9:1", "X-Forwarded-For": "203.0.113.9", "Via": "2.0 abc.cloudfront.net (CloudFront)"},
    ],
)
def test_a_request_without_the_secret_is_refused(aws, client, secret, headers):
    post = publish("hello")
    api = client.get("/api/posts", headers=headers)
    assert api.status_code == 403
    assert api["Content-Type"] == "application/json"
    assert api.json()["error"]["code"] == "forbidden"
    assert api["Cache-Control"] == "private, no-store"
    for path in ("/", post.get_absolute_url(), "/admin/login/", "/subscribe/", "/no-such-page/"):
        page = client.get(path, headers=headers)
        assert page.status_code == 403, path
        assert page["Content-Type"].startswith("text/plain")
        assert "only served through its public address" in page.content.decode()


def test_the_api_schema_documents_the_refusal(aws, client, schema_checker, secret):
    # (the schema is read before the secret is set)
    response = client.get("/api/posts")
    assert schema_checker.check(response, "/api/posts", "get")["error"]["code"] == "forbidden"


def test_a_request_with_the_secret_is_served(aws, client, secret):
    post = publish("hello")
    headers = through_cloudfront()
    assert client.get("/", headers=headers).status_code == 200
    assert client.get(post.get_absolute_url(), headers=headers).status_code == 200
    assert client.get("/api/posts", headers=headers).status_code == 200
    assert client.get("/admin/login/", headers=headers).status_code == 200


def test_during_a_rotation_the_current_and_the_previous_secret_are_accepted(aws, client, settings):
    publish("hello")
    settings.MYBLOG_ORIGIN_VERIFY_SECRET = NEW_SECRET
    settings.MYBLOG_ORIGIN_VERIFY_SECRET_PREVIOUS = SECRET
    assert client.get("/api/posts", headers=through_cloudfront(NEW_SECRET)).status_code == 200
    assert client.get("/api/posts", headers=through_cloudfront(SECRET)).status_code == 200
    assert client.get("/api/posts", headers=through_cloudfront("a-third-value")).status_code == 403
    # The rotation is over: the old value is refused.
    settings.MYBLOG_ORIGIN_VERIFY_SECRET_PREVIOUS = ""
    assert client.get("/api/posts", headers=through_cloudfront(SECRET)).status_code == 403
    assert client.get("/api/posts", headers=through_cloudfront(NEW_SECRET)).status_code == 200


def test_the_secret_is_compared_in_constant_time_against_every_accepted_value(aws, client, settings, monkeypatch):
    settings.MYBLOG_ORIGIN_VERIFY_SECRET = NEW_SECRET
    settings.MYBLOG_ORIGIN_VERIFY_SECRET_PREVIOUS = SECRET
    compared = []
    real_compare_digest = hmac.compare_digest

    def compare_digest(a, b):
        compared.append(b)
        return real_compare_digest(a, b)

    monkeypatch.setattr(origin.hmac, "compare_digest", compare_digest)
    # A match on the first value still compares the second: the timing tells nothing.
    assert client.get("/api/posts", headers=through_cloudfront(NEW_SECRET)).status_code == 200
    assert compared == [NEW_SECRET.encode(), SECRET.encode()]


def test_forged_viewer_addresses_sent_to_the_api_directly_sign_up_nobody(aws, settings, secret):
    # The outside tester's attack: 15 sign-ups, 15 forged CloudFront-Viewer-Address values.
    client = Client()
    answers = [
        subscribe(client, f"r{index}@example.com", {VIEWER: f"198.51.100.{index}:443"}).status_code
        for index in range(15)
    ]
    assert answers == [403] * 15
    assert list(Subscriber.scan()) == [] and list(RateLimit.scan()) == []


def test_the_rate_limit_counts_viewers_only_on_verified_requests(aws, client, settings, secret, rate_clock):
    settings.MYBLOG_SUBSCRIBE_RATE_LIMIT = 2
    reader = through_cloudfront(viewer="203.0.113.9:1")
    for index in range(2):
        assert subscribe(client, f"a{index}@example.com", reader).status_code == 202
    assert subscribe(client, "a2@example.com", through_cloudfront(viewer="203.0.113.9:2")).status_code == 429
    # Another reader behind CloudFront has attempts of their own.
    assert subscribe(client, "b0@example.com", through_cloudfront(viewer="198.51.100.7:3")).status_code == 202


def test_invalid_addresses_do_not_use_up_a_readers_attempts(aws, client, settings, secret, rate_clock):
    settings.MYBLOG_SUBSCRIBE_RATE_LIMIT = 2
    headers = through_cloudfront()
    for typo in ("reader@example", "reader@@example.com", "reader example.com", "", "x" * 300):
        assert subscribe(client, typo, headers).status_code == 400
    assert list(RateLimit.scan()) == []
    assert subscribe(client, "reader@example.com", headers).status_code == 202
    assert subscribe(client, "other@example.com", headers).status_code == 202
    assert subscribe(client, "third@example.com", headers).status_code == 429


def test_the_form_counts_only_valid_addresses(aws, settings, rate_clock):
    settings.MYBLOG_SUBSCRIBE_RATE_LIMIT = 1
    browser = Client()
    for typo in ("reader@example", "not an address"):
        assert browser.post("/subscribe/", {"email": typo}).status_code == 400
    assert browser.post("/subscribe/", {"email": "reader@example.com"}).status_code == 200
    assert browser.post("/subscribe/", {"email": "other@example.com"}).status_code == 429


def _deploy_check_ids():
    return sorted(message.id for message in checks.run_checks(include_deployment_checks=True) if message.id)


def test_check_deploy_requires_the_secret(settings):
    settings.MYBLOG_ORIGIN_VERIFY_SECRET = ""
    assert "myblog.E001" in _deploy_check_ids()
    error = next(m for m in checks.run_checks(include_deployment_checks=True) if m.id == "myblog.E001")
    assert error.level == checks.ERROR and "MYBLOG_ORIGIN_VERIFY_SECRET" in error.msg
    settings.MYBLOG_ORIGIN_VERIFY_SECRET = SECRET
    assert not [i for i in _deploy_check_ids() if i.startswith("myblog.")]


def test_check_deploy_refuses_a_short_secret_current_or_previous(settings):
    settings.MYBLOG_ORIGIN_VERIFY_SECRET = "short"
    assert "myblog.E002" in _deploy_check_ids()
    settings.MYBLOG_ORIGIN_VERIFY_SECRET = SECRET
    settings.MYBLOG_ORIGIN_VERIFY_SECRET_PREVIOUS = "short"
    assert "myblog.E002" in _deploy_check_ids()


def test_the_secret_is_only_a_deploy_check(settings):
    settings.MYBLOG_ORIGIN_VERIFY_SECRET = ""
    assert not [m for m in checks.run_checks() if m.id and m.id.startswith("myblog.")]
