"""Rehearse a production deploy offline, against moto server, before a real one.

    .venv/bin/python infra/rehearse.py                      # about two minutes
    .venv/bin/python infra/rehearse.py --keep /tmp/rehearsal  # keep the zips, settings copy and logs there
    .venv/bin/python infra/rehearse.py -- -k stream          # extra pytest arguments after --
    .venv/bin/python infra/rehearse.py -- --log-cli-level=INFO   # also show each emulator gap as it is met

This runs the rehearsal's checks, `pytest tests/deploy -m deploy_rehearsal`
(tests/deploy/conftest.py says what is deployed, tests/deploy/test_rehearsal.py
what is checked), with each check's name shown. Where moto falls short of AWS
the fixtures work around it and log the gap (logger `infra.emulated_stack`).
Its files go to a temporary folder, never inside the repository: Zappa's scan
for WebSocket handlers walks the project folder. Exits with pytest's status.
"""

import argparse
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def command(keep=None, extra=()):
    arguments = [
        sys.executable,
        "-m",
        "pytest",
        "tests/deploy",
        "-m",
        "deploy_rehearsal",
        "-v",
        "-p",
        "no:cacheprovider",
    ]
    if keep:
        arguments += ["--basetemp", str(keep)]
    return [*arguments, *extra]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", type=Path, metavar="DIR", help="write the rehearsal's files to DIR (emptied first)")
    parser.add_argument("pytest_args", nargs="*", help="passed to pytest (after --)")
    args = parser.parse_args(argv)
    if args.keep and args.keep.resolve().is_relative_to(REPO):
        parser.error("--keep must name a folder outside the repository (Zappa's handler scan would find it)")
    return subprocess.run(command(args.keep and args.keep.resolve(), args.pytest_args), cwd=REPO).returncode


if __name__ == "__main__":
    sys.exit(main())
