"""The function's Lambda layer: psycopg, outside the 15 MB deployment package.

psycopg (with psycopg-binary's libpq, OpenSSL and friends: about 4.4 MB of
the zip) is imported only when the admin's SQL database (`DATABASE_URL`) is
PostgreSQL. It ships in a layer of its own, so that the package keeps room
under its 15 MB target for what every invocation needs (Pillow's AVIF
encoder, libavif, about 2.3 MB). zappa_settings.json excludes it from the
package and names the layer's version in each stage's `layers`; Lambda
unpacks a layer under /opt and puts /opt/python on `sys.path`, after the
function's own code.

The layer is built from the deploy virtualenv (infra/deployenv.py: the very
files and bytecode `zappa package` would have shipped, at the versions
requirements.txt pins) and published once per region, and again whenever
psycopg's pin changes:

    .venv/bin/python infra/layers.py build -o /tmp/myblog-psycopg.zip
    .venv/bin/python infra/layers.py publish prod           # writes the new ARN into zappa_settings.json
    .venv/bin/python infra/layers.py publish prod_eu
    git diff zappa_settings.json                             # review, then commit

The local stack (devstack/package.py, devstack/lambda_runtime.py) and the
deploy rehearsal build the same layer and put it on `sys.path` as Lambda does.
"""

import argparse
import fnmatch
import json
import shutil
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from infra import deployenv, stage_settings  # noqa: E402

LAYER_NAME = "myblog-psycopg"
RUNTIME = "python3.11"
ARCHITECTURE = "x86_64"
# What the layer holds: top-level entries of the deploy virtualenv's
# site-packages. zappa_settings.json excludes the same names from the package
# (tests/deploy/test_layers.py checks that the two agree).
CONTENTS = (
    "psycopg",
    "psycopg_binary",
    "psycopg_binary.libs",
    "psycopg-*.dist-info",
    "psycopg_binary-*.dist-info",
)
# Metadata files nobody reads at run time (as zappa_settings.json's exclude_glob).
SKIPPED = ("RECORD", "INSTALLER", "REQUESTED", "WHEEL", "direct_url.json")


def entries(site_packages):
    """The top-level entries of `site_packages` that go in the layer."""
    found = sorted(
        path for path in Path(site_packages).iterdir() if any(fnmatch.fnmatch(path.name, p) for p in CONTENTS)
    )
    names = {path.name for path in found}
    for required in ("psycopg", "psycopg_binary"):
        if required not in names:
            raise SystemExit(f"{required} is not installed in {site_packages}: is it still in requirements.txt?")
    return found


def _files(site_packages):
    for entry in entries(site_packages):
        paths = [entry] if entry.is_file() else sorted(p for p in entry.rglob("*") if p.is_file())
        for path in paths:
            if "__pycache__" in path.parts or (path.parent.name.endswith(".dist-info") and path.name in SKIPPED):
                continue
            yield path, path.relative_to(site_packages)


def tree(site_packages, opt_dir):
    """The layer unpacked as Lambda unpacks it: `opt_dir`/python/<modules>; returns `opt_dir`."""
    opt_dir = Path(opt_dir)
    target = opt_dir / "python"
    shutil.rmtree(target, ignore_errors=True)
    for path, relative in _files(site_packages):
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, destination)
    return opt_dir


def build(zip_path, venv=None, log=print):
    """The layer's zip (python/<modules>) from the deploy virtualenv; returns its path."""
    venv = deployenv.ensure(venv or deployenv.DEFAULT_PATH, log=log)
    site_packages = deployenv.site_packages(venv)
    zip_path = Path(zip_path)
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, relative in _files(site_packages):
            info = zipfile.ZipInfo(f"python/{relative.as_posix()}", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = (path.stat().st_mode & 0o777) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    log(f"layer: built {zip_path} ({zip_path.stat().st_size / 1e6:.1f} MB)")
    return zip_path


def publish(zip_path, session):
    """Publish the layer's zip as a new version in `session`'s region; returns its version ARN."""
    response = session.client("lambda").publish_layer_version(
        LayerName=LAYER_NAME,
        Description="psycopg for MyBlog's PostgreSQL admin database (infra/layers.py)",
        Content={"ZipFile": Path(zip_path).read_bytes()},
        CompatibleRuntimes=[RUNTIME],
        CompatibleArchitectures=[ARCHITECTURE],
    )
    return response["LayerVersionArn"]


def apply(settings, stage, arn):
    """`settings` (zappa_settings.json's content) with stage `stage` using layer version `arn`."""
    layers = [
        layer
        for layer in stage_settings.stage_config(settings, stage).get("layers", [])
        if f":layer:{LAYER_NAME}:" not in layer
    ]
    settings[stage]["layers"] = [*layers, arn]
    return settings


def layer_arns(config):
    """The stage `config`'s versions of this layer."""
    return [layer for layer in config.get("layers", []) if f":layer:{LAYER_NAME}:" in layer]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    build_command = commands.add_parser("build", help="build the layer's zip")
    build_command.add_argument("-o", "--output", type=Path, default=Path("/tmp") / f"{LAYER_NAME}.zip")
    publish_command = commands.add_parser("publish", help="publish a new version and write it into the stage")
    publish_command.add_argument("stage")
    publish_command.add_argument("--settings", type=Path, default=REPO / "zappa_settings.json")
    args = parser.parse_args(argv)
    if args.command == "build":
        print(build(args.output))
        return 0
    import tempfile

    import boto3

    settings = stage_settings.load(args.settings)
    region = stage_settings.stage_config(settings, args.stage).get("aws_region")
    with tempfile.TemporaryDirectory() as scratch:
        arn = publish(build(Path(scratch) / f"{LAYER_NAME}.zip"), boto3.session.Session(region_name=region))
    args.settings.write_text(json.dumps(apply(settings, args.stage, arn), indent=4) + "\n")
    print(f"{args.stage}: layers {stage_settings.stage_config(settings, args.stage)['layers']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
