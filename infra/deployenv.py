"""The virtualenv that Zappa packages: requirements.txt and nothing else.

`zappa package` and `zappa deploy` zip the *active* virtualenv, so they must
run from one that holds only the runtime dependencies (no moto, pytest or
linters). This module builds it under var/ and reuses it while
requirements.txt is unchanged:

    .venv/bin/python infra/deployenv.py          # prints the venv's path
    .venv/bin/python infra/deployenv.py package prod -o /tmp/myblog-prod.zip
    VIRTUAL_ENV=var/deploy/venv var/deploy/venv/bin/zappa deploy prod -z /tmp/myblog-prod.zip

`package` runs `zappa package` from that virtualenv and then refuses a zip
whose runtime settings route events to a module that is not part of the
product: Zappa scans the whole project folder for `zappa.websocket` imports
(skipping only folders named venv, env, node_modules and hidden ones), so a
stray copy of a package under var/ (an unpacked zip, a build left by a
crashed run) would make it write `WEBSOCKET_HANDLER_MODULE` into the zip and
make a deploy create a WebSocket API. Unpack and build outside the project.

Its site-packages are compiled to bytecode in the legacy layout (`foo.pyc`
beside `foo.py`, `compileall -b`), and Zappa then ships the .pyc instead of
the .py. Lambda's code directory is read-only, so Python could never cache
bytecode there, and Zappa zips every file with a 1980 timestamp, so ordinary
`__pycache__` files would be rejected as stale: without shipped bytecode a
cold start compiles Django and friends in memory (about 3 s here, against
0.5 s with it), and the zip stays about the size of the sources alone.

What the zip still carries as source (MyBlog's own modules, package
`__init__.py` files, migrations, Zappa's handler) gets its bytecode beside
it once Zappa is done (`add_bytecode`): hash-checked `__pycache__` files
(PEP 552), which Python validates against the source's hash rather than its
timestamp, so the 1980 dates do not matter, tracebacks keep their source
lines, and a cold start no longer compiles MyBlog's own modules (25-30 ms
of the local runtime's cold start, `bench/coldstart.py --package`).

Zappa's lookup of Linux wheels cannot reach its index from machines without
internet access; it then keeps the virtualenv's own wheels, which is right as
long as this venv is built on Linux x86_64 with CPython 3.11, the platform of
the `python3.11` / `x86_64` Lambda runtime.
"""

import contextlib
import fcntl
import hashlib
import importlib.util
import marshal
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
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


@contextlib.contextmanager
def exclusive(path):
    """Hold an exclusive lock on the file `path` (created if missing) while the block runs.

    What is built into a shared cache (the deploy virtualenv, a package, the
    runtime's SDK) is built by one process at a time: a second one waits,
    then finds it built and reuses it, rather than both writing one tree.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure(path=DEFAULT_PATH, requirements=REPO / "requirements.txt", log=print):
    """Create or reuse the deploy virtualenv at `path`; returns its path."""
    check_platform()
    path = Path(path)
    with exclusive(path.with_name(path.name + ".lock")):
        return _ensure(path, requirements, log)


def _ensure(path, requirements, log):
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


class PackageError(Exception):
    """`zappa package` failed, or made a zip that must not be deployed."""


def runtime_settings(zip_path):
    """The names Zappa's generated zappa_settings.py defines in the zip."""
    with zipfile.ZipFile(zip_path) as archive:
        source = archive.read("zappa_settings.py").decode()
    namespace = {}
    exec(compile(source, "zappa_settings.py", "exec"), namespace)  # noqa: S102 - Zappa's generated settings
    return {name: value for name, value in namespace.items() if not name.startswith("__")}


