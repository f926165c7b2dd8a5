"""infra/deployenv.py refuses a package that routes events to a module outside the product.

Zappa's scan for `zappa.websocket` imports walks the whole project folder
(skipping only venv, env, node_modules and hidden folders). A package
unpacked under var/ (as an interrupted rehearsal once left it, in
var/rehearsal/task) made the next `zappa package` write
WEBSOCKET_HANDLER_MODULE='var.rehearsal.task.handler' into the zip: every
cold start would log an import error and a deploy would create a WebSocket API.

It also gives what Zappa ships as source its bytecode, which Lambda loads
instead of compiling the module on every cold start.
"""

import subprocess
import sys
import zipfile

import pytest

from infra import deployenv

CLEAN_SETTINGS = """\
API_STAGE='prod'
PROJECT_NAME='myblog'
DJANGO_SETTINGS='myblog.settings'
AWS_EVENT_MAPPING={'arn:aws:s3:::myblog-prod-media-123456789012:s3:ObjectCreated:*': 'photos.handlers.make_renditions'}
"""


def make_zip(path, settings, extra=()):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("handler.py", "def lambda_handler(event, context):\n    return None\n")
        archive.writestr("zappa_settings.py", settings)
        for name in extra:
            archive.writestr(name, "")
    return path


def test_a_clean_package_passes(tmp_path):
    package = make_zip(tmp_path / "clean.zip", CLEAN_SETTINGS)

    assert deployenv.package_problems(package) == []
    deployenv.check_package(package)


def test_a_websocket_handler_found_under_var_is_refused(tmp_path):
    # What `zappa package` wrote after a rehearsal had left var/rehearsal/task.
    package = make_zip(
        tmp_path / "stray.zip", CLEAN_SETTINGS + "WEBSOCKET_HANDLER_MODULE='var.rehearsal.task.handler'\n"
    )

    with pytest.raises(deployenv.PackageError, match="WEBSOCKET_HANDLER_MODULE='var.rehearsal.task.handler'"):
        deployenv.check_package(package)


def test_any_websocket_handler_is_refused(tmp_path):
    # MyBlog has no WebSocket API: wherever Zappa found one, it is stray.
    package = make_zip(tmp_path / "websocket.zip", CLEAN_SETTINGS + "WEBSOCKET_HANDLER_MODULE='tools.ws'\n")

    assert deployenv.package_problems(package) == [
        "zappa_settings.py names WEBSOCKET_HANDLER_MODULE='tools.ws': MyBlog has no WebSocket handler; "
        "Zappa found a zappa.websocket import in a stray file of the project folder"
    ]


def test_a_binding_to_a_module_under_var_is_refused(tmp_path):
    settings = CLEAN_SETTINGS.replace("'photos.handlers.make_renditions'", "'var.rehearsal.task.posts.handlers.x'")
    package = make_zip(tmp_path / "binding.zip", settings)

    (problem,) = deployenv.package_problems(package)
    assert (
        problem == "zappa_settings.py AWS_EVENT_MAPPING names modules under var/: var.rehearsal.task.posts.handlers.x"
    )


def test_local_state_in_the_zip_is_refused(tmp_path):
    package = make_zip(tmp_path / "state.zip", CLEAN_SETTINGS, extra=["var/rehearsal/task/handler.py"])

    assert deployenv.package_problems(package) == [
        "the zip carries var/ (local state, excluded in zappa_settings.json)"
    ]


def test_package_checks_what_zappa_wrote(tmp_path, monkeypatch):
    """`deployenv.package` fails after a `zappa package` that found a stray handler."""

    def zappa_package(command, **kwargs):
        make_zip(command[command.index("-o") + 1], CLEAN_SETTINGS + "WEBSOCKET_HANDLER_MODULE='var.x.handler'\n")
        return subprocess.CompletedProcess(command, 0, "Package created", "")

    monkeypatch.setattr(deployenv.subprocess, "run", zappa_package)

    with pytest.raises(deployenv.PackageError, match="var.x.handler"):
        deployenv.package("prod", tmp_path / "prod.zip", venv=tmp_path / "venv")


def test_package_reports_a_failed_zappa_package(tmp_path, monkeypatch):
    monkeypatch.setattr(
        deployenv.subprocess, "run", lambda command, **kwargs: subprocess.CompletedProcess(command, 1, "", "boom")
    )

    with pytest.raises(deployenv.PackageError, match="zappa package prod failed"):
        deployenv.package("prod", tmp_path / "prod.zip", venv=tmp_path / "venv")


def test_package_ships_bytecode_for_the_modules_zappa_left_as_source(tmp_path, monkeypatch):
    def zappa_package(command, **kwargs):
        zip_path = make_zip(command[command.index("-o") + 1], CLEAN_SETTINGS)
        with zipfile.ZipFile(zip_path, "a") as archive:
            archive.writestr("posts/__init__.py", "")
            archive.writestr("posts/views.py", "ANSWER = 42\n")
            archive.writestr("six.pyc", b"legacy bytecode Zappa shipped instead of six.py")
        return subprocess.CompletedProcess(command, 0, "Package created", "")

    monkeypatch.setattr(deployenv.subprocess, "run", zappa_package)

    deployenv.package("prod", tmp_path / "prod.zip", venv=tmp_path / "venv")

    with zipfile.ZipFile(tmp_path / "prod.zip") as archive:
        cached = sorted(name for name in archive.namelist() if "__pycache__" in name)
    tag = sys.implementation.cache_tag
    assert cached == [
        f"__pycache__/handler.{tag}.pyc",
        f"__pycache__/zappa_settings.{tag}.pyc",
        f"posts/__pycache__/__init__.{tag}.pyc",
        f"posts/__pycache__/views.{tag}.pyc",
    ]


IMPORT_WITHOUT_COMPILING = """
import importlib.machinery, sys
compiled = []
source_to_code = importlib.machinery.SourceFileLoader.source_to_code
def counting(self, data, path, **kwargs):
    compiled.append(path.rsplit("/", 1)[-1])
    return source_to_code(self, data, path, **kwargs)
importlib.machinery.SourceFileLoader.source_to_code = counting
sys.path.insert(0, sys.argv[1])
from posts import views
print(views.ANSWER, compiled)
"""


def test_the_shipped_bytecode_is_used_and_a_changed_source_is_not_served_stale(tmp_path):
    zip_path = make_zip(tmp_path / "code.zip", CLEAN_SETTINGS)
    with zipfile.ZipFile(zip_path, "a") as archive:
        archive.writestr("posts/__init__.py", "")
        archive.writestr("posts/views.py", "ANSWER = 42\n")
    deployenv.add_bytecode(zip_path)
    task = tmp_path / "task"
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(task)

    def import_views():
        # As on Lambda: the code directory is read-only, nothing is cached there.
        env = {"PYTHONDONTWRITEBYTECODE": "1", "PATH": "/usr/bin:/bin"}
        command = [sys.executable, "-I", "-c", IMPORT_WITHOUT_COMPILING, str(task)]
        return subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout.strip()

    assert import_views() == "42 []"
    # Hash-checked: the source's content decides, whatever the zip's timestamps.
    (task / "posts" / "views.py").write_text("ANSWER = 43\n")
    assert import_views() == "43 ['views.py']"
