"""Run the real local stack (`manage.py runlocal`) for integration tests (a pytest plugin).

The stack runs as a separate process exactly as a developer starts it (its
own DynamoDB Local, moto server, event pump, edge and Django), on free
loopback ports and a temporary state directory; tests talk to it over HTTP.

Every process a stack starts is accounted for: `runlocal` prints the PID of
each child as it starts it, and `RunningStack.stop()` waits until neither
`runlocal`, nor those children, nor anything in their sessions is left. It
kills what is left after a generous wait and returns it, so the fixtures
guarantee a clean machine and fail when a stack leaked a process. Waits are
on events (output lines, process exits) with bounds far above what a busy
machine needs: no verdict depends on load.
"""

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from devstack import processes, system

BASE_DIR = Path(__file__).resolve().parents[2]
READY_LINE = "MYBLOG READY"
CHILD_LINE = re.compile(r"^Starting (?P<name>.+?) on \S+ \(pid (?P<pid>\d+)\)")
START_TIMEOUT = 300
STOP_TIMEOUT = 180


def wait_for(condition, what, timeout=90, interval=0.3):
    """Poll until `condition()` is truthy: the stack's event pump works asynchronously."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")


def fetch(url, data=None, opener=None, headers=None):
    """(status, headers, text) of a request to the stack; HTTP errors are answers too."""
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        response = (opener or urllib.request.build_opener()).open(request, timeout=30)
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()
    return response.status, response.headers, response.read().decode(errors="replace")


def _stat(pid):
    """Fields 3 onwards of /proc/PID/stat (state, ppid, pgrp, session, ...), or None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # the command name may hold spaces and parentheses


@dataclass(frozen=True)
class Process:
    """A process by PID and start time, so that a recycled PID is not mistaken for it."""

    name: str
    pid: int
    started: str | None  # clock ticks after boot, /proc/PID/stat field 22

    @classmethod
    def of(cls, name, pid):
        fields = _stat(pid)
        return cls(name, pid, fields[19] if fields else None)

    def alive(self):
        fields = _stat(self.pid)
        return bool(fields) and self.started is not None and fields[19] == self.started and fields[0] != "Z"


def session_members(session_ids):
    """Live processes in any of the sessions `session_ids` (what the children started)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(entry.name)
            if fields and fields[0] != "Z" and int(fields[3]) in session_ids:
                found.add(int(entry.name))
    return found


@dataclass
class RunningStack:
    process: subprocess.Popen
    port: int
    var_dir: Path
    output: list = field(default_factory=list)
    children: list = field(default_factory=list)
    username: str = ""
    password: str = ""

    def __post_init__(self):
        self.runlocal = Process.of("runlocal", self.process.pid)
        self._lines = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.process.stdout:
            match = CHILD_LINE.match(line)
            with self._lines:
                if match:
                    self.children.append(Process.of(match["name"], int(match["pid"])))
                self.output.append(line)
                self._lines.notify_all()
        with self._lines:
            self._lines.notify_all()

    def wait_for_output(self, pattern, timeout=START_TIMEOUT):
        """The first output line matching `pattern`, or None if runlocal exits (or the bound passes) first."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._lines:
            while True:
                line = next((line for line in self.output if regex.search(line)), None)
                if line or not self._reader.is_alive() or time.monotonic() >= deadline:
                    return line
                self._lines.wait(1)

    def wait_exit(self, timeout=STOP_TIMEOUT):
        """runlocal's exit code, once it has exited and all its output is read."""
        code = self.process.wait(timeout)
        self._reader.join(60)
        return code

    def said(self, text):
        with self._lines:
            return any(line.strip() == text for line in self.output)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def edge_url(self):
        return f"http://127.0.0.1:{self.port + 3}"

    @property
    def description(self):
        """What the stack wrote about itself (package mode: names and the administrator's keys)."""
        path = self.var_dir / "stack.json"
        return json.loads(path.read_text()) if path.exists() else {}

    @property
    def bucket(self):
        return self.description.get("bucket", "myblog-local-media")

    def table(self, name):
        return self.description.get("table_prefix", "myblog-local-") + name

    @property
    def aws_env(self):
        """Environment for talking to the stack's emulators from a test, as its administrator."""
        return {
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{self.port + 2}",
            "AWS_ENDPOINT_URL_DYNAMODB": f"http://127.0.0.1:{self.port + 1}",
            "AWS_ENDPOINT_URL_DYNAMODB_STREAMS": f"http://127.0.0.1:{self.port + 1}",
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            **self.description.get("admin", {}),
        }

    def operator_env(self):
        """The environment of a `manage.py` command an operator runs against the stack (its own process)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MYBLOG_", "DJANGO_"))}
        env.update(self.aws_env)
        env.update(
            {
                "AWS_REGION": "us-east-1",
                "MYBLOG_TABLE_PREFIX": self.table(""),
                "MYBLOG_MEDIA_BUCKET": self.bucket,
                # The stage names its queues as its tables (myblog-<stage>-).
                "MYBLOG_QUEUE_PREFIX": self.table(""),
            }
        )
        return env

    def survivors(self):
        """What is still running of this stack: runlocal, its children, anything in their sessions."""
        with self._lines:
            known = [self.runlocal, *self.children]
        alive = {process.pid: process.name for process in known if process.alive()}
        for pid in session_members({child.pid for child in self.children}) - set(alive):
            alive[pid] = "started by a child"
        return alive

    def wait_until_gone(self, timeout=STOP_TIMEOUT):
        """Wait for every process of the stack to end; returns those still running after `timeout`."""
        deadline = time.monotonic() + timeout
        while (left := self.survivors()) and time.monotonic() < deadline:
            time.sleep(0.2)
        return left

    def stop(self, timeout=STOP_TIMEOUT):
        """Ctrl-C, then make sure: returns the processes that had to be killed (none, normally)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(30)
        left = self.wait_until_gone(timeout)
        for pid in left:
            processes.kill_group(pid)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return left


