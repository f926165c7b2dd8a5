"""The API's OpenAPI 3.1 description (served at /api/openapi.json and rendered at /api/docs/).

Written by hand next to the views it describes (`posts.api`,
`subscribers.api`, `myblog.jsonapi`); the tests validate real responses of
every endpoint against it, so it cannot drift from the behaviour. Only the
two views that serve it import this module (see `myblog.views`).
"""

import copy
import functools

from django.conf import settings

from myblog.jsonapi import MAX_BODY_BYTES

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"


def _ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema, description):
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _header(description):
    return {"description": description, "schema": {"type": "string"}}


def _error(description, headers=None):
    response = _json(_ref("Error"), description)
    if headers:
        response["headers"] = headers
    return response


NOT_ALLOWED = _error("Wrong method for this endpoint.", {"Allow": {"$ref": "#/components/headers/Allow"}})
TOO_LARGE = _error(f"The request body is larger than {MAX_BODY_BYTES} bytes.")
NOT_JSON = _error("The request body is not application/json.")
CACHED = {
    "Cache-Control": {"$ref": "#/components/headers/Cache-Control"},
    "ETag": {"$ref": "#/components/headers/ETag"},
}
CONDITIONAL_PARAMETERS = [{"$ref": "#/components/parameters/If-None-Match"}]
NOT_MODIFIED = {"description": "The copy named in If-None-Match is current.", "headers": CACHED}

# What a listing shows of a post; the full Post adds its body and cover.
_SUMMARY_PROPERTIES = {
    "slug": {"type": "string", "pattern": SLUG_PATTERN},
    "title": {"type": "string"},
    "excerpt": {"type": "string"},
    "tags": {"type": "array", "items": {"type": "string", "pattern": SLUG_PATTERN}},
    "author": {"type": "string"},
    "published_at": {"type": "string", "format": "date-time"},
    "url": {"type": "string", "format": "uri", "description": "The post's page on the site."},
}

SCHEMAS = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "additionalProperties": False,
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "additionalProperties": False,
                "properties": {
                    "code": {
                        "type": "string",
                        "description": "Stable, machine-readable reason.",
                        "enum": [
                            "bad_request",
                            "forbidden",
                            "invalid_parameter",
                            "invalid_cursor",
                            "invalid_json",
                            "invalid_email",
                            "invalid_token",
                            "not_found",
                            "not_pending",
                            "method_not_allowed",
                            "body_too_large",
                            "unsupported_media_type",
                            "rate_limited",
                        ],
                    },
                    "message": {"type": "string", "description": "For people: what to do about it."},
                },
            }
        },
    },
    "Image": {
        "type": "object",
        "description": "A photo: a fallback JPEG and the srcsets over its renditions (null until they exist).",
        "required": ["alt", "src", "width", "height", "srcset", "webp_srcset"],
        "additionalProperties": False,
        "properties": {
            "alt": {"type": "string"},
            "src": {"type": "string", "format": "uri"},
            "width": {"type": ["integer", "null"], "minimum": 1},
            "height": {"type": ["integer", "null"], "minimum": 1},
            "srcset": {"type": ["string", "null"], "description": "JPEG renditions, `<url> <width>w` pairs."},
            "webp_srcset": {"type": ["string", "null"], "description": "WebP renditions, same form."},
        },
    },
    "PostSummary": {
        "type": "object",
        "required": list(_SUMMARY_PROPERTIES),
        "additionalProperties": False,
        "properties": _SUMMARY_PROPERTIES,
    },
    "Post": {
        "type": "object",
        "required": [
            "slug",
            "title",
            "excerpt",
            "tags",
            "author",
            "published_at",
            "updated_at",
            "url",
            "cover",
            "body_html",
        ],
        "additionalProperties": False,
        "properties": {
            **_SUMMARY_PROPERTIES,
            "updated_at": {"type": "string", "format": "date-time"},
            "cover": {"oneOf": [_ref("Image"), {"type": "null"}]},
            "body_html": {"type": "string", "description": "The rendered, sanitised body."},
        },
    },
    "PostList": {
        "type": "object",
        "required": ["items", "next_cursor"],
        "additionalProperties": False,
        "properties": {
            "items": {"type": "array", "items": _ref("PostSummary")},
            "next_cursor": {
                "type": ["string", "null"],
                "description": "Pass as `cursor` to get the next (older) page; null on the last page.",
            },
        },
    },
    "SubscribeRequest": {
        "type": "object",
        "required": ["email"],
        "properties": {"email": {"type": "string", "format": "email", "maxLength": 254}},
    },
    "TokenRequest": {
        "type": "object",
        "required": ["token"],
        "properties": {"token": {"type": "string", "maxLength": 500, "description": "From the email's link."}},
    },
    "OneClickUnsubscribe": {
        "type": "object",
        "required": ["List-Unsubscribe"],
        "properties": {"List-Unsubscribe": {"type": "string", "const": "One-Click"}},
    },
    "Accepted": {
        "type": "object",
        "required": ["status", "message"],
        "additionalProperties": False,
        "properties": {"status": {"const": "accepted"}, "message": {"type": "string"}},
    },
    "Confirmed": {
        "type": "object",
        "required": ["status"],
        "additionalProperties": False,
        "properties": {"status": {"const": "confirmed"}},
    },
    "Unsubscribed": {
        "type": "object",
        "required": ["status"],
        "additionalProperties": False,
        "properties": {"status": {"const": "unsubscribed"}},
    },
}

