"""zappa_settings.json: the deployed stages, as Zappa resolves them.

The event bindings themselves are checked in tests/deploy/test_bindings.py; this
module checks what makes a stage deployable: region, role, network,
packaging, environment without secrets.
"""

import json
import re
from pathlib import Path

import pytest

from infra.stage_settings import lambda_name, stage_config

REPO = Path(__file__).resolve().parent.parent.parent
SETTINGS = json.loads((REPO / "zappa_settings.json").read_text())
DEPLOYED = ["dev", "prod", "prod_eu", "rehearsal"]
# What myblog/settings.py needs in AWS. Zappa merges `extends` one level
# deep, so each stage must carry all of them itself.
REQUIRED_ENVIRONMENT = {
    "DJANGO_ALLOWED_HOSTS",
    "DJANGO_CSRF_TRUSTED_ORIGINS",
    "MYBLOG_SITE_URL",
    "MYBLOG_SSM_PARAMETERS_PATH",
    "MYBLOG_TABLE_PREFIX",
    "MYBLOG_MEDIA_BUCKET",
    "MYBLOG_STATIC_ON_S3",
    "MYBLOG_CLOUDFRONT_DOMAIN",
    "MYBLOG_CLOUDFRONT_DISTRIBUTION_ID",
    "MYBLOG_SES_SENDER",
    "MYBLOG_SES_CONFIGURATION_SET",
    "MYBLOG_QUEUE_PREFIX",
    "MYBLOG_NEWSLETTER_SENDERS",
}
SECRET_NAME = re.compile(r"SECRET|PASSWORD|TOKEN|PRIVATE|DATABASE_URL|CREDENTIAL|ACCESS_KEY", re.IGNORECASE)


def test_the_stages():
    assert set(SETTINGS) == {"base", *DEPLOYED}
    assert stage_config(SETTINGS, "prod")["aws_region"] == "us-east-1"
    assert stage_config(SETTINGS, "prod_eu")["aws_region"] == "eu-west-1"
    assert SETTINGS["prod_eu"]["extends"] == SETTINGS["rehearsal"]["extends"] == "prod"


@pytest.mark.parametrize("stage", DEPLOYED)
def test_stage_is_deployable(stage):
    config = stage_config(SETTINGS, stage)
    assert config["django_settings"] == "myblog.settings"
    assert config["runtime"] == "python3.11" and config["architecture"] == "x86_64"
    assert "slim_handler" not in config  # the zip is far below Lambda's 50 MB / 250 MB limits
    assert config["manage_roles"] is False
    region = config["aws_region"]
    assert re.fullmatch(rf"arn:aws:iam::\d{{12}}:role/myblog-\w+-{region}-lambda", config["role_arn"])
    assert config["s3_bucket"].startswith("myblog-") and region in config["s3_bucket"]
    assert lambda_name(config, stage) == f"myblog-{stage.replace('_', '-')}"
    assert 30 <= config["timeout_seconds"] <= 900 and config["memory_size"] >= 1024
    # Our CloudFront distribution fronts the API: no second, edge-optimized one.
    assert config["endpoint_configuration"] == ["REGIONAL"]


@pytest.mark.parametrize("stage", DEPLOYED)
def test_environment_is_complete_and_holds_no_secrets(stage):
    environment = stage_config(SETTINGS, stage)["environment_variables"]
    assert set(environment) >= REQUIRED_ENVIRONMENT
    assert environment["DJANGO_DEBUG"] == "0"
    assert not [name for name in environment if SECRET_NAME.search(name)]
    assert not [value for value in environment.values() if re.search(r"://[^/@]+:[^/@]+@", value)]
    environment_name = environment["MYBLOG_TABLE_PREFIX"].split("-")[1]  # myblog-<prod|dev>-
    assert environment["MYBLOG_SSM_PARAMETERS_PATH"] == f"/myblog/{environment_name}/"
    assert environment["MYBLOG_QUEUE_PREFIX"] == environment["MYBLOG_TABLE_PREFIX"] == f"myblog-{environment_name}-"


