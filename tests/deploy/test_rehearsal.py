"""The deploy rehearsal: what AWS would have after a first production deploy.

The fixtures (tests/deploy/conftest.py) deploy infra/myblog.yaml and the
`rehearsal` (prod with `"touch": false`) and `prod_eu` stages to moto server
with Zappa, and run the packaged function on real-shaped API Gateway events.
Each test checks one resource or binding against what the template and
zappa_settings.json ask for. About two minutes; deselect with
`-m "not deploy_rehearsal"`. Before a real deploy: `.venv/bin/python infra/rehearse.py`.
"""

import ast
import json
import re
import zipfile

import pytest

from infra import deployenv, event_mappings, invoke_permissions, layers, stage_settings
from infra.emulated_stack import resolve_conditions
from tests.deploy.stages import (
    HOME_REGION,
    REPO,
    SECONDARY_REGION,
    SECONDARY_STAGE,
    STAGE,
)

pytestmark = pytest.mark.deploy_rehearsal

MAX_ZIP_BYTES = 15_000_000  # the target: under 15 MB
# Never shipped: Lambda's runtime has the AWS SDK; the rest are dev tools.
FORBIDDEN_IN_ZIP = ("boto3/", "botocore/", "s3transfer/", "moto/", "pytest/", "_pytest/", "ruff/", "cfnlint/")
REQUIRED_IN_ZIP = (
    "handler.py",
    "zappa_settings.py",
    "myblog/settings.py",
    "photos/models.py",
    "posts/models.py",
    "subscribers/models.py",
    "dynamo_admin/options.py",
    "django/",
    "pynamodb/",
    "PIL/_avif.",  # the photo handler's AVIF encoder, and the libavif it links
    "pillow.libs/libavif-",
)
# The bindings as the repository declares them (ARNs are filled in from the stack outputs).
BINDINGS = stage_settings.stage_config(REPO / "zappa_settings.json", STAGE)["events"]


def source_kind(event):
    source = event.get("event_source")
    return source["arn"].split(":")[2] if source else "schedule"


def bindings_of(*kinds):
    return [event["function"] for event in BINDINGS if source_kind(event) in kinds]


def binding(config, function):
    (event,) = [event for event in config["events"] if event["function"] == function]
    return event


def function_name(arn):
    return arn.split(":")[6]


def as_list(value):
    return [value] if isinstance(value, str) else list(value)


# --- the stacks and the stage settings ------------------------------------------
@pytest.mark.parametrize("region", [HOME_REGION, SECONDARY_REGION])
def test_stack_is_created(stacks, region):
    status, reason = stacks[region].stack_status
    assert status == "CREATE_COMPLETE", reason


@pytest.mark.parametrize("stage", [STAGE, SECONDARY_STAGE])
def test_stage_takes_every_value_it_needs_from_the_outputs(stage_settings_file, stage):
    assert stage_settings_file.missing[stage] == []


def test_secondary_stage_has_its_own_role_and_deployment_bucket(secondary_config, stacks):
    outputs = stacks[SECONDARY_REGION].outputs
    assert secondary_config["role_arn"] == outputs["LambdaRoleArn"]
    assert secondary_config["s3_bucket"] == outputs["DeploymentBucket"]
    assert f":role/myblog-prod-{SECONDARY_REGION}-lambda" in secondary_config["role_arn"]


def test_secondary_stage_shares_the_tables_bucket_and_distribution_of_the_home_region(secondary_config, stacks):
    environment, home = secondary_config["environment_variables"], stacks[HOME_REGION].outputs
    assert environment["MYBLOG_MEDIA_BUCKET"] == home["MediaBucket"]
    assert environment["MYBLOG_TABLE_PREFIX"] == home["TablePrefix"]
    assert environment["MYBLOG_CLOUDFRONT_DISTRIBUTION_ID"] == home["DistributionId"]


def test_secondary_stage_has_its_own_dax_cluster(secondary_config, stacks):
    endpoint = secondary_config["environment_variables"].get("MYBLOG_DAX_ENDPOINT")
    assert endpoint == stacks[SECONDARY_REGION].outputs["DaxEndpoint"] != stacks[HOME_REGION].outputs["DaxEndpoint"]
    assert f".{SECONDARY_REGION}." in endpoint


def test_secondary_stage_binds_no_events(secondary_config):
    # S3, the stream, SNS and the schedule run in the home region only.
    assert secondary_config.get("events") == []


