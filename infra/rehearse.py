"""Rehearse a production deploy offline, against moto server.

    .venv/bin/python infra/rehearse.py [--keep]

What it does, in the order of a real first deploy (infra/README.md):

1. builds the deploy virtualenv (requirements.txt only; infra/deployenv.py),
2. starts moto server on a free loopback port, with fake credentials,
3. creates a VPC with three private subnets (in AWS: yours),
4. deploys infra/myblog.yaml for prod in us-east-1 (home) and eu-west-1,
5. writes the stacks' outputs into the `rehearsal` and `prod_eu` stages of a
   copy of zappa_settings.json (infra/stage_settings.py),
6. runs `zappa package rehearsal` (and checks the zip), `zappa deploy
   rehearsal`, infra/event_mappings.py, then `zappa update rehearsal`,
7. checks what AWS would then have: the function, its REST API, the S3
   notification and its prefix filter, the stream mapping, the SNS
   subscription, the schedule rules,
8. pushes the static files with collectstatic and runs the packaged function
   itself on a real-shaped API Gateway event (moto cannot run it),

and prints a plain report. Where the emulator falls short of AWS, the
report says so and says what the rehearsal does instead; nothing here
changes the product to suit the emulator. Exits non-zero when a check fails.
"""

import argparse
import contextlib
import copy
import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from infra import deployenv, event_mappings, stage_settings  # noqa: E402
from infra import template as cfn_template  # noqa: E402

WORK = REPO / "var" / "rehearsal"
STAGE = "rehearsal"
SECONDARY_STAGE = "prod_eu"
HOME_REGION = "us-east-1"
SECONDARY_REGION = "eu-west-1"
ACCOUNT = "123456789012"  # moto's default account
MAX_ZIP_BYTES = 15_000_000  # the target: under 15 MB
# Never shipped: Lambda's runtime has the AWS SDK; the rest are dev tools.
FORBIDDEN_IN_ZIP = ("boto3/", "botocore/", "s3transfer/", "moto/", "pytest/", "_pytest/", "ruff/", "cfnlint/")
REQUIRED_IN_ZIP = (
    "handler.py",
    "zappa_settings.py",
    "myblog/settings.py",
    "posts/models.py",
    "subscribers/models.py",
    "dynamo_admin/options.py",
    "django/",
    "pynamodb/",
    "psycopg_binary/",
)


class Report:
    def __init__(self):
        self.lines = []
        self.failures = 0

    def _add(self, tag, text):
        line = f"[{tag}] {text}"
        self.lines.append(line)
        print(line, flush=True)

    def step(self, text):
        self._add("step", text)

    def ok(self, text):
        self._add(" ok ", text)

    def gap(self, text):
        """An emulator gap and what the rehearsal does about it."""
        self._add("gap ", text)

    def fail(self, text):
        self.failures += 1
        self._add("FAIL", text)

    def check(self, condition, text, detail=""):
        if condition:
            self.ok(text)
        else:
            self.fail(f"{text}{': ' + str(detail) if detail else ''}")
        return condition

    def summary(self):
        gaps = sum(1 for line in self.lines if line.startswith("[gap ]"))
        checks = sum(1 for line in self.lines if line.startswith(("[ ok ]", "[FAIL]")))
        print(
            f"\nrehearsal: {checks - self.failures} checks passed, {self.failures} failed, {gaps} emulator gaps noted",
            flush=True,
        )


# --- the emulator ------------------------------------------------------------
def aws_environment(endpoint, region=HOME_REGION):
    return {
        "AWS_ACCESS_KEY_ID": "rehearsal",
        "AWS_SECRET_ACCESS_KEY": "rehearsal",
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "AWS_EC2_METADATA_DISABLED": "true",
    }


@contextlib.contextmanager
def moto_server(log_path):
    from myblog.localstack import services, system

    service = services.moto_server(system.free_port(), log_path=log_path).start()
    try:
        yield service.endpoint
    finally:
        service.stop()


def aws_session(region):
    import boto3

    return boto3.session.Session(region_name=region)


# --- infrastructure ----------------------------------------------------------
def create_network(session, report):
    ec2 = session.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    zones = [zone["ZoneName"] for zone in ec2.describe_availability_zones()["AvailabilityZones"]][:3]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{index}.0/24", AvailabilityZone=zone)["Subnet"]["SubnetId"]
        for index, zone in enumerate(zones)
    ]
    database = ec2.create_security_group(GroupName="myblog-database", Description="PostgreSQL", VpcId=vpc)["GroupId"]
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    for subnet in subnets:
        ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
    report.step(
        f"{session.region_name}: VPC {vpc} with private subnets {', '.join(subnets)} and database group {database} "
        "(in AWS: your VPC, with a NAT, and your database)"
    )
    return {
        "VpcId": vpc,
        "SubnetIds": ",".join(subnets),
        "PrivateRouteTableIds": table,
        "DatabaseSecurityGroupId": database,
    }


def moto_supports(resource_type):
    from moto.cloudformation.parsing import get_model_map

    return resource_type in get_model_map()


def as_single_region_table(properties):
    """A GlobalTable's definition as a Table: same keys, indexes, stream and PITR."""
    table = {
        key: value
        for key, value in properties.items()
        if key not in ("Replicas", "SSESpecification", "TimeToLiveSpecification", "WriteProvisionedThroughputSettings")
    }
    home = properties["Replicas"][0]
    if "PointInTimeRecoverySpecification" in home:
        table["PointInTimeRecoverySpecification"] = home["PointInTimeRecoverySpecification"]
    if "StreamSpecification" in table:
        table["StreamSpecification"] = {"StreamViewType": table["StreamSpecification"]["StreamViewType"]}
    if "TimeToLiveSpecification" in properties:
        table["TimeToLiveSpecification"] = properties["TimeToLiveSpecification"]
    return table


