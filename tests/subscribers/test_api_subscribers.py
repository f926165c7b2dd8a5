"""The subscribers API: subscribe, confirm, unsubscribe (RFC 8058), and every bad input as a JSON 4xx."""

import json

import pytest
from django.core import signing

from subscribers import services, tokens
from subscribers.models import BOUNCED, CONFIRMED, PENDING, UNSUBSCRIBED, Subscriber

pytestmark = pytest.mark.usefixtures("no_sql")


def _post_json(client, path, data, **extra):
    return client.post(path, json.dumps(data), content_type="application/json", **extra)


def test_subscribe_creates_a_pending_subscriber(aws, client, schema_checker):
    response = _post_json(client, "/api/subscribers", {"email": "  Reader@Example.COM "})
    data = schema_checker.check(response, "/api/subscribers", "post")
    assert response.status_code == 202
    assert data["status"] == "accepted"
    assert Subscriber.get("reader@example.com").status == PENDING
    assert response["Cache-Control"] == "private, no-store"


def test_subscribe_answers_the_same_whoever_is_asking_about(aws, client, schema_checker):
    services.subscribe("pending@example.com")
    services.subscribe("confirmed@example.com")
    services.confirm("confirmed@example.com")
    services.subscribe("bounced@example.com")
    services.suppress("bounced@example.com", BOUNCED, "Permanent")
    answers = set()
    for email in ("new@example.com", "pending@example.com", "confirmed@example.com", "bounced@example.com"):
        response = _post_json(client, "/api/subscribers", {"email": email})
        schema_checker.check(response, "/api/subscribers", "post")
        answers.add((response.status_code, response.content))
    assert len(answers) == 1
    assert Subscriber.get("bounced@example.com").status == BOUNCED
    assert Subscriber.get("confirmed@example.com").status == CONFIRMED


@pytest.mark.parametrize(
    "email",
    ["", "plainaddress", "a@b", "a@b.c1", "x@-bad.com", "two@@example.com", "a b@example.com", "x" * 65 + "@e.com"],
)
def test_subscribe_rejects_malformed_addresses(aws, client, schema_checker, email):
    response = _post_json(client, "/api/subscribers", {"email": email})
    data = schema_checker.check(response, "/api/subscribers", "post")
    assert response.status_code == 400 and data["error"]["code"] == "invalid_email"


@pytest.mark.parametrize("email", ["a\u0000b@example.com", "a\u001bb@example.com", "josé@example.com", "a@\u2603.com"])
def test_subscribe_rejects_unsendable_addresses_and_writes_nothing(aws, client, schema_checker, email):
    response = _post_json(client, "/api/subscribers", {"email": email})
    data = schema_checker.check(response, "/api/subscribers", "post")
    assert response.status_code == 400
    assert data["error"] == {"code": "invalid_email", "message": "Enter a valid email address."}
    assert list(Subscriber.scan()) == []


def test_subscribe_stores_an_internationalised_domain_in_ascii(aws, client):
    assert _post_json(client, "/api/subscribers", {"email": "Leser@Bücher.example"}).status_code == 202
    assert _post_json(client, "/api/subscribers", {"email": "leser@xn--bcher-kva.example"}).status_code == 202
    assert [s.email for s in Subscriber.scan()] == ["leser@xn--bcher-kva.example"]


@pytest.mark.parametrize("body", [{}, {"email": 42}, {"email": None}, {"email": ["a@example.com"]}])
def test_subscribe_rejects_wrong_shapes(aws, client, schema_checker, body):
    response = _post_json(client, "/api/subscribers", body)
    assert schema_checker.check(response, "/api/subscribers", "post")["error"]["code"] == "invalid_email"


def test_bad_bodies_are_json_4xx(aws, client, schema_checker):
    cases = [
        (client.post("/api/subscribers", "{not json", content_type="application/json"), 400, "invalid_json"),
        (client.post("/api/subscribers", "[1, 2]", content_type="application/json"), 400, "invalid_json"),
        (client.post("/api/subscribers", b"\xff\xfe", content_type="application/json"), 400, "invalid_json"),
        (
            client.post("/api/subscribers", "email=a@example.com", content_type="text/plain"),
            415,
            "unsupported_media_type",
        ),
        (_post_json(client, "/api/subscribers", {"email": "a@example.com", "pad": "x" * 5000}), 413, "body_too_large"),
    ]
    for response, status, code in cases:
        data = schema_checker.check(response, "/api/subscribers", "post")
        assert (response.status_code, data["error"]["code"]) == (status, code)
    assert not list(Subscriber.scan())


def test_an_oversized_body_is_refused_before_it_is_read(aws, client, schema_checker):
    response = client.post(
        "/api/subscribers", "{}", content_type="application/json", headers={"Content-Length": "10000000"}
    )
    assert response.status_code == 413
    assert schema_checker.check(response, "/api/subscribers", "post")["error"]["code"] == "body_too_large"


def test_subscriber_endpoints_only_take_post(aws, client, schema_checker):
    for path in ("/api/subscribers", "/api/subscribers/confirm", "/api/subscribers/unsubscribe"):
        response = client.get(path)
        assert response.status_code == 405 and response["Allow"] == "POST"
        assert schema_checker.check(response, path, "post")["error"]["code"] == "method_not_allowed"


