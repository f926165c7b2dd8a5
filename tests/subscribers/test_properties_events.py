"""Property tests: whatever a stream record, an SNS message or a link token holds, its parser copes.

Event handlers must log and skip a record they cannot use (a raise makes
Lambda retry a record that can never succeed); link tokens come from the
address bar. Hypothesis builds arbitrary JSON in place of each part of the
real-shaped events in tests/events/, and arbitrary text in place of tokens.
"""

import copy
import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from subscribers import notifications, tokens, welcome

EVENTS = Path(__file__).resolve().parents[1] / "events"
STREAM_EVENT = json.loads((EVENTS / "dynamodb_stream.json").read_text())
BOUNCE_EVENT = json.loads((EVENTS / "sns_ses_bounce.json").read_text())
COMPLAINT_EVENT = json.loads((EVENTS / "sns_ses_complaint.json").read_text())

PROPERTIES = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)


def _paths(value, prefix=()):
    """Every path to a part of a JSON document, the document itself first."""
    yield prefix
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in items:
        yield from _paths(child, (*prefix, key))


def _replaced(document, path, value):
    document = copy.deepcopy(document)
    if not path:
        return value
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return document


def mutations(document):
    """The document with one of its parts (or itself) replaced by arbitrary JSON."""
    return st.tuples(st.sampled_from(list(_paths(document))), json_values).map(lambda pair: _replaced(document, *pair))


def _ses_message(event):
    return json.loads(event["Records"][0]["Sns"]["Message"])


@PROPERTIES
@given(event=mutations(STREAM_EVENT) | json_values)
def test_stream_records_parse_or_are_skipped(event):
    found = welcome.new_subscribers(event)
    assert isinstance(found, list)
    for record in found:
        assert isinstance(record.email, str) and record.email
        assert isinstance(record.sequence_number, str)


def test_the_real_stream_event_still_yields_its_insert():
    assert [r.email for r in welcome.new_subscribers(STREAM_EVENT)] == ["reader@example.com"]


@PROPERTIES
@given(event=mutations(BOUNCE_EVENT) | mutations(COMPLAINT_EVENT) | json_values)
def test_sns_records_parse_or_are_skipped(event):
    for message in notifications.ses_messages(event):
        assert isinstance(message, dict)


@PROPERTIES
@given(message=mutations(_ses_message(BOUNCE_EVENT)) | mutations(_ses_message(COMPLAINT_EVENT)) | json_values)
def test_any_ses_notification_yields_valid_suppressions_or_none(message):
    if not isinstance(message, dict):
        return  # ses_messages passes on dicts only (tested above)
    for suppression in notifications.suppressions(message):
        assert suppression.email == suppression.email.strip().lower()
        assert "@" in suppression.email
        assert len(suppression.reason) <= 500


@PROPERTIES
@given(token=st.text(max_size=200))
def test_any_text_is_a_valid_token_or_invalid(token):
    for read in (tokens.email_from_confirm_token, tokens.email_from_unsubscribe_token):
        try:
            email = read(token)
        except tokens.InvalidToken:
            continue
        assert isinstance(email, str)


@PROPERTIES
@given(email=st.emails())
def test_tokens_round_trip_and_never_cross_purposes(email):
    assert tokens.email_from_confirm_token(tokens.confirm_token(email)) == email
    assert tokens.email_from_unsubscribe_token(tokens.unsubscribe_token(email)) == email
    try:
        tokens.email_from_unsubscribe_token(tokens.confirm_token(email))
    except tokens.InvalidToken:
        pass
    else:
        raise AssertionError("a confirm token unsubscribed")


def test_a_notification_whose_parts_have_other_shapes_is_skipped_by_the_handler(aws):
    from subscribers.handlers import record_ses_notifications

    for kind, part in (("Bounce", "bounce"), ("Complaint", "complaint")):
        for value in (True, "Permanent", ["Permanent"], 5):
            event = copy.deepcopy(BOUNCE_EVENT)
            event["Records"][0]["Sns"]["Message"] = json.dumps({"notificationType": kind, part: value})
            assert record_ses_notifications(event, None) == {"suppressed": []}
    event = copy.deepcopy(BOUNCE_EVENT)
    message = _ses_message(event)
    message["bounce"]["bouncedRecipients"] = "reader@example.com"
    event["Records"][0]["Sns"]["Message"] = json.dumps(message)
    assert record_ses_notifications(event, None) == {"suppressed": []}
