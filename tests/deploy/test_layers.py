"""infra/layers.py: psycopg in a Lambda layer, named by every stage, left out of the package.

Fast checks (no `zappa package`): the layer holds what zappa_settings.json
excludes, each deployable stage names a layer version of its own region,
publishing writes the new version into the right stage only, and the local
runtime puts the layer's `python/` on `sys.path` as Lambda does with /opt/python.
"""

import fnmatch
import json
import sys
import zipfile
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from devstack.lambda_runtime import LambdaFunction, lambda_environment, runtime_sdk
from infra import layers, stage_settings

REPO = Path(__file__).resolve().parents[2]
SETTINGS = stage_settings.load(REPO / "zappa_settings.json")
DEPLOYED_STAGES = ("dev", "prod", "prod_eu")
SITE_PACKAGES = Path(next(path for path in sys.path if path.endswith("site-packages")))


def test_what_the_layer_holds_the_package_leaves_out():
    excluded = SETTINGS["base"]["exclude"]
    assert set(layers.CONTENTS) <= set(excluded)
    assert not [name for name in excluded if fnmatch.fnmatch("_avif.so", name) or name.startswith("libavif")]


@pytest.mark.parametrize("stage", DEPLOYED_STAGES)
def test_every_stage_names_one_layer_version_in_its_own_region(stage):
    config = stage_settings.stage_config(SETTINGS, stage)
    (arn,) = layers.layer_arns(config)
    assert arn.startswith(f"arn:aws:lambda:{config['aws_region']}:") and f":layer:{layers.LAYER_NAME}:" in arn


def test_the_layer_is_psycopg_with_its_libraries_and_version_metadata(tmp_path):
    opt = layers.tree(SITE_PACKAGES, tmp_path / "opt")
    python = opt / "python"
    top = {path.name for path in python.iterdir()}
    assert {"psycopg", "psycopg_binary", "psycopg_binary.libs"} <= top
    assert all(any(fnmatch.fnmatch(name, pattern) for pattern in layers.CONTENTS) for name in top)
    (metadata,) = [name for name in top if name.startswith("psycopg-") and name.endswith(".dist-info")]
    assert (python / metadata / "METADATA").exists() and not (python / metadata / "RECORD").exists()
    assert list((python / "psycopg_binary.libs").glob("libpq-*"))
    assert not list(python.rglob("__pycache__"))


def test_a_site_without_psycopg_is_refused(tmp_path):
    with pytest.raises(SystemExit, match="psycopg is not installed"):
        layers.entries(tmp_path)


@mock_aws
def test_publish_writes_the_new_version_into_that_stage_only(tmp_path):
    zip_path = tmp_path / "layer.zip"
    with zipfile.ZipFile(zip_path, "w") as archive:
        archive.writestr("python/psycopg/__init__.py", "")
    session = boto3.session.Session(region_name="eu-west-1")
    first = layers.publish(zip_path, session)
    second = layers.publish(zip_path, session)
    assert first.endswith(f":layer:{layers.LAYER_NAME}:1") and second.endswith(f":layer:{layers.LAYER_NAME}:2")
    version = session.client("lambda").get_layer_version(LayerName=layers.LAYER_NAME, VersionNumber=2)
    assert version["CompatibleRuntimes"] == ["python3.11"]

    settings = json.loads(json.dumps(SETTINGS))
    before = stage_settings.stage_config(settings, "prod")["layers"]
    layers.apply(settings, "prod_eu", second)
    assert stage_settings.stage_config(settings, "prod_eu")["layers"] == [second]
    assert stage_settings.stage_config(settings, "prod")["layers"] == before


def test_the_local_runtime_puts_the_layer_on_sys_path_after_the_code(tmp_path):
    task = tmp_path / "task"
    task.mkdir()
    (task / "handler.py").write_text(
        "import sys\n"
        "def lambda_handler(event, context):\n"
        "    import layered\n"
        "    return {'statusCode': 200, 'body': layered.WHERE, 'path': sys.path[:3]}\n"
    )
    opt = tmp_path / "opt"
    (opt / "python").mkdir(parents=True)
    (opt / "python" / "layered.py").write_text("WHERE = 'layer'\n")
    credentials = {"AccessKeyId": "a", "SecretAccessKey": "b"}
    env = lambda_environment("myblog-dev", "us-east-1", 1024, 10, task, {}, credentials)
    function = LambdaFunction("myblog-dev", task, env, sdk_dir=runtime_sdk(), timeout=10, opt_dir=opt)
    try:
        payload = function.invoke({}).payload
    finally:
        function.stop()
    assert payload["body"] == "layer"
    assert payload["path"][:2] == [str(task), str(opt / "python")]