def _replace_references(node, values):
    """Replace Ref/GetAtt/Sub references to resources outside the stack by `values`."""
    if isinstance(node, list):
        return [_replace_references(item, values) for item in node]
    if not isinstance(node, dict):
        return node
    if len(node) == 1:
        ((key, arg),) = node.items()
        if key == "Ref" and arg in values:
            return values[arg]
        if key == "Fn::GetAtt":
            name = ".".join(arg) if isinstance(arg, list) else arg
            if name in values:
                return values[name]
        if key == "Fn::Sub" and isinstance(arg, str):
            text = arg
            for name, value in values.items():
                text = text.replace("${" + name + "}", str(value))
            return {"Fn::Sub": text}
    return {key: _replace_references(value, values) for key, value in node.items()}


def resolve_conditions(node, evaluator):
    """The template with every Fn::If decided and AWS::NoValue dropped, other intrinsics kept."""
    if isinstance(node, list):
        items = [resolve_conditions(item, evaluator) for item in node]
        return [item for item in items if item is not cfn_template.NO_VALUE]
    if not isinstance(node, dict):
        return node
    if len(node) == 1:
        ((key, arg),) = node.items()
        if key == "Fn::If":
            name, when_true, when_false = arg
            return resolve_conditions(when_true if evaluator.condition(name) else when_false, evaluator)
        if key == "Ref" and arg == "AWS::NoValue":
            return cfn_template.NO_VALUE
    resolved = {key: resolve_conditions(value, evaluator) for key, value in node.items()}
    return {key: value for key, value in resolved.items() if value is not cfn_template.NO_VALUE}


def api_distribution_config(properties, caller_reference):
    """CloudFormation's DistributionConfig in the shape of the CloudFront API."""

    def listed(items):
        return {"Quantity": len(items), "Items": items}

    def behaviour(cfn):
        api = {key: value for key, value in cfn.items() if key not in ("AllowedMethods", "CachedMethods")}
        allowed = cfn.get("AllowedMethods", ["GET", "HEAD"])
        api["AllowedMethods"] = {**listed(allowed), "CachedMethods": listed(cfn.get("CachedMethods", ["GET", "HEAD"]))}
        return api

    def origin(cfn):
        api = {key: value for key, value in cfn.items() if key != "CustomOriginConfig"}
        if "CustomOriginConfig" in cfn:
            custom = dict(cfn["CustomOriginConfig"])
            custom["OriginSslProtocols"] = listed(custom.pop("OriginSSLProtocols", ["TLSv1.2"]))
            custom.setdefault("HTTPPort", 80)
            custom.setdefault("HTTPSPort", 443)
            api["CustomOriginConfig"] = custom
        return api

    config = {key: value for key, value in properties.items() if key not in ("IPV6Enabled",)}
    config["CallerReference"] = caller_reference
    config["IsIPV6Enabled"] = properties.get("IPV6Enabled", True)
    config["Origins"] = listed([origin(item) for item in properties["Origins"]])
    config["DefaultCacheBehavior"] = behaviour(properties["DefaultCacheBehavior"])
    config["CacheBehaviors"] = listed([behaviour(item) for item in properties.get("CacheBehaviors", [])])
    if "Aliases" in properties:
        config["Aliases"] = listed(properties["Aliases"])
    return config


