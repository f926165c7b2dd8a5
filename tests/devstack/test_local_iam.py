"""IAM locally: the template's function role on moto server, and DynamoDB calls checked against it."""

import json

import boto3
import pytest
from botocore.exceptions import ClientError

from devstack import iam, moto_iam, system
from devstack.dynamodb_proxy import authorisations, stream_arn

REGION, ACCOUNT = "us-east-1", "123456789012"
TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/myblog-dev-"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:myblog-dev"


@pytest.fixture(scope="module")
def role():
    return iam.function_role("dev", REGION, ACCOUNT, distribution_id="E123LOCAL")


@pytest.fixture(scope="module")
def evaluator(role):
    return iam.PolicyEvaluator(role.policies)


def test_the_role_is_rendered_from_the_template_for_the_stage(role):
    from infra import template

    resource = template.load()["Resources"]["LambdaRole"]["Properties"]
    assert role.name == "myblog-dev-us-east-1-lambda"
    # Three behind Fn::If: email and the batch jobs (home region), invalidations.
    assert len(role.policies) == len([p for p in resource["Policies"] if "PolicyName" in p]) + 3
    tables = json.dumps(role.policies["tables"])
    assert f"{TABLE}posts" in tables and "${" not in tables
    assert "distribution/E123LOCAL" in json.dumps(role.policies["invalidations"])


def test_moto_evaluates_the_role_like_iam(evaluator):
    assert evaluator.allows("dynamodb:GetItem", f"{TABLE}posts")
    assert evaluator.allows("dynamodb:Query", f"{TABLE}posts/index/by-date")
    assert not evaluator.allows("dynamodb:Scan", f"{TABLE}posts")
    assert not evaluator.allows("dynamodb:DeleteTable", f"{TABLE}posts")
    assert not evaluator.allows("dynamodb:GetItem", f"{TABLE}someone-elses")
    assert evaluator.allows("dynamodb:GetRecords", f"{TABLE}subscribers/stream/2026-01-01T00:00:00.000")


def test_grants_no_call_used_are_listed(evaluator):
    calls = [("dynamodb:GetItem", f"{TABLE}posts"), ("dynamodb:Query", f"{TABLE}posts/index/by-date")]
    unused = {(grant.action, grant.resource) for grant in evaluator.unused(calls, services={"dynamodb"})}
    assert ("dynamodb:GetItem", f"{TABLE}posts") not in unused
    assert ("dynamodb:Query", f"{TABLE}posts/index/*") not in unused
    assert ("dynamodb:GetItem", f"{TABLE}photos") in unused


def test_api_gateway_may_invoke_the_function_with_the_role_as_credentials(role, evaluator):
    """Zappa's REST integration calls lambda:InvokeFunction on the function as the role."""
    services = role.trust_policy["Statement"][0]["Principal"]["Service"]
    assert "apigateway.amazonaws.com" in services
    assert evaluator.allows("lambda:InvokeFunction", FUNCTION_ARN)


@pytest.mark.parametrize(
    "target, body, expected",
    [
        ("DynamoDB_20120810.GetItem", {"TableName": "myblog-dev-posts"}, [("dynamodb:GetItem", f"{TABLE}posts")]),
        (
            "DynamoDB_20120810.Query",
            {"TableName": "myblog-dev-posts", "IndexName": "by-tag"},
            [("dynamodb:Query", f"{TABLE}posts/index/by-tag")],
        ),
        (
            "DynamoDB_20120810.BatchGetItem",
            {"RequestItems": {"myblog-dev-posts": {}, "myblog-dev-photos": {}}},
            [("dynamodb:BatchGetItem", f"{TABLE}posts"), ("dynamodb:BatchGetItem", f"{TABLE}photos")],
        ),
        (
            "DynamoDB_20120810.TransactWriteItems",
            {
                "TransactItems": [
                    {"Put": {"TableName": "myblog-dev-posts"}},
                    {"ConditionCheck": {"TableName": "myblog-dev-post-tags"}},
                    {"Delete": {"TableName": "myblog-dev-posts"}},
                ]
            },
            [
                ("dynamodb:PutItem", f"{TABLE}posts"),
                ("dynamodb:ConditionCheckItem", f"{TABLE}post-tags"),
                ("dynamodb:DeleteItem", f"{TABLE}posts"),
            ],
        ),
        ("DynamoDB_20120810.ListTables", {}, [("dynamodb:ListTables", "*")]),
        (
            "DynamoDBStreams_20120810.DescribeStream",
            {"StreamArn": "arn:aws:dynamodb:ddblocal:000000000000:table/myblog-dev-subscribers/stream/2026-12"},
            [("dynamodb:DescribeStream", f"{TABLE}subscribers/stream/2026-12")],
        ),
    ],
)
def test_requests_are_read_as_aws_authorises_them(target, body, expected):
    assert authorisations(target, body, REGION, ACCOUNT) == expected


