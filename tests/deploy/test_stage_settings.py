"""infra/stage_settings.py writes the stacks' outputs into the Zappa stages."""

import json
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from infra import stage_settings

REPO = Path(__file__).resolve().parent.parent.parent
ACCOUNT = "123456789012"
STREAM = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/myblog-prod-subscribers/stream/2026-11-25T10:00:00.000"
HOME_OUTPUTS = {
    "LambdaRoleArn": f"arn:aws:iam::{ACCOUNT}:role/myblog-prod-us-east-1-lambda",
    "DeploymentBucket": f"myblog-prod-zappa-us-east-1-{ACCOUNT}",
    "AsyncFailuresQueueArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:myblog-prod-us-east-1-async-failures",
    "TablePrefix": "myblog-prod-",
    "SubscribersStreamArn": STREAM,
    "StreamFailuresQueueArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:myblog-prod-stream-failures",
    "MediaBucket": f"myblog-prod-media-{ACCOUNT}",
    "CloudFrontDomain": "blog.example.com",
    "DistributionId": "E1NEWDISTRIBUTION",
    "SesConfigurationSet": "myblog-prod",
    "SesNotificationsTopicArn": f"arn:aws:sns:us-east-1:{ACCOUNT}:myblog-prod-ses-notifications",
    "DaxEndpoint": "daxs://myblog-prod.x1y2z3.dax-clusters.us-east-1.amazonaws.com",
    "LambdaSecurityGroupId": "sg-0home",
    "SubnetIds": "subnet-1,subnet-2,subnet-3",
    "QueuePrefix": "myblog-prod-",
    **{
        stage_settings.queue_output(name): f"arn:aws:sqs:us-east-1:{ACCOUNT}:myblog-prod-{name}"
        for name in ("newsletter-fanout", "newsletter-send", "photo-renders", "subscriber-imports", "search-index")
    },
}
EU_OUTPUTS = {
    "LambdaRoleArn": f"arn:aws:iam::{ACCOUNT}:role/myblog-prod-eu-west-1-lambda",
    "DeploymentBucket": f"myblog-prod-zappa-eu-west-1-{ACCOUNT}",
    "AsyncFailuresQueueArn": f"arn:aws:sqs:eu-west-1:{ACCOUNT}:myblog-prod-eu-west-1-async-failures",
    "TablePrefix": "myblog-prod-",
    "DaxEndpoint": "daxs://myblog-prod.q9r8s7.dax-clusters.eu-west-1.amazonaws.com",
    "LambdaSecurityGroupId": "sg-0eu",
    "SubnetIds": "subnet-7,subnet-8",
}


def settings():
    return json.loads((REPO / "zappa_settings.json").read_text())


def test_home_stage_takes_every_value_from_the_outputs():
    config = stage_settings.stage_config(settings(), "prod")

    updates, missing = stage_settings.apply_outputs(config, HOME_OUTPUTS, HOME_OUTPUTS)

    assert missing == []
    assert updates["role_arn"] == HOME_OUTPUTS["LambdaRoleArn"]
    assert updates["s3_bucket"] == HOME_OUTPUTS["DeploymentBucket"]
    assert updates["dead_letter_arn"] == HOME_OUTPUTS["AsyncFailuresQueueArn"]
    assert updates["vpc_config"] == {
        "SubnetIds": ["subnet-1", "subnet-2", "subnet-3"],
        "SecurityGroupIds": ["sg-0home"],
    }
    environment = updates["environment_variables"]
    assert environment["MYBLOG_DAX_ENDPOINT"] == HOME_OUTPUTS["DaxEndpoint"]
    assert environment["MYBLOG_CLOUDFRONT_DISTRIBUTION_ID"] == "E1NEWDISTRIBUTION"
    assert environment["MYBLOG_SES_SENDER"] == config["environment_variables"]["MYBLOG_SES_SENDER"]  # untouched
    sources = {event["function"]: event.get("event_source") for event in updates["events"]}
    assert sources["subscribers.handlers.send_welcome_emails"]["arn"] == STREAM
    assert sources["subscribers.handlers.send_welcome_emails"]["on_failure"] == HOME_OUTPUTS["StreamFailuresQueueArn"]
    assert sources["subscribers.handlers.send_welcome_emails"]["batch_size"] == 10  # kept
    assert sources["subscribers.handlers.record_ses_notifications"]["arn"] == HOME_OUTPUTS["SesNotificationsTopicArn"]
    assert sources["photos.handlers.make_renditions"]["arn"] == f"arn:aws:s3:::{HOME_OUTPUTS['MediaBucket']}"
    assert sources["photos.handlers.make_renditions"]["prefix"] == "media/originals/"
    assert sources["posts.handlers.publish_scheduled"] is None
    assert environment["MYBLOG_QUEUE_PREFIX"] == HOME_OUTPUTS["QueuePrefix"]
    send = sources["subscribers.handlers.send_newsletter"]
    assert send["arn"] == HOME_OUTPUTS["NewsletterSendQueueArn"]
    assert (send["batch_size"], send["maximum_concurrency"]) == (5, 2)  # kept