def _runlocal_preexec(sigint_ignored):
    die_with_pytest = processes.die_with_parent()

    def preexec():
        die_with_pytest()
        if sigint_ignored:
            # As a background job (`cmd &`) of a non-interactive shell starts.
            signal.signal(signal.SIGINT, signal.SIG_IGN)

    return preexec


def launch_stack(var_dir, *args, sigint_ignored=False):
    """Start `manage.py runlocal` in a session of its own (its process group gets the Ctrl-C); no wait."""
    if os.environ.get("CI", "").lower() != "true" and not shutil.which("java"):
        pytest.skip("Java 17 is not installed: the local stack needs it for DynamoDB Local (always run in CI)")
    port = system.free_port_block(4)
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MYBLOG_", "DJANGO_")) and k != "DATABASE_URL"
    }
    env["PYTHONUNBUFFERED"] = "1"
    command = [sys.executable, str(BASE_DIR / "manage.py"), "runlocal", "--port", str(port), "--var", str(var_dir)]
    process = subprocess.Popen(
        [*command, "--noreload", *args],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        preexec_fn=_runlocal_preexec(sigint_ignored),
    )
    return RunningStack(process, port, Path(var_dir))


def start_stack(var_dir, *args, timeout=START_TIMEOUT):
    """Start `manage.py runlocal` and wait until it prints its ready line."""
    stack = launch_stack(var_dir, *args)
    if not stack.wait_for_output(READY_LINE, timeout):
        leaked = stack.stop()
        raise RuntimeError(f"local stack did not start (killed: {leaked}):\n" + "".join(stack.output[-60:]))
    match = re.search(r"user: (\S+)\s+password: (\S+)", "".join(stack.output))
    stack.username, stack.password = match.group(1), match.group(2)
    return stack


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory):
    """The whole local stack, started once for the test session."""
    stack = start_stack(tmp_path_factory.mktemp("stack-var"))
    yield stack
    leaked = stack.stop()
    assert not leaked, f"processes of the local stack outlived it: {leaked}"
    check_iam_report(stack.var_dir)


def check_iam_report(var_dir):
    """Print what IAM said about the function's calls in a package-mode stack; fail on any denied call."""
    report = Path(var_dir) / "logs" / "iam-report.txt"
    if not report.exists():
        return
    text = report.read_text()
    print("\n" + text)
    denied = [line for line in text.splitlines() if line.strip().startswith("DENIED")]
    if denied:
        pytest.fail("the function role was denied calls the code made:\n" + "\n".join(denied))
