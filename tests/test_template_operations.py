"""infra/myblog.yaml for running the function: what its role must allow, where failures go, what is watched.

Checked per Zappa stage, with the names Zappa derives (the function
`myblog-<stage>`, its REST API of the same name) and the values the code
sends (the SSM path in `MYBLOG_SSM_PARAMETERS_PATH`), so a rename on either
side fails here rather than on AWS.
"""

import fnmatch

import pytest

from infra import stage_settings
from infra import template as cfn
from tests.test_infra_template import ACCOUNT, REPO, VARIANTS, VPC, WITH_API, Placeholders, as_list, lambda_statements

SETTINGS = stage_settings.load(REPO / "zappa_settings.json")
# Every stage that deploys a function (the rehearsal stage is prod under another name).
STAGES = ("dev", "prod", "prod_eu", "rehearsal")
SECURITY_HEADERS_POLICY = "67f7725c-6f97-4210-82d7-5512b31e9d03"  # Managed-SecurityHeadersPolicy
# AWSLambdaVPCAccessExecutionRole (v3), less the CloudWatch Logs actions the role grants on its own log group.
VPC_FUNCTION_ACTIONS = (
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
)


def config(stage):
    return stage_settings.stage_config(SETTINGS, stage)


def function_name(stage):
    return stage_settings.lambda_name(config(stage), stage)


def stage_stack(stage, **parameters):
    """The stack a stage runs on, deployed as infra/README.md says (FunctionName for a non-default name)."""
    settings = config(stage)
    region = settings["aws_region"]
    environment = settings["environment_variables"]
    stack_stage = environment["MYBLOG_TABLE_PREFIX"].removeprefix("myblog-").rstrip("-")
    values = {"Stage": stack_stage, "HomeRegion": "us-east-1", **VPC, **parameters}
    if function_name(stage) != f"myblog-{stack_stage}":
        values["FunctionName"] = function_name(stage)
    if region != "us-east-1":
        values["DistributionId"] = environment["MYBLOG_CLOUDFRONT_DISTRIBUTION_ID"]
    return cfn.Evaluator(
        cfn.load(), values, region=region, account=ACCOUNT, physical_ids=Placeholders(), attributes=Placeholders()
    )


def allows(statements, action, arn):
    """Whether an Allow statement grants `action` on `arn` (IAM wildcards * and ?, case-sensitive)."""
    return any(
        statement["Effect"] == "Allow"
        and any(fnmatch.fnmatchcase(action, pattern) for pattern in as_list(statement["Action"]))
        and any(fnmatch.fnmatchcase(arn, pattern) for pattern in as_list(statement.get("Resource", [])))
        for statement in statements
    )


# --- the role: API Gateway's credentials ------------------------------------------------
@pytest.mark.parametrize("stage", STAGES)
def test_api_gateway_may_invoke_the_function_with_the_role(stage):
    # Zappa's REST integration carries `Credentials: <role_arn>`: API Gateway
    # assumes the role and calls lambda:InvokeFunction with it.
    evaluator = stage_stack(stage)
    region = config(stage)["aws_region"]
    role = lambda_statements(evaluator)
    function = f"arn:aws:lambda:{region}:{ACCOUNT}:function:{function_name(stage)}"
    assert allows(role, "lambda:InvokeFunction", function)
    assert allows(role, "lambda:InvokeFunction", f"{function}:7")  # a published version
    assert allows(role, "lambda:InvokeFunction", f"{function}:live")  # an alias
    assert not allows(role, "lambda:InvokeFunction", f"arn:aws:lambda:{region}:{ACCOUNT}:function:other")
    assert not allows(role, "lambda:InvokeFunction", f"{function}-other")
    trust = evaluator.properties("LambdaRole")["AssumeRolePolicyDocument"]["Statement"]
    assert any("apigateway.amazonaws.com" in as_list(s["Principal"]["Service"]) for s in trust)
    assert config(stage)["role_arn"].endswith(f":role/{evaluator.properties('LambdaRole')['RoleName']}")


def test_a_second_region_names_its_function():
    # prod_eu's function is myblog-prod-eu: the default name would grant the wrong one.
    default = cfn.Evaluator(
        cfn.load(),
        {"Stage": "prod", "DistributionId": "E2QWRUHEXAMPLE", **VPC},
        region="eu-west-1",
        account=ACCOUNT,
        physical_ids=Placeholders(),
        attributes=Placeholders(),
    )
    function = f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:myblog-prod-eu"
    assert not allows(lambda_statements(default), "lambda:InvokeFunction", function)
    assert allows(lambda_statements(stage_stack("prod_eu")), "lambda:InvokeFunction", function)


