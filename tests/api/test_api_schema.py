"""The OpenAPI document is valid, covers exactly the API's routes, and every documented response happens."""

import json

import pytest
from django.urls import URLResolver, get_resolver
from openapi_spec_validator import validate

from myblog import public_urls
from posts import search, services
from subscribers import services as subscriber_services
from subscribers import tokens
from tests.reader_fixtures import publish

pytestmark = pytest.mark.usefixtures("no_sql")


def _post_json(client, path, data, **extra):
    return client.post(path, json.dumps(data), content_type="application/json", **extra)


def test_the_document_is_valid_openapi_31(aws, client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    document = response.json()
    validate(document)
    assert document["openapi"] == "3.1.0"
    assert document["servers"] == [{"url": "https://blog.example.com"}]


def _routes(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern)


def test_the_document_describes_exactly_the_api_routes(aws, client):
    documented = set(client.get("/api/openapi.json").json()["paths"])
    routes = set()
    for route in _routes(public_urls.api_patterns):
        if route.startswith("^"):
            continue  # the JSON 404 for everything else
        if route == "docs/":
            continue  # the human docs (HTML)
        routes.add("/api/" + route.replace("<str:slug>", "{slug}"))
    assert documented == routes
    resolver = get_resolver()
    for path in documented:
        assert resolver.resolve(path.replace("{slug}", "a-slug")).func.__module__ in (
            "posts.api",
            "posts.search_api",
            "subscribers.api",
            "myblog.views",
        )


def test_the_human_docs_are_rendered_from_the_document(aws, client):
    document = client.get("/api/openapi.json").json()
    html = client.get("/api/docs/").content.decode()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert f"<code>{method.upper()} {path}</code>" in html
            assert operation["summary"] in html
            for status in operation["responses"]:
                assert f"<td>{status}</td>" in html
    for name in document["components"]["schemas"]:
        assert f'id="schema-{name}"' in html
    assert "<script" not in html and "https://cdn" not in html


def test_every_documented_response_happens_and_matches_the_document(
    aws, reindex, client, schema_checker, settings, rate_clock
):
    """A tour of the API that triggers each documented status at least once."""
    publish("toured", tags=["tour"])
    reindex()
    check = schema_checker.check
    # Posts.
    listing = client.get("/api/posts")
    check(listing, "/api/posts")
    check(client.get("/api/posts", headers={"If-None-Match": listing["ETag"]}), "/api/posts")
    check(client.get("/api/posts", {"limit": "500"}), "/api/posts")
    check(client.delete("/api/posts"), "/api/posts")
    post = client.get("/api/posts/toured")
    check(post, "/api/posts/{slug}")
    check(client.get("/api/posts/toured", headers={"If-None-Match": post["ETag"]}), "/api/posts/{slug}")
    check(client.get("/api/posts/nope"), "/api/posts/{slug}")
    renamed = publish("before-rename", tags=["tour"])
    services.rename_post("before-rename", "after-rename", expected_version=renamed.version)
    moved = client.get("/api/posts/before-rename")
    assert moved["Location"] == "/api/posts/after-rename"
    check(moved, "/api/posts/{slug}")
    check(client.put("/api/posts/toured"), "/api/posts/{slug}")
    # Search.
    found = client.get("/api/search", {"q": "toured"})
    assert check(found, "/api/search")["items"][0]["slug"] == "toured"
    check(client.get("/api/search", {"q": "toured"}, headers={"If-None-Match": found["ETag"]}), "/api/search")
    check(client.get("/api/search", {"q": "toured", "page": "0"}), "/api/search")
    check(client.post("/api/search", {"q": "toured"}), "/api/search")
    bucket = settings.MYBLOG_MEDIA_BUCKET
    settings.MYBLOG_MEDIA_BUCKET = "no-such-bucket-here"  # the index cannot be read
    search.forget_index()
    check(client.get("/api/search", {"q": "toured"}), "/api/search")
    settings.MYBLOG_MEDIA_BUCKET = bucket
    # Subscribe.
    settings.MYBLOG_SUBSCRIBE_RATE_LIMIT = 2  # counted: valid addresses only
    path = "/api/subscribers"
    check(_post_json(client, path, {"email": "t@example.com"}), path, "post")
    check(_post_json(client, path, {"email": "nope"}), path, "post")
    check(client.get(path), path, "post")
    check(_post_json(client, path, {"email": "x" * 3000}), path, "post")
    check(client.post(path, "x", content_type="text/plain"), path, "post")
    check(_post_json(client, path, {"email": "u@example.com"}), path, "post")
    check(_post_json(client, path, {"email": "v@example.com"}), path, "post")  # the third: over the limit
    # Confirm.
    path = "/api/subscribers/confirm"
    check(_post_json(client, path, {"token": tokens.confirm_token("t@example.com")}), path, "post")
    check(_post_json(client, path, {"token": "forged"}), path, "post")
    check(client.get(path), path, "post")
    subscriber_services.subscribe("left@example.com")
    subscriber_services.unsubscribe("left@example.com")
    check(_post_json(client, path, {"token": tokens.confirm_token("left@example.com")}), path, "post")
    check(_post_json(client, path, {"token": "x" * 3000}), path, "post")
    check(client.post(path, "token=x", content_type="application/x-www-form-urlencoded"), path, "post")
    # Unsubscribe.
    path = "/api/subscribers/unsubscribe"
    check(_post_json(client, path, {"token": tokens.unsubscribe_token("t@example.com")}), path, "post")
    check(_post_json(client, path, {"token": "forged"}), path, "post")
    check(client.get(path), path, "post")
    check(_post_json(client, path, {"token": "x" * 3000}), path, "post")
    check(client.post(path, "<token/>", content_type="application/xml"), path, "post")
    # The document itself.
    check(client.get("/api/openapi.json"), "/api/openapi.json")
    # Not through CloudFront, once the stage has an origin secret.
    settings.MYBLOG_ORIGIN_VERIFY_SECRET = "origin-secret-for-the-tests-0123456789abcdef"
    for path, operations in schema_checker.document["paths"].items():
        for method in operations:
            url = path.replace("{slug}", "toured")
            check(client.generic(method.upper(), url, "{}", content_type="application/json"), path, method)

    documented = {
        (path, method, status)
        for path, operations in schema_checker.document["paths"].items()
        for method, operation in operations.items()
        for status in operation["responses"]
    }
    assert schema_checker.seen == documented
    assert services  # the edit path seeded the post above
