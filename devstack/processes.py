"""Child processes that never outlive the process that started them.

The local stack's emulators and Django run in sessions of their own, so a
Ctrl-C at the terminal reaches `runlocal` alone and it can stop them in order
(the event pump and the bucket mirror still need the emulators while they
stop). Being in another session also means they are not signalled with
`runlocal`: if it is killed, crashes or times out, they would be orphaned
and keep their ports. So each child asks the kernel for a signal when its
parent dies (Linux `PR_SET_PDEATHSIG`), and stopping one signals its whole
process group, which takes any process it started with it (Django's
autoreloader runs the server in a child of its own).

The death signal is SIGTERM: every child here exits on it (Django's
autoreloader also kills its server process then). It is sent when the
*thread* that started the child ends, so start children from the main
thread, or from a thread that lives as long as they should.
"""

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def die_with_parent(parent_pid=None):
    """A `preexec_fn` that makes the child get SIGTERM when its parent dies (Linux only)."""
    parent_pid = parent_pid or os.getpid()

    def preexec():
        if _libc is None:
            return
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent_pid:  # the parent died before the request took effect
            os.kill(os.getpid(), signal.SIGTERM)

    return preexec


def spawn(args, **kwargs):
    """`subprocess.Popen` in a session of its own, bound to this process's life."""
    return subprocess.Popen(args, start_new_session=True, preexec_fn=die_with_parent(), **kwargs)


def run(args, **kwargs):
    """`subprocess.run` for a short-lived child that must not outlive this process either."""
    return subprocess.run(args, preexec_fn=die_with_parent(), **kwargs)


def kill_group(pid):
    """SIGKILL whatever is left of the process group `pid` leads (a no-op when it is empty)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _exited(process, timeout):
    """Wait up to `timeout` for the child to exit, without reaping it.

    Until it is reaped its PID, which is also its group's ID, cannot be
    given to another process: signalling the group stays safe.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            if os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                return True
        except ChildProcessError:  # already reaped
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def stop(process, timeout=15):
    """Stop a child of `spawn()` and everything in its process group.

    SIGTERM to the group, up to `timeout` seconds to exit, then SIGKILL;
    whatever it started and left behind is killed before it is reaped.
    """
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGTERM)
    if not _exited(process, timeout):
        kill_group(process.pid)
        _exited(process, 60)
    kill_group(process.pid)
    process.wait()
