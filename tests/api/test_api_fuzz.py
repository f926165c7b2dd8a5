"""The API fuzzed from its own OpenAPI document, against the running local stack.

Schemathesis reads `/api/openapi.json` and sends every operation both what
the document allows and what it forbids (wrong types, missing fields,
strings outside the declared patterns), then follows the document's links
statefully (a listed post's slug to its page). Whatever a client sends, the
answer is a documented status with a JSON body, never a 5xx.

Each case comes from a different reader address (its own loopback source
address, 127.0.0.0/8 being all this machine's): the sign-up rate limit
would otherwise answer 429 to most of the run and hide what the handlers
behind it do.
"""

import ipaddress
import itertools

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable

pytestmark = pytest.mark.stack

# Enough examples per operation to reach every parser, few enough for CI.
FUZZ_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)

_addresses = (str(ipaddress.ip_address("127.0.0.0") + 256 + n % 60000) for n in itertools.count(1))


class _SourceAddressAdapter(requests.adapters.HTTPAdapter):
    """Connects from a chosen local address."""

    def __init__(self, source_address):
        self.source_address = source_address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, source_address=(self.source_address, 0), **kwargs)


@pytest.fixture(scope="module")
def api_schema(local_stack):
    schema = schemathesis.openapi.from_url(f"{local_stack.url}/api/openapi.json")
    schema.config.update(base_url=local_stack.url)
    return schema


def _reader():
    """A session of a new reader: its requests come from an address of their own."""
    session = requests.Session()
    session.mount("http://", _SourceAddressAdapter(next(_addresses)))
    return session


def _server_error(response):
    """What is wrong with `response` for any input, or None: a 5xx, or an error without a JSON body."""
    request = f"{response.request.method} {response.request.url}"
    if response.status_code >= 500:
        return f"{request}: {response.status_code} {response.text[:300]}"
    content_type = _header(response, "Content-Type")
    if response.status_code >= 400 and not content_type.startswith("application/json"):
        return f"{request}: {response.status_code} without a JSON body ({content_type})"
    return None


def _header(response, name):
    """A response header's value (Schemathesis keeps each header as a list, under any case)."""
    for key, value in response.headers.items():
        if key.lower() == name.lower():
            return value[0] if isinstance(value, list) else value
    return ""


def _has_query_or_body(operation):
    return bool(list(operation.query)) or bool(operation.get_request_payload_content_types())


def _operations(api_schema):
    return [result.ok() for result in api_schema.get_all_operations()]


@pytest.mark.parametrize("mode", list(schemathesis.GenerationMode), ids=lambda mode: mode.value)
def test_no_operation_answers_a_server_error(api_schema, mode):
    failures, fuzzed = [], []
    for operation in _operations(api_schema):

        @FUZZ_SETTINGS
        @given(case=operation.as_strategy(generation_mode=mode))
        def send(case):
            with _reader() as session:
                problem = _server_error(case.call(session=session))
            if problem and problem not in failures:
                failures.append(problem)

        try:
            send()
        except Unsatisfiable:
            # Only a path parameter or headers, which no client can send
            # outside their schema: there is no invalid request to make.
            assert mode is schemathesis.GenerationMode.NEGATIVE and not _has_query_or_body(operation), operation.label
            continue
        fuzzed.append(operation.label)
    assert not failures, "\n".join(failures)
    assert {"GET /api/posts", "POST /api/subscribers"} <= set(fuzzed)


def test_stateful_links_never_reach_a_server_error(api_schema):
    failures = []

    class Workflow(api_schema.as_state_machine()):
        def get_call_kwargs(self, case):
            return {"session": _reader()}

        def validate_response(self, response, case, **kwargs):
            problem = _server_error(response)
            if problem and problem not in failures:
                failures.append(problem)

    Workflow.run(settings=settings(FUZZ_SETTINGS, max_examples=25, stateful_step_count=6))
    assert not failures, "\n".join(failures)