PATHS = {
    "/api/posts": {
        "get": {
            "operationId": "listPosts",
            "summary": "List published posts, newest first",
            "description": (
                "Cursor pagination: follow `next_cursor` until it is null. Pages do not shift when a post "
                "is published. Unknown query parameters are rejected."
            ),
            "tags": ["posts"],
            "parameters": [
                {
                    "name": "tag",
                    "in": "query",
                    "description": "Only posts with this tag.",
                    "schema": {"type": "string", "pattern": SLUG_PATTERN, "maxLength": 100},
                },
                {
                    "name": "cursor",
                    "in": "query",
                    "description": "The `next_cursor` of the previous page.",
                    "schema": {"type": "string", "maxLength": 200},
                },
                {
                    "name": "limit",
                    "in": "query",
                    "description": "Posts per page.",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 50, "default": 10},
                },
                *CONDITIONAL_PARAMETERS,
            ],
            "responses": {
                "200": {**_json(_ref("PostList"), "A page of posts."), "headers": CACHED},
                "304": NOT_MODIFIED,
                "400": _error("A bad parameter (`invalid_parameter`) or cursor (`invalid_cursor`)."),
                "405": NOT_ALLOWED,
            },
        }
    },
    "/api/posts/{slug}": {
        "get": {
            "operationId": "getPost",
            "summary": "Get a published post by its slug",
            "tags": ["posts"],
            "parameters": [
                {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}},
                *CONDITIONAL_PARAMETERS,
            ],
            "responses": {
                "200": {
                    **_json(_ref("Post"), "The post."),
                    "headers": {**CACHED, "Last-Modified": {"$ref": "#/components/headers/Last-Modified"}},
                },
                "304": NOT_MODIFIED,
                "404": _error("No published post has this slug (drafts and scheduled posts are never shown)."),
                "405": NOT_ALLOWED,
            },
        }
    },
    "/api/subscribers": {
        "post": {
            "operationId": "subscribe",
            "summary": "Subscribe an email address",
            "description": (
                "Sends a confirmation link to a new address (double opt-in). The answer is the same whether "
                "or not the address was already subscribed. Rate-limited per client."
            ),
            "tags": ["subscribers"],
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("SubscribeRequest")}}},
            "responses": {
                "202": _json(_ref("Accepted"), "Accepted."),
                "400": _error("Not JSON (`invalid_json`) or not a valid address (`invalid_email`)."),
                "405": NOT_ALLOWED,
                "413": TOO_LARGE,
                "415": NOT_JSON,
                "429": _error(
                    "Too many sign-ups from this client.",
                    {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}},
                ),
            },
        }
    },
    "/api/subscribers/confirm": {
        "post": {
            "operationId": "confirmSubscription",
            "summary": "Confirm a subscription with the token from the confirmation email",
            "tags": ["subscribers"],
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("TokenRequest")}}},
            "responses": {
                "200": _json(_ref("Confirmed"), "Confirmed (also when it already was)."),
                "400": _error("Not JSON, or the token is invalid or expired (`invalid_token`)."),
                "405": NOT_ALLOWED,
                "409": _error("The subscription was cancelled and cannot be confirmed (`not_pending`)."),
                "413": TOO_LARGE,
                "415": NOT_JSON,
            },
        }
    },
    "/api/subscribers/unsubscribe": {
        "post": {
            "operationId": "unsubscribe",
            "summary": "Unsubscribe (also RFC 8058 one-click)",
            "description": (
                "Send the token as JSON, or use this URL with `?token=...` as a `List-Unsubscribe` target: "
                "mail clients then POST `List-Unsubscribe=One-Click` as a form. Idempotent."
            ),
            "tags": ["subscribers"],
            "parameters": [
                {
                    "name": "token",
                    "in": "query",
                    "description": "The unsubscribe token, for one-click requests.",
                    "schema": {"type": "string", "maxLength": 500},
                }
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": _ref("TokenRequest")},
                    "application/x-www-form-urlencoded": {"schema": _ref("OneClickUnsubscribe")},
                    "multipart/form-data": {"schema": _ref("OneClickUnsubscribe")},
                },
            },
            "responses": {
                "200": _json(_ref("Unsubscribed"), "Unsubscribed (also when it already was)."),
                "400": _error("Not JSON, not a one-click form, or an invalid token (`invalid_token`)."),
                "405": NOT_ALLOWED,
                "413": TOO_LARGE,
                "415": NOT_JSON,
            },
        }
    },
    "/api/openapi.json": {
        "get": {
            "operationId": "getSchema",
            "summary": "This document",
            "tags": ["meta"],
            "responses": {"200": {"description": "The OpenAPI document.", "content": {"application/json": {}}}},
        }
    },
}

