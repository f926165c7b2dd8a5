"""A local Lambda runtime: the unzipped package in its own process, with only what Lambda gives it.

Lambda's python3.11 runtime starts an interpreter whose `sys.path` is the
function's code (`/var/task`), the runtime's own AWS SDK and the standard
library, imports the handler and then feeds it one event at a time with a
context object. `LambdaFunction` does the same on this machine:

- the interpreter runs isolated (`python -I -S`): no site-packages, no
  PYTHON* variables, no current directory, so nothing of the development
  virtualenv (Django, moto, pytest, this package) can be imported; its
  `sys.path` is the package, the function's layers (their `python/`
  folder, as Lambda's /opt/python), the SDK installed from
  devstack/lambda-runtime-requirements.txt, and the standard library;
- its environment is what Lambda sets (function name, memory, region,
  `LAMBDA_TASK_ROOT`, `TZ=:UTC`, ...) plus the function's configuration
  and the credentials of its role, nothing from this process;
- each invocation is a JSON event in, a JSON result out; an exception is
  returned as Lambda's error payload (errorMessage, errorType,
  stackTrace); a function that runs past its timeout is killed and the next
  invocation starts a fresh process (a cold start), as Lambda does;
- its output is the function's log (CloudWatch Logs on AWS), a file here.

One `LambdaFunction` is one execution environment, handling one invocation
at a time; the stack runs one for HTTP and one for events, as Lambda would
run concurrent invocations in separate environments.
"""

import contextlib
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from devstack.package import CACHE_DIR
from infra import deployenv

log = logging.getLogger(__name__)

SDK_REQUIREMENTS = Path(__file__).resolve().with_name("lambda-runtime-requirements.txt")
# Python's own interpreter, not the virtualenv's: with -I -S either would do,
# but the base one makes the isolation plain to see.
PYTHON = getattr(sys, "_base_executable", sys.executable)
MAX_RESPONSE_BYTES = 6 * 1024 * 1024  # Lambda's synchronous invocation payload limit
ACCOUNT = "123456789012"


def runtime_sdk(cache_dir=None, requirements=SDK_REQUIREMENTS):
    """The runtime's SDK, pip-installed once per lock file into the cache; returns its directory."""
    key = hashlib.sha256(Path(requirements).read_bytes()).hexdigest()[:16]
    target = Path(cache_dir or CACHE_DIR) / "lambda-runtime-sdk" / key
    with deployenv.exclusive(target.with_name(key + ".lock")):
        if not (target / ".complete").exists():
            _install_sdk(requirements, target, key)
    return target


def _install_sdk(requirements, target, key):
    partial = target.with_name(key + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", "install", "--no-deps"]
        + ["--target", str(partial), "-r", str(requirements)],
        check=True,
        capture_output=True,
        text=True,
    )
    (partial / ".complete").write_text(Path(requirements).read_text())
    shutil.rmtree(target, ignore_errors=True)
    os.replace(partial, target)