class InfraDeployment:
    """Deploys infra/myblog.yaml into the emulator, working around its gaps."""

    def __init__(self, session, parameters, report):
        self.session = session
        self.region = session.region_name
        self.report = report
        self.template = cfn_template.load()
        self.parameters = parameters
        self.stack_name = f"myblog-{parameters['Stage']}"
        self.evaluator = cfn_template.Evaluator(self.template, parameters, region=self.region, account=ACCOUNT)
        self.values = {}  # logical id (or id.Attribute) -> value, for resources made outside the stack
        self.outputs = {}

    def deploy(self):
        resources = self.evaluator.resources()
        outside = sorted(
            name
            for name, resource in resources.items()
            if not moto_supports(resource["Type"]) and resource["Type"] != "AWS::DynamoDB::GlobalTable"
        )
        self._before_stack(resources, outside)
        self._create_stack(resources, outside)
        self._after_stack(resources, outside)
        self._outputs()
        return self.outputs

    # Resources the stack's own resources refer to, made first.
    def _before_stack(self, resources, outside):
        cloudfront = self.session.client("cloudfront")
        if "OriginAccessControl" in outside:
            config = self.evaluator.properties("OriginAccessControl")["OriginAccessControlConfig"]
            created = cloudfront.create_origin_access_control(OriginAccessControlConfig=config)
            self.values["OriginAccessControl.Id"] = created["OriginAccessControl"]["Id"]
            self.report.gap(
                "CloudFront origin access control: moto's CloudFormation lacks it; created through the CloudFront API "
                f"({self.values['OriginAccessControl.Id']})"
            )
        if "DaxCluster" in outside:
            # DAX ARNs follow from the cluster's name; the role policy needs it before the cluster exists here.
            name = self._dax_cluster_name()
            self.values["DaxCluster.Arn"] = f"arn:aws:dax:{self.region}:{ACCOUNT}:cache/{name}"
        if "Distribution" in outside:
            bucket = self.evaluator.value(self.template["Resources"]["MediaBucket"]["Properties"]["BucketName"])
            self.values["MediaBucket.RegionalDomainName"] = f"{bucket}.s3.{self.region}.amazonaws.com"
            evaluator = self._evaluator()
            properties = evaluator.properties("Distribution")["DistributionConfig"]
            created = cloudfront.create_distribution(
                DistributionConfig=api_distribution_config(properties, f"rehearsal-{time.time()}")
            )["Distribution"]
            self.values["Distribution"] = created["Id"]
            self.values["Distribution.DomainName"] = created["DomainName"]
            self.report.gap(
                "CloudFront distribution: moto's CloudFormation lacks it; created through the CloudFront API from the "
                f"template's DistributionConfig ({created['Id']}, {created['DomainName']})"
            )

    def _dax_cluster_name(self):
        return self.evaluator.sub(self.template["Resources"]["DaxCluster"]["Properties"]["ClusterName"]["Fn::Sub"])

    def _evaluator(self, physical_ids=None, attributes=None):
        values_ids = {key: value for key, value in self.values.items() if "." not in key}
        values_attributes = {tuple(key.split(".", 1)): value for key, value in self.values.items() if "." in key}
        return cfn_template.Evaluator(
            self.template,
            self.parameters,
            region=self.region,
            account=ACCOUNT,
            physical_ids={**values_ids, **(physical_ids or {})},
            attributes={**values_attributes, **(attributes or {})},
        )

    def _create_stack(self, resources, outside):
        stack_template = copy.deepcopy(self.template)
        stack_template["Resources"] = {}
        converted = []
        for name, resource in self.template["Resources"].items():
            if name in outside or name not in resources:
                continue
            resource = copy.deepcopy(resource)
            if resource["Type"] == "AWS::DynamoDB::GlobalTable":
                resource["Type"] = "AWS::DynamoDB::Table"
                resource["Properties"] = as_single_region_table(self.evaluator.value(resource["Properties"]))
                converted.append(name)
            resource = resolve_conditions(resource, self.evaluator)
            stack_template["Resources"][name] = _replace_references(resource, self.values)
        if converted:
            self.report.gap(
                "DynamoDB global tables: neither moto nor its CloudFormation has them; each of "
                f"{', '.join(converted)} is deployed as a single-region table with the template's keys, indexes, "
                "stream and point-in-time recovery (the eu-west-1 replica is not emulated)"
            )
        self.report.gap(
            "moto's CloudFormation keeps AWS::NoValue inside lists as null (an IAM policy list then fails); "
            "the rehearsal decides each Fn::If itself before sending the template"
        )
        # Outputs are computed from the deployed resources (see _outputs).
        stack_template["Outputs"] = {}
        body = json.dumps(stack_template, indent=1)
        (WORK / f"stack-{self.region}.json").write_text(body)
        cloudformation = self.session.client("cloudformation")
        cloudformation.create_stack(
            StackName=self.stack_name,
            TemplateBody=body,
            Parameters=[
                {"ParameterKey": key, "ParameterValue": value}
                for key, value in self.parameters.items()
                if key in self.template["Parameters"]
            ],
            Capabilities=["CAPABILITY_NAMED_IAM"],
        )
        stack = cloudformation.describe_stacks(StackName=self.stack_name)["Stacks"][0]
        self.report.check(
            stack["StackStatus"] == "CREATE_COMPLETE",
            f"{self.region}: stack {self.stack_name} created ({len(stack_template['Resources'])} resources)",
            stack.get("StackStatusReason"),
        )
        self.physical_ids = {
            summary["LogicalResourceId"]: summary["PhysicalResourceId"]
            for summary in cloudformation.list_stack_resources(StackName=self.stack_name)["StackResourceSummaries"]
        }

    def _attribute(self, logical_id, attribute):
        resource_type = self.template["Resources"][logical_id]["Type"]
        physical = self.physical_ids[logical_id]
        if resource_type == "AWS::IAM::Role" and attribute == "Arn":
            return self.session.client("iam").get_role(RoleName=physical)["Role"]["Arn"]
        if resource_type == "AWS::S3::Bucket" and attribute == "Arn":
            return f"arn:aws:s3:::{physical}"
        if resource_type == "AWS::SQS::Queue" and attribute == "Arn":
            sqs = self.session.client("sqs")
            return sqs.get_queue_attributes(QueueUrl=physical, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        if resource_type in ("AWS::DynamoDB::GlobalTable", "AWS::DynamoDB::Table") and attribute == "StreamArn":
            return self.session.client("dynamodb").describe_table(TableName=physical)["Table"]["LatestStreamArn"]
        raise KeyError(f"{logical_id}.{attribute}")

    def _stack_evaluator(self):
        if not hasattr(self, "_stack_attributes"):
            self._stack_attributes = {}
            for logical_id in self.template["Resources"]:
                if logical_id not in self.physical_ids:
                    continue
                for attribute in ("Arn", "StreamArn"):
                    with contextlib.suppress(KeyError):
                        self._stack_attributes[(logical_id, attribute)] = self._attribute(logical_id, attribute)
        return self._evaluator(self.physical_ids, self._stack_attributes)

    # Made after the stack, in this order (later ones refer to earlier ones).
    AFTER_STACK_ORDER = (
        "AWS::DAX::SubnetGroup",
        "AWS::DAX::ParameterGroup",
        "AWS::SES::ConfigurationSet",
    )

    def _align_security_group_egress(self, resources):
        """moto's CloudFormation ignores SecurityGroupEgress and keeps the default allow-all rule."""
        ec2 = self.session.client("ec2")
        for name, resource in resources.items():
            if resource["Type"] != "AWS::EC2::SecurityGroup" or name not in self.physical_ids:
                continue
            wanted = self._stack_evaluator().properties(name).get("SecurityGroupEgress")
            if not wanted:
                continue
            group_id = self.physical_ids[name]
            (group,) = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"]
            if [rule["IpProtocol"] for rule in group["IpPermissionsEgress"]] != ["-1"]:
                continue
            ec2.revoke_security_group_egress(GroupId=group_id, IpPermissions=group["IpPermissionsEgress"])
            ec2.authorize_security_group_egress(
                GroupId=group_id,
                IpPermissions=[
                    {
                        "IpProtocol": rule["IpProtocol"],
                        "FromPort": rule["FromPort"],
                        "ToPort": rule["ToPort"],
                        "IpRanges": [{"CidrIp": rule["CidrIp"], "Description": rule.get("Description", "")}],
                    }
                    for rule in wanted
                ],
            )
            self.report.gap(
                f"security group {name}: moto's CloudFormation ignores SecurityGroupEgress and keeps the default "
                "allow-all rule; the rehearsal sets the template's rules through the EC2 API"
            )

    def _after_stack(self, resources, outside):
        self._align_security_group_egress(resources)
        done = {"OriginAccessControl", "Distribution"}
        order = {kind: index for index, kind in enumerate(self.AFTER_STACK_ORDER)}
        pending = sorted(
            (name for name in outside if name not in done),
            key=lambda name: (order.get(resources[name]["Type"], len(order)), name),
        )
        for name in pending:
            kind = resources[name]["Type"]
            handler = getattr(self, "_make_" + kind.replace("AWS::", "").replace("::", "_"), None)
            if handler is None:
                self.report.gap(f"{kind} ({name}): neither moto's CloudFormation nor the rehearsal creates it")
                continue
            handler(name, self._stack_evaluator().properties(name))

    def _make_S3_BucketPolicy(self, name, properties):
        policy = copy.deepcopy(properties["PolicyDocument"])
        plain_http = [
            statement
            for statement in policy["Statement"]
            if statement["Effect"] == "Deny" and "aws:SecureTransport" in json.dumps(statement.get("Condition", {}))
        ]
        policy["Statement"] = [statement for statement in policy["Statement"] if statement not in plain_http]
        self.session.client("s3").put_bucket_policy(Bucket=properties["Bucket"], Policy=json.dumps(policy))
        self.report.gap(f"S3 bucket policy ({name}): moto's CloudFormation lacks it; applied through the S3 API")
        if plain_http:
            self.report.gap(
                "moto enforces bucket policies but is reached over plain HTTP, so the policy's TLS-only deny "
                f"({', '.join(s.get('Sid', '?') for s in plain_http)}) would refuse every call; it is left out here"
            )

    def _make_SNS_TopicPolicy(self, name, properties):
        sns = self.session.client("sns")
        for topic in properties["Topics"]:
            sns.set_topic_attributes(
                TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(properties["PolicyDocument"])
            )
        self.report.gap(f"SNS topic policy ({name}): moto's CloudFormation lacks it; applied through the SNS API")

    def _make_SES_ConfigurationSet(self, name, properties):
        self.session.client("ses").create_configuration_set(ConfigurationSet={"Name": properties["Name"]})
        self.values[name] = properties["Name"]
        self.report.gap(f"SES configuration set ({name}): moto's CloudFormation lacks it; created through the SES API")

    def _make_SES_ConfigurationSetEventDestination(self, name, properties):
        destination = properties["EventDestination"]
        self.session.client("ses").create_configuration_set_event_destination(
            ConfigurationSetName=properties["ConfigurationSetName"],
            EventDestination={
                "Name": destination["Name"],
                "Enabled": destination["Enabled"],
                "MatchingEventTypes": destination["MatchingEventTypes"],
                "SNSDestination": {"TopicARN": destination["SnsDestination"]["TopicARN"]},
            },
        )
        self.report.gap(
            f"SES event destination ({name}): moto's CloudFormation lacks it; created through the SES API "
            "(moto never publishes bounce or complaint notifications)"
        )

    def _make_SES_EmailIdentity(self, name, properties):
        self.session.client("sesv2").create_email_identity(EmailIdentity=properties["EmailIdentity"])
        self.report.gap(
            f"SES identity ({name}): moto's CloudFormation lacks it; created through the SES v2 API (no DKIM records)"
        )

    def _make_EC2_SecurityGroupEgress(self, name, properties):
        rule = {
            "IpProtocol": properties["IpProtocol"],
            "FromPort": properties["FromPort"],
            "ToPort": properties["ToPort"],
            "UserIdGroupPairs": [{"GroupId": properties["DestinationSecurityGroupId"]}],
        }
        self.session.client("ec2").authorize_security_group_egress(GroupId=properties["GroupId"], IpPermissions=[rule])
        self.report.gap(f"security group egress ({name}): moto's CloudFormation lacks it; added through the EC2 API")

    def _make_DAX_SubnetGroup(self, name, properties):
        self.values[name] = properties["SubnetGroupName"]
        self.report.gap(f"DAX subnet group ({name}): moto has no DAX subnet groups; not emulated")

    def _make_DAX_ParameterGroup(self, name, properties):
        self.values[name] = properties["ParameterGroupName"]
        self.report.gap(f"DAX parameter group ({name}): moto has no DAX parameter groups; not emulated")

    def _make_DAX_Cluster(self, name, properties):
        dax = self.session.client("dax")
        cluster = dax.create_cluster(
            ClusterName=properties["ClusterName"],
            NodeType=properties["NodeType"],
            ReplicationFactor=int(properties["ReplicationFactor"]),
            IamRoleArn=properties["IAMRoleARN"],
            SubnetGroupName=properties["SubnetGroupName"],
            SecurityGroupIds=properties["SecurityGroupIds"],
            SSESpecification={"Enabled": properties["SSESpecification"]["SSEEnabled"]},
            ClusterEndpointEncryptionType=properties["ClusterEndpointEncryptionType"],
        )["Cluster"]
        self.report.check(
            cluster["ClusterArn"] == self.values["DaxCluster.Arn"],
            f"DAX cluster {cluster['ClusterName']} has the ARN the Lambda role was given",
            cluster["ClusterArn"],
        )
        for _ in range(20):  # like AWS, the endpoint's address appears once the cluster is available
            described = dax.describe_clusters(ClusterNames=[cluster["ClusterName"]])["Clusters"][0]
            if described["Status"] == "available":
                break
        endpoint = described["ClusterDiscoveryEndpoint"]
        url = endpoint.get("URL") or f"dax://{endpoint['Address']}"
        self.values["DaxCluster.ClusterDiscoveryEndpointURL"] = url
        self.report.gap(
            f"DAX cluster ({name}): moto's CloudFormation lacks it; created through the DAX API. moto reports "
            f"{url} (port {endpoint.get('Port')}); AWS reports daxs://... on port 9111 for this TLS cluster"
        )

    def _make_CloudFront_CachePolicy(self, name, properties):
        self.values[name] = f"cache-policy-{properties['CachePolicyConfig']['Name']}"
        self.report.gap(
            f"CloudFront cache policy ({name}): moto has no cache policies; not emulated "
            "(only the API behaviours use it, and they exist once the API's custom domain does)"
        )

    def _outputs(self):
        evaluator = self._stack_evaluator()
        outputs = evaluator.outputs()
        self.outputs = {key: str(value) for key, value in outputs.items()}


# --- Zappa -------------------------------------------------------------------
def zappa(venv, arguments, env, report, log_path, allow_missing_function_urls=False):
    """Run a Zappa command from the deploy venv; returns (exit code, output)."""
    if allow_missing_function_urls:
        # moto lacks ListFunctionUrlConfigs, which `zappa update` calls. Answer
        # it as AWS answers for a function without a URL (function_url_enabled
        # is off in every stage): an empty list.
        command = [str(venv / "bin" / "python"), "-c", ZAPPA_WITHOUT_FUNCTION_URLS, *arguments]
    else:
        command = [str(venv / "bin" / "zappa"), *arguments]
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    with open(log_path, "a") as log:
        log.write(f"$ zappa {' '.join(arguments)}\n{output}\n")
    return result.returncode, output


ZAPPA_WITHOUT_FUNCTION_URLS = """
import sys
import botocore.client

_make_api_call = botocore.client.BaseClient._make_api_call

def _answer(self, operation_name, api_params):
    if operation_name == "ListFunctionUrlConfigs":
        return {"FunctionUrlConfigs": []}
    return _make_api_call(self, operation_name, api_params)

botocore.client.BaseClient._make_api_call = _answer
from zappa.cli import handle
sys.argv = ["zappa", *sys.argv[1:]]
sys.exit(handle())
"""


def note_add_permission(output, report):
    if "Problem creating permission to invoke Lambda function" in output:
        report.gap(
            "moto answers AddPermission with HTTP 200 where AWS answers 201, so Zappa logs 'Problem creating "
            "permission to invoke Lambda function'; the permissions are there (the function policy is checked below)"
        )


def zip_checks(zip_path, settings, report):
    size = zip_path.stat().st_size
    report.check(
        size < MAX_ZIP_BYTES,
        f"package {zip_path.name} is {size / 1e6:.2f} MB ({size / 1024 / 1024:.1f} MiB), under 15 MB",
        size,
    )
    with zipfile.ZipFile(zip_path) as archive:
        names = archive.namelist()
        forbidden = sorted({prefix for prefix in FORBIDDEN_IN_ZIP for name in names if name.startswith(prefix)})
        report.check(not forbidden, "package carries no AWS SDK (the runtime has it) and no dev tools", forbidden)
        missing = [item for item in REQUIRED_IN_ZIP if not any(name.startswith(item) for name in names)]
        report.check(not missing, "package carries the handler, its settings, the project and its libraries", missing)
        compiled = sum(1 for name in names if name.startswith("django/") and name.endswith(".pyc"))
        report.check(compiled > 500, f"package ships Django as bytecode ({compiled} .pyc files)")
        runtime_settings = archive.read("zappa_settings.py").decode()
    namespace = {}
    exec(compile(runtime_settings, "zappa_settings.py", "exec"), namespace)  # noqa: S102 - Zappa's generated settings
    mapping = namespace.get("AWS_EVENT_MAPPING", {})
    websocket = namespace.get("WEBSOCKET_HANDLER_MODULE")
    report.check(not websocket, "runtime settings route no WebSocket events (MyBlog has none)", websocket)
    config = stage_settings.stage_config(settings, STAGE)
    for event in config["events"]:
        source = event.get("event_source")
        if not source:
            continue
        arn = source["arn"]
        routed = mapping.get(arn)
        routed = [routed] if isinstance(routed, str) else routed
        report.check(
            routed and event["function"] in routed,
            f"runtime routing: {arn} -> {event['function']}",
            routed,
        )
    return namespace


# --- running the package offline ---------------------------------------------
# moto cannot run a function, so the rehearsal runs the packaged one itself:
# the zip extracted, on a Python with no site-packages, plus only what
# Lambda's runtime provides (the AWS SDK), answering a real-shaped API
# Gateway event against the emulated tables, bucket and SSM parameters.
RUNTIME_SDK = ("boto3", "botocore", "s3transfer")

INVOKE_DRIVER = r"""
import json, sys, time
task, sdk = sys.argv[1], sys.argv[2]
sys.path[:0] = [task, sdk]
started = time.perf_counter()
import zappa_settings
# moto has no DAX data plane: this invocation reads DynamoDB directly.
zappa_settings.ENVIRONMENT_VARIABLES.pop("MYBLOG_DAX_ENDPOINT", None)
from handler import lambda_handler
responses = []
for event in json.loads(sys.argv[3]):
    response = lambda_handler(event, None)
    responses.append({"statusCode": response["statusCode"], "body": response.get("body", "")[:20000],
                      "seconds": round(time.perf_counter() - started, 2)})
    started = time.perf_counter()
import psycopg, PIL.features
outside = sorted(
    {m.__name__.split(".")[0] for m in list(sys.modules.values())
     if getattr(m, "__file__", None) and "site-packages" in m.__file__ and not m.__file__.startswith((task, sdk))}
)
print(json.dumps({
    "responses": responses,
    "libpq": psycopg.pq.version(),
    "jpeg": PIL.features.check("jpg"),
    "webp": PIL.features.check("webp"),
    "outside": outside,
}))
"""


# The origin secret CloudFront would send; the function refuses requests without it.
ORIGIN_SECRET = "rehearsal-origin-" + "o" * 32


def api_gateway_event(path, host, stage, origin_secret=ORIGIN_SECRET):
    headers = {
        "Accept": "text/html",
        "Host": host,
        "User-Agent": "Amazon CloudFront",
        "X-Forwarded-For": "203.0.113.7, 130.176.0.1",
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
    }
    if origin_secret:
        headers["X-Origin-Verify"] = origin_secret
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": "GET",
        "headers": headers,
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": "GET",
            "path": f"/{stage}{path}",
            "stage": stage,
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "identity": {"sourceIp": "203.0.113.7", "userAgent": "Amazon CloudFront"},
            "accountId": ACCOUNT,
            "apiId": "rehearsal",
            "domainName": host,
        },
        "body": None,
        "isBase64Encoded": False,
    }


