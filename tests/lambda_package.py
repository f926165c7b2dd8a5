"""The Lambda deployment package, built as a deploy builds it (a pytest plugin).

`zappa package <stage>` run from the runtime-only virtualenv of
infra/deployenv.py (requirements.txt and nothing else, reused while that
file is unchanged), in the repository, offline, with fake credentials. The
`lambda_package` fixture builds the `prod` stage once per session; tests that
need a package of another stage or settings file call `build_package`.
"""

import os
from pathlib import Path

import pytest

from infra import deployenv

REPO = Path(__file__).resolve().parent.parent
OFFLINE_AWS = {
    "AWS_ACCESS_KEY_ID": "packaging",
    "AWS_SECRET_ACCESS_KEY": "packaging",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def build_package(stage, output, settings_file=REPO / "zappa_settings.json", venv=None):
    """Run `zappa package` for `stage` into `output` (a .zip path); returns the path."""
    venv = venv or deployenv.ensure(log=lambda line: None)
    base = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "MYBLOG_", "DJANGO_"))}
    try:
        deployenv.package(stage, output, settings_file, venv, env={**base, **OFFLINE_AWS})
    except deployenv.PackageError as error:
        pytest.fail(str(error))
    return Path(output)


@pytest.fixture(scope="session")
def lambda_package(tmp_path_factory):
    """The `prod` stage's deployment zip, built once for the session."""
    return build_package("prod", tmp_path_factory.mktemp("lambda-package") / "myblog-prod.zip")
