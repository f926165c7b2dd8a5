"""The subscribers API's part of the OpenAPI document (assembled by `myblog.openapi`).

Written by hand next to the views it describes (`subscribers.api`); the
limits come from the modules that enforce them.
"""

from myblog.openapi import NOT_ALLOWED, NOT_JSON, TOO_LARGE, error, json_body, ref
from subscribers.services import MAX_EMAIL_LENGTH
from subscribers.tokens import MAX_TOKEN_LENGTH

ERROR_CODES = ["invalid_email", "invalid_token", "not_pending", "rate_limited"]
TAGS = [{"name": "subscribers", "description": "Email subscriptions (double opt-in)."}]

SCHEMAS = {
    "SubscribeRequest": {
        "type": "object",
        "required": ["email"],
        "properties": {"email": {"type": "string", "format": "email", "maxLength": MAX_EMAIL_LENGTH}},
    },
    "TokenRequest": {
        "type": "object",
        "required": ["token"],
        "properties": {
            "token": {"type": "string", "maxLength": MAX_TOKEN_LENGTH, "description": "From the email's link."}
        },
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
    "/api/subscribers": {
        "post": {
            "operationId": "subscribe",
            "summary": "Subscribe an email address",
            "description": (
                "Sends a confirmation link to a new address (double opt-in). The answer is the same whether "
                "or not the address was already subscribed. Rate-limited per client."
            ),
            "tags": ["subscribers"],
            "requestBody": {"required": True, "content": {"application/json": {"schema": ref("SubscribeRequest")}}},
            "responses": {
                "202": json_body(ref("Accepted"), "Accepted."),
                "400": error("Not JSON (`invalid_json`) or not a valid address (`invalid_email`)."),
                "405": NOT_ALLOWED,
                "413": TOO_LARGE,
                "415": NOT_JSON,
                "429": error(
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
            "requestBody": {"required": True, "content": {"application/json": {"schema": ref("TokenRequest")}}},
            "responses": {
                "200": json_body(ref("Confirmed"), "Confirmed (also when it already was)."),
                "400": error("Not JSON, or the token is invalid or expired (`invalid_token`)."),
                "405": NOT_ALLOWED,
                "409": error("The subscription was cancelled and cannot be confirmed (`not_pending`)."),
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
                    "schema": {"type": "string", "maxLength": MAX_TOKEN_LENGTH},
                }
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": ref("TokenRequest")},
                    "application/x-www-form-urlencoded": {"schema": ref("OneClickUnsubscribe")},
                    "multipart/form-data": {"schema": ref("OneClickUnsubscribe")},
                },
            },
            "responses": {
                "200": json_body(ref("Unsubscribed"), "Unsubscribed (also when it already was)."),
                "400": error("Not JSON, not a one-click form, or an invalid token (`invalid_token`)."),
                "405": NOT_ALLOWED,
                "413": TOO_LARGE,
                "415": NOT_JSON,
            },
        }
    },
}