# --- the role: secrets and the VPC ------------------------------------------------------
@pytest.mark.parametrize("stage", STAGES)
def test_the_role_may_read_the_ssm_path_the_code_sends(stage):
    # GetParametersByPath is authorised against the Path of the request, as
    # sent: myblog.secrets sends MYBLOG_SSM_PARAMETERS_PATH, trailing slash and all.
    path = config(stage)["environment_variables"]["MYBLOG_SSM_PARAMETERS_PATH"]
    assert path.startswith("/") and path.endswith("/")
    resource = f"arn:aws:ssm:{config(stage)['aws_region']}:{ACCOUNT}:parameter{path}"
    role = lambda_statements(stage_stack(stage))
    assert allows(role, "ssm:GetParametersByPath", resource)
    # Only that path: not its parent, not another stage's.
    assert not allows(role, "ssm:GetParametersByPath", resource.rstrip("/").rsplit("/", 1)[0] + "/")
    assert not allows(role, "ssm:GetParametersByPath", resource.replace("/myblog/", "/other/"))


@pytest.mark.parametrize("variant", ["home", "secondary"])
def test_a_vpc_function_has_what_lambda_needs_for_its_network_interfaces(variant):
    role = lambda_statements(VARIANTS[variant])
    region = "eu-west-1" if variant == "secondary" else "us-east-1"
    eni = f"arn:aws:ec2:{region}:{ACCOUNT}:network-interface/eni-0a1b2c3d4e5f60001"
    subnet = f"arn:aws:ec2:{region}:{ACCOUNT}:subnet/subnet-a"
    group = f"arn:aws:ec2:{region}:{ACCOUNT}:security-group/LambdaSecurityGroup-id"
    for action in VPC_FUNCTION_ACTIONS:
        assert allows(role, action, eni), action
    # CreateNetworkInterface is authorised on the subnet and the group too.
    assert allows(role, "ec2:CreateNetworkInterface", subnet)
    assert allows(role, "ec2:CreateNetworkInterface", group)
    assert not allows(role, "ec2:CreateNetworkInterface", f"arn:aws:ec2:{region}:{ACCOUNT}:security-group/sg-other")
    # Without a VPC, none of it.
    assert not any(allows(lambda_statements(VARIANTS["home-no-dax"]), a, eni) for a in VPC_FUNCTION_ACTIONS)


# --- failed events ----------------------------------------------------------------------
ASYNC_SERVICES = ("s3", "sns")  # and schedules: Lambda invokes them asynchronously
POLLED_SERVICES = ("dynamodb", "kinesis", "sqs")  # event-source mappings: on_failure per mapping


@pytest.mark.parametrize("stage", STAGES)
def test_every_async_event_that_fails_all_retries_lands_in_a_queue(stage):
    settings = config(stage)
    events = settings.get("events", [])
    kinds = set()
    for event in events:
        source = event.get("event_source")
        service = source["arn"].split(":")[2] if source else "schedule"
        kinds.add(service)
        if service in POLLED_SERVICES:
            assert source["on_failure"].startswith(f"arn:aws:sqs:{settings['aws_region']}:"), event
        else:
            assert service in (*ASYNC_SERVICES, "schedule"), event
    if settings.get("keep_warm", True):
        kinds.add("schedule")  # Zappa's keep-warm rule (on by default)
    if kinds & {*ASYNC_SERVICES, "schedule"}:
        evaluator = stage_stack(stage)
        queue = evaluator.properties("AsyncFailuresQueue")
        expected = f"arn:aws:sqs:{settings['aws_region']}:{ACCOUNT}:{queue['QueueName']}"
        assert settings.get("dead_letter_arn") == expected
        assert "AsyncFailuresQueue" in evaluator.resources()
        sends = [s for s in lambda_statements(evaluator) if "sqs:SendMessage" in as_list(s["Action"])]
        assert "AsyncFailuresQueue.Arn" in [r for s in sends for r in as_list(s["Resource"])]


def test_stream_failures_queue_is_the_stream_mappings_destination_and_the_role_may_send_to_it():
    evaluator = stage_stack("prod")
    queue = evaluator.properties("StreamFailuresQueue")["QueueName"]
    (stream,) = [e for e in config("prod")["events"] if ":dynamodb:" in e.get("event_source", {}).get("arn", "")]
    assert stream["event_source"]["on_failure"] == f"arn:aws:sqs:us-east-1:{ACCOUNT}:{queue}"
    sends = [s for s in lambda_statements(evaluator) if "sqs:SendMessage" in as_list(s["Action"])]
    assert "StreamFailuresQueue.Arn" in [r for s in sends for r in as_list(s["Resource"])]


