"""The local Lambda runtime: an isolated process with only the package and the runtime's SDK."""

import json
import textwrap

import pytest

from devstack.lambda_runtime import InvocationTimeout, LambdaFunction, lambda_environment, runtime_sdk

HANDLER = textwrap.dedent(
    """
    import json, os, sys, time

    def lambda_handler(event, context):
        action = event.get("action")
        if action == "fail":
            raise ValueError("bad event")
        if action == "sleep":
            time.sleep(event["seconds"])
        if action == "big":
            return {"statusCode": 200, "body": "x" * event["bytes"]}
        return {
            "statusCode": 200,
            "body": json.dumps({
                "function_name": context.function_name,
                "arn": context.invoked_function_arn,
                "remaining": context.get_remaining_time_in_millis(),
                "request_id": context.aws_request_id,
                "key": os.environ.get("AWS_ACCESS_KEY_ID"),
                "token": os.environ.get("AWS_SESSION_TOKEN"),
                "setting": os.environ.get("MYBLOG_SETTING"),
                "pid": os.getpid(),
            }),
        }
    """
)

CREDENTIALS = {"AccessKeyId": "ASIAROLE", "SecretAccessKey": "secret", "SessionToken": "token"}


@pytest.fixture(scope="module")
def function(tmp_path_factory):
    task = tmp_path_factory.mktemp("task")
    (task / "handler.py").write_text(HANDLER)
    env = lambda_environment("myblog-dev", "us-east-1", 1024, 3, task, {"MYBLOG_SETTING": "on"}, CREDENTIALS)
    function = LambdaFunction("myblog-dev", task, env, sdk_dir=runtime_sdk(), timeout=3)
    yield function
    function.stop()


def test_the_handler_gets_a_context_and_only_the_role_credentials(function, monkeypatch):
    monkeypatch.setenv("MYBLOG_LEAK", "from the developer's shell")
    result = function.invoke({})
    body = json.loads(result.payload["body"])
    assert body["function_name"] == "myblog-dev"
    assert body["arn"] == "arn:aws:lambda:us-east-1:123456789012:function:myblog-dev"
    assert 0 < body["remaining"] <= 3000
    assert body["key"] == "ASIAROLE" and body["token"] == "token" and body["setting"] == "on"
    assert function.probe("os.environ.get('MYBLOG_LEAK')") is None
    assert function.probe("os.environ['AWS_EXECUTION_ENV']") == "AWS_Lambda_python3.11"


@pytest.mark.parametrize("module", ["moto", "devstack", "pytest", "django", "myblog", "zappa"])
def test_nothing_of_the_development_virtualenv_is_importable(function, module):
    found = function.probe(f"__import__('importlib.util').util.find_spec({module!r}) is not None")
    assert found is False


def test_sys_path_is_the_package_the_runtime_sdk_and_the_standard_library(function):
    paths = function.probe("sys.path")
    assert paths[0] == str(function.task_dir) and paths[1] == str(function.sdk_dir)
    assert not any("site-packages" in path for path in paths)
    assert function.probe("__import__('boto3').__version__") == "1.27.1"
    assert function.probe("__import__('botocore').__version__") == "1.30.1"


def test_an_exception_is_returned_as_lambdas_error_payload(function):
    result = function.invoke({"action": "fail"})
    assert result.failed
    assert result.error["errorType"] == "ValueError" and result.error["errorMessage"] == "bad event"
    assert result.error["stackTrace"]
    assert not function.invoke({}).failed  # the environment lives on


def test_a_timeout_ends_the_environment_and_the_next_call_is_a_cold_start(function):
    pid = json.loads(function.invoke({}).payload["body"])["pid"]
    with pytest.raises(InvocationTimeout, match="Task timed out after 3.00 seconds"):
        function.invoke({"action": "sleep", "seconds": 10})
    result = function.invoke({})
    assert result.cold and json.loads(result.payload["body"])["pid"] != pid


def test_a_response_over_six_megabytes_is_an_error(function):
    assert not function.invoke({"action": "big", "bytes": 5 * 1024 * 1024}).failed
    result = function.invoke({"action": "big", "bytes": 6 * 1024 * 1024 + 1})
    assert result.error["errorType"] == "Function.ResponseSizeTooLarge"
