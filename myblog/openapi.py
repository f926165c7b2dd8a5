"""The API's OpenAPI 3.1 description (served at /api/openapi.json and rendered at /api/docs/).

Assembled from parts. This module holds what every endpoint shares (the
error shape of `myblog.jsonapi`, the caching headers, the building blocks
below) and the document's own endpoint; each installed app with an API
describes its endpoints in its own `openapi` module, next to its views,
with:

- `TAGS`: the document's tags for its operations;
- `PATHS`: its operations, by path and method;
- `SCHEMAS`: the schemas they name;
- `ERROR_CODES`: the `error.code` values its endpoints answer with.

The parts are found through the installed apps, in their order (as the
admin finds `admin` modules), so the project names no app. The tests
validate real responses of every endpoint against the document, so it
cannot drift from the behaviour. Only the two views that serve it import
this module (see `myblog.views`).
"""

import copy
import functools
from importlib import import_module

from django.apps import apps
from django.conf import settings
from django.utils.module_loading import module_has_submodule

from myblog.jsonapi import MAX_BODY_BYTES

PART_MODULE = "openapi"


def ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def json_body(schema, description):
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def error(description, headers=None):
    response = json_body(ref("Error"), description)
    if headers:
        response["headers"] = headers
    return response


def _header(description):
    return {"description": description, "schema": {"type": "string"}}


NOT_ALLOWED = error("Wrong method for this endpoint.", {"Allow": {"$ref": "#/components/headers/Allow"}})
TOO_LARGE = error(f"The request body is larger than {MAX_BODY_BYTES} bytes.")
NOT_JSON = error("The request body is not application/json.")
CACHED = {
    "Cache-Control": {"$ref": "#/components/headers/Cache-Control"},
    "ETag": {"$ref": "#/components/headers/ETag"},
}
LAST_MODIFIED = {"Last-Modified": {"$ref": "#/components/headers/Last-Modified"}}
CONDITIONAL_PARAMETERS = [{"$ref": "#/components/parameters/If-None-Match"}]
NOT_MODIFIED = {"description": "The copy named in If-None-Match is current.", "headers": CACHED}

# The codes `myblog.jsonapi` itself answers with, whatever the endpoint.
ERROR_CODES = [
    "bad_request",
    "forbidden",
    "invalid_parameter",
    "invalid_json",
    "not_found",
    "method_not_allowed",
    "body_too_large",
    "unsupported_media_type",
]
# Every endpoint, like the whole site, answers only requests that came
# through CloudFront (see myblog.origin).
FORBIDDEN = error("Not sent through the site's public address (`forbidden`).")
TAGS = [{"name": "meta"}]
PATHS = {
    "/api/openapi.json": {
        "get": {
            "operationId": "getSchema",
            "summary": "This document",
            "tags": ["meta"],
            "responses": {"200": {"description": "The OpenAPI document.", "content": {"application/json": {}}}},
        }
    },
}


def error_schema(codes):
    return {
        "type": "object",
        "required": ["error"],
        "additionalProperties": False,
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "additionalProperties": False,
                "properties": {
                    "code": {"type": "string", "description": "Stable, machine-readable reason.", "enum": codes},
                    "message": {"type": "string", "description": "For people: what to do about it."},
                },
            }
        },
    }


COMPONENTS = {
    "headers": {
        "Cache-Control": _header("How long browsers and the CDN may keep the response."),
        "ETag": _header("Send it back in If-None-Match to get a 304 while unchanged."),
        "Last-Modified": _header("When the resource last changed."),
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


def parts():
    """The installed apps' `openapi` modules, in INSTALLED_APPS order, then this module's own part."""
    found = []
    for config in apps.get_app_configs():
        name = f"{config.name}.{PART_MODULE}"
        if name != __name__ and module_has_submodule(config.module, PART_MODULE):
            found.append(import_module(name))
    return [*found, import_module(__name__)]


@functools.cache
def schema():
    """The OpenAPI document (a fresh copy is cheap to serialise; built once per process)."""
    tags, paths, schemas, codes = [], {}, {}, []
    for part in parts():
        tags += getattr(part, "TAGS", [])
        paths.update(copy.deepcopy(getattr(part, "PATHS", {})))
        schemas.update(getattr(part, "SCHEMAS", {}))
        codes += [code for code in getattr(part, "ERROR_CODES", []) if code not in codes]
    for methods in paths.values():
        for operation in methods.values():
            operation["responses"]["403"] = FORBIDDEN
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
        "tags": copy.deepcopy(tags),
        "paths": paths,
        "components": {
            "schemas": {"Error": error_schema(codes), **copy.deepcopy(schemas)},
            **copy.deepcopy(COMPONENTS),
        },
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
