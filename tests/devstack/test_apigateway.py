"""The local API Gateway: proxy events in, API Gateway's own answers at its limits."""

import base64
import json
import textwrap
import urllib.request

import pytest

from devstack.apigateway import ApiGateway
from devstack.lambda_runtime import LambdaFunction, lambda_environment, runtime_sdk
from devstack.system import free_port

HANDLER = textwrap.dedent(
    """
    import base64, json, time

    def lambda_handler(event, context):
        path = event["path"]
        if path == "/slow":
            time.sleep(3)
        if path == "/crash":
            raise RuntimeError("boom")
        if path == "/not-a-proxy-response":
            return ["nope"]
        if path == "/big":
            return {"statusCode": 200, "body": "x" * (6 * 1024 * 1024 + 10)}
        if path == "/png":
            return {"statusCode": 200, "headers": {"Content-Type": "image/png"},
                    "body": base64.b64encode(b"\\x89PNG\\r\\n").decode(), "isBase64Encoded": True}
        return {
            "statusCode": 201,
            "headers": {"Content-Type": "application/json"},
            "multiValueHeaders": {"Set-Cookie": ["a=1; Path=/", "b=2; Path=/"]},
            "body": json.dumps(event),
        }
    """
)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    task = tmp_path_factory.mktemp("task")
    (task / "handler.py").write_text(HANDLER)
    env = lambda_environment(
        "myblog-dev", "us-east-1", 1024, 60, task, {}, {"AccessKeyId": "k", "SecretAccessKey": "s"}
    )
    function = LambdaFunction("myblog-dev", task, env, sdk_dir=runtime_sdk(), timeout=60)
    server = ApiGateway(function, "dev", free_port(), timeout=2).serve_in_thread()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.stop()
    function.stop()


def request(url, data=None, headers=None, method=None):
    try:
        response = urllib.request.urlopen(urllib.request.Request(url, data, headers or {}, method=method), timeout=30)
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()
    return response.status, response.headers, response.read()


def test_a_request_reaches_the_function_as_a_rest_proxy_event(gateway):
    status, headers, body = request(
        gateway + "/posts/hello/?tag=a&tag=b&q=1",
        data=b"\x00binary\xff",
        headers={"Content-Type": "application/octet-stream", "X-Custom": "yes", "X-Forwarded-Proto": "https"},
    )
    assert status == 201
    assert headers.get_all("Set-Cookie") == ["a=1; Path=/", "b=2; Path=/"]
    event = json.loads(body)
    assert event["resource"] == "/{proxy+}" and event["path"] == "/posts/hello/"
    assert event["httpMethod"] == "POST"
    assert event["pathParameters"] == {"proxy": "posts/hello/"}
    assert event["queryStringParameters"] == {"tag": "b", "q": "1"}
    assert event["multiValueQueryStringParameters"] == {"tag": ["a", "b"], "q": ["1"]}
    assert event["headers"]["X-Custom"] == "yes" and event["multiValueHeaders"]["X-Custom"] == ["yes"]
    assert event["headers"]["X-Forwarded-Proto"] == "http"  # the listener's scheme, not a client's claim
    assert event["requestContext"]["stage"] == "dev"
    assert event["requestContext"]["identity"]["sourceIp"] == "127.0.0.1"
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == b"\x00binary\xff"


def test_the_root_has_its_own_resource_and_no_body(gateway):
    event = json.loads(request(gateway + "/")[2])
    assert event["resource"] == "/" and event["pathParameters"] is None
    assert event["body"] is None and event["isBase64Encoded"] is False
    assert event["queryStringParameters"] is None


def test_a_base64_answer_is_decoded(gateway):
    status, headers, body = request(gateway + "/png")
    assert status == 200 and headers["Content-Type"] == "image/png" and body == b"\x89PNG\r\n"


def test_a_request_over_ten_megabytes_is_refused_before_the_function(gateway):
    status, _, body = request(gateway + "/upload", data=b"x" * (10 * 1024 * 1024 + 1), method="POST")
    assert status == 413 and json.loads(body) == {"message": "Request Too Long"}


@pytest.mark.parametrize("path", ["/crash", "/not-a-proxy-response", "/big"])
def test_a_failed_or_oversized_answer_is_a_502(gateway, path):
    status, headers, body = request(gateway + path)
    assert status == 502 and json.loads(body) == {"message": "Internal server error"}
    assert headers["Content-Type"] == "application/json"


def test_no_answer_within_the_integration_timeout_is_a_504(gateway):
    status, _, body = request(gateway + "/slow")
    assert status == 504 and json.loads(body) == {"message": "Endpoint request timed out"}