def test_queue_bindings_take_their_arn_from_the_queue_outputs():
    config = stage_settings.stage_config(settings(), "prod")
    outputs = {**HOME_OUTPUTS, "PhotoRendersQueueArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:renamed-photo-renders"}

    updates, missing = stage_settings.apply_outputs(config, outputs, outputs)

    sources = {event["function"]: event.get("event_source") for event in updates["events"]}
    assert sources["photos.handlers.rerender_photos"]["arn"] == outputs["PhotoRendersQueueArn"]
    assert stage_settings.queue_output("subscriber-imports") == "SubscriberImportsQueueArn"
    assert missing == []
    without = {key: value for key, value in HOME_OUTPUTS.items() if key != "NewsletterFanoutQueueArn"}
    assert stage_settings.apply_outputs(config, without, without)[1] == ["NewsletterFanoutQueueArn"]


def test_missing_outputs_are_reported():
    config = stage_settings.stage_config(settings(), "prod")
    outputs = {key: value for key, value in HOME_OUTPUTS.items() if key not in ("DaxEndpoint", "SubscribersStreamArn")}

    _, missing = stage_settings.apply_outputs(config, outputs, outputs)

    assert missing == ["DaxEndpoint", "SubscribersStreamArn"]


CFN_TEMPLATE = {
    "Parameters": {"HomeRegion": {"Type": "String"}},
    "Resources": {"Queue": {"Type": "AWS::SQS::Queue"}},
}


def create_stack(session, region, outputs, home_region="us-east-1"):
    template = {**CFN_TEMPLATE, "Outputs": {key: {"Value": value} for key, value in outputs.items()}}
    session.client("cloudformation", region_name=region).create_stack(
        StackName="myblog-prod",
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": "HomeRegion", "ParameterValue": home_region}],
    )


@pytest.fixture
def stacks():
    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        create_stack(session, "us-east-1", HOME_OUTPUTS)
        create_stack(session, "eu-west-1", EU_OUTPUTS)
        yield session


def test_sync_writes_a_secondary_stage_from_both_stacks(stacks, tmp_path):
    path = tmp_path / "zappa_settings.json"
    path.write_text((REPO / "zappa_settings.json").read_text())

    report = stage_settings.sync("prod_eu", path, session=stacks)

    written = json.loads(path.read_text())
    entry = written["prod_eu"]
    assert entry["extends"] == "prod"
    assert entry["role_arn"] == EU_OUTPUTS["LambdaRoleArn"]
    assert entry["dead_letter_arn"] == EU_OUTPUTS["AsyncFailuresQueueArn"]
    assert entry["vpc_config"]["SecurityGroupIds"] == ["sg-0eu"]
    assert entry["environment_variables"]["MYBLOG_DAX_ENDPOINT"] == EU_OUTPUTS["DaxEndpoint"]
    assert entry["environment_variables"]["MYBLOG_MEDIA_BUCKET"] == HOME_OUTPUTS["MediaBucket"]
    assert entry["environment_variables"]["MYBLOG_CLOUDFRONT_DISTRIBUTION_ID"] == "E1NEWDISTRIBUTION"
    assert entry["events"] == []
    assert entry["environment_variables"]["MYBLOG_QUEUE_PREFIX"] == HOME_OUTPUTS["QueuePrefix"]
    assert written["prod"] == settings()["prod"]  # other stages untouched
    assert "prod_eu.vpc_config: updated" in report
    assert not [line for line in report if line.startswith("missing")]


def test_sync_twice_changes_nothing_more(stacks, tmp_path):
    path = tmp_path / "zappa_settings.json"
    path.write_text((REPO / "zappa_settings.json").read_text())
    stage_settings.sync("prod", path, session=stacks)
    first = path.read_text()

    report = stage_settings.sync("prod", path, session=stacks)

    assert path.read_text() == first
    assert report == ["prod: already matches myblog-prod"]
    assert json.loads(first)["prod"]["events"][1]["event_source"]["arn"] == STREAM