# --- the package ----------------------------------------------------------------
def test_rehearsal_writes_outside_the_repository(rehearsal_dir, packages):
    # Zappa's WebSocket scan walks the project folder: an unpacked zip there is found.
    assert not rehearsal_dir.resolve().is_relative_to(REPO)
    assert all(not path.resolve().is_relative_to(REPO) for path in packages.values())


@pytest.mark.parametrize("stage", [STAGE, SECONDARY_STAGE])
def test_package_routes_nothing_to_a_stray_module(packages, stage):
    assert deployenv.package_problems(packages[stage]) == []
    assert not deployenv.runtime_settings(packages[stage]).get("WEBSOCKET_HANDLER_MODULE")


def test_package_is_under_15_mb(packages):
    size = packages[STAGE].stat().st_size
    assert size < MAX_ZIP_BYTES, f"{size / 1e6:.2f} MB"


@pytest.fixture(scope="module")
def zip_names(packages):
    with zipfile.ZipFile(packages[STAGE]) as archive:
        return archive.namelist()


def test_package_carries_no_aws_sdk_and_no_dev_tools(zip_names):
    assert sorted({prefix for prefix in FORBIDDEN_IN_ZIP for name in zip_names if name.startswith(prefix)}) == []


def test_package_carries_the_handler_its_settings_the_project_and_its_libraries(zip_names):
    assert [item for item in REQUIRED_IN_ZIP if not any(name.startswith(item) for name in zip_names)] == []


def test_package_ships_django_as_bytecode(zip_names):
    compiled = sum(1 for name in zip_names if name.startswith("django/") and name.endswith(".pyc"))
    source = sum(1 for name in zip_names if name.startswith("django/") and name.endswith(".py"))
    # Hundreds of modules (the database backends MyBlog never uses are left out), nearly all compiled.
    assert compiled > 400 and compiled >= 10 * source, (compiled, source)


@pytest.mark.parametrize("function", bindings_of("s3", "dynamodb", "kinesis", "sqs", "sns"))
def test_runtime_settings_route_the_source_to_its_handler(packages, stage_config, function):
    arn = binding(stage_config, function)["event_source"]["arn"]
    routed = deployenv.runtime_settings(packages[STAGE])["AWS_EVENT_MAPPING"].get(arn)
    assert function in as_list(routed or [])


# --- zappa deploy and update ----------------------------------------------------
def test_zappa_deploy_completes(deployment):
    code, output = deployment.deploy
    assert code == 0 and "Deployment complete" in output, output[-3000:]


def test_zappa_update_completes(deployment):
    code, output = deployment.update
    assert code == 0 and "Your updated Zappa deployment is live" in output, output[-3000:]


@pytest.fixture(scope="module")
def function(deployment, home, stage_config):
    name = stage_settings.lambda_name(stage_config, STAGE)
    return home.client("lambda").get_function(FunctionName=name)["Configuration"]


def test_function_runtime_and_handler(function, stage_config):
    assert function["Runtime"] == stage_config["runtime"]
    assert function["Handler"] == "handler.lambda_handler"
    assert function["Architectures"] == [stage_config["architecture"]]


def test_function_memory_and_timeout(function, stage_config):
    assert function["MemorySize"] == stage_config["memory_size"]
    assert function["Timeout"] == stage_config["timeout_seconds"]


def test_function_runs_in_the_private_subnets_with_its_security_group(function, stacks):
    outputs = stacks[HOME_REGION].outputs
    vpc = function.get("VpcConfig", {})
    assert sorted(vpc.get("SubnetIds", [])) == sorted(outputs["SubnetIds"].split(","))
    assert vpc.get("SecurityGroupIds") == [outputs["LambdaSecurityGroupId"]]


def test_function_security_group_goes_out_to_https_postgres_and_dax_only(stacks, home):
    group_id = stacks[HOME_REGION].outputs["LambdaSecurityGroupId"]
    (group,) = home.client("ec2").describe_security_groups(GroupIds=[group_id])["SecurityGroups"]
    assert sorted(rule.get("FromPort", -1) for rule in group["IpPermissionsEgress"]) == [443, 5432, 9111]
    assert group["IpPermissions"] == []