def test_confirm_with_the_emailed_token(aws, client, schema_checker):
    services.subscribe("c@example.com")
    token = tokens.confirm_token("c@example.com")
    response = _post_json(client, "/api/subscribers/confirm", {"token": token})
    assert schema_checker.check(response, "/api/subscribers/confirm", "post") == {"status": "confirmed"}
    assert Subscriber.get("c@example.com").status == CONFIRMED
    # Confirming twice is fine.
    assert _post_json(client, "/api/subscribers/confirm", {"token": token}).status_code == 200


def test_confirm_rejects_bad_expired_and_misused_tokens(aws, client, schema_checker, monkeypatch):
    services.subscribe("c@example.com")
    with monkeypatch.context() as past:
        past.setattr(signing.time, "time", lambda: 1_000_000_000)
        expired = tokens.confirm_token("c@example.com")
    unsubscribe_token = tokens.unsubscribe_token("c@example.com")
    for body in ({"token": "forged"}, {"token": expired}, {"token": unsubscribe_token}, {"token": ""}, {}):
        response = _post_json(client, "/api/subscribers/confirm", body)
        data = schema_checker.check(response, "/api/subscribers/confirm", "post")
        assert (response.status_code, data["error"]["code"]) == (400, "invalid_token")
    assert Subscriber.get("c@example.com").status == PENDING


def test_confirm_after_unsubscribing_is_409(aws, client, schema_checker):
    services.subscribe("gone@example.com")
    services.unsubscribe("gone@example.com")
    response = _post_json(client, "/api/subscribers/confirm", {"token": tokens.confirm_token("gone@example.com")})
    assert response.status_code == 409
    assert schema_checker.check(response, "/api/subscribers/confirm", "post")["error"]["code"] == "not_pending"
    assert Subscriber.get("gone@example.com").status == UNSUBSCRIBED


def test_unsubscribe_with_json(aws, client, schema_checker):
    services.subscribe("u@example.com")
    response = _post_json(client, "/api/subscribers/unsubscribe", {"token": tokens.unsubscribe_token("u@example.com")})
    assert schema_checker.check(response, "/api/subscribers/unsubscribe", "post") == {"status": "unsubscribed"}
    assert Subscriber.get("u@example.com").status == UNSUBSCRIBED


@pytest.mark.parametrize("multipart", [False, True])
def test_unsubscribe_one_click_rfc_8058(aws, schema_checker, multipart):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)  # mail clients send no CSRF token
    services.subscribe("one@example.com")
    url = f"/api/subscribers/unsubscribe?token={tokens.unsubscribe_token('one@example.com')}"
    if multipart:
        response = client.post(url, {"List-Unsubscribe": "One-Click"})
    else:
        response = client.post(url, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert schema_checker.check(response, "/api/subscribers/unsubscribe", "post") == {"status": "unsubscribed"}
    assert Subscriber.get("one@example.com").status == UNSUBSCRIBED


def test_unsubscribe_rejects_bad_requests(aws, client, schema_checker):
    services.subscribe("keep@example.com")
    token = tokens.unsubscribe_token("keep@example.com")
    cases = [
        client.post(f"/api/subscribers/unsubscribe?token={token}", "List-Unsubscribe=Yes",
                    content_type="application/x-www-form-urlencoded"),
        client.post("/api/subscribers/unsubscribe?token=forged", "List-Unsubscribe=One-Click",
                    content_type="application/x-www-form-urlencoded"),
        _post_json(client, "/api/subscribers/unsubscribe", {"token": tokens.confirm_token("keep@example.com")}),
    ]  # fmt: skip
    for response in cases:
        assert response.status_code == 400
        schema_checker.check(response, "/api/subscribers/unsubscribe", "post")
    assert Subscriber.get("keep@example.com").status == PENDING


def test_unsubscribing_an_unknown_address_looks_the_same(aws, client):
    response = _post_json(client, "/api/subscribers/unsubscribe", {"token": tokens.unsubscribe_token("x@example.com")})
    assert response.status_code == 200 and response.json() == {"status": "unsubscribed"}
    assert not list(Subscriber.scan())


def test_subscribe_is_rate_limited_per_client(aws, client, schema_checker, settings, rate_clock):
    settings.MYBLOG_SUBSCRIBE_RATE_LIMIT = 2
    settings.MYBLOG_ORIGIN_VERIFY_SECRET = origin = "origin-secret-for-the-tests-0123456789abcdef"
    viewer = {"headers": {"CloudFront-Viewer-Address": "203.0.113.9:50432", "X-Origin-Verify": origin}}
    for index in range(2):
        assert _post_json(client, "/api/subscribers", {"email": f"r{index}@example.com"}, **viewer).status_code == 202
    response = _post_json(client, "/api/subscribers", {"email": "r9@example.com"}, **viewer)
    data = schema_checker.check(response, "/api/subscribers", "post")
    assert response.status_code == 429 and data["error"]["code"] == "rate_limited"
    assert 0 < int(response["Retry-After"]) <= settings.MYBLOG_SUBSCRIBE_RATE_WINDOW
    assert Subscriber.count("r9@example.com") == 0
    other = {"headers": {"CloudFront-Viewer-Address": "198.51.100.7:443", "X-Origin-Verify": origin}}
    assert _post_json(client, "/api/subscribers", {"email": "r9@example.com"}, **other).status_code == 202
