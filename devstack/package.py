"""The deployment package the local stack runs: built as a deploy builds it, cached by what it holds.

A deploy runs `zappa package <stage>` from the deploy virtualenv
(infra/deployenv.py: requirements.txt only, shipped as bytecode). The local
stack does the same, for the `dev` stage of a copy of zappa_settings.json
whose `environment_variables` leave out the values only the running stack
knows (its loopback host names, the CloudFront stand-in, the distribution
id); the local Lambda runtime passes those as the function's configuration,
as `zappa update` would push a stage's outputs.

Beside the zip, the function's layer (infra/layers.py: psycopg, which the
package leaves out) is unpacked under `opt/`, as Lambda unpacks layers under
/opt; the local runtime puts its `python/` on `sys.path` as Lambda does.

The zip and its unpacked tree live under the user's cache (never inside the
source tree: Zappa's scan of the project would find an unpacked `handler.py`
and route WebSocket events to it), keyed by a digest of requirements.txt,
the settings copy and every file the package ships from the checkout. A
second run with nothing changed reuses them.
"""

import fnmatch
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from infra import deployenv, layers  # noqa: E402

CACHE_DIR = Path(os.environ.get("MYBLOG_CACHE_DIR", Path.home() / ".cache" / "myblog"))
STAGE = "dev"
# Set by the local Lambda runtime from the running stack (see lambda_environment()).
LOCAL_KEYS = (
    "DJANGO_ALLOWED_HOSTS",
    "DJANGO_CSRF_TRUSTED_ORIGINS",
    "MYBLOG_SITE_URL",
    "MYBLOG_CLOUDFRONT_DOMAIN",
    "MYBLOG_CLOUDFRONT_DISTRIBUTION_ID",
)
KEPT_PACKAGES = 3


@dataclass
class Package:
    digest: str
    zip_path: Path
    task_dir: Path
    stage: str
    built: bool  # False when an earlier build was reused
    build_seconds: float

    @property
    def size(self):
        return self.zip_path.stat().st_size

    @property
    def opt_dir(self):
        """The function's layers unpacked as Lambda unpacks them under /opt (its `python/` goes on `sys.path`)."""
        return self.task_dir.parent / "opt"

    def runtime_settings(self):
        """The variables of the package's generated zappa_settings.py."""
        namespace = {}
        source = (self.task_dir / "zappa_settings.py").read_text()
        exec(compile(source, "zappa_settings.py", "exec"), namespace)  # noqa: S102 - Zappa's generated settings
        return {key: value for key, value in namespace.items() if key.isupper()}


def settings_copy(stage=STAGE, settings_file=REPO / "zappa_settings.json"):
    """zappa_settings.json with the stage's stack-dependent values left to the function's configuration."""
    settings = json.loads(Path(settings_file).read_text())
    environment = dict(settings[stage].get("environment_variables", {}))
    for key in LOCAL_KEYS:
        environment.pop(key, None)
    settings[stage]["environment_variables"] = environment
    return settings


def shipped_files(excludes, repo=REPO):
    """The checkout's files Zappa would copy into the package (tracked or new, not ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=repo,
        check=True,
        capture_output=True,
    ).stdout.decode()
    patterns = [*excludes, "devstack", "*.pyc", "__pycache__", ".*"]
    for name in sorted(filter(None, listed.split("\0"))):
        parts = Path(name).parts
        if any(fnmatch.fnmatch(part, pattern) for part in parts for pattern in patterns):
            continue
        if (repo / name).is_file():
            yield name


def digest(stage=STAGE, repo=REPO):
    """What decides the package's content: the lock file, the settings, the shipped source and how it is built."""
    settings = settings_copy(stage, repo / "zappa_settings.json")
    excludes = settings["base"].get("exclude", [])
    hasher = hashlib.sha256()
    hasher.update((repo / "requirements.txt").read_bytes())
    hasher.update(Path(deployenv.__file__).read_bytes())
    hasher.update(json.dumps(settings, sort_keys=True).encode())
    for name in shipped_files(excludes, repo):
        hasher.update(name.encode() + b"\0")
        hasher.update(hashlib.sha256((repo / name).read_bytes()).digest())
    return hasher.hexdigest()[:20]


def deploy_venv(log=print):
    """The deploy virtualenv (requirements.txt only), shared by every checkout of the same lock file."""
    key = deployenv.requirements_digest(REPO / "requirements.txt")[:16]
    return deployenv.ensure(CACHE_DIR / "deploy" / key / "venv", REPO / "requirements.txt", log=log)


def build(stage=STAGE, log=print, cache_dir=None):
    """The package for `stage`, built now or reused; unpacked beside its zip."""
    root = Path(cache_dir or CACHE_DIR) / "packages"
    key = digest(stage)
    with deployenv.exclusive(root / f".{key}.lock"):
        return _build(stage, log, root, key)


def _build(stage, log, root, key):
    target = root / key
    zip_path = target / f"myblog-{stage}.zip"
    task_dir = target / "task"
    if (task_dir / "handler.py").exists() and zip_path.exists() and (target / "opt" / "python").is_dir():
        log(f"package: reusing {zip_path} ({key})")
        return Package(key, zip_path, task_dir, stage, built=False, build_seconds=0.0)
    venv = deploy_venv(log=log)
    work = root / f".{key}.partial"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    settings_path = work / "zappa_settings.json"
    settings_path.write_text(json.dumps(settings_copy(stage), indent=4))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    # Zappa asks for a region and credentials to make a boto3 session; the
    # package itself is built offline.
    env.update({"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "package", "AWS_SECRET_ACCESS_KEY": "package"})
    log(f"package: zappa package {stage} (deploy virtualenv {venv})")
    started = time.perf_counter()
    deployenv.package(stage, work / zip_path.name, settings_path, venv, env=env)
    seconds = time.perf_counter() - started
    with zipfile.ZipFile(work / zip_path.name) as archive:
        archive.extractall(work / "task")
    layers.tree(deployenv.site_packages(venv), work / "opt")
    shutil.rmtree(target, ignore_errors=True)
    os.replace(work, target)
    _prune(root, keep=key)
    log(f"package: built {zip_path} in {seconds:.0f} s ({zip_path.stat().st_size / 1e6:.1f} MB)")
    return Package(key, zip_path, task_dir, stage, built=True, build_seconds=seconds)


def _prune(root, keep, count=KEPT_PACKAGES):
    """Keep the newest few packages: a branch switch back reuses its build."""
    builds = sorted((p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")), key=os.path.getmtime)
    for old in builds[:-count]:
        if old.name != keep:
            shutil.rmtree(old, ignore_errors=True)


if __name__ == "__main__":
    package = build()
    print(package.zip_path)
