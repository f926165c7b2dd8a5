"""`manage.py runtests` runs the suite on two workers, a test file to each."""

import threading
import time

import pytest

from devstack.management.commands.runtests import parallel
from infra import deployenv


def test_two_workers_by_default(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert parallel(["-q", "-p", "no:cacheprovider"]) == ["-n", "2", "--dist", "loadfile"]


@pytest.mark.parametrize(
    "arguments", [["-n", "0"], ["-n4"], ["--numprocesses=3"], ["--dist", "load"], ["-p", "no:xdist"]]
)
def test_arguments_that_choose_workers_win(arguments, monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert parallel(arguments) == []


def test_one_core_runs_in_one_process(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 1)
    assert parallel([]) == []


def test_one_builder_at_a_time_for_a_cache_entry(tmp_path):
    """Two workers asking for the same package: the second waits until the first has finished."""
    lock = tmp_path / "packages" / ".key.lock"
    order = []
    first_holds = threading.Event()

    def first():
        with deployenv.exclusive(lock):
            first_holds.set()
            time.sleep(0.3)
            order.append("first done")

    def second():
        first_holds.wait(5)
        with deployenv.exclusive(lock):
            order.append("second in")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert order == ["first done", "second in"]