def put_secrets(session, config, report):
    path = config["environment_variables"]["MYBLOG_SSM_PARAMETERS_PATH"]
    ssm = session.client("ssm")
    values = {
        "DJANGO_SECRET_KEY": "rehearsal-" + "k" * 50,
        "DATABASE_URL": f"sqlite:///{WORK / 'editors.sqlite3'}",
        "MYBLOG_ORIGIN_VERIFY_SECRET": ORIGIN_SECRET,
    }
    for name, value in values.items():
        ssm.put_parameter(Name=path + name, Value=value, Type="SecureString", Overwrite=True)
    report.step(f"SSM: {', '.join(values)} under {path} (in AWS: aws ssm put-parameter --type SecureString)")


def collectstatic(config, environment, report):
    env = {**os.environ, **environment, **config["environment_variables"]}
    env.pop("MYBLOG_SSM_PARAMETERS_PATH")  # collectstatic needs no secrets
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return report.check(result.returncode == 0, "manage.py collectstatic to the bucket", result.stderr[-2000:])


def invoke_offline(venv, zip_path, settings, environment, session, report):
    config = stage_settings.stage_config(settings, STAGE)
    bucket = config["environment_variables"]["MYBLOG_MEDIA_BUCKET"]
    put_secrets(session, config, report)
    if not collectstatic(config, environment, report):
        return
    s3 = session.client("s3")
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=bucket, Prefix="static/")["Contents"]]
    hashed = [key for key in keys if re.search(r"\.[0-9a-f]{12}\.(css|js)$", key)]
    if report.check(hashed, f"static files in s3://{bucket}/static/ with hashed names ({len(keys)} objects)"):
        head = s3.head_object(Bucket=bucket, Key=hashed[0])
        report.check(
            head.get("CacheControl") == "public, max-age=31536000, immutable",
            f"{hashed[0]}: Cache-Control {head.get('CacheControl')}",
        )

    task, sdk = WORK / "task", WORK / "runtime-sdk"
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(task)
    sdk.mkdir()
    for name in RUNTIME_SDK:
        (sdk / name).symlink_to(deployenv.site_packages(venv) / name)
    domain = config["environment_variables"]["MYBLOG_CLOUDFRONT_DOMAIN"]
    host = config["environment_variables"]["DJANGO_ALLOWED_HOSTS"].split(",")[0]
    lambda_env = {
        **environment,
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",  # Lambda's code directory is read-only
        "AWS_LAMBDA_FUNCTION_NAME": stage_settings.lambda_name(config, STAGE),
        "LAMBDA_TASK_ROOT": str(task),
    }
    result = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-S",
            "-c",
            INVOKE_DRIVER,
            str(task),
            str(sdk),
            json.dumps(
                [
                    *(api_gateway_event(path, host, STAGE) for path in ("/", "/admin/login/")),
                    api_gateway_event("/", host, STAGE, origin_secret=None),
                ]
            ),
        ],
        cwd=task,
        env=lambda_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if not report.check(
        result.returncode == 0, "packaged function answers an API Gateway event", result.stderr[-3000:]
    ):
        return
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    report.gap(
        "moto has no DAX data plane; the offline invocation runs without MYBLOG_DAX_ENDPOINT and reads the "
        "emulated DynamoDB directly"
    )
    home, login, bypass = answer["responses"]
    report.check(
        home["statusCode"] == 200,
        f"GET https://{host}/ -> {home['statusCode']} in {home['seconds']} s, cold (imports, secrets from SSM, "
        "first request)",
        home["body"][:500],
    )
    report.check(
        login["statusCode"] == 200,
        f"GET https://{host}/admin/login/ -> {login['statusCode']} in {login['seconds']} s, warm",
        login["body"][:500],
    )
    report.check(
        bypass["statusCode"] == 403,
        f"GET https://{host}/ without the origin secret -> {bypass['statusCode']} (only CloudFront gets in)",
        bypass["body"][:500],
    )
    static_urls = re.findall(r'(?:href|src)="([^"]+/static/[^"]+)"', login["body"])
    report.check(
        static_urls and all(url.startswith(f"https://{domain}/static/") for url in static_urls),
        f"admin page links hashed static files on CloudFront: {static_urls[:1]}",
        static_urls,
    )
    report.check(
        not answer["outside"], "the function imported nothing from outside the package and the SDK", answer["outside"]
    )
    report.check(bool(answer["libpq"]), f"PostgreSQL driver loads its bundled libpq ({answer['libpq']})")
    report.check(answer["jpeg"] and answer["webp"], "Pillow in the package reads and writes JPEG and WebP")