# Runs inside the function's process. Reads one JSON request per line on
# stdin and writes one JSON answer per line on the result pipe; stdout and
# stderr are the function's log.
BOOTSTRAP = r"""
import json, os, sys, time, traceback
task, sdk, result_fd, opt = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
# Lambda's order: the function's code, then its layers (/opt/python), then the runtime's SDK.
sys.path[:0] = [task] + ([os.path.join(opt, "python")] if opt else []) + [sdk]
results = os.fdopen(result_fd, "w", buffering=1)

def configured_endpoints():
    # botocore 1.31+ reads AWS_ENDPOINT_URL_<SERVICE>; older SDKs (such as
    # the one pinned for the runtime) do not. On AWS the default endpoints
    # are right and nothing is set; locally the stack sets the variables, so
    # give an older SDK the same reading of them (the local stand-in for
    # AWS's DNS names). The function's code is not touched.
    import botocore.configprovider, botocore.session
    if "ignore_configured_endpoint_urls" in botocore.configprovider.BOTOCORE_DEFAUT_SESSION_VARIABLES:
        return
    create_client = botocore.session.Session.create_client
    def create_client_with_endpoint(self, service_name, *args, **kwargs):
        if kwargs.get("endpoint_url") is None and not (len(args) >= 4 and args[3]):
            service_id = self.get_service_model(service_name).service_id
            variable = "AWS_ENDPOINT_URL_" + str(service_id).replace(" ", "_").upper()
            endpoint = os.environ.get(variable) or os.environ.get("AWS_ENDPOINT_URL")
            if endpoint:
                kwargs["endpoint_url"] = endpoint
        return create_client(self, service_name, *args, **kwargs)
    botocore.session.Session.create_client = create_client_with_endpoint

if any(name.startswith("AWS_ENDPOINT_URL") for name in os.environ):
    configured_endpoints()

class Context:
    def __init__(self, request):
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = os.environ["AWS_LAMBDA_FUNCTION_VERSION"]
        self.memory_limit_in_mb = os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]
        self.invoked_function_arn = request["invoked_function_arn"]
        self.aws_request_id = request["request_id"]
        self.log_group_name = os.environ["AWS_LAMBDA_LOG_GROUP_NAME"]
        self.log_stream_name = os.environ["AWS_LAMBDA_LOG_STREAM_NAME"]
        self.identity = None
        self.client_context = None
        self._deadline = request["deadline"]

    def get_remaining_time_in_millis(self):
        return max(0, int((self._deadline - time.time()) * 1000))

module_name, function_name = os.environ["_HANDLER"].rsplit(".", 1)
try:
    handler = getattr(__import__(module_name, fromlist=[function_name]), function_name)
    init_error = None
except Exception as error:
    init_error = error
    traceback.print_exc()

for line in sys.stdin:
    request = json.loads(line)
    if request.get("probe"):
        results.write(json.dumps({"probe": eval(request["probe"])}) + "\n")
        continue
    started = time.perf_counter()
    try:
        if init_error is not None:
            raise init_error
        answer = {"payload": handler(request["event"], Context(request))}
    except Exception as error:
        traceback.print_exc()
        answer = {"error": {
            "errorMessage": str(error),
            "errorType": type(error).__name__,
            "stackTrace": traceback.format_tb(error.__traceback__),
        }}
    answer["duration"] = time.perf_counter() - started
    try:
        text = json.dumps(answer, default=str)
    except (TypeError, ValueError) as error:
        text = json.dumps({"error": {"errorMessage": f"Unable to marshal response: {error}",
                                     "errorType": "Runtime.MarshalError"}})
    results.write(text + "\n")
"""


class InvocationTimeout(Exception):
    pass


@dataclass
class Invocation:
    payload: object = None
    error: dict = None  # Lambda's error payload when the function failed
    duration: float = 0.0
    cold: bool = False
    response_bytes: int = 0

    @property
    def failed(self):
        return self.error is not None


def lambda_environment(name, region, memory_mb, timeout, task_dir, configuration, credentials):
    """The variables Lambda's python3.11 runtime sets, the function's configuration and its role's keys."""
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "PYTHONDONTWRITEBYTECODE": "1",  # /var/task is read-only on Lambda
        "LAMBDA_TASK_ROOT": str(task_dir),
        "LAMBDA_RUNTIME_DIR": str(task_dir),
        "_HANDLER": "handler.lambda_handler",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
        "AWS_LAMBDA_FUNCTION_TIMEOUT": str(timeout),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": f"local/[$LATEST]{uuid.uuid4().hex}",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
    }
    env.update(configuration)
    env.update(
        {
            "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
            "AWS_SESSION_TOKEN": credentials.get("SessionToken", ""),
        }
    )
    return {key: value for key, value in env.items() if value != ""}