# A dotted module path inside the project's var/ folder (state, never code).
VAR_MODULE = re.compile(r"^var(\.|$)")


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def package_problems(zip_path):
    """Why the zip at `zip_path` must not be deployed (empty when it may be)."""
    problems = []
    with zipfile.ZipFile(zip_path) as archive:
        stray = sorted({name.split("/")[0] + "/" for name in archive.namelist() if name.startswith("var/")})
    problems += [f"the zip carries {folder} (local state, excluded in zappa_settings.json)" for folder in stray]
    settings = runtime_settings(zip_path)
    websocket = settings.get("WEBSOCKET_HANDLER_MODULE")
    if websocket:
        problems.append(
            f"zappa_settings.py names WEBSOCKET_HANDLER_MODULE={websocket!r}: MyBlog has no WebSocket handler; "
            "Zappa found a zappa.websocket import in a stray file of the project folder"
        )
    for name, value in settings.items():
        modules = sorted({text for text in _strings(value) if VAR_MODULE.match(text)})
        if modules and name != "WEBSOCKET_HANDLER_MODULE":
            problems.append(f"zappa_settings.py {name} names modules under var/: {', '.join(modules)}")
    return problems


def check_package(zip_path):
    """Raise PackageError when the zip routes events to a module outside the product."""
    problems = package_problems(zip_path)
    if problems:
        raise PackageError(f"{zip_path}: " + "; ".join(problems))


def package(stage, zip_path, settings_path=REPO / "zappa_settings.json", venv=DEFAULT_PATH, env=None):
    """`zappa package STAGE` from the deploy venv into `zip_path`, checked; returns Zappa's output."""
    command = [str(Path(venv) / "bin" / "zappa"), "package", stage, "-s", str(settings_path), "-o", str(zip_path)]
    result = subprocess.run(command, cwd=REPO, env=environ(venv, env), capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    if result.returncode != 0 or not Path(zip_path).exists():
        raise PackageError(f"zappa package {stage} failed ({result.returncode}):\n{output[-3000:]}")
    add_bytecode(zip_path)
    check_package(zip_path)
    return output


# A pyc's flags word (PEP 552): hash-based, checked against the source when imported.
CHECKED_HASH_FLAGS = 0b11


def add_bytecode(zip_path):
    """Add a hash-checked `__pycache__` entry beside each module the zip ships as source; returns their names.

    Built with this interpreter, which `check_platform` holds to the
    runtime's CPython 3.11 (the cache tag and magic number must match).
    """
    added = []
    with zipfile.ZipFile(zip_path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        present = set(archive.namelist())
        for name in sorted(present):
            if not name.endswith(".py"):
                continue
            cached = importlib.util.cache_from_source(name)
            if cached in present:
                continue
            source = archive.read(name)
            code = compile(source, name, "exec", dont_inherit=True)
            data = bytearray(importlib.util.MAGIC_NUMBER)
            data += CHECKED_HASH_FLAGS.to_bytes(4, "little")
            data += importlib.util.source_hash(source)
            data += marshal.dumps(code)
            entry = zipfile.ZipInfo(cached, date_time=(1980, 1, 1, 0, 0, 0))
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, bytes(data), compress_type=zipfile.ZIP_DEFLATED)
            added.append(cached)
    return added


def main(argv=None):
    import argparse

    parser = argparse.ArgumentParser(description="Build the deploy virtualenv; optionally package a stage with it.")
    parser.add_argument("--venv", type=Path, default=DEFAULT_PATH)
    commands = parser.add_subparsers(dest="command")
    packaging = commands.add_parser("package", help="zappa package STAGE, refusing a zip with a stray handler")
    packaging.add_argument("stage")
    packaging.add_argument("-o", "--output", type=Path, required=True)
    packaging.add_argument("-s", "--settings", type=Path, default=REPO / "zappa_settings.json")
    args = parser.parse_args(argv)
    venv = ensure(args.venv)
    if args.command != "package":
        print(venv)
        return 0
    try:
        package(args.stage, args.output.resolve(), args.settings.resolve(), venv)
    except PackageError as error:
        print(error, file=sys.stderr)
        return 1
    print(args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