# --- checks of the deployed stage -------------------------------------------
def check_stage(session, settings, outputs, report):
    config = stage_settings.stage_config(settings, STAGE)
    name = stage_settings.lambda_name(config, STAGE)
    awslambda = session.client("lambda")
    function = awslambda.get_function(FunctionName=name)["Configuration"]
    arn = function["FunctionArn"]
    report.check(
        function["Runtime"] == config["runtime"] and function["Handler"] == "handler.lambda_handler",
        f"function {name}: {function['Runtime']}, handler {function['Handler']}",
    )
    report.check(
        function["MemorySize"] == config["memory_size"] and function["Timeout"] == config["timeout_seconds"],
        f"function {name}: {function['MemorySize']} MB, {function['Timeout']} s",
    )
    report.check(function["Role"] == outputs["LambdaRoleArn"], f"function role is the stack's {function['Role']}")
    vpc = function.get("VpcConfig", {})
    report.check(
        sorted(vpc.get("SubnetIds", [])) == sorted(outputs["SubnetIds"].split(","))
        and vpc.get("SecurityGroupIds") == [outputs["LambdaSecurityGroupId"]],
        "function runs in the stack's private subnets with its security group (reaches DAX)",
        vpc,
    )
    (group,) = session.client("ec2").describe_security_groups(GroupIds=[outputs["LambdaSecurityGroupId"]])[
        "SecurityGroups"
    ]
    ports = sorted(rule.get("FromPort", -1) for rule in group["IpPermissionsEgress"])
    report.check(
        ports == [443, 5432, 9111] and not group["IpPermissions"],
        "function security group: out to HTTPS, PostgreSQL and DAX only, nothing in",
        group,
    )
    role = session.client("iam").get_role(RoleName=function["Role"].rsplit("/", 1)[-1])["Role"]
    report.check(bool(role), f"role {role['RoleName']} exists (manage_roles is false: the stack owns it)")

    apigateway = session.client("apigateway")
    apis = [api for api in apigateway.get_rest_apis()["items"] if api["name"] == name]
    if report.check(len(apis) == 1, f"REST API {name} exists"):
        api_id = apis[0]["id"]
        types = apis[0].get("endpointConfiguration", {}).get("types")
        if types is None:
            body = session.client("cloudformation").get_template(StackName=name)["TemplateBody"]
            body = json.loads(body) if isinstance(body, str) else body
            (rest_api,) = [r for r in body["Resources"].values() if r["Type"] == "AWS::ApiGateway::RestApi"]
            types = rest_api["Properties"].get("EndpointConfiguration", {}).get("Types")
            report.gap(
                "moto's CloudFormation stores a RestApi's EndpointConfiguration under 'Types', so the API reports "
                "no endpoint type; the rehearsal reads it from the stack template Zappa deployed"
            )
        report.check(types == ["REGIONAL"], f"REST API {api_id} is regional (CloudFront in front is ours)", types)
        stages = [stage["stageName"] for stage in apigateway.get_stages(restApiId=api_id)["item"]]
        report.check(STAGE in stages, f"REST API {api_id} has stage '{STAGE}'", stages)
        resources = apigateway.get_resources(restApiId=api_id)["items"]
        paths = sorted(resource["path"] for resource in resources)
        report.check("/{proxy+}" in paths, f"REST API routes {', '.join(paths)} to the function")
        # Zappa's REST integration invokes the function with the role as
        # credentials, so API Gateway must be allowed to assume it.
        proxy = next(resource for resource in resources if resource["path"] == "/{proxy+}")
        integration = apigateway.get_integration(restApiId=api_id, resourceId=proxy["id"], httpMethod="ANY")
        credentials = integration.get("credentials")
        if credentials is None:
            body = session.client("cloudformation").get_template(StackName=name)["TemplateBody"]
            body = json.loads(body) if isinstance(body, str) else body
            methods = [r for r in body["Resources"].values() if r["Type"] == "AWS::ApiGateway::Method"]
            found = {m["Properties"]["Integration"].get("Credentials") for m in methods}
            credentials = found.pop() if len(found) == 1 else sorted(map(str, found))
            report.gap(
                "moto's CloudFormation drops an API Gateway integration's Credentials; the rehearsal reads them "
                "from the stack template Zappa deployed"
            )
        trusted = set()
        for statement in role["AssumeRolePolicyDocument"]["Statement"]:
            services = statement["Principal"]["Service"]
            trusted.update([services] if isinstance(services, str) else services)
        report.check(
            credentials == function["Role"] and "apigateway.amazonaws.com" in trusted,
            "API Gateway invokes the function as the stack's role, which trusts apigateway.amazonaws.com",
            {"credentials": credentials, "trusted": sorted(trusted)},
        )

    s3 = session.client("s3")
    bucket = outputs["MediaBucket"]
    notification = s3.get_bucket_notification_configuration(Bucket=bucket).get("LambdaFunctionConfigurations", [])
    ours = [item for item in notification if item["LambdaFunctionArn"].split(":")[6] == name]
    rules = [rule for item in ours for rule in item.get("Filter", {}).get("Key", {}).get("FilterRules", [])]
    report.check(
        len(ours) == 1
        and ours[0]["Events"] == ["s3:ObjectCreated:*"]
        and {"Name": "prefix", "Value": "media/originals/"} in [{**r, "Name": r["Name"].lower()} for r in rules],
        f"S3 {bucket}: ObjectCreated -> {name}, filter prefix media/originals/ (renditions cannot re-trigger it)",
        notification,
    )

    stream_arn = outputs["SubscribersStreamArn"]
    mappings = awslambda.list_event_source_mappings(EventSourceArn=stream_arn)["EventSourceMappings"]
    ours = [item for item in mappings if item["FunctionArn"].split(":")[6] == name]
    if report.check(len(ours) == 1, f"stream mapping {stream_arn} -> {name}", mappings):
        mapping = awslambda.get_event_source_mapping(UUID=ours[0]["UUID"])
        bindings = [event.get("event_source", {}) for event in config["events"]]
        wanted = next(source for source in bindings if source.get("arn") == stream_arn)
        expected = event_mappings.mapping_settings(wanted)
        differences = event_mappings.differences(mapping, expected)
        report.check(
            not differences and mapping.get("StartingPosition") == wanted["starting_position"],
            "stream mapping: StartingPosition "
            f"{mapping.get('StartingPosition')}, {', '.join(f'{k}={v}' for k, v in sorted(expected.items()))}",
            differences,
        )

    topic = outputs["SesNotificationsTopicArn"]
    subscriptions = session.client("sns").list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    report.check(
        any(sub["Protocol"] == "lambda" and sub["Endpoint"].split(":")[6] == name for sub in subscriptions),
        f"SNS {topic.rsplit(':', 1)[-1]} (SES bounces and complaints) -> {name}",
        subscriptions,
    )

    events = session.client("events")
    rules = {rule["Name"]: rule for rule in events.list_rules()["Rules"]}
    targeted = {
        rule_name: rule
        for rule_name, rule in rules.items()
        if any(t["Arn"].split(":")[6] == name for t in events.list_targets_by_rule(Rule=rule_name)["Targets"])
    }
    expressions = sorted(rule.get("ScheduleExpression", "") for rule in targeted.values())
    report.check(
        "rate(5 minutes)" in expressions and any("publish_scheduled" in rule_name for rule_name in targeted),
        "schedule rule: rate(5 minutes) -> posts.handlers.publish_scheduled",
        expressions,
    )
    report.check(
        config.get("keep_warm") and config.get("keep_warm_expression") in expressions,
        f"keep-warm rule: {config.get('keep_warm_expression')}",
        expressions,
    )
    policy = json.loads(awslambda.get_policy(FunctionName=name)["Policy"])
    principals = sorted({statement["Principal"]["Service"] for statement in policy["Statement"]})
    report.check(
        {"s3.amazonaws.com", "sns.amazonaws.com", "events.amazonaws.com"} <= set(principals),
        f"function policy lets {', '.join(principals)} invoke it",
        principals,
    )
    return arn