def test_get_records_is_authorised_on_the_stream_its_iterator_came_from():
    arn = stream_arn(REGION, ACCOUNT, "arn:aws:dynamodb:ddblocal:000000000000:table/myblog-dev-subscribers/stream/x")
    found = authorisations(
        "DynamoDBStreams_20120810.GetRecords", {"ShardIterator": "it-1"}, REGION, ACCOUNT, {"it-1": arn}
    )
    assert found == [("dynamodb:GetRecords", f"{TABLE}subscribers/stream/x")]


@pytest.fixture(scope="module")
def moto_with_iam(tmp_path_factory, role):
    work = tmp_path_factory.mktemp("moto-iam")
    service = moto_iam.service(system.free_port(), record=work / "calls.jsonl", log_path=work / "moto.log").start()
    try:
        yield service.endpoint, iam.bootstrap(service.endpoint, role), work / "calls.jsonl"
    finally:
        service.stop()


def _client(service, endpoint, credentials):
    return boto3.session.Session(
        region_name=REGION,
        **{
            "aws_access_key_id": credentials.access_key_id,
            "aws_secret_access_key": credentials.secret_access_key,
            "aws_session_token": credentials.session_token or None,
        },
    ).client(service, endpoint_url=endpoint)


def test_moto_enforces_the_role_and_the_admin_bootstraps(moto_with_iam):
    endpoint, local, record = moto_with_iam
    bucket = f"myblog-dev-media-{ACCOUNT}"
    _client("s3", endpoint, local.admin).create_bucket(Bucket=bucket)
    s3 = _client("s3", endpoint, local.function)
    s3.put_object(Bucket=bucket, Key="media/originals/a.jpg", Body=b"x")
    with pytest.raises(ClientError, match="AccessDenied"):
        s3.put_object(Bucket=bucket, Key="elsewhere/a.jpg", Body=b"x")
    with pytest.raises(ClientError, match="AccessDenied"):
        _client("sqs", endpoint, local.function).create_queue(QueueName="not-the-functions")
    with pytest.raises(ClientError, match="InvalidClientTokenId|InvalidAccessKeyId|security token"):
        _client("s3", endpoint, iam.Credentials("AKIAUNKNOWN", "x")).list_buckets()
    decisions = [json.loads(line) for line in record.read_text().splitlines()]
    assert {"action": "s3:PutObject", "allowed": False} in [
        {"action": d["action"], "allowed": d["allowed"]} for d in decisions if "allowed" in d
    ]


def test_moto_evaluates_ssm_and_ses_on_their_resource_arns(moto_with_iam):
    endpoint, local, record = moto_with_iam
    ssm = _client("ssm", endpoint, local.function)
    with pytest.raises(ClientError, match="AccessDenied"):
        ssm.get_parameters_by_path(Path="/someone/else/")
    decisions = [json.loads(line) for line in record.read_text().splitlines()]
    assert any(
        d.get("resource") == f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/someone/else/" and d["allowed"] is False
        for d in decisions
    )


def test_the_function_works_the_batch_job_queues_as_the_code_and_the_mappings_do(moto_with_iam):
    endpoint, local, record = moto_with_iam
    admin = _client("sqs", endpoint, local.admin)
    dead_letter = admin.create_queue(QueueName="myblog-dev-newsletter-send-dlq")["QueueUrl"]
    admin.create_queue(QueueName="myblog-dev-newsletter-send")
    sqs = _client("sqs", endpoint, local.function)

    # myblog/queues.py: GetQueueUrl, SendMessageBatch; Lambda's mapping: receive, delete, attributes.
    url = sqs.get_queue_url(QueueName="myblog-dev-newsletter-send")["QueueUrl"]
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "0", "MessageBody": '{"send": "s", "batch": "0-0"}'}])
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"]
    (message,) = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=5)["Messages"]
    sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": "0", "ReceiptHandle": message["ReceiptHandle"]}])

    # An operator's work, not the function's.
    with pytest.raises(ClientError, match="AccessDenied"):
        sqs.purge_queue(QueueUrl=url)
    with pytest.raises(ClientError, match="AccessDenied"):
        sqs.receive_message(QueueUrl=dead_letter)
    with pytest.raises(ClientError, match="AccessDenied"):
        sqs.send_message(QueueUrl=dead_letter, MessageBody="{}")
    decisions = [json.loads(line) for line in record.read_text().splitlines()]
    queue = f"arn:aws:sqs:{REGION}:{ACCOUNT}:myblog-dev-newsletter-send"
    allowed = {(d["action"], d["resource"]) for d in decisions if d.get("allowed")}
    # Batches are authorised as one message's action, as AWS does.
    assert {("sqs:GetQueueUrl", queue), ("sqs:SendMessage", queue), ("sqs:DeleteMessage", queue)} <= allowed
