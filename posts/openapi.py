"""The posts API's part of the OpenAPI document (assembled by `myblog.openapi`).

Written by hand next to the views it describes (`posts.api`). Patterns and
limits come from `posts.rules`, as the views' own checks do, so the
document cannot promise what the API refuses, or refuse what it accepts.
"""

from myblog.openapi import (
    CACHED,
    CONDITIONAL_PARAMETERS,
    LAST_MODIFIED,
    NOT_ALLOWED,
    NOT_MODIFIED,
    error,
    json_body,
    ref,
)
from posts import rules
from posts import search as search_limits

SLUG = {"type": "string", "pattern": rules.slug_schema_pattern(), "maxLength": rules.MAX_SLUG_LENGTH}
TAG = {"type": "string", "pattern": rules.slug_schema_pattern(), "maxLength": rules.MAX_TAG_LENGTH}

ERROR_CODES = ["invalid_cursor"]
TAGS = [{"name": "posts", "description": "Published posts."}]

# What a listing shows of a post; the full Post adds its body and cover.
_SUMMARY_PROPERTIES = {
    "slug": SLUG,
    "title": {"type": "string"},
    "excerpt": {"type": "string"},
    "tags": {"type": "array", "items": {"type": "string", "pattern": rules.slug_schema_pattern()}},
    "author": {"type": "string"},
    "published_at": {"type": "string", "format": "date-time"},
    "url": {"type": "string", "format": "uri", "description": "The post's page on the site."},
    "cover": {"oneOf": [ref("Image"), {"type": "null"}]},
}

SCHEMAS = {
    "Image": {
        "type": "object",
        "description": "A photo: a fallback JPEG and the srcsets over its renditions (null until they exist).",
        "required": ["alt", "src", "width", "height", "srcset", "webp_srcset", "avif_srcset"],
        "additionalProperties": False,
        "properties": {
            "alt": {"type": "string"},
            "src": {"type": "string", "format": "uri"},
            "width": {"type": ["integer", "null"], "minimum": 1},
            "height": {"type": ["integer", "null"], "minimum": 1},
            "srcset": {"type": ["string", "null"], "description": "JPEG renditions, `<url> <width>w` pairs."},
            "webp_srcset": {"type": ["string", "null"], "description": "WebP renditions, same form."},
            "avif_srcset": {
                "type": ["string", "null"],
                "description": "AVIF renditions, same form (null for photos made before AVIF renditions existed).",
            },
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
            "cover": {"oneOf": [ref("Image"), {"type": "null"}]},
            "body_html": {"type": "string", "description": "The rendered, sanitised body."},
        },
    },
    "PostList": {
        "type": "object",
        "required": ["items", "next_cursor"],
        "additionalProperties": False,
        "properties": {
            "items": {"type": "array", "items": ref("PostSummary")},
            "next_cursor": {
                "type": ["string", "null"],
                "description": "Pass as `cursor` to get the next (older) page; null on the last page.",
            },
        },
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
                {"name": "tag", "in": "query", "description": "Only posts with this tag.", "schema": TAG},
                {
                    "name": "cursor",
                    "in": "query",
                    "description": "The `next_cursor` of the previous page.",
                    "schema": {"type": "string", "maxLength": rules.MAX_CURSOR_LENGTH},
                },
                {
                    "name": "limit",
                    "in": "query",
                    # Declared as what clients send, a string of ASCII digits, so a
                    # fuzzer also sends the strings the parser must refuse.
                    "description": (
                        f"Posts per page: a whole number from 1 to {rules.MAX_PAGE_SIZE} "
                        f"in ASCII digits ({rules.PAGE_SIZE} when left out)."
                    ),
                    "schema": {"type": "string", "pattern": "^[0-9]+$", "maxLength": 3},
                },
                *CONDITIONAL_PARAMETERS,
            ],
            "responses": {
                "200": {
                    **json_body(ref("PostList"), "A page of posts."),
                    "headers": CACHED,
                    "links": {
                        "GetFirstPost": {
                            "operationId": "getPost",
                            "parameters": {"slug": "$response.body#/items/0/slug"},
                        },
                        "NextPage": {
                            "operationId": "listPosts",
                            "parameters": {"cursor": "$response.body#/next_cursor"},
                        },
                    },
                },
                "304": NOT_MODIFIED,
                "400": error("A bad parameter (`invalid_parameter`) or cursor (`invalid_cursor`)."),
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
                "200": {**json_body(ref("Post"), "The post."), "headers": {**CACHED, **LAST_MODIFIED}},
                "301": {
                    "description": "The post was renamed: `Location` is its resource now. "
                    "Every slug a post had redirects straight to its current one.",
                    "headers": {"Location": {"description": "The post's path now.", "schema": {"type": "string"}}},
                },
                "304": NOT_MODIFIED,
                "404": error("No published post has this slug (drafts and scheduled posts are never shown)."),
                "405": NOT_ALLOWED,
            },
        }
    },
}