@pytest.mark.parametrize("variant", ["home", "secondary", "dev"])
def test_the_dead_letter_queue_is_an_output_the_stages_read(variant):
    assert VARIANTS[variant].outputs()["AsyncFailuresQueueArn"] == "AsyncFailuresQueue.Arn"
    config_ = {"events": [], "environment_variables": {}}
    updates, _ = stage_settings.apply_outputs(config_, {"AsyncFailuresQueueArn": "arn:q"}, {})
    assert updates["dead_letter_arn"] == "arn:q"


# --- logs and alarms --------------------------------------------------------------------
@pytest.mark.parametrize("stage", STAGES)
def test_the_function_log_group_keeps_its_events_for_a_set_time(stage):
    evaluator = stage_stack(stage)
    group = evaluator.properties("FunctionLogGroup")
    assert group["LogGroupName"] == f"/aws/lambda/{function_name(stage)}"
    assert group["RetentionInDays"] == 30
    region = config(stage)["aws_region"]
    stream = f"arn:aws:logs:{region}:{ACCOUNT}:log-group:{group['LogGroupName']}:log-stream:2026/12/01/[$LATEST]abc"
    assert allows(lambda_statements(evaluator), "logs:PutLogEvents", stream)


def alarms(evaluator):
    found = {}
    for name, resource in evaluator.resources().items():
        if resource["Type"] == "AWS::CloudWatch::Alarm":
            properties = evaluator.properties(name)
            dimensions = {d["Name"]: d["Value"] for d in properties.get("Dimensions", [])}
            found[(properties["Namespace"], properties["MetricName"], tuple(sorted(dimensions.items())))] = properties
    return found


@pytest.mark.parametrize("stage", ["prod", "dev"])
def test_home_region_alarms(stage):
    evaluator = stage_stack(stage, **WITH_API) if stage == "prod" else stage_stack(stage)
    found = alarms(evaluator)
    function = function_name(stage)
    async_queue = evaluator.properties("AsyncFailuresQueue")
    expected = {
        ("AWS/Lambda", "Errors", (("FunctionName", function),)),
        ("AWS/ApiGateway", "5XXError", (("ApiName", function),)),  # Zappa names the REST API after the function
        ("AWS/Lambda", "IteratorAge", (("FunctionName", function),)),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible", (("QueueName", "AsyncFailuresQueue.QueueName"),)),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible", (("QueueName", "StreamFailuresQueue.QueueName"),)),
        ("AWS/SES", "Reputation.BounceRate", ()),
        ("AWS/SES", "Reputation.ComplaintRate", ()),
    }
    assert set(found) == expected
    assert async_queue["QueueName"].endswith("-async-failures")
    # AWS reviews an account at 5% bounces and 0.1% complaints: alarm no later.
    assert found[("AWS/SES", "Reputation.BounceRate", ())]["Threshold"] <= 0.05
    assert found[("AWS/SES", "Reputation.ComplaintRate", ())]["Threshold"] <= 0.001
    # A failed event in either queue is one message: alarm on the first.
    for key, alarm in found.items():
        if key[0] == "AWS/SQS":
            assert alarm["Threshold"] == 1 and alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert alarm["AlarmActions"] == ["AlarmTopic-id"], key
        assert alarm["TreatMissingData"] == "notBreaching", key
    assert found[("AWS/Lambda", "Errors", (("FunctionName", function),))]["Threshold"] == 1


def test_secondary_region_alarms_watch_its_own_function():
    found = alarms(stage_stack("prod_eu"))
    assert set(found) == {
        ("AWS/Lambda", "Errors", (("FunctionName", "myblog-prod-eu"),)),
        ("AWS/ApiGateway", "5XXError", (("ApiName", "myblog-prod-eu"),)),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible", (("QueueName", "AsyncFailuresQueue.QueueName"),)),
    }


def test_alarm_email_is_subscribed_when_given():
    assert "AlarmEmailSubscription" not in VARIANTS["home"].resources()
    evaluator = stage_stack("prod", AlarmEmail="ops@myblog.example")
    subscription = evaluator.properties("AlarmEmailSubscription")
    assert subscription == {"TopicArn": "AlarmTopic-id", "Protocol": "email", "Endpoint": "ops@myblog.example"}


# --- CloudFront ---------------------------------------------------------------------------
@pytest.mark.parametrize("variant", ["home", "home-api", "home-failover", "home-verified", "home-oai"])
def test_every_cache_behaviour_sends_the_security_headers(variant):
    config_ = VARIANTS[variant].properties("Distribution")["DistributionConfig"]
    behaviours = [config_["DefaultCacheBehavior"], *config_["CacheBehaviors"]]
    for behaviour in behaviours:
        assert behaviour.get("ResponseHeadersPolicyId") == SECURITY_HEADERS_POLICY, behaviour.get("PathPattern")