def template_role_policies(stack):
    """The LambdaRole's policies as the template gives them for this stack."""
    policies = stack.template["Resources"]["LambdaRole"]["Properties"]["Policies"]
    return {policy["PolicyName"]: policy["PolicyDocument"] for policy in resolve_conditions(policies, stack.evaluator)}


def role_policies(iam, role_name):
    """Policy name -> document of the role's inline policies, as IAM holds them."""
    documents = {}
    for name in iam.list_role_policies(RoleName=role_name)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"]
        if isinstance(document, str):
            # Emulator gap: moto's CloudFormation stores a role's inline policy as
            # the Python repr of the template's mapping, which IAM returns as is.
            document = ast.literal_eval(document)
        documents[name] = document
    return documents


def actions_by_statement(document):
    return sorted(
        (statement.get("Sid", ""), statement["Effect"], tuple(sorted(as_list(statement["Action"]))))
        for statement in document["Statement"]
    )


def test_function_runs_as_the_stack_role_with_the_template_policies(function, stage_config, stacks, home):
    # manage_roles is false: the stack owns the role, Zappa only names it.
    role_arn = stacks[HOME_REGION].outputs["LambdaRoleArn"]
    assert function["Role"] == stage_config["role_arn"] == role_arn
    iam = home.client("iam")
    role_name = role_arn.rsplit("/", 1)[-1]
    role = iam.get_role(RoleName=role_name)["Role"]
    assert role["Arn"] == role_arn
    trusted = {
        service
        for statement in role["AssumeRolePolicyDocument"]["Statement"]
        if statement["Effect"] == "Allow"
        for service in as_list(statement["Principal"].get("Service", []))
    }
    assert "lambda.amazonaws.com" in trusted
    expected = template_role_policies(stacks[HOME_REGION])
    deployed = role_policies(iam, role_name)
    assert sorted(deployed) == sorted(expected)
    for name, document in deployed.items():
        assert actions_by_statement(document) == actions_by_statement(expected[name]), name


def test_role_grants_dax_on_the_cluster_the_stage_talks_to(stacks, stage_config, home):
    stack = stacks[HOME_REGION]
    # The cluster as the DAX API reports it, found by the template's name for it.
    name = stack.evaluator.value(stack.template["Resources"]["DaxCluster"]["Properties"]["ClusterName"])
    (cluster,) = home.client("dax").describe_clusters(ClusterNames=[name])["Clusters"]
    endpoint = stage_config["environment_variables"]["MYBLOG_DAX_ENDPOINT"]
    assert cluster["ClusterDiscoveryEndpoint"]["Address"] in endpoint
    policies = role_policies(home.client("iam"), stage_config["role_arn"].rsplit("/", 1)[-1])
    granted = {
        resource
        for document in policies.values()
        for statement in document["Statement"]
        if statement["Effect"] == "Allow" and any(action.startswith("dax:") for action in as_list(statement["Action"]))
        for resource in as_list(statement["Resource"])
    }
    assert granted == {cluster["ClusterArn"]}


@pytest.fixture(scope="module")
def rest_api(deployment, home, stage_config):
    """The stage's REST API, or None: each test that needs it fails on its own if there is not exactly one."""
    name = stage_settings.lambda_name(stage_config, STAGE)
    apis = [api for api in home.client("apigateway").get_rest_apis()["items"] if api["name"] == name]
    return apis[0] if len(apis) == 1 else None


def test_rest_api_exists(rest_api, deployment):
    assert rest_api is not None


def zappa_stack_template(home, function):
    body = home.client("cloudformation").get_template(StackName=function["FunctionName"])["TemplateBody"]
    return json.loads(body) if isinstance(body, str) else body


def test_rest_api_is_regional(rest_api, home, function):
    assert rest_api is not None
    types = rest_api.get("endpointConfiguration", {}).get("types")
    if types is None:
        # Emulator gap: moto's CloudFormation stores EndpointConfiguration under
        # 'Types' and the API reports none; read the stack template Zappa sent.
        body = zappa_stack_template(home, function)
        (resource,) = [r for r in body["Resources"].values() if r["Type"] == "AWS::ApiGateway::RestApi"]
        types = resource["Properties"].get("EndpointConfiguration", {}).get("Types")
    assert types == ["REGIONAL"]  # CloudFront in front is ours


def test_rest_api_has_the_stage(rest_api, home):
    assert rest_api is not None
    stages = [stage["stageName"] for stage in home.client("apigateway").get_stages(restApiId=rest_api["id"])["item"]]
    assert STAGE in stages