def check_secondary(settings, outputs, home_outputs, report):
    config = stage_settings.stage_config(settings, SECONDARY_STAGE)
    environment = config["environment_variables"]
    report.check(
        config["role_arn"] == outputs["LambdaRoleArn"] and config["s3_bucket"] == outputs["DeploymentBucket"],
        f"{SECONDARY_STAGE}: its own role and deployment bucket in {SECONDARY_REGION}",
    )
    report.check(
        environment["MYBLOG_MEDIA_BUCKET"] == home_outputs["MediaBucket"]
        and environment["MYBLOG_TABLE_PREFIX"] == home_outputs["TablePrefix"]
        and environment["MYBLOG_CLOUDFRONT_DISTRIBUTION_ID"] == home_outputs["DistributionId"],
        f"{SECONDARY_STAGE}: same tables (replicas), bucket and distribution as the home region",
    )
    report.check(
        environment.get("MYBLOG_DAX_ENDPOINT") == outputs["DaxEndpoint"] != home_outputs["DaxEndpoint"],
        f"{SECONDARY_STAGE}: its own DAX cluster {environment.get('MYBLOG_DAX_ENDPOINT')}",
    )
    report.check(
        config.get("events") == [],
        f"{SECONDARY_STAGE}: no event bindings (S3, stream, SNS and schedule run in the home region only)",
    )


