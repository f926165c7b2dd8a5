"""Children of the local stack never outlive it, and its stop signals are never lost.

Small real processes stand in for the emulators: an intermediate Python
process starts them with `devstack.processes` and is then killed or stopped.
Every wait is on a process exit or an output line, with generous bounds.
"""

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from devstack import processes
from devstack.management.commands.runlocal import StopOnSignal
from tests.devstack.stack import Process

BASE_DIR = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")

# Starts a child that itself starts a grandchild (as Django's autoreloader
# does), prints both PIDs, then waits.
PARENT = """
import sys, time
from devstack import processes
child = processes.spawn([sys.executable, "-c", {grandchild!r}], stdout=sys.stdout)
print("child", child.pid, flush=True)
time.sleep(600)
"""
CHILD_WITH_GRANDCHILD = """
import subprocess, sys, time
grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
print("grandchild", grandchild.pid, flush=True)
time.sleep(600)
"""

IGNORES_SIGTERM = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print(1, flush=True); time.sleep(600)"
)


def gone(*records, timeout=120):
    deadline = time.monotonic() + timeout
    while any(record.alive() for record in records) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not any(record.alive() for record in records)


def start_parent():
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT.format(grandchild=CHILD_WITH_GRANDCHILD)],
        cwd=BASE_DIR,
        stdout=subprocess.PIPE,
        text=True,
    )
    pids = dict(parent.stdout.readline().split() for _ in range(2))
    children = [Process.of(name, int(pids[name])) for name in ("child", "grandchild")]
    assert all(child.alive() for child in children)
    return parent, children


def test_children_die_when_their_parent_is_killed():
    parent, (child, grandchild) = start_parent()
    try:
        parent.kill()
        parent.wait(60)
        assert gone(child)
        # What the child started is the child's to stop (Django's autoreloader kills its server
        # on SIGTERM); this one does not, and it is left in the child's process group.
        assert grandchild.alive()
        processes.kill_group(child.pid)
        assert gone(grandchild)
    finally:
        parent.kill()
        processes.kill_group(child.pid)


def test_stopping_a_child_stops_what_it_started():
    child = processes.spawn(
        [sys.executable, "-c", CHILD_WITH_GRANDCHILD], stdout=subprocess.PIPE, text=True, cwd=BASE_DIR
    )
    grandchild = Process.of("grandchild", int(child.stdout.readline().split()[1]))
    record = Process.of("child", child.pid)
    processes.stop(child, timeout=60)
    assert child.returncode == -signal.SIGTERM
    assert gone(record, grandchild)


def test_a_child_that_ignores_sigterm_is_killed_after_the_timeout():
    child = processes.spawn(
        [sys.executable, "-c", IGNORES_SIGTERM],
        stdout=subprocess.PIPE,
        text=True,
    )
    child.stdout.readline()  # its handler is in place
    processes.stop(child, timeout=1)
    assert child.returncode == -signal.SIGKILL


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_stop_signal_that_python_drops_is_raised_again():
    """Python drops an exception raised in a finaliser or at-fork hook (logging's runs at every fork)."""
    stop = StopOnSignal()

    class Finaliser:
        def __del__(self):
            stop(signal.SIGTERM, None)

    Finaliser()  # "Exception ignored in ...": the KeyboardInterrupt is lost here
    with pytest.raises(KeyboardInterrupt):
        stop.check()


def test_once_stopping_further_signals_are_noted_and_ignored():
    stop = StopOnSignal()
    with pytest.raises(KeyboardInterrupt):
        stop(signal.SIGINT, None)
    stop.stopping = True
    stop(signal.SIGINT, None)
    stop(signal.SIGTERM, None)
    stop.check()
    assert stop.requested