def test_rest_api_routes_every_path_to_the_function(rest_api, home):
    assert rest_api is not None
    resources = home.client("apigateway").get_resources(restApiId=rest_api["id"])["items"]
    assert {"/", "/{proxy+}"} <= {resource["path"] for resource in resources}


def test_api_gateway_invokes_the_function_as_the_stack_role(rest_api, home, function):
    assert rest_api is not None
    apigateway = home.client("apigateway")
    resources = apigateway.get_resources(restApiId=rest_api["id"])["items"]
    proxy = next(resource for resource in resources if resource["path"] == "/{proxy+}")
    credentials = apigateway.get_integration(restApiId=rest_api["id"], resourceId=proxy["id"], httpMethod="ANY").get(
        "credentials"
    )
    if credentials is None:
        # Emulator gap: moto's CloudFormation drops an integration's Credentials.
        methods = [
            r
            for r in zappa_stack_template(home, function)["Resources"].values()
            if r["Type"] == "AWS::ApiGateway::Method"
        ]
        found = {method["Properties"]["Integration"].get("Credentials") for method in methods}
        assert len(found) == 1, found
        (credentials,) = found
    assert credentials == function["Role"]
    role = home.client("iam").get_role(RoleName=function["Role"].rsplit("/", 1)[-1])["Role"]
    trusted = {
        service
        for statement in role["AssumeRolePolicyDocument"]["Statement"]
        for service in as_list(statement["Principal"].get("Service", []))
    }
    assert "apigateway.amazonaws.com" in trusted


def notifications_of(s3, bucket, name):
    configurations = s3.get_bucket_notification_configuration(Bucket=bucket).get("LambdaFunctionConfigurations", [])
    return [item for item in configurations if function_name(item["LambdaFunctionArn"]) == name]


@pytest.mark.parametrize("handler", bindings_of("s3"))
def test_s3_notification(deployment, home, function, stage_config, handler):
    source = binding(stage_config, handler)["event_source"]
    ours = notifications_of(home.client("s3"), source["arn"].split(":::")[1], function["FunctionName"])
    assert len(ours) == 1, ours
    assert ours[0]["Events"] == source["events"]
    rules = ours[0].get("Filter", {}).get("Key", {}).get("FilterRules", [])
    # The prefix filter is what keeps renditions from re-triggering the handler.
    assert {(rule["Name"].lower(), rule["Value"]) for rule in rules} == {("prefix", source["prefix"])}


STREAM_BINDINGS = bindings_of("dynamodb", "kinesis")


def sent_mappings(calls, arn):
    return [
        call["params"]
        for call in calls
        if call["operation"] == "CreateEventSourceMapping" and call["params"]["EventSourceArn"] == arn
    ]


@pytest.mark.parametrize("handler", STREAM_BINDINGS)
def test_stream_mapping_as_zappa_sent_it(deployment, function, stage_config, handler):
    """What Zappa 0.63 asks for, before infra/event_mappings.py completes it.

    AWS refuses a stream mapping without StartingPosition (the rehearsal's
    Zappa is answered as AWS answers), so the mapping only exists once
    event_mappings creates it. If Zappa starts sending the binding's
    settings, this fails and the extra deploy step can be reconsidered.
    """
    source = binding(stage_config, handler)["event_source"]
    (sent,) = sent_mappings(deployment.deploy_calls, source["arn"])
    assert function_name(sent["FunctionName"]) == function["FunctionName"]
    assert sent["BatchSize"] == source["batch_size"]
    left_out = {"StartingPosition", *event_mappings.mapping_settings(source)} - set(sent)
    assert left_out == {
        "StartingPosition",
        "MaximumBatchingWindowInSeconds",
        "FunctionResponseTypes",
        "BisectBatchOnFunctionError",
        "MaximumRetryAttempts",
        "MaximumRecordAgeInSeconds",
        "DestinationConfig",
        "FilterCriteria",
    }
    assert "Unable to add event source" in deployment.deploy[1]


@pytest.mark.parametrize("handler", STREAM_BINDINGS)
def test_event_mappings_creates_the_stream_mapping_zappa_could_not(deployment, stage_config, handler):
    source = binding(stage_config, handler)["event_source"]
    (line,) = [line for line in deployment.event_mappings_after_deploy if source["arn"] in line]
    assert line.startswith(f"created {source['arn']} -> "), line


