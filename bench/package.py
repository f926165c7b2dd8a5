"""Benchmark: building the deployment package, and its size.

    .venv/bin/python bench/package.py

Builds the package as a deploy does (devstack/package.py: the deploy
virtualenv, then `zappa package dev`) into a fresh cache, so nothing is
reused, and measures in the same run a reference on the same machine:
zipping the package's own unpacked tree with Python's zipfile (deflate),
the floor any packaging step pays. Figures are ratios against that
reference (the machines are noisy), and the zip's size against the
unpacked tree's; no target, nothing asserted.
"""

import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devstack import package  # noqa: E402 - after the path tweak above


def zip_tree(source, target):
    started = time.perf_counter()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(source.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(source))
    return time.perf_counter() - started


def main():
    with tempfile.TemporaryDirectory() as cache:
        package.deploy_venv(log=lambda line: None)  # the venv is keyed by the lock file: not what is measured
        built = package.build(log=lambda line: print(line, file=sys.stderr), cache_dir=cache)
        unpacked = sum(path.stat().st_size for path in built.task_dir.rglob("*") if path.is_file())
        reference = zip_tree(built.task_dir, Path(cache) / "reference.zip")
        reference_size = (Path(cache) / "reference.zip").stat().st_size
        files = sum(1 for path in built.task_dir.rglob("*") if path.is_file())
        size = built.size
    print("Deployment package (zappa package dev, deploy virtualenv reused, fresh package cache)")
    print(
        f"  build time   {built.build_seconds:8.1f} s   = {built.build_seconds / reference:5.1f} x zipping its tree "
        f"with zipfile ({reference:.1f} s, same run)"
    )
    print(
        f"  zip size     {size / 1e6:8.1f} MB  = {size / unpacked:5.2f} x its unpacked tree "
        f"({unpacked / 1e6:.1f} MB, {files} files); zipfile's own: {reference_size / 1e6:.1f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
