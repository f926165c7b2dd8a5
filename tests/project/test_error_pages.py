"""Every response under /api/ is JSON, whatever refused the request; the site's refusals are its own pages.

Django answers some requests before any view runs (a Host outside
ALLOWED_HOSTS, a body it cannot parse, a failed CSRF check, a method a
decorator refuses): each of those paths is tried here, under /api/ and on
the site.
"""

import json

import pytest
from django.test import Client

from tests.admin_fixtures import EDITOR_PASSWORD


@pytest.fixture
def anonymous():
    # As a browser or an API client sends requests: CSRF enforced, no exception re-raised.
    return Client(enforce_csrf_checks=True, raise_request_exception=False)


def api_error(response, status, code):
    assert response.status_code == status, response.content[:200]
    assert response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("path", ["/api/openapi.json", "/api/docs/"])
def test_a_write_to_the_api_documents_is_a_json_405(aws, anonymous, method, path):
    response = getattr(anonymous, method)(path)
    api_error(response, 405, "method_not_allowed")
    assert response["Allow"] == "GET, HEAD"


@pytest.mark.parametrize("path", ["/api/openapi.json", "/api/docs/"])
def test_options_on_the_api_documents_is_a_json_405(aws, anonymous, path):
    api_error(anonymous.options(path), 405, "method_not_allowed")


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete", "options"])
def test_an_unknown_api_path_is_a_json_404_for_every_method(aws, anonymous, method):
    # Not a CSRF page first: the catch-all takes no token, like every endpoint.
    response = getattr(anonymous, method)("/api/no/such/endpoint")
    api_error(response, 404, "not_found")


@pytest.mark.parametrize(
    "content_type",
    ["multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data; boundary=\x00"],
)
def test_an_unparsable_multipart_body_is_a_json_400(aws, anonymous, content_type):
    response = anonymous.generic(
        "POST", "/api/subscribers/unsubscribe?token=x", b"--x\r\n\r\n--x--\r\n", content_type=content_type
    )
    api_error(response, 400, "bad_request")


def test_a_host_outside_allowed_hosts_is_a_json_400_under_api(aws, anonymous):
    body = api_error(anonymous.get("/api/posts", HTTP_HOST="evil..example"), 400, "bad_request")
    # The refused header is not echoed back.
    assert "evil" not in json.dumps(body)


def test_a_host_outside_allowed_hosts_is_the_sites_400_page(aws, anonymous, settings):
    response = anonymous.get("/", HTTP_HOST="evil..example")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert settings.MYBLOG_BLOG_NAME in page
    assert "cannot read" in page
    assert "evil" not in page


def test_a_form_without_its_csrf_token_gets_the_sites_page(aws, anonymous, settings):
    response = anonymous.post("/subscribe/", {"email": "reader@example.com"})
    assert response.status_code == 403
    page = response.content.decode()
    # The site's layout (its name, its navigation), which the Content-Security-Policy lets render.
    assert settings.MYBLOG_BLOG_NAME in page
    assert 'class="site-header"' in page
    assert "The form could not be sent" in page
    assert "Nothing was saved" in page
    assert "private" in response["Cache-Control"] or "no-store" in response["Cache-Control"]


def test_the_api_still_takes_writes_without_a_csrf_token(aws, anonymous):
    # The endpoints are CSRF-exempt: a JSON body with no cookie reaches the view.
    response = anonymous.post("/api/subscribers/unsubscribe", {"token": "nope"}, content_type="application/json")
    api_error(response, 400, "invalid_token")


@pytest.mark.django_db
@pytest.mark.parametrize("next_url", [None, "", "https://evil.example/", "//evil.example/admin/"])
def test_signing_in_without_a_usable_next_lands_on_the_admin_index(aws, editor, next_url):
    client = Client()
    data = {"username": editor.username, "password": EDITOR_PASSWORD}
    if next_url is not None:
        data["next"] = next_url
    response = client.post("/admin/login/", data)
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get(response["Location"]).status_code == 200


@pytest.mark.django_db
def test_an_editor_refused_a_page_gets_the_sites_403_page(aws, make_editor, settings):
    client = Client(raise_request_exception=False)
    client.force_login(make_editor("reader-only", "view_post"))
    response = client.get("/admin/posts/post/add/")
    assert response.status_code == 403
    page = response.content.decode()
    assert settings.MYBLOG_BLOG_NAME in page
    assert "Not allowed" in page
    assert "does not have the permission" in page and 'href="/admin/"' in page


def test_a_permission_refusal_under_api_is_json(aws, anonymous, monkeypatch):
    from django.core.exceptions import PermissionDenied

    def refuse(request, *args, **kwargs):
        raise PermissionDenied("internal reason")

    monkeypatch.setattr("posts.pages.home", refuse)
    body = api_error(anonymous.get("/api/posts"), 403, "forbidden")
    assert "internal reason" not in json.dumps(body)


def test_an_unparsable_multipart_form_is_the_sites_400_page(aws, settings):
    client = Client(raise_request_exception=False)
    response = client.generic("POST", "/subscribe/", b"--x\r\n\r\n--x--\r\n", content_type="multipart/form-data")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert settings.MYBLOG_BLOG_NAME in response.content.decode()