@pytest.mark.parametrize("handler", STREAM_BINDINGS)
def test_stream_mapping_has_every_setting_of_the_binding(deployment, home, function, stage_config, handler):
    source = binding(stage_config, handler)["event_source"]
    client = home.client("lambda")
    mappings = client.list_event_source_mappings(EventSourceArn=source["arn"])["EventSourceMappings"]
    ours = [item for item in mappings if function_name(item["FunctionArn"]) == function["FunctionName"]]
    assert len(ours) == 1, mappings
    mapping = client.get_event_source_mapping(UUID=ours[0]["UUID"])
    assert mapping["StartingPosition"] == source["starting_position"]
    assert event_mappings.differences(mapping, event_mappings.mapping_settings(source)) == []


@pytest.mark.parametrize("handler", STREAM_BINDINGS)
def test_zappa_update_leaves_the_stream_mapping_complete(deployment, stage_config, handler):
    source = binding(stage_config, handler)["event_source"]
    (line,) = [line for line in deployment.event_mappings_after_update if source["arn"] in line]
    assert line == f"{source['arn']} is up to date"


QUEUE_BINDINGS = bindings_of("sqs")


@pytest.mark.parametrize("handler", QUEUE_BINDINGS)
def test_queue_exists_with_its_dead_letter_queue(deployment, home, stage_config, handler):
    source = binding(stage_config, handler)["event_source"]
    sqs = home.client("sqs")
    name = source["arn"].rsplit(":", 1)[1]
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["QueueArn"] == source["arn"]
    assert int(attributes["VisibilityTimeout"]) == 6 * stage_config["timeout_seconds"]
    redrive = json.loads(attributes["RedrivePolicy"])
    assert int(redrive["maxReceiveCount"]) == 5
    assert redrive["deadLetterTargetArn"] == source["arn"] + "-dlq"
    dead_letter_url = sqs.get_queue_url(QueueName=name + "-dlq")["QueueUrl"]
    dead_letter = sqs.get_queue_attributes(QueueUrl=dead_letter_url, AttributeNames=["All"])["Attributes"]
    assert int(dead_letter["MessageRetentionPeriod"]) == 14 * 86400


@pytest.mark.parametrize("handler", QUEUE_BINDINGS)
def test_queue_mapping_as_zappa_sent_it(deployment, function, stage_config, handler):
    """Zappa 0.63 creates an SQS mapping, but without partial batch responses or a concurrency limit."""
    source = binding(stage_config, handler)["event_source"]
    (sent,) = sent_mappings(deployment.deploy_calls, source["arn"])
    assert function_name(sent["FunctionName"]) == function["FunctionName"]
    assert sent["BatchSize"] == source["batch_size"]
    assert set(event_mappings.mapping_settings(source)) - set(sent) == {"FunctionResponseTypes", "ScalingConfig"}


@pytest.mark.parametrize("handler", QUEUE_BINDINGS)
def test_event_mappings_completes_the_queue_mapping_zappa_made(deployment, stage_config, handler):
    source = binding(stage_config, handler)["event_source"]
    (line,) = [line for line in deployment.event_mappings_after_deploy if source["arn"] in line]
    assert line == f"updated {source['arn']}: FunctionResponseTypes, ScalingConfig"


@pytest.mark.parametrize("handler", QUEUE_BINDINGS)
def test_queue_mapping_has_every_setting_of_the_binding(deployment, home, function, stage_config, handler):
    source = binding(stage_config, handler)["event_source"]
    client = home.client("lambda")
    mappings = client.list_event_source_mappings(EventSourceArn=source["arn"])["EventSourceMappings"]
    ours = [item for item in mappings if function_name(item["FunctionArn"]) == function["FunctionName"]]
    assert len(ours) == 1, mappings
    mapping = client.get_event_source_mapping(UUID=ours[0]["UUID"])
    assert event_mappings.differences(mapping, event_mappings.mapping_settings(source)) == []
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": source["maximum_concurrency"]}
    assert mapping["BatchSize"] == source["batch_size"]


@pytest.mark.parametrize("handler", QUEUE_BINDINGS)
def test_zappa_update_leaves_the_queue_mapping_complete(deployment, stage_config, handler):
    source = binding(stage_config, handler)["event_source"]
    (line,) = [line for line in deployment.event_mappings_after_update if source["arn"] in line]
    assert line == f"{source['arn']} is up to date"