# Every endpoint, like the whole site, answers only requests that came
# through CloudFront (see myblog.origin).
FORBIDDEN = _error("Not sent through the site's public address (`forbidden`).")
for _methods in PATHS.values():
    for _operation in _methods.values():
        _operation["responses"]["403"] = FORBIDDEN

COMPONENTS = {
    "schemas": SCHEMAS,
    "headers": {
        "Cache-Control": _header("How long browsers and the CDN may keep the response."),
        "ETag": _header("Send it back in If-None-Match to get a 304 while unchanged."),
        "Last-Modified": _header("When the post or its photos last changed."),
        "Allow": _header("The methods this endpoint accepts."),
    },
    "parameters": {
        "If-None-Match": {
            "name": "If-None-Match",
            "in": "header",
            "description": "An ETag from an earlier response: a 304 without body when it is still current.",
            "schema": {"type": "string"},
        }
    },
}


@functools.cache
def schema():
    """The OpenAPI document (a fresh copy is cheap to serialise; built once per process)."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"{settings.MYBLOG_BLOG_NAME} API",
            "version": "1.0.0",
            "description": (
                "Read published posts and manage email subscriptions. JSON in and out; every error is "
                '`{"error": {"code", "message"}}` with a 4xx status. Reads are cacheable (ETag, 304).'
            ),
        },
        "servers": [{"url": settings.MYBLOG_SITE_URL}],
        "tags": [
            {"name": "posts", "description": "Published posts."},
            {"name": "subscribers", "description": "Email subscriptions (double opt-in)."},
            {"name": "meta"},
        ],
        "paths": copy.deepcopy(PATHS),
        "components": copy.deepcopy(COMPONENTS),
    }


def operations():
    """Each operation, flattened for the human docs."""
    doc = schema()
    for path, methods in doc["paths"].items():
        for method, operation in methods.items():
            responses = [
                {"status": status, "description": response["description"], "schema": _schema_name(response)}
                for status, response in operation["responses"].items()
            ]
            body = operation.get("requestBody", {}).get("content", {})
            yield {
                "id": operation["operationId"],
                "method": method.upper(),
                "path": path,
                "summary": operation["summary"],
                "description": operation.get("description", ""),
                "parameters": [p for p in operation.get("parameters", []) if "name" in p],
                "body": [{"type": kind, "schema": _name(spec.get("schema", {}))} for kind, spec in body.items()],
                "responses": responses,
            }


def _name(spec):
    return spec.get("$ref", "").rsplit("/", 1)[-1]


def _schema_name(response):
    return _name(response.get("content", {}).get("application/json", {}).get("schema", {}))