class LambdaFunction:
    """One execution environment of a function, started on first use and after a timeout."""

    def __init__(
        self,
        name,
        task_dir,
        environment,
        sdk_dir=None,
        timeout=60,
        log_path=None,
        region="us-east-1",
        opt_dir=None,
    ):
        self.name = name
        self.task_dir = Path(task_dir)
        self.opt_dir = Path(opt_dir) if opt_dir else None  # the layers, unpacked as under /opt
        self.sdk_dir = Path(sdk_dir) if sdk_dir else runtime_sdk()
        self.environment = environment
        self.timeout = timeout
        self.log_path = log_path
        self.arn = f"arn:aws:lambda:{region}:{ACCOUNT}:function:{name}"
        self._process = None
        self._results = None
        self._lock = threading.Lock()

    def start(self):
        read_fd, write_fd = os.pipe()
        log_file = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        try:
            # Not devstack.processes.spawn(): PR_SET_PDEATHSIG follows the thread
            # that forks, and a cold start happens on a request's short-lived
            # thread, whose end would kill the environment. stop() ends it.
            self._process = subprocess.Popen(
                [
                    *(PYTHON, "-I", "-S", "-c", BOOTSTRAP),
                    *(str(self.task_dir), str(self.sdk_dir), str(write_fd), str(self.opt_dir or "")),
                ],
                cwd=self.task_dir,
                env=self.environment,
                stdin=subprocess.PIPE,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                pass_fds=(write_fd,),
                text=True,
                start_new_session=True,
            )
        finally:
            os.close(write_fd)
            if log_file is not subprocess.DEVNULL:
                log_file.close()
        self._results = os.fdopen(read_fd, "r")
        return self

    @property
    def running(self):
        return self._process is not None and self._process.poll() is None

    def invoke(self, event, timeout=None):
        """Run one event; returns an Invocation. Raises InvocationTimeout when the caller's wait ends first."""
        with self._lock:
            cold = not self.running
            if cold:
                self.start()
            limit = self.timeout if timeout is None else min(timeout, self.timeout)
            request = {
                "event": event,
                "request_id": str(uuid.uuid4()),
                "invoked_function_arn": self.arn,
                "deadline": time.time() + self.timeout,
            }
            line = self._exchange(request, limit)
            answer = json.loads(line)
            result = Invocation(answer.get("payload"), answer.get("error"), answer.get("duration", 0.0), cold)
            result.response_bytes = len(json.dumps(result.payload).encode()) if not result.failed else 0
            if result.response_bytes > MAX_RESPONSE_BYTES:
                result = Invocation(
                    error={
                        "errorMessage": f"Response payload size ({result.response_bytes} bytes) exceeded maximum "
                        f"allowed payload size ({MAX_RESPONSE_BYTES} bytes).",
                        "errorType": "Function.ResponseSizeTooLarge",
                    },
                    duration=result.duration,
                    cold=cold,
                )
            return result

    def probe(self, expression):
        """Evaluate a Python expression inside the function's process (tests of its isolation)."""
        with self._lock:
            if not self.running:
                self.start()
            return json.loads(self._exchange({"probe": expression}, 30))["probe"]

    def _exchange(self, request, limit):
        answer = []
        reader = threading.Thread(target=lambda: answer.append(self._results.readline()), daemon=True)
        try:
            self._process.stdin.write(json.dumps(request) + "\n")
            self._process.stdin.flush()
        except BrokenPipeError:
            pass
        reader.start()
        reader.join(limit)
        if reader.is_alive() or not answer or not answer[0]:
            timed_out = reader.is_alive()
            self.stop()  # Lambda ends the environment; the next invocation is a cold start
            if timed_out:
                raise InvocationTimeout(f"Task timed out after {limit:.2f} seconds")
            return json.dumps(
                {
                    "error": {
                        "errorMessage": "Runtime exited without providing a reason",
                        "errorType": "Runtime.ExitError",
                    }
                }
            )
        return answer[0]

    def stop(self, timeout=10):
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait(timeout)
        for stream in (self._process.stdin, self._results):
            with contextlib.suppress(OSError, ValueError):  # what a killed process left
                stream.close()
        self._process = None