def parse_args(argv):
    parser = argparse.ArgumentParser(description="Rehearse a deploy against moto server.")
    parser.add_argument("--keep", action="store_true", help="keep var/rehearsal/ (settings copy, zip, logs)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    report = Report()
    if WORK.exists():
        shutil.rmtree(WORK)
    WORK.mkdir(parents=True)
    zappa_log = WORK / "zappa.log"

    venv = deployenv.ensure(log=report.step)
    with moto_server(WORK / "moto.log") as endpoint:
        environment = aws_environment(endpoint)
        os.environ.update(environment)
        report.step(f"moto server at {endpoint}; fake credentials; AWS_ENDPOINT_URL points at it")
        home = aws_session(HOME_REGION)
        secondary = aws_session(SECONDARY_REGION)

        # Infrastructure: the home stack, then the secondary region's.
        parameters = {"Stage": "prod", "HomeRegion": HOME_REGION, "SecondaryRegion": SECONDARY_REGION}
        home_network = create_network(home, report)
        home_outputs = InfraDeployment(home, {**parameters, **home_network}, report).deploy()
        secondary_network = create_network(secondary, report)
        secondary_parameters = {**parameters, **secondary_network, "DistributionId": home_outputs["DistributionId"]}
        secondary_outputs = InfraDeployment(secondary, secondary_parameters, report).deploy()

        # The stages read the outputs.
        settings_path = WORK / "zappa_settings.json"
        settings = stage_settings.load(REPO / "zappa_settings.json")
        for stage, outputs in ((STAGE, home_outputs), (SECONDARY_STAGE, secondary_outputs)):
            updates, missing = stage_settings.apply_outputs(
                stage_settings.stage_config(settings, stage), outputs, home_outputs
            )
            settings[stage].update(updates)
            report.check(not missing, f"stage {stage} takes every value it needs from the stack outputs", missing)
        settings_path.write_text(json.dumps(settings, indent=4))
        check_secondary(settings, secondary_outputs, home_outputs, report)

        # Zappa: package, deploy, complete the stream mapping, update.
        zappa_env = deployenv.environ(venv, {**os.environ, **environment})
        zip_path = WORK / f"myblog-{STAGE}.zip"
        code, output = zappa(
            venv, ["package", STAGE, "-s", str(settings_path), "-o", str(zip_path)], zappa_env, report, zappa_log
        )
        if not report.check(code == 0 and zip_path.exists(), f"zappa package {STAGE}", output[-2000:]):
            return finish(report, args)
        if "No manylinux wheel found" in output or "Downloading and installing dependencies" in output:
            report.gap(
                "Zappa's Linux-wheel lookup cannot reach its index offline; it keeps the deploy venv's own wheels, "
                "which match Lambda's x86_64 / Python 3.11 platform (infra/deployenv.py refuses any other)"
            )
        zip_checks(zip_path, settings, report)

        report.gap(
            f"moto cannot run Lambda functions (no Docker here), so the stage '{STAGE}' sets touch: false "
            "(Zappa's final HTTP request to the new endpoint); the function is checked by its configuration"
        )
        code, output = zappa(
            venv, ["deploy", STAGE, "-s", str(settings_path), "-z", str(zip_path)], zappa_env, report, zappa_log
        )
        report.check(code == 0 and "Deployment complete" in output, f"zappa deploy {STAGE}", output[-2000:])
        note_add_permission(output, report)
        if "Unable to add event source" in output:
            report.fail("Zappa could not add an event source (see var/rehearsal/zappa.log)")
        report.gap(
            "moto gives a stream mapping created without StartingPosition the value TRIM_HORIZON; AWS rejects such a "
            "call, which is what Zappa 0.63 sends. infra/event_mappings.py (run after every deploy) sets it"
        )
        for line in event_mappings.ensure_stage(STAGE, settings_path, session=home):
            report.ok(f"event_mappings: {line}")

        report.gap(
            "moto lacks ListFunctionUrlConfigs, which `zappa update` calls; the rehearsal answers it with an empty "
            "list, as AWS does for a function without a URL (function_url_enabled is off)"
        )
        code, output = zappa(
            venv,
            ["update", STAGE, "-s", str(settings_path), "-z", str(zip_path)],
            zappa_env,
            report,
            zappa_log,
            allow_missing_function_urls=True,
        )
        report.check(
            code == 0 and "Your updated Zappa deployment is live" in output, f"zappa update {STAGE}", output[-2000:]
        )
        note_add_permission(output, report)
        for line in event_mappings.ensure_stage(STAGE, settings_path, session=home):
            report.check("up to date" in line, f"after update, event_mappings: {line}")

        check_stage(home, settings, home_outputs, report)
        invoke_offline(venv, zip_path, settings, environment, home, report)
    return finish(report, args)


def finish(report, args):
    report.summary()
    if not args.keep:
        # Keep the report's evidence (logs, settings copy, stack templates), not the bulk.
        for path in WORK.glob("*.zip"):
            path.unlink()
        for directory in ("task", "runtime-sdk"):
            shutil.rmtree(WORK / directory, ignore_errors=True)
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