def test_the_function_role_may_work_the_queues(deployment, home, stage_config, stacks):
    # What myblog/queues.py and Lambda's SQS mappings do, allowed by the deployed role's policies.
    policies = role_policies(home.client("iam"), stage_config["role_arn"].rsplit("/", 1)[-1])
    granted = {
        (action, resource)
        for document in policies.values()
        for statement in document["Statement"]
        if statement["Effect"] == "Allow"
        for action in as_list(statement["Action"])
        if action.startswith("sqs:")
        for resource in as_list(statement["Resource"])
    }
    for handler in QUEUE_BINDINGS:
        arn = binding(stage_config, handler)["event_source"]["arn"]
        for action in ("GetQueueUrl", "SendMessage", "ReceiveMessage", "DeleteMessage", "GetQueueAttributes"):
            assert (f"sqs:{action}", arn) in granted, (action, arn)
        assert not [grant for grant in granted if grant[1] == arn + "-dlq"]


@pytest.mark.parametrize("handler", bindings_of("sns"))
def test_sns_subscription(deployment, home, function, stage_config, handler):
    topic = binding(stage_config, handler)["event_source"]["arn"]
    subscriptions = home.client("sns").list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    ours = [
        s
        for s in subscriptions
        if s["Protocol"] == "lambda" and function_name(s["Endpoint"]) == function["FunctionName"]
    ]
    assert len(ours) == 1, subscriptions


def schedule_rules(session, name):
    """Expression -> rule names of the rules that target the function `name`."""
    events = session.client("events")
    found = {}
    for rule in events.list_rules()["Rules"]:
        targets = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
        if any(function_name(target["Arn"]) == name for target in targets):
            found.setdefault(rule.get("ScheduleExpression", ""), []).append(rule["Name"])
    return found


@pytest.mark.parametrize("handler", bindings_of("schedule"))
def test_schedule_rule(deployment, home, function, stage_config, handler):
    expression = binding(stage_config, handler)["expression"]
    rules = schedule_rules(home, function["FunctionName"])
    # Zappa names the rule after the handler, which is how its handler routes the event back.
    assert any(handler.rsplit(".", 1)[-1] in name for name in rules.get(expression, [])), rules


def test_keep_warm_rule(deployment, home, function, stage_config):
    assert stage_config["keep_warm"] is True
    rules = schedule_rules(home, function["FunctionName"])
    assert any(name.endswith("keep_warm_callback") for name in rules.get(stage_config["keep_warm_expression"], [])), (
        rules
    )


def test_function_policy_lets_each_event_source_invoke_it(deployment, home, function, stage_config):
    policy = json.loads(home.client("lambda").get_policy(FunctionName=function["FunctionName"])["Policy"])
    principals = {statement["Principal"]["Service"] for statement in policy["Statement"]}
    wanted = {"schedule": "events.amazonaws.com", "s3": "s3.amazonaws.com", "sns": "sns.amazonaws.com"}
    assert {
        wanted[source_kind(event)] for event in stage_config["events"] if source_kind(event) in wanted
    } <= principals


def test_only_the_stage_buckets_in_its_own_account_may_invoke_it(deployment, home, function, stage_config):
    # After `zappa update` and event_mappings: Zappa's grant names only the bucket (see invoke_permissions).
    policy = json.loads(home.client("lambda").get_policy(FunctionName=function["FunctionName"])["Policy"])
    s3 = [statement for statement in policy["Statement"] if statement["Principal"] == {"Service": "s3.amazonaws.com"}]
    buckets = [event["event_source"]["arn"] for event in stage_config["events"] if source_kind(event) == "s3"]
    account = function["FunctionArn"].split(":")[4]
    assert buckets and len(s3) == len(buckets), s3
    for bucket in buckets:
        assert any(invoke_permissions.held_to(statement, bucket, account) for statement in s3), (bucket, s3)


# --- the second region -----------------------------------------------------------
def test_secondary_zappa_deploy_completes(secondary_deployment):
    code, output = secondary_deployment.deploy
    assert code == 0 and "Deployment complete" in output, output[-3000:]


