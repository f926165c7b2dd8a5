"""Settings of the deployed stages, run with each stage's own environment.

Each test starts a fresh Python with the environment a stage's Lambda gets
(its `environment_variables` from zappa_settings.json, plus fake values of
the secrets SSM would provide), because settings are read once per process.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from infra.stage_settings import stage_config

REPO = Path(__file__).resolve().parent.parent.parent
SETTINGS = json.loads((REPO / "zappa_settings.json").read_text())
DEPLOYED_STAGES = ["dev", "prod", "prod_eu"]
FAKE_SECRETS = {
    "DJANGO_SECRET_KEY": "a-long-random-value-that-is-not-this-one-5f2c8d1e9b7a4c3f8e6d2b1a0c9f8e7d",
    "DATABASE_URL": "postgres://myblog:fake@myblog-prod.cluster-abc.us-east-1.rds.amazonaws.com:5432/myblog",
    "MYBLOG_ORIGIN_VERIFY_SECRET": "a-fake-origin-secret-cloudfront-sends-7c1e5a9d3b",
}


def stage_environment(stage, **extra):
    config = stage_config(SETTINGS, stage)
    environ = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("MYBLOG_", "DJANGO_", "AWS_ENDPOINT_URL")) and name != "DATABASE_URL"
    }
    environ.update(config["environment_variables"])
    # The secrets are given directly; tests/project/test_secrets.py covers SSM.
    environ.pop("MYBLOG_SSM_PARAMETERS_PATH")
    environ.update(FAKE_SECRETS)
    environ.update(AWS_REGION=config["aws_region"], AWS_DEFAULT_REGION=config["aws_region"])
    environ.update(extra)
    return environ


def run_python(code, environ):
    return subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=environ, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("stage", DEPLOYED_STAGES)
def test_check_deploy_is_clean(stage):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env=stage_environment(stage),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_catches_a_missing_secret_key():
    # The same check fails when the stage falls back to the development key,
    # so the clean runs above are not vacuous.
    environ = stage_environment("prod")
    del environ["DJANGO_SECRET_KEY"]
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "security.W009" in result.stderr + result.stdout


@pytest.mark.parametrize("stage", DEPLOYED_STAGES)
def test_check_deploy_catches_a_missing_origin_secret(stage):
    # Without it the API answers requests that bypass CloudFront, forged viewer addresses included.
    environ = stage_environment(stage)
    del environ["MYBLOG_ORIGIN_VERIFY_SECRET"]
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=REPO,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0  # an error, whatever the fail level
    assert "myblog.E001" in result.stderr + result.stdout
    assert "MYBLOG_ORIGIN_VERIFY_SECRET" in result.stderr + result.stdout


@pytest.mark.parametrize("stage", DEPLOYED_STAGES)
def test_deployed_settings(stage):
    config = stage_config(SETTINGS, stage)
    environment = config["environment_variables"]
    result = run_python(
        "import json, django; django.setup(); from django.conf import settings as s;"
        "print(json.dumps({'debug': s.DEBUG, 'hosts': s.ALLOWED_HOSTS, 'csrf': s.CSRF_TRUSTED_ORIGINS,"
        "'engine': s.DATABASES['default']['ENGINE'], 'tables': s.MYBLOG_TABLES, 'bucket': s.MYBLOG_MEDIA_BUCKET,"
        "'static': s.STATIC_URL, 'media': s.MEDIA_URL, 'region': s.AWS_REGION}))",
        stage_environment(stage, DJANGO_SETTINGS_MODULE="myblog.settings"),
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    domain = environment["MYBLOG_CLOUDFRONT_DOMAIN"]
    assert values["debug"] is False
    assert values["hosts"] == environment["DJANGO_ALLOWED_HOSTS"].split(",")
    assert all(origin.startswith("https://") for origin in values["csrf"])
    assert values["engine"] == "django.db.backends.postgresql"
    assert values["region"] == config["aws_region"]
    assert values["tables"]["subscribers"] == environment["MYBLOG_TABLE_PREFIX"] + "subscribers"
    assert values["static"] == f"https://{domain}/static/"
    assert values["media"] == f"https://{domain}/media/"


COLLECTSTATIC = """
import json
from moto import mock_aws

with mock_aws():
    import django
    django.setup()
    from django.conf import settings
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.core.management import call_command
    from myblog import aws

    s3 = aws.client("s3")
    s3.create_bucket(Bucket=settings.MYBLOG_MEDIA_BUCKET)
    call_command("collectstatic", interactive=False, verbosity=0)
    objects = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=settings.MYBLOG_MEDIA_BUCKET, Prefix="static/"):
        for item in page["Contents"]:
            head = s3.head_object(Bucket=settings.MYBLOG_MEDIA_BUCKET, Key=item["Key"])
            objects[item["Key"]] = head.get("CacheControl")
    from django.templatetags.static import static
    name = default_storage.save("renditions/2026/11/cover-640.webp", ContentFile(b"RIFF0000WEBP"))
    print(json.dumps({
        "objects": objects,
        "admin_css": static("admin/css/base.css"),
        "media_url": default_storage.url(name),
        "media_key": default_storage.location + "/" + name,
    }))
"""


def test_collectstatic_pushes_hashed_immutable_files_and_media_urls_use_cloudfront():
    environ = stage_environment("prod", DJANGO_SETTINGS_MODULE="myblog.settings", MYBLOG_MEDIA_BUCKET="test-media")
    environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    result = run_python(COLLECTSTATIC, environ)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    domain = stage_config(SETTINGS, "prod")["environment_variables"]["MYBLOG_CLOUDFRONT_DOMAIN"]

    objects = values["objects"]
    assert "static/staticfiles.json" in objects
    hashed = [key for key in objects if key.startswith("static/admin/css/base.") and key.endswith(".css")]
    assert any(key != "static/admin/css/base.css" for key in hashed), hashed
    for key, cache_control in objects.items():
        assert cache_control == "public, max-age=31536000, immutable", key
    assert values["admin_css"].startswith(f"https://{domain}/static/admin/css/base.")
    assert values["admin_css"] != f"https://{domain}/static/admin/css/base.css"
    assert values["media_key"] == "media/renditions/2026/11/cover-640.webp"
    assert values["media_url"] == f"https://{domain}/media/renditions/2026/11/cover-640.webp"
