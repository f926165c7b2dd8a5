"""Deploy infra/myblog.yaml into moto server, as CloudFormation would in AWS.

The deploy rehearsal (tests/deploy/test_rehearsal.py) needs the stack's
resources and outputs before it can deploy a Zappa stage onto them. moto's
CloudFormation lacks some of the template's resource types and mishandles a
few properties, so `InfraDeployment` sends it what it supports and creates
the rest through the service APIs, from the template's own evaluated
properties. Each such workaround is an emulator gap, not a product change:
it is logged (logger `infra.emulated_stack`) and kept in `gaps`, so a
failing rehearsal shows what was emulated.
"""

import contextlib
import copy
import json
import logging
import time

from infra import template as cfn_template

logger = logging.getLogger(__name__)
ACCOUNT = "123456789012"  # moto's default account


def aws_environment(endpoint, region):
    """Environment for boto3 clients (and Zappa) that talk to moto server at `endpoint`."""
    return {
        "AWS_ACCESS_KEY_ID": "rehearsal",
        "AWS_SECRET_ACCESS_KEY": "rehearsal",
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def create_network(session):
    """A VPC with three private subnets and a database security group (in AWS: yours)."""
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
    logger.info(
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

    def __init__(self, session, parameters, work_dir):
        self.session = session
        self.region = session.region_name
        self.work_dir = work_dir
        self.gaps = []
        self.stack_status = None
        self.dax_cluster = None
        self.template = cfn_template.load()
        self.parameters = parameters
        self.stack_name = f"myblog-{parameters['Stage']}"
        self.evaluator = cfn_template.Evaluator(self.template, parameters, region=self.region, account=ACCOUNT)
        self.values = {}  # logical id (or id.Attribute) -> value, for resources made outside the stack
        self.outputs = {}

    def gap(self, text):
        """Note where the emulator falls short of AWS and what is done instead."""
        self.gaps.append(text)
        logger.info("emulator gap: %s", text)

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
            self.gap(
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
            self.gap(
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
            self.gap(
                "DynamoDB global tables: neither moto nor its CloudFormation has them; each of "
                f"{', '.join(converted)} is deployed as a single-region table with the template's keys, indexes, "
                "stream and point-in-time recovery (the eu-west-1 replica is not emulated)"
            )
        self.gap(
            "moto's CloudFormation keeps AWS::NoValue inside lists as null (an IAM policy list then fails); "
            "the rehearsal decides each Fn::If itself before sending the template"
        )
        # Outputs are computed from the deployed resources (see _outputs).
        stack_template["Outputs"] = {}
        body = json.dumps(stack_template, indent=1)
        (self.work_dir / f"stack-{self.region}.json").write_text(body)
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
        self.stack_status = (stack["StackStatus"], stack.get("StackStatusReason"))
        logger.info("%s: stack %s: %s", self.region, self.stack_name, stack["StackStatus"])
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
            self.gap(
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
                self.gap(f"{kind} ({name}): neither moto's CloudFormation nor the rehearsal creates it")
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
        self.gap(f"S3 bucket policy ({name}): moto's CloudFormation lacks it; applied through the S3 API")
        if plain_http:
            self.gap(
                "moto enforces bucket policies but is reached over plain HTTP, so the policy's TLS-only deny "
                f"({', '.join(s.get('Sid', '?') for s in plain_http)}) would refuse every call; it is left out here"
            )

    def _make_SNS_TopicPolicy(self, name, properties):
        sns = self.session.client("sns")
        for topic in properties["Topics"]:
            sns.set_topic_attributes(
                TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(properties["PolicyDocument"])
            )
        self.gap(f"SNS topic policy ({name}): moto's CloudFormation lacks it; applied through the SNS API")

    def _make_SES_ConfigurationSet(self, name, properties):
        self.session.client("ses").create_configuration_set(ConfigurationSet={"Name": properties["Name"]})
        self.values[name] = properties["Name"]
        self.gap(f"SES configuration set ({name}): moto's CloudFormation lacks it; created through the SES API")

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
        self.gap(
            f"SES event destination ({name}): moto's CloudFormation lacks it; created through the SES API "
            "(moto never publishes bounce or complaint notifications)"
        )

    def _make_SES_EmailIdentity(self, name, properties):
        self.session.client("sesv2").create_email_identity(EmailIdentity=properties["EmailIdentity"])
        self.gap(
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
        self.gap(f"security group egress ({name}): moto's CloudFormation lacks it; added through the EC2 API")

    def _make_DAX_SubnetGroup(self, name, properties):
        self.values[name] = properties["SubnetGroupName"]
        self.gap(f"DAX subnet group ({name}): moto has no DAX subnet groups; not emulated")

    def _make_DAX_ParameterGroup(self, name, properties):
        self.values[name] = properties["ParameterGroupName"]
        self.gap(f"DAX parameter group ({name}): moto has no DAX parameter groups; not emulated")

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
        for _ in range(20):  # like AWS, the endpoint's address appears once the cluster is available
            described = dax.describe_clusters(ClusterNames=[cluster["ClusterName"]])["Clusters"][0]
            if described["Status"] == "available":
                break
        self.dax_cluster = described
        endpoint = described["ClusterDiscoveryEndpoint"]
        url = endpoint.get("URL") or f"dax://{endpoint['Address']}"
        self.values["DaxCluster.ClusterDiscoveryEndpointURL"] = url
        self.gap(
            f"DAX cluster ({name}): moto's CloudFormation lacks it; created through the DAX API. moto reports "
            f"{url} (port {endpoint.get('Port')}); AWS reports daxs://... on port 9111 for this TLS cluster"
        )

    def _make_CloudFront_CachePolicy(self, name, properties):
        self.values[name] = f"cache-policy-{properties['CachePolicyConfig']['Name']}"
        self.gap(
            f"CloudFront cache policy ({name}): moto has no cache policies; not emulated "
            "(only the API behaviours use it, and they exist once the API's custom domain does)"
        )

    def _outputs(self):
        evaluator = self._stack_evaluator()
        outputs = evaluator.outputs()
        self.outputs = {key: str(value) for key, value in outputs.items()}