@pytest.fixture(scope="module")
def secondary_function(secondary_deployment, secondary, secondary_config):
    name = stage_settings.lambda_name(secondary_config, SECONDARY_STAGE)
    return secondary.client("lambda").get_function(FunctionName=name)["Configuration"]


def test_secondary_function_runs_in_its_region_as_its_role(secondary_function, stacks):
    assert secondary_function["FunctionArn"].split(":")[3] == SECONDARY_REGION
    assert secondary_function["Role"] == stacks[SECONDARY_REGION].outputs["LambdaRoleArn"]


def test_secondary_stage_has_no_stream_mapping(secondary_deployment, secondary_function, home, secondary, stacks):
    # Each replica has its own stream: a second binding would send every welcome email twice.
    # No queue mapping either: the batch jobs run in the home region.
    name = secondary_function["FunctionName"]
    assert [call for call in secondary_deployment.calls if call["operation"] == "CreateEventSourceMapping"] == []
    assert secondary_deployment.event_mappings == []
    assert secondary.client("lambda").list_event_source_mappings(FunctionName=name)["EventSourceMappings"] == []
    home_stream = stacks[HOME_REGION].outputs["SubscribersStreamArn"]
    mappings = home.client("lambda").list_event_source_mappings(EventSourceArn=home_stream)["EventSourceMappings"]
    assert [m for m in mappings if function_name(m["FunctionArn"]) == name] == []


def test_secondary_stage_has_no_s3_notification(secondary_deployment, secondary_function, home, stacks):
    assert [
        call for call in secondary_deployment.calls if call["operation"] == "PutBucketNotificationConfiguration"
    ] == []
    bucket = stacks[HOME_REGION].outputs["MediaBucket"]
    assert notifications_of(home.client("s3"), bucket, secondary_function["FunctionName"]) == []


# --- the packaged function, run offline ------------------------------------------
def test_collectstatic_pushes_hashed_immutable_files_to_the_bucket(static_files, home, stage_config):
    assert static_files.returncode == 0, static_files.stderr[-3000:]
    s3 = home.client("s3")
    bucket = stage_config["environment_variables"]["MYBLOG_MEDIA_BUCKET"]
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=bucket, Prefix="static/")["Contents"]]
    hashed = [key for key in keys if re.search(r"\.[0-9a-f]{12}\.(css|js)$", key)]
    assert hashed, keys
    assert s3.head_object(Bucket=bucket, Key=hashed[0]).get("CacheControl") == "public, max-age=31536000, immutable"


def test_packaged_function_runs(invocation):
    assert invocation.returncode == 0, invocation.stderr[-3000:]


@pytest.mark.parametrize("index", range(2), ids=["home-page-cold", "admin-login-warm"])
def test_packaged_function_answers_an_api_gateway_event(invocation, index):
    response = invocation.answer["responses"][index]
    assert response["statusCode"] == 200, response["body"][:1000]


def test_packaged_function_refuses_a_request_that_bypassed_cloudfront(invocation):
    response = invocation.answer["responses"][2]
    assert response["statusCode"] == 403, response["body"][:1000]


def test_admin_page_links_hashed_static_files_on_cloudfront(invocation, stage_config):
    domain = stage_config["environment_variables"]["MYBLOG_CLOUDFRONT_DOMAIN"]
    static_urls = re.findall(r'(?:href|src)="([^"]+/static/[^"]+)"', invocation.answer["responses"][1]["body"])
    assert static_urls
    assert all(re.match(rf"https://{re.escape(domain)}/static/.+\.[0-9a-f]{{12}}\.", url) for url in static_urls), (
        static_urls
    )


def test_packaged_function_imports_nothing_from_outside_the_package_and_the_sdk(invocation):
    assert invocation.answer["outside"] == []


def test_postgres_driver_loads_its_bundled_libpq(invocation):
    assert invocation.answer["libpq"]


def test_pillow_in_the_package_reads_and_writes_jpeg_webp_and_avif(invocation):
    assert invocation.answer["jpeg"] and invocation.answer["webp"] and invocation.answer["avif"]


def test_psycopg_comes_from_the_layer_not_the_zip(zip_names, invocation, stage_config):
    # The editors' PostgreSQL driver: in the function's layer (infra/layers.py), to keep the zip under 15 MB.
    assert not [name for name in zip_names if name.startswith("psycopg")]
    assert invocation.answer["libpq"]
    assert len(layers.layer_arns(stage_config)) == 1
