#!/usr/bin/env python3
"""Django's command-line utility for MyBlog.

Run with any Python 3.11: when it is not already running inside a virtualenv,
it creates `.venv` from the pinned `requirements-dev.txt` (and keeps it in
sync when that file changes), then re-runs itself with the virtualenv's
Python. That is what lets `python3 manage.py runlocal` and
`python3 manage.py runtests` (commands of the `devstack` app, which the
Lambda package leaves out) work on a fresh clone with nothing installed.
"""

import hashlib
import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
VENV_DIR = BASE_DIR / ".venv"
LOCK_FILES = ("requirements.txt", "requirements-dev.txt")


def _lock_digest():
    digest = hashlib.sha256()
    for name in LOCK_FILES:
        digest.update((BASE_DIR / name).read_bytes())
    return digest.hexdigest()


def _in_virtualenv():
    return sys.prefix != getattr(sys, "base_prefix", sys.prefix)


def ensure_virtualenv():
    """Create or refresh `.venv`, then re-exec into it if needed.

    Inside Lambda (`AWS_LAMBDA_FUNCTION_NAME`) or another virtualenv the
    interpreter is used as it is.
    """
    if os.environ.get("AWS_LAMBDA_FUNCTION_NAME") or os.environ.get("MYBLOG_NO_BOOTSTRAP"):
        return
    venv_python = VENV_DIR / "bin" / "python"
    using_project_venv = Path(sys.prefix).resolve() == VENV_DIR.resolve()
    if _in_virtualenv() and not using_project_venv:
        return
    marker = VENV_DIR / ".myblog-lock"
    wanted = _lock_digest()
    if not venv_python.exists():
        print("Creating the virtualenv in .venv ...", file=sys.stderr)
        subprocess.check_call([sys.executable, "-m", "venv", str(VENV_DIR)])
    if not marker.exists() or marker.read_text().strip() != wanted:
        print("Installing pinned dependencies into .venv ...", file=sys.stderr)
        subprocess.check_call(
            [
                str(venv_python),
                "-m",
                "pip",
                "install",
                "-qq",
                "--disable-pip-version-check",
                "-r",
                str(BASE_DIR / "requirements-dev.txt"),
            ]
        )
        marker.write_text(wanted + "\n")
    if not using_project_venv:
        os.execv(str(venv_python), [str(venv_python), str(Path(__file__).resolve()), *sys.argv[1:]])


def main():
    ensure_virtualenv()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "myblog.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
