"""The Lambda zip holds the product and nothing of the development tooling.

The package is built the documented way (`zappa package` from the deploy
virtualenv, see tests/lambda_package.py) and its file list is read: the
local stack, the tests, benchmarks and deploy scripts, and every library
that only the development lock file pins (moto, pytest, ruff, ...) must be
absent. The settings install the `devstack` app only where it is importable,
which the last test checks on a tree without it.
"""

import re
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from django.conf import settings

REPO = Path(__file__).resolve().parents[2]
# Project folders for developers only (zappa_settings.json excludes them by
# name), besides any hidden folder (.ci, tool caches).
DEV_ONLY_FOLDERS = {"devstack", "tests", "bench", "infra", "var", "node_modules"}
PRODUCT = (
    "handler.py",
    "zappa_settings.py",
    "myblog/settings.py",
    "photos/",
    "posts/",
    "subscribers/",
    "templates/",
    "django/",
)


def pinned(lock_file):
    names = set()
    for line in (REPO / lock_file).read_text().splitlines():
        if re.match(r"[A-Za-z0-9]", line):
            names.add(re.split(r"[=<>!~ ;\[]", line, maxsplit=1)[0].lower().replace("_", "-"))
    return names


def module_name(entry):
    """The module a top-level entry provides: `moto/core.py`, `six.pyc`, `_cffi_backend.cpython-311-...so`."""
    return entry.split("/", 1)[0].split(".", 1)[0]


def dev_only_modules():
    """The top-level modules of every distribution pinned for development only."""
    modules = {}
    for name in sorted(pinned("requirements-dev.txt") - pinned("requirements.txt")):
        for path in metadata.distribution(name).files or []:
            top = path.parts[0]
            if top in ("..", "__pycache__") or top.endswith((".dist-info", ".data")):
                continue
            modules[module_name(top)] = name
    return modules


def test_the_development_lock_file_names_the_dev_tools():
    """The list the zip is checked against is not empty by accident."""
    modules = dev_only_modules()
    assert {"moto", "pytest", "_pytest", "ruff", "cfnlint", "playwright"} <= set(modules)
    assert not {"django", "pynamodb", "zappa", "PIL", "boto3"} & set(modules)


@pytest.mark.deploy_rehearsal
def test_the_lambda_zip_holds_no_development_module(lambda_package):
    names = zipfile.ZipFile(lambda_package).namelist()
    missing = [item for item in PRODUCT if not any(name.startswith(item) for name in names)]
    assert not missing, f"the package lacks the product itself: {missing}"

    dev_modules = dev_only_modules()
    found = {}
    for name in names:
        parts = name.split("/")
        if len(parts) > 1 and (parts[0] in DEV_ONLY_FOLDERS or parts[0].startswith(".")):
            found.setdefault(parts[0] + "/", name)
        elif module_name(name) in dev_modules:
            found.setdefault(f"{module_name(name)} ({dev_modules[module_name(name)]})", name)
        if "devstack" in parts or "localstack" in parts:
            found.setdefault("devstack", name)
    assert not found, f"development-only code in the Lambda zip: {found}"


def test_devstack_is_installed_where_it_is_importable():
    assert "devstack" in settings.INSTALLED_APPS


def test_without_devstack_the_settings_load_and_the_project_checks_clean(tmp_path):
    """As in the Lambda package: every folder of the project but devstack/."""
    for entry in REPO.iterdir():
        if entry.name not in ("devstack", "var", ".venv", ".git"):
            (tmp_path / entry.name).symlink_to(entry)
    code = (
        "import django, importlib.util\n"
        "from django.conf import settings\n"
        "from django.core.management import call_command\n"
        "django.setup()\n"
        "assert importlib.util.find_spec('devstack') is None\n"
        "call_command('check')\n"
        "print(','.join(settings.INSTALLED_APPS))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "myblog.settings", "PYTHONPATH": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    apps = result.stdout.strip().splitlines()[-1].split(",")
    assert "devstack" not in apps and {"myblog", "photos", "posts", "subscribers"} <= set(apps)
