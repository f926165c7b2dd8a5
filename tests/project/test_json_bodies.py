"""Every JSON request body goes through one strict parser: each bad shape is a 400 with the JSON error body."""

import json

import pytest

from myblog import jsonapi
from subscribers.models import Subscriber

API_PATHS = ["/api/subscribers", "/api/subscribers/confirm", "/api/subscribers/unsubscribe"]
UPLOAD = "/admin/posts/post/photos/upload/"


def nested(levels, inner='"x"'):
    """`levels` arrays inside an object: {"email": [[[...]]]}."""
    return '{"email": ' + "[" * levels + inner + "]" * levels + "}"


DEEP = nested(1015)  # the tester's body: about 1,000 levels, under the 2 KB limit
BAD_BODIES = {
    "deeply nested arrays": DEEP.encode(),
    "deeply nested objects": ('{"a":' * 300 + "1" + "}" * 300).encode(),
    "deep brackets never closed": ('{"a":' + "[" * 1500).encode(),
    "not UTF-8": b'{"email": "\xff\xfe@example.com"}',
    "Latin-1": '{"email": "josé@example.com"}'.encode("latin-1"),
    "UTF-8 byte order mark": b'\xef\xbb\xbf{"email": "a@example.com"}',
    "NaN": b'{"email": NaN}',
    "Infinity": b'{"email": Infinity}',
    "-Infinity": b'{"email": -Infinity}',
    "a number beyond a float": b'{"email": 1e999}',
    "duplicate keys": b'{"email": "a@example.com", "email": "b@example.com"}',
    "unpaired surrogate": b'{"email": "\\ud800@example.com"}',
    "unpaired surrogate in a key": b'{"\\udfff": 1}',
    "an array": b'["a@example.com"]',
    "a string": b'"a@example.com"',
    "a number": b"42",
    "null": b"null",
    "whitespace only": b"  \n",
    "truncated": b'{"email": "a@example.com"',
    "trailing text": b'{"email": "a@example.com"} {}',
}


def test_the_deep_body_is_the_testers_size():
    assert 2000 <= len(DEEP) <= jsonapi.MAX_BODY_BYTES
    with pytest.raises(RecursionError):
        json.loads(DEEP)  # what made the endpoints answer 500


@pytest.mark.parametrize("path", API_PATHS)
@pytest.mark.parametrize("name", BAD_BODIES)
def test_every_bad_body_is_a_json_400_on_every_endpoint(aws, client, no_sql, schema_checker, path, name):
    response = client.post(path, BAD_BODIES[name], content_type="application/json")
    data = schema_checker.check(response, path, "post")
    assert response.status_code == 400, response.content
    assert data["error"]["code"] == "invalid_json"
    assert data["error"]["message"]
    assert response["Content-Type"] == "application/json"
    assert list(Subscriber.scan()) == []


@pytest.mark.parametrize("name", BAD_BODIES)
def test_the_upload_endpoint_uses_the_same_parser(editor_client, name):
    response = editor_client.post(UPLOAD, BAD_BODIES[name], content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]


def test_messages_say_what_is_wrong():
    def message(body):
        with pytest.raises(jsonapi.ApiError) as caught:
            jsonapi.parse_json_object(body)
        assert caught.value.status == 400 and caught.value.code == "invalid_json"
        return caught.value.message

    assert "20 levels" in message(DEEP.encode())
    assert "UTF-8" in message(b"\xff")
    assert "repeats the key “email”" in message(b'{"email": 1, "email": 2}')
    assert "must be a JSON object" in message(b"[]")
    assert "not valid JSON" in message(b'{"a": NaN}')
    assert "not valid Unicode" in message(b'{"a": ["\\ud800"]}')
    assert "not valid JSON" in message(b"")


def test_nesting_up_to_the_limit_parses_and_brackets_in_strings_do_not_count():
    limit = jsonapi.MAX_JSON_DEPTH
    # The outer object is one level: limit - 1 arrays inside it fit exactly.
    assert jsonapi.parse_json_object(nested(limit - 1).encode())["email"]
    with pytest.raises(jsonapi.ApiError):
        jsonapi.parse_json_object(nested(limit).encode())
    brackets = '"' + "[{" * 500 + '\\"]}"'
    assert jsonapi.parse_json_object(('{"token": ' + brackets + "}").encode()) == {"token": "[{" * 500 + '"]}'}


def test_good_bodies_still_parse():
    assert jsonapi.parse_json_object(b'{"email": "a@example.com", "n": 1.5, "ok": true, "x": null}') == {
        "email": "a@example.com",
        "n": 1.5,
        "ok": True,
        "x": None,
    }
    assert jsonapi.parse_json_object('{"name": "Zoë 😀", "e": "\\ud83d\\ude00"}'.encode()) == {
        "name": "Zoë 😀",
        "e": "😀",
    }
    assert jsonapi.parse_json_object(b'  {"a": [1, {"b": []}]}\n') == {"a": [1, {"b": []}]}
