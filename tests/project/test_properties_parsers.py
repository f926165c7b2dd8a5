"""Property tests: request bodies, slugs and tags from outside are accepted whole or refused with a 4xx.

A parser of outside input has two promises: whatever it is given, it answers
(a value, or the refusal its callers turn into a 400), and what it accepts is
what the rest of the code can use (a slug that fits the URL pattern and
DynamoDB's key limits, an object of JSON within the nesting bound).
"""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from dynamo_admin.limits import fits_hash_key
from myblog import jsonapi
from posts import rules

PROPERTIES = settings(max_examples=400, deadline=None)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=30,
)


def _depth(value):
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


def _parse(body):
    """The parsed object, or the ApiError's status and code."""
    try:
        return jsonapi.parse_json_object(body)
    except jsonapi.ApiError as error:
        return (error.status, error.code)


@PROPERTIES
@given(body=st.binary(max_size=300))
def test_any_bytes_are_an_object_or_a_400(body):
    result = _parse(body)
    assert isinstance(result, dict) or result == (400, "invalid_json")


@PROPERTIES
@given(text=st.text(alphabet='{}[]":,0123456789.eE+-tfnul \\', max_size=300))
def test_any_json_like_text_is_an_object_or_a_400(text):
    result = _parse(text.encode())
    assert isinstance(result, dict) or result == (400, "invalid_json")


@PROPERTIES
@given(value=st.dictionaries(st.text(max_size=10), json_values, max_size=5))
def test_every_json_object_within_the_depth_round_trips(value):
    body = json.dumps(value).encode()
    if _depth(value) <= jsonapi.MAX_JSON_DEPTH:
        assert _parse(body) == value
    else:
        assert _parse(body) == (400, "invalid_json")


@given(depth=st.integers(min_value=1, max_value=3000))
@settings(max_examples=60, deadline=None)
def test_nesting_is_refused_past_the_bound_at_any_depth(depth):
    body = ('{"a":' * depth + "1" + "}" * depth).encode()
    result = _parse(body)
    if depth <= jsonapi.MAX_JSON_DEPTH:
        assert isinstance(result, dict)
    else:
        assert result == (400, "invalid_json")


@PROPERTIES
@given(value=st.text(max_size=120))
def test_a_valid_slug_is_a_url_segment_and_a_dynamodb_key(value):
    if rules.is_valid_slug(value):
        assert rules.SLUG_RE.fullmatch(value)
        assert len(value) <= rules.MAX_SLUG_LENGTH
        assert value.isascii() and value == value.strip() and "\n" not in value
        assert fits_hash_key(value)


@PROPERTIES
@given(value=st.text(max_size=80))
def test_a_valid_tag_fits_its_limits_and_normalises_to_itself(value):
    if rules.is_valid_tag(value):
        assert len(value) <= rules.MAX_TAG_LENGTH
        assert value.isascii() and "\n" not in value
        assert rules.normalise_tag(value) == value


@PROPERTIES
@given(value=st.text(max_size=80) | st.text(alphabet="abcXYZ019 -_.\u0130\u212a", max_size=80))
def test_normalising_any_text_gives_a_valid_tag_nothing_or_one_too_long(value):
    """Too long is left for the form's length message; every other outcome is a valid tag or ''."""
    tag = rules.normalise_tag(value)
    assert tag == "" or len(tag) > rules.MAX_TAG_LENGTH or rules.is_valid_tag(tag)


@PROPERTIES
@given(value=st.text(max_size=200))
def test_stripping_bidi_controls_leaves_none_and_is_idempotent(value):
    stripped = rules.strip_bidi_controls(value)
    assert not set(stripped) & rules.BIDI_CONTROLS
    assert rules.strip_bidi_controls(stripped) == stripped
