"""The tree keeps its layers: the project (`myblog/`) is built on by the apps and names none of them.

Among the apps, `posts` uses `photos` and never the other way round: a photo
knows only an opaque owner key, so the photo app can serve another owner.
"""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
APPS = {"posts", "subscribers", "photos", "devstack"}
PROJECT_MODULES = sorted((BASE_DIR / "myblog").rglob("*.py"))
PHOTOS_MODULES = sorted((BASE_DIR / "photos").rglob("*.py"))


def imported_modules(path):
    """Every module `path` imports (absolute names; relative imports resolved within its package)."""
    package = ".".join(path.relative_to(BASE_DIR).with_suffix("").parts[:-1])
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                yield f"{base}.{node.module}" if node.module else base
            else:
                yield node.module


@pytest.mark.parametrize("path", PROJECT_MODULES, ids=lambda path: str(path.relative_to(BASE_DIR)))
def test_no_project_module_imports_an_app(path):
    apps = sorted({name for name in imported_modules(path) if name.split(".")[0] in APPS})
    assert apps == [], f"{path.relative_to(BASE_DIR)} imports {apps}: the project may not depend on an app"


@pytest.mark.parametrize("path", PHOTOS_MODULES, ids=lambda path: str(path.relative_to(BASE_DIR)))
def test_no_photos_module_imports_another_app(path):
    apps = sorted({name for name in imported_modules(path) if name.split(".")[0] in APPS - {"photos"}})
    assert apps == [], f"{path.relative_to(BASE_DIR)} imports {apps}: photos may not depend on posts or any other app"


def test_the_checks_cover_the_photo_app():
    assert BASE_DIR / "photos" / "uploads.py" in PHOTOS_MODULES
    assert BASE_DIR / "photos" / "processing.py" in PHOTOS_MODULES


def test_the_check_sees_imports_of_every_kind(tmp_path, monkeypatch):
    monkeypatch.setattr("tests.project.test_layout.BASE_DIR", tmp_path)
    module = tmp_path / "myblog" / "sub" / "example.py"
    module.parent.mkdir(parents=True)
    module.write_text(
        "import posts.api\nfrom subscribers import api\nif True:\n    from photos.models import Photo\n"
        "def f():\n    import devstack\nfrom . import sibling\nfrom .. import settings\n"
    )
    assert sorted(imported_modules(module)) == [
        "devstack",
        "myblog",
        "myblog.sub",
        "photos.models",
        "posts.api",
        "subscribers",
    ]


def test_dynamo_admin_passes_its_own_tests_outside_the_project(tmp_path):
    """The admin layer, copied alone next to nothing of MyBlog, runs its suite with its own minimal settings."""
    shutil.copytree(BASE_DIR / "dynamo_admin", tmp_path / "dynamo_admin", ignore=shutil.ignore_patterns("__pycache__"))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--ds=dynamo_admin.tests.settings"]
        + ["--rootdir", str(tmp_path), "-o", "addopts=", "-o", "pythonpath=.", "dynamo_admin/tests"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "failed" not in result.stdout
