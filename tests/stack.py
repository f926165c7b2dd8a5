"""Run the real local stack (`manage.py runlocal`) for integration tests.

The stack runs as a separate process exactly as a developer starts it (its
own DynamoDB Local, moto server, event pump, edge and Django), on free
loopback ports and a temporary state directory; tests talk to it over HTTP.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from devstack import system

BASE_DIR = Path(__file__).resolve().parent.parent
READY_LINE = "MYBLOG READY"


def wait_for(condition, what, timeout=90, interval=0.3):
    """Poll until `condition()` is truthy: the stack's event pump works asynchronously."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")


@dataclass
class RunningStack:
    process: subprocess.Popen
    port: int
    var_dir: Path
    username: str
    password: str
    output: list

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def edge_url(self):
        return f"http://127.0.0.1:{self.port + 3}"

    @property
    def aws_env(self):
        """Environment for talking to the stack's emulators from a test."""
        return {
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{self.port + 2}",
            "AWS_ENDPOINT_URL_DYNAMODB": f"http://127.0.0.1:{self.port + 1}",
            "AWS_ENDPOINT_URL_DYNAMODB_STREAMS": f"http://127.0.0.1:{self.port + 1}",
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
        }

    def stop(self, timeout=60):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)


def start_stack(var_dir, timeout=240):
    """Start `manage.py runlocal` and wait until it prints its ready line."""
    if os.environ.get("CI", "").lower() != "true" and not shutil.which("java"):
        pytest.skip("Java 17 is not installed: the local stack needs it for DynamoDB Local (always run in CI)")
    port = system.free_port_block(4)
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MYBLOG_", "DJANGO_")) and k != "DATABASE_URL"
    }
    env["PYTHONUNBUFFERED"] = "1"
    process = subprocess.Popen(
        [
            sys.executable,
            str(BASE_DIR / "manage.py"),
            "runlocal",
            "--port",
            str(port),
            "--var",
            str(var_dir),
            "--noreload",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = []
    ready = threading.Event()

    def read():
        for line in process.stdout:
            output.append(line)
            if READY_LINE in line:
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(timeout) or process.poll() is not None:
        process.kill()
        raise RuntimeError("local stack did not start:\n" + "".join(output[-60:]))
    text = "".join(output)
    match = re.search(r"user: (\S+)\s+password: (\S+)", text)
    return RunningStack(process, port, Path(var_dir), match.group(1), match.group(2), output)


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory):
    """The whole local stack, started once for the test session."""
    stack = start_stack(tmp_path_factory.mktemp("stack-var"))
    yield stack
    stack.stop()