def test_dax_stages_run_in_a_vpc():
    for stage in DEPLOYED:
        config = stage_config(SETTINGS, stage)
        has_dax = bool(config["environment_variables"].get("MYBLOG_DAX_ENDPOINT"))
        assert has_dax == ("vpc_config" in config), stage
        if has_dax:
            assert config["environment_variables"]["MYBLOG_DAX_ENDPOINT"].startswith("daxs://")
            assert len(config["vpc_config"]["SubnetIds"]) >= 2
            assert len(config["vpc_config"]["SecurityGroupIds"]) == 1
    assert "vpc_config" in stage_config(SETTINGS, "prod") and "vpc_config" not in stage_config(SETTINGS, "dev")


def test_prod_stays_warm_and_dev_does_not():
    prod = stage_config(SETTINGS, "prod")
    assert prod["keep_warm"] is True and prod["keep_warm_expression"] == "rate(4 minutes)"
    assert stage_config(SETTINGS, "dev")["keep_warm"] is False
    # SnapStart for Python needs 3.12+; this runtime is 3.11.
    assert all("snap_start" not in stage_config(SETTINGS, stage) for stage in DEPLOYED)


def test_the_package_leaves_out_what_lambda_has_or_does_not_need():
    exclude = set(stage_config(SETTINGS, "prod")["exclude"])
    dev_only = {
        "devstack",
        "tests",
        "bench",
        "infra",
        ".ci",
        ".pytest_cache",
        ".ruff_cache",
        ".hypothesis",
        "var",
        ".venv",
    }
    assert {"boto3", "botocore", "s3transfer", "moto"} | dev_only <= exclude
    # Shipping bytecode is what keeps cold starts short (infra/deployenv.py): the
    # .pyc beside each source. __pycache__ files are checked against the sources'
    # timestamps, which Zappa sets to 1980, so Lambda would never use them.
    assert "*.pyc" not in exclude and "__pycache__" in exclude
    assert "*.mo" not in exclude  # Django needs its English catalogue


def test_only_the_rehearsal_skips_the_final_http_check():
    assert [stage for stage in DEPLOYED if stage_config(SETTINGS, stage).get("touch") is False] == ["rehearsal"]
    prod, rehearsal = stage_config(SETTINGS, "prod"), stage_config(SETTINGS, "rehearsal")
    differing = {key for key in prod.keys() | rehearsal.keys() if prod.get(key) != rehearsal.get(key)}
    assert differing == {"touch", "extends"}


def test_the_second_region_shares_the_global_resources_and_binds_no_events():
    prod, eu = stage_config(SETTINGS, "prod"), stage_config(SETTINGS, "prod_eu")
    shared = ("MYBLOG_TABLE_PREFIX", "MYBLOG_MEDIA_BUCKET", "MYBLOG_CLOUDFRONT_DOMAIN", "MYBLOG_SITE_URL")
    for name in shared:
        assert eu["environment_variables"][name] == prod["environment_variables"][name]
    assert eu["environment_variables"]["MYBLOG_DAX_ENDPOINT"] != prod["environment_variables"]["MYBLOG_DAX_ENDPOINT"]
    assert eu["role_arn"] != prod["role_arn"] and eu["s3_bucket"] != prod["s3_bucket"]
    assert eu["events"] == []
    assert {event["function"] for event in prod["events"]} == {
        "photos.handlers.make_renditions",
        "posts.handlers.publish_scheduled",
        "subscribers.handlers.send_welcome_emails",
        "subscribers.handlers.record_ses_notifications",
        "subscribers.handlers.fan_out_newsletter",
        "subscribers.handlers.send_newsletter",
        "photos.handlers.rerender_photos",
        "subscribers.handlers.import_subscribers",
        "posts.handlers.rebuild_search_index",
    }
