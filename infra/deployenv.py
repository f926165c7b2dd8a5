"""The virtualenv that Zappa packages: requirements.txt and nothing else.

`zappa package` and `zappa deploy` zip the *active* virtualenv, so they must
run from one that holds only the runtime dependencies (no moto, pytest or
linters). This module builds it under var/ and reuses it while
requirements.txt is unchanged:

    .venv/bin/python infra/deployenv.py          # prints the venv's path
    VIRTUAL_ENV=var/deploy/venv var/deploy/venv/bin/zappa deploy prod

Its site-packages are compiled to bytecode in the legacy layout (`foo.pyc`
beside `foo.py`, `compileall -b`), and Zappa then ships the .pyc instead of
the .py. Lambda's code directory is read-only, so Python could never cache
bytecode there, and Zappa zips every file with a 1980 timestamp, so ordinary
`__pycache__` files would be rejected as stale: without shipped bytecode a
cold start compiles Django and friends in memory (about 3 s here, against
0.5 s with it), and the zip stays about the size of the sources alone.

Zappa's lookup of Linux wheels cannot reach its index from machines without
internet access; it then keeps the virtualenv's own wheels, which is right as
long as this venv is built on Linux x86_64 with CPython 3.11, the platform of
the `python3.11` / `x86_64` Lambda runtime.
"""

import hashlib
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# The directory is named `venv` because Zappa's scan of the project for
# WebSocket handlers skips directories of that name: any other name would
# make it find `zappa.websocket` imports in the virtualenv's own copy of
# Zappa and route WebSocket events to a module that is not in the package.
DEFAULT_PATH = REPO / "var" / "deploy" / "venv"
STAMP = ".requirements-sha256"


def requirements_digest(requirements):
    return hashlib.sha256(Path(requirements).read_bytes()).hexdigest()


def site_packages(venv):
    return Path(venv) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"


def check_platform():
    """Refuse to build a package for Lambda on a platform whose wheels differ."""
    platform = sysconfig.get_platform()
    if sys.version_info[:2] != (3, 11) or platform != "linux-x86_64":
        raise SystemExit(
            f"the Lambda package must be built with CPython 3.11 on linux-x86_64, not "
            f"{sys.version.split()[0]} on {platform}: its compiled wheels (Pillow, nh3) would not load on Lambda"
        )


def ensure(path=DEFAULT_PATH, requirements=REPO / "requirements.txt", log=print):
    """Create or reuse the deploy virtualenv at `path`; returns its path."""
    check_platform()
    path = Path(path)
    digest = requirements_digest(requirements)
    stamp = path / STAMP
    if stamp.exists() and stamp.read_text().strip() == digest and (path / "bin" / "zappa").exists():
        log(f"deploy venv: reusing {path} (requirements.txt unchanged)")
        return path
    log(f"deploy venv: building {path} from {Path(requirements).name}")
    if path.exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(path)], check=True)
    else:
        subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    pip = [str(path / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--no-compile", "--no-deps", "-r", str(requirements)], check=True)
    # Sourceless bytecode that Lambda loads as it is (see the module docstring).
    for cache in site_packages(path).rglob("__pycache__"):
        shutil.rmtree(cache)
    python = str(path / "bin" / "python")
    subprocess.run([python, "-m", "compileall", "-q", "-b", "-j", "0", str(site_packages(path))], check=True)
    drop_compiled_sources(site_packages(path))
    prune_locales(site_packages(path))
    stamp.write_text(digest + "\n")
    return path


def drop_compiled_sources(packages):
    """Remove each .py that has a .pyc beside it, so the zip carries one copy.

    Zappa means to skip such sources itself, but compares modification
    times of copies it has just made, so it keeps an arbitrary half of them.
    Kept: package `__init__.py` files (Zappa writes an empty `__init__.py`
    into any folder without one, which would shadow the compiled one),
    migrations (Django reads them) and Zappa's own sources (it copies its
    handler.py and ext/django_zappa.py into the package).
    """
    for source in Path(packages).rglob("*.py"):
        if (
            source.name == "__init__.py"
            or source.parent.name == "migrations"
            or source.relative_to(packages).parts[0] == "zappa"
        ):
            continue
        if source.with_suffix(".pyc").exists():
            source.unlink()


# Translations shipped: MyBlog's pages and admin are in English
# (LANGUAGE_CODE en-us). Add a language here to serve it.
KEEP_LOCALES = ("en",)


def prune_locales(packages, keep=KEEP_LOCALES):
    """Remove the translations of languages the site does not serve (about 3 MB of the zip)."""
    for locale in Path(packages).rglob("locale"):
        if not locale.is_dir():
            continue
        for language in locale.iterdir():
            if language.is_dir() and language.name not in keep and language.name.split("_")[0] not in keep:
                shutil.rmtree(language)


def environ(venv, base=None):
    """Environment in which Zappa sees `venv` as the active virtualenv."""
    env = dict(os.environ if base is None else base)
    env["VIRTUAL_ENV"] = str(venv)
    env["PATH"] = f"{Path(venv) / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env.pop("PYTHONHOME", None)
    # Zappa runs from this venv and imports its own sources (kept, see
    # drop_compiled_sources): without this it would write __pycache__ into
    # the venv, and the next package would carry 200 KB of bytecode that
    # Lambda ignores (Zappa's 1980 timestamps never match it).
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


if __name__ == "__main__":
    print(ensure(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_PATH))
