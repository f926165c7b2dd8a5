"""infra/event_mappings.py completes the stream mapping Zappa 0.63 creates incompletely."""

import io
import json
import zipfile

import boto3
import pytest
from moto import mock_aws
from zappa.utilities import add_event_source, remove_event_source

from infra import event_mappings, invoke_permissions

REGION = "us-east-1"
BINDING = {
    "arn": None,  # the stream ARN, set by the fixture
    "starting_position": "TRIM_HORIZON",
    "batch_size": 10,
    "maximum_batching_window": 1,
    "function_response_types": ["ReportBatchItemFailures"],
    "bisect_batch_on_function_error": True,
    "maximum_retry_attempts": 5,
    "maximum_record_age": 21600,
    "on_failure": "arn:aws:sqs:us-east-1:123456789012:myblog-prod-stream-failures",
    "filter_patterns": [{"eventName": ["INSERT"]}],
}


def function_zip():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def lambda_handler(event, context):\n    return None\n")
    return buffer.getvalue()


@pytest.fixture
def stage():
    """A function and a table with a stream, as after `zappa deploy` on infra/."""
    with mock_aws():
        session = boto3.session.Session(region_name=REGION)
        iam = session.client("iam")
        role = iam.create_role(
            RoleName="myblog-prod-us-east-1-lambda",
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        )["Role"]["Arn"]
        function = session.client("lambda").create_function(
            FunctionName="myblog-prod",
            Runtime="python3.11",
            Role=role,
            Handler="handler.lambda_handler",
            Code={"ZipFile": function_zip()},
        )["FunctionArn"]
        table = session.client("dynamodb").create_table(
            TableName="myblog-prod-subscribers",
            KeySchema=[{"AttributeName": "email", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "email", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )["TableDescription"]
        yield session, function, {**BINDING, "arn": table["LatestStreamArn"]}


def test_zappa_creates_a_stream_mapping_without_a_starting_position(stage):
    """Why infra/event_mappings.py exists: AWS rejects this call for a stream.

    If a Zappa upgrade makes this test fail, Zappa sends the setting itself
    and the deploy guide's extra step can be reconsidered.
    """
    session, function, binding = stage
    sent = []
    session.events.register(
        "provide-client-params.lambda.CreateEventSourceMapping", lambda params, **_: sent.append(params)
    )

    add_event_source(binding, function, "subscribers.handlers.send_welcome_emails", session)

    (params,) = sent
    assert params["EventSourceArn"] == binding["arn"]
    assert "StartingPosition" not in params
    assert "FunctionResponseTypes" not in params and "DestinationConfig" not in params


def test_creates_the_mapping_with_every_setting(stage):
    session, function, binding = stage
    client = session.client("lambda")

    line = event_mappings.ensure_mapping(client, function, binding)

    assert line.startswith(f"created {binding['arn']} -> myblog-prod (TRIM_HORIZON")
    (summary,) = client.list_event_source_mappings(EventSourceArn=binding["arn"])["EventSourceMappings"]
    mapping = client.get_event_source_mapping(UUID=summary["UUID"])
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    assert mapping["BatchSize"] == 10
    assert mapping["MaximumBatchingWindowInSeconds"] == 1
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["MaximumRetryAttempts"] == 5
    assert mapping["MaximumRecordAgeInSeconds"] == 21600
    assert mapping["DestinationConfig"] == {"OnFailure": {"Destination": binding["on_failure"]}}
    assert json.loads(mapping["FilterCriteria"]["Filters"][0]["Pattern"]) == {"eventName": ["INSERT"]}


def test_completes_the_mapping_zappa_made_and_then_leaves_it_alone(stage):
    session, function, binding = stage
    client = session.client("lambda")
    add_event_source(binding, function, "subscribers.handlers.send_welcome_emails", session)

    first = event_mappings.ensure_mapping(client, function, binding)
    second = event_mappings.ensure_mapping(client, function, binding)

    assert first.startswith(f"updated {binding['arn']}: ")
    assert "FunctionResponseTypes" in first and "DestinationConfig" in first and "BatchSize" not in first
    assert second == f"{binding['arn']} is up to date"
    assert len(client.list_event_source_mappings(EventSourceArn=binding["arn"])["EventSourceMappings"]) == 1


def test_puts_back_a_setting_changed_by_hand(stage):
    session, function, binding = stage
    client = session.client("lambda")
    event_mappings.ensure_mapping(client, function, binding)
    (summary,) = client.list_event_source_mappings(EventSourceArn=binding["arn"])["EventSourceMappings"]
    client.update_event_source_mapping(UUID=summary["UUID"], MaximumRetryAttempts=-1, Enabled=False)

    line = event_mappings.ensure_mapping(client, function, binding)

    assert line == f"updated {binding['arn']}: Enabled, MaximumRetryAttempts"
    mapping = client.get_event_source_mapping(UUID=summary["UUID"])
    assert mapping["MaximumRetryAttempts"] == 5
    assert event_mappings.current_settings(mapping)["Enabled"] is True


def test_ensure_stage_reads_the_stage_bindings(stage, tmp_path):
    session, function, binding = stage
    settings = {
        "base": {"project_name": "myblog", "aws_region": REGION},
        "prod": {
            "extends": "base",
            "events": [
                {"function": "subscribers.handlers.send_welcome_emails", "event_source": binding},
                {"function": "posts.handlers.publish_scheduled", "expression": "rate(5 minutes)"},
                {
                    "function": "photos.handlers.make_renditions",
                    "event_source": {"arn": "arn:aws:s3:::bucket", "events": ["s3:ObjectCreated:*"]},
                },
            ],
        },
    }
    path = tmp_path / "zappa_settings.json"
    path.write_text(json.dumps(settings))

    lines = event_mappings.ensure_stage("prod", path, session=session)

    # The stream mapping, then the bucket's grant (the schedule has neither).
    assert len(lines) == 2 and lines[0].startswith("created ")
    assert lines[1] == "granted arn:aws:s3:::bucket -> myblog-prod (aws:SourceAccount 123456789012)"


def test_only_stream_sources_are_completed():
    assert event_mappings.is_stream({"arn": "arn:aws:dynamodb:us-east-1:1:table/t/stream/2026"})
    assert event_mappings.is_stream({"arn": "arn:aws:kinesis:us-east-1:1:stream/s"})
    assert not event_mappings.is_stream({"arn": "arn:aws:s3:::bucket"})
    assert not event_mappings.is_stream({"arn": "arn:aws:sns:us-east-1:1:topic"})


# --- SQS queues -------------------------------------------------------------------
QUEUE_BINDING = {
    "arn": None,  # the queue's ARN, set by the fixture
    "batch_size": 5,
    "batch_window": 1,
    "function_response_types": ["ReportBatchItemFailures"],
    "maximum_concurrency": 2,
}


@pytest.fixture
def queue_stage(stage):
    """The function of `stage` and a queue, as after `zappa deploy` on infra/."""
    session, function, _ = stage
    sqs = session.client("sqs")
    url = sqs.create_queue(QueueName="myblog-prod-newsletter-send")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return session, function, {**QUEUE_BINDING, "arn": arn}


def only_mapping(client, arn):
    (summary,) = client.list_event_source_mappings(EventSourceArn=arn)["EventSourceMappings"]
    return client.get_event_source_mapping(UUID=summary["UUID"])


def test_zappa_creates_a_queue_mapping_without_partial_failures_or_a_concurrency_limit(queue_stage):
    """Why queues are completed too: without ReportBatchItemFailures Lambda ignores the
    handlers' batchItemFailures (one failed message redoes the batch), and without a
    maximum concurrency the senders outrun SES's rate."""
    session, function, binding = queue_stage
    sent = []
    session.events.register(
        "provide-client-params.lambda.CreateEventSourceMapping", lambda params, **_: sent.append(params)
    )

    add_event_source(binding, function, "subscribers.handlers.send_newsletter", session)

    (params,) = sent
    assert set(params) == {"FunctionName", "EventSourceArn", "BatchSize", "Enabled", "MaximumBatchingWindowInSeconds"}
    assert (params["BatchSize"], params["MaximumBatchingWindowInSeconds"]) == (5, 1)


def test_creates_the_queue_mapping_with_every_setting_and_no_starting_position(queue_stage):
    session, function, binding = queue_stage
    sent = []
    session.events.register(
        "provide-client-params.lambda.CreateEventSourceMapping", lambda params, **_: sent.append(params)
    )
    client = session.client("lambda")

    line = event_mappings.ensure_mapping(client, function, binding)

    assert line == (
        f"created {binding['arn']} -> myblog-prod (BatchSize, Enabled, FunctionResponseTypes, "
        "MaximumBatchingWindowInSeconds, ScalingConfig)"
    )
    assert "StartingPosition" not in sent[0]  # AWS refuses one for a queue
    mapping = only_mapping(client, binding["arn"])
    assert mapping["BatchSize"] == 5
    assert mapping["MaximumBatchingWindowInSeconds"] == 1
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": 2}


def test_completes_the_queue_mapping_zappa_made_and_zappa_update_leaves_it_complete(queue_stage):
    session, function, binding = queue_stage
    client = session.client("lambda")
    add_event_source(binding, function, "subscribers.handlers.send_newsletter", session)

    first = event_mappings.ensure_mapping(client, function, binding)
    # `zappa update` updates every event source again: BatchSize, Enabled, the batching window.
    assert add_event_source(binding, function, "subscribers.handlers.send_newsletter", session) == "updated"
    second = event_mappings.ensure_mapping(client, function, binding)

    assert first == f"updated {binding['arn']}: FunctionResponseTypes, ScalingConfig"
    assert second == f"{binding['arn']} is up to date"
    assert only_mapping(client, binding["arn"])["ScalingConfig"] == {"MaximumConcurrency": 2}
    assert len(client.list_event_source_mappings(EventSourceArn=binding["arn"])["EventSourceMappings"]) == 1


def test_puts_back_a_queue_setting_changed_by_hand(queue_stage):
    session, function, binding = queue_stage
    client = session.client("lambda")
    event_mappings.ensure_mapping(client, function, binding)
    uuid = only_mapping(client, binding["arn"])["UUID"]
    client.update_event_source_mapping(UUID=uuid, ScalingConfig={"MaximumConcurrency": 50}, FunctionResponseTypes=[])

    line = event_mappings.ensure_mapping(client, function, binding)

    assert line == f"updated {binding['arn']}: FunctionResponseTypes, ScalingConfig"
    mapping = client.get_event_source_mapping(UUID=uuid)
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": 2}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_the_batching_window_of_a_queue_is_read_as_zappa_reads_it():
    arn = "arn:aws:sqs:us-east-1:1:q"
    assert event_mappings.mapping_settings({"arn": arn})["MaximumBatchingWindowInSeconds"] == 0
    assert event_mappings.mapping_settings({"arn": arn, "batch_size": 50})["MaximumBatchingWindowInSeconds"] == 1
    assert event_mappings.mapping_settings({"arn": arn, "batch_window": 3})["MaximumBatchingWindowInSeconds"] == 3
    # The stream keys do not apply to a queue.
    assert "MaximumRetryAttempts" not in event_mappings.mapping_settings({"arn": arn, "maximum_retry_attempts": 2})


def test_ensure_stage_completes_streams_and_queues(queue_stage, tmp_path):
    session, function, queue = queue_stage
    stream_arn = session.client("dynamodb").describe_table(TableName="myblog-prod-subscribers")["Table"][
        "LatestStreamArn"
    ]
    settings = {
        "base": {"project_name": "myblog", "aws_region": REGION},
        "prod": {
            "extends": "base",
            "events": [
                {
                    "function": "subscribers.handlers.send_welcome_emails",
                    "event_source": {**BINDING, "arn": stream_arn},
                },
                {"function": "subscribers.handlers.send_newsletter", "event_source": queue},
                {"function": "posts.handlers.publish_scheduled", "expression": "rate(5 minutes)"},
            ],
        },
    }
    path = tmp_path / "zappa_settings.json"
    path.write_text(json.dumps(settings))

    lines = event_mappings.ensure_stage("prod", path, session=session)

    assert [line.split(" -> ")[0] for line in lines] == [f"created {stream_arn}", f"created {queue['arn']}"]


def test_queues_are_mapped_but_not_as_streams():
    queue = {"arn": "arn:aws:sqs:us-east-1:1:myblog-prod-newsletter-send"}
    assert event_mappings.is_queue(queue) and event_mappings.is_mapped(queue)
    assert not event_mappings.is_stream(queue)
    assert not event_mappings.is_mapped({"arn": "arn:aws:sns:us-east-1:1:topic"})
    assert not event_mappings.is_mapped({})


# --- S3 invoke permissions ----------------------------------------------------------
@pytest.fixture
def bucket_stage(stage):
    """The function of `stage` and the media bucket, as after `zappa deploy` on infra/."""
    session, function, _ = stage
    session.client("s3").create_bucket(Bucket="myblog-prod-media")
    binding = {"arn": "arn:aws:s3:::myblog-prod-media", "events": ["s3:ObjectCreated:*"], "prefix": "media/originals/"}
    return session, function, binding


def grant(client, function, sid, source_arn, service="s3", **condition):
    client.add_permission(
        FunctionName=function,
        StatementId=sid,
        Action="lambda:InvokeFunction",
        Principal=f"{service}.amazonaws.com",
        SourceArn=source_arn,
        **condition,
    )


def s3_statements(client, function):
    policy = json.loads(client.get_policy(FunctionName=function)["Policy"])
    return {
        statement["Sid"]: statement
        for statement in policy["Statement"]
        if statement["Principal"] == {"Service": "s3.amazonaws.com"}
    }


def test_zappa_lets_any_bucket_of_the_name_invoke_the_function(bucket_stage):
    """Why the grants are replaced: a bucket ARN names no account, and Zappa adds no aws:SourceAccount.

    If a Zappa upgrade makes this test fail, Zappa binds the grant itself.
    """
    session, function, binding = bucket_stage
    add_event_source(binding, function, "photos.handlers.make_renditions", session)

    (statement,) = s3_statements(session.client("lambda"), function).values()

    assert statement["Sid"] == "s3-myblog-prod-media"
    assert statement["Condition"] == {"ArnLike": {"AWS:SourceArn": binding["arn"]}}


def test_replaces_zappas_grant_with_one_held_to_the_account_and_then_leaves_it_alone(bucket_stage):
    session, function, binding = bucket_stage
    client = session.client("lambda")
    add_event_source(binding, function, "photos.handlers.make_renditions", session)
    # Another service's grant is not S3's to change.
    grant(client, function, "events-rule", "arn:aws:events:us-east-1:123456789012:rule/myblog-prod-publish", "events")

    first = invoke_permissions.ensure_permissions(client, function, [binding])
    second = invoke_permissions.ensure_permissions(client, function, [binding])

    assert first == [
        "granted arn:aws:s3:::myblog-prod-media -> myblog-prod (aws:SourceAccount 123456789012)",
        "removed S3 statement s3-myblog-prod-media (not an account-bound grant of a bound bucket)",
    ]
    assert second == ["arn:aws:s3:::myblog-prod-media may invoke myblog-prod from account 123456789012 only"]
    (statement,) = s3_statements(client, function).values()
    assert statement["Sid"] == "s3-myblog-prod-media-account"
    assert statement["Action"] == "lambda:InvokeFunction" and statement["Effect"] == "Allow"
    assert statement["Condition"] == {
        "ArnLike": {"AWS:SourceArn": binding["arn"]},
        "StringEquals": {"AWS:SourceAccount": "123456789012"},
    }
    policy = json.loads(client.get_policy(FunctionName=function)["Policy"])
    assert "events-rule" in {statement["Sid"] for statement in policy["Statement"]}
    # The bucket notification Zappa made still names the function.
    notification = session.client("s3").get_bucket_notification_configuration(Bucket="myblog-prod-media")
    assert [config["LambdaFunctionArn"] for config in notification["LambdaFunctionConfigurations"]] == [function]


def test_zappa_update_after_the_grant_leaves_one_account_bound_grant(bucket_stage):
    """`zappa update` removes its own statement and adds it again: the next run takes it away again."""
    session, function, binding = bucket_stage
    client = session.client("lambda")
    add_event_source(binding, function, "photos.handlers.make_renditions", session)
    invoke_permissions.ensure_permissions(client, function, [binding])

    remove_event_source(binding, function, "photos.handlers.make_renditions", session)
    add_event_source(binding, function, "photos.handlers.make_renditions", session)
    assert set(s3_statements(client, function)) == {"s3-myblog-prod-media", "s3-myblog-prod-media-account"}
    invoke_permissions.ensure_permissions(client, function, [binding])

    assert set(s3_statements(client, function)) == {"s3-myblog-prod-media-account"}


def test_puts_back_a_grant_changed_by_hand_and_removes_a_bucket_no_longer_bound(bucket_stage):
    session, function, binding = bucket_stage
    client = session.client("lambda")
    grant(client, function, "s3-myblog-prod-media-account", binding["arn"])  # the account-bound name, unbound
    grant(client, function, "s3-old-bucket-account", "arn:aws:s3:::old-bucket", SourceAccount="123456789012")

    lines = invoke_permissions.ensure_permissions(client, function, [binding])

    assert lines[0].startswith("granted arn:aws:s3:::myblog-prod-media")
    (statement,) = s3_statements(client, function).values()
    assert invoke_permissions.held_to(statement, binding["arn"], "123456789012")


def test_a_stage_without_buckets_or_a_policy_needs_nothing(stage):
    session, function, binding = stage
    assert invoke_permissions.ensure_permissions(session.client("lambda"), function, [binding]) == []
