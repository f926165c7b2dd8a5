"""A fault under /api/ answers the API's JSON error, without its details; the site keeps its 500 page."""

import json
import logging

import pytest
from django.test import Client

from posts import pages
from subscribers import services

DETAIL = "ResourceNotFoundException: table myblog-prod-posts at 10.0.3.17"


def broken(*args, **kwargs):
    raise RuntimeError(DETAIL)


@pytest.fixture
def anonymous():
    # The test client re-raises view exceptions by default; a reader's request does not.
    return Client(raise_request_exception=False)


def assert_api_server_error(response):
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == {
        "error": {"code": "server_error", "message": "The server could not answer this request; try again later."}
    }
    assert DETAIL not in response.content.decode()
    assert "no-store" in response["Cache-Control"] or "private" in response["Cache-Control"]


def test_a_failing_read_endpoint_answers_a_json_500(anonymous, monkeypatch, caplog):
    monkeypatch.setattr(pages, "post", broken)
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = anonymous.get("/api/posts/hello", HTTP_ACCEPT="application/json")
    assert_api_server_error(response)
    # The details are in the log, for the operator.
    assert any(record.exc_info and DETAIL in str(record.exc_info[1]) for record in caplog.records)


def test_a_failing_write_endpoint_answers_a_json_500(anonymous, monkeypatch):
    monkeypatch.setattr(services, "subscribe", broken)
    monkeypatch.setattr("subscribers.api.ratelimit.check_subscribe", lambda request: None)
    response = anonymous.post("/api/subscribers", {"email": "reader@example.com"}, content_type="application/json")
    assert_api_server_error(response)


def test_a_fault_outside_the_views_under_api_answers_a_json_500(anonymous, monkeypatch):
    # Raised by the URL resolver, before any API view runs.
    monkeypatch.setattr("django.urls.resolvers.URLResolver.resolve", broken)
    assert_api_server_error(anonymous.get("/api/anything"))


def test_site_pages_keep_the_html_500_page(anonymous, monkeypatch):
    monkeypatch.setattr(pages, "post", broken)
    response = anonymous.get("/posts/hello/")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    assert DETAIL not in response.content.decode()
