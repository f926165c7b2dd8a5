"""The package cache: one build per content, whatever else changes in the checkout."""

import copy
import json
import subprocess
from pathlib import Path

import pytest

from devstack import package

SETTINGS = {
    "base": {"project_name": "myblog", "exclude": ["tests", "bench", "*.po"]},
    "dev": {"extends": "base", "environment_variables": {"MYBLOG_TABLE_PREFIX": "myblog-dev-"}},
}


@pytest.fixture
def checkout(tmp_path):
    (tmp_path / "requirements.txt").write_text("django==5.2.19\n")
    (tmp_path / "zappa_settings.json").write_text(json.dumps(SETTINGS))
    for name in ("myblog/views.py", "tests/test_views.py", "devstack/stack.py", "bench/coldstart.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("# one\n")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    return tmp_path


def test_the_digest_follows_what_the_package_ships(checkout):
    first = package.digest("dev", checkout)
    (checkout / "tests" / "test_views.py").write_text("# changed\n")
    (checkout / "devstack" / "stack.py").write_text("# changed\n")
    (checkout / "bench" / "coldstart.py").write_text("# changed\n")
    assert package.digest("dev", checkout) == first
    (checkout / "myblog" / "views.py").write_text("# changed\n")
    assert package.digest("dev", checkout) != first


def test_the_digest_follows_the_lock_file_and_the_stage_settings(checkout):
    first = package.digest("dev", checkout)
    (checkout / "requirements.txt").write_text("django==5.2.20\n")
    second = package.digest("dev", checkout)
    assert second != first
    settings = copy.deepcopy(SETTINGS)
    settings["dev"]["environment_variables"]["MYBLOG_BLOG_NAME"] = "Other"
    (checkout / "zappa_settings.json").write_text(json.dumps(settings))
    assert package.digest("dev", checkout) != second


def test_the_digest_follows_how_the_package_is_built(checkout, tmp_path_factory, monkeypatch):
    first = package.digest("dev", checkout)
    recipe = tmp_path_factory.mktemp("infra") / "deployenv.py"
    recipe.write_text(Path(package.deployenv.__file__).read_text() + "# changed\n")
    monkeypatch.setattr(package.deployenv, "__file__", str(recipe))
    assert package.digest("dev", checkout) != first


def test_values_only_the_running_stack_knows_are_left_to_the_function_configuration():
    environment = package.settings_copy("dev")["dev"]["environment_variables"]
    assert not set(package.LOCAL_KEYS) & set(environment)
    assert environment["MYBLOG_TABLE_PREFIX"] == "myblog-dev-"