# -- search (`posts.search_api`) --------------------------------------------------------------------

ERROR_CODES.append("search_unavailable")
SCHEMAS["SearchResults"] = {
    "type": "object",
    "required": ["query", "total", "page", "items", "next_page"],
    "additionalProperties": False,
    "properties": {
        "query": {"type": "string", "description": "The query as searched (spaces trimmed)."},
        "total": {"type": "integer", "minimum": 0, "description": "How many posts match."},
        "page": {"type": "integer", "minimum": 1},
        "items": {"type": "array", "items": ref("PostSummary"), "description": "Best matches first."},
        "next_page": {
            "type": ["integer", "null"],
            "minimum": 2,
            "description": "Pass as `page` for the next results; null on the last page.",
        },
    },
}
PATHS["/api/search"] = {
    "get": {
        "operationId": "searchPosts",
        "summary": "Search published posts, best matches first",
        "description": (
            "Ranks posts by the words of `q` in their title, tags, excerpt and text (BM25; the last word "
            f"also matches as a prefix). At most {search_limits.MAX_QUERY_WORDS} words; pages up to "
            f"{search_limits.MAX_PAGE}. Unknown query parameters are rejected."
        ),
        "tags": ["posts"],
        "parameters": [
            {
                "name": "q",
                "in": "query",
                "required": True,
                "description": "The words to search for.",
                "schema": {"type": "string", "minLength": 1, "maxLength": search_limits.MAX_QUERY_LENGTH},
            },
            {
                "name": "page",
                "in": "query",
                "description": f"A whole number from 1 to {search_limits.MAX_PAGE} in ASCII digits (1 when left out).",
                "schema": {"type": "string", "pattern": "^[0-9]+$", "maxLength": 3},
            },
            {
                "name": "limit",
                "in": "query",
                "description": (
                    f"Results per page: a whole number from 1 to {search_limits.MAX_PAGE_SIZE} "
                    f"in ASCII digits ({search_limits.PAGE_SIZE} when left out)."
                ),
                "schema": {"type": "string", "pattern": "^[0-9]+$", "maxLength": 3},
            },
            *CONDITIONAL_PARAMETERS,
        ],
        "responses": {
            "200": {
                **json_body(ref("SearchResults"), "A page of results."),
                "headers": CACHED,
                "links": {
                    "GetFirstResult": {
                        "operationId": "getPost",
                        "parameters": {"slug": "$response.body#/items/0/slug"},
                    },
                    "NextResults": {
                        "operationId": "searchPosts",
                        "parameters": {"q": "$response.body#/query", "page": "$response.body#/next_page"},
                    },
                },
            },
            "304": NOT_MODIFIED,
            "400": error("A missing or bad parameter, or a query over the limits (`invalid_parameter`)."),
            "405": NOT_ALLOWED,
            "503": error(
                "The search index cannot be read right now (`search_unavailable`); retry after a while.",
                {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "string"}}},
            ),
        },
    }
}
