"""However `runlocal` ends, no process of its stack outlives it.

Each test starts a real stack, ends it one way (Ctrl-C twice, SIGKILL, a
stop signal soon after start) and checks, by the PIDs runlocal printed for
its children and by their sessions, that nothing is left. The tests wait on
output lines and process exits, with bounds far above what a busy machine
needs; none depends on timing.
"""

import os
import signal

import pytest

from tests.devstack.stack import CHILD_LINE, READY_LINE, STOP_TIMEOUT, launch_stack, start_stack

pytestmark = pytest.mark.stack


def children_started(stack):
    names = [child.name for child in stack.children]
    assert names[:2] == ["DynamoDB Local", "moto server"], names
    return names


@pytest.mark.parametrize(
    "mode, children",
    [
        ((), ["DynamoDB Local", "moto server"]),  # the package: site and API served in runlocal's own threads
        (("--source",), ["DynamoDB Local", "moto server", "Django"]),
    ],
    ids=["package", "source"],
)
def test_a_second_ctrl_c_still_stops_everything(tmp_path, mode, children):
    stack = start_stack(tmp_path, "--no-seed", *mode)
    try:
        assert children_started(stack) == children
        os.killpg(stack.process.pid, signal.SIGINT)  # Ctrl-C at the terminal: runlocal's process group
        assert stack.wait_for_output(r"^Stopping \.\.\."), "".join(stack.output[-40:])
        # While it stops: Ctrl-C again, and the other stop signals, as an impatient user or a supervisor sends them.
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            if stack.process.poll() is None:
                os.killpg(stack.process.pid, signum)
        assert stack.wait_exit() == 0, "".join(stack.output[-40:])
        assert stack.said("Stopped."), "".join(stack.output[-40:])
        assert stack.wait_until_gone() == {}
    finally:
        leaked = stack.stop()
    assert not leaked


def test_killing_runlocal_takes_its_children_with_it(tmp_path):
    """SIGKILL leaves runlocal no chance to stop anything: the children still go."""
    stack = start_stack(tmp_path, "--no-seed")
    try:
        children = children_started(stack)
        assert all(child.alive() for child in stack.children), children
        stack.process.kill()
        stack.process.wait(STOP_TIMEOUT)
        assert stack.wait_until_gone() == {}
    finally:
        leaked = stack.stop()
    assert not leaked


@pytest.mark.parametrize(
    "signum, sigint_ignored",
    [
        (signal.SIGINT, True),  # Ctrl-C to a background job of a non-interactive shell (SIGINT starts ignored)
        (signal.SIGTERM, False),
        (signal.SIGHUP, False),
    ],
    ids=["SIGINT as a background job", "SIGTERM", "SIGHUP"],
)
def test_a_stop_signal_soon_after_start_stops_what_was_started(tmp_path, signum, sigint_ignored):
    """Ended while DynamoDB Local is still starting: runlocal stops it and exits."""
    stack = launch_stack(tmp_path, "--no-seed", sigint_ignored=sigint_ignored)
    try:
        assert stack.wait_for_output(CHILD_LINE.pattern), "".join(stack.output[-40:])
        os.killpg(stack.process.pid, signum)
        assert stack.wait_exit() == 0, "".join(stack.output[-40:])
        assert not any(READY_LINE in line for line in stack.output)
        assert stack.said("Stopped."), "".join(stack.output[-40:])
        assert stack.children and stack.wait_until_gone() == {}
    finally:
        leaked = stack.stop()
    assert not leaked
