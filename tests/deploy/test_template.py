"""infra/myblog.yaml: lint-clean, tables equal to the models, least privilege, private media.

The template is evaluated (conditions, Sub, If, ...) for the stacks a
deploy creates: the home region with and without the API's custom domain,
with OAC or OAI, and the secondary region.
"""

import fnmatch
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles.storage import ManifestFilesMixin
from pynamodb.attributes import TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from infra import stage_settings
from infra import template as cfn
from myblog import aws

REPO = Path(__file__).resolve().parent.parent.parent
ACCOUNT = "123456789012"
VPC = {"VpcId": "vpc-0abc", "SubnetIds": "subnet-a,subnet-b,subnet-c"}
WITH_API = {
    "SiteDomain": "blog.example.com",
    "CertificateArn": f"arn:aws:acm:us-east-1:{ACCOUNT}:certificate/cloudfront",
    "ApiCertificateArn": f"arn:aws:acm:us-east-1:{ACCOUNT}:certificate/regional",
    "RestApiId": "a1b2c3d4e5",
    "ZappaStage": "prod",
}


class Placeholders(dict):
    """Stands in for what CloudFormation would return for Ref/GetAtt."""

    def __missing__(self, key):
        return ".".join(key) if isinstance(key, tuple) else f"{key}-id"


def stack(region="us-east-1", **parameters):
    parameters = {"Stage": "prod", "HomeRegion": "us-east-1", "SecondaryRegion": "eu-west-1", **parameters}
    return cfn.Evaluator(
        cfn.load(), parameters, region=region, account=ACCOUNT, physical_ids=Placeholders(), attributes=Placeholders()
    )


VARIANTS = {
    "home": stack(**VPC),
    "home-oai": stack(OriginAccess="OAI", **VPC),
    "home-api": stack(**VPC, **WITH_API),
    "home-failover": stack(**VPC, **WITH_API, FailoverApiOrigin="d-eu.execute-api.eu-west-1.amazonaws.com"),
    "home-verified": stack(
        **VPC,
        **WITH_API,
        FailoverApiOrigin="d-eu.execute-api.eu-west-1.amazonaws.com",
        OriginVerifySecret="s3cr3t-origin-value",
    ),
    "home-rotating": stack(
        **VPC,
        **WITH_API,
        OriginVerifySecret="n3w-origin-value",
        OriginVerifyPreviousSecret="s3cr3t-origin-value",
    ),
    "home-no-dax": stack(),
    "secondary": stack(region="eu-west-1", DistributionId="E2QWRUHEXAMPLE", **VPC, **WITH_API),
    "dev": stack(Stage="dev", SecondaryRegion=""),
}


def test_cfn_lint_reports_nothing():
    templates = sorted(str(path) for path in (REPO / "infra").glob("*.yaml"))
    assert templates
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), *templates],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


# --- tables ---------------------------------------------------------------------
def template_tables(evaluator):
    tables = {}
    for name, resource in evaluator.resources().items():
        if resource["Type"] in ("AWS::DynamoDB::GlobalTable", "AWS::DynamoDB::Table"):
            properties = evaluator.properties(name)
            tables[properties["TableName"].removeprefix("myblog-prod-")] = (resource, properties)
    return tables


class _AllJobs(GlobalSecondaryIndex):
    class Meta:
        index_name = "all-index"
        projection = AllProjection()

    listing = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class JobShape(Model):
    """The keys of the batch jobs' model (myblog/models.py `Job`: hash `job_id`, GSI
    `all-index` on listing and created_at), the table is checked against while that
    model is not in the tree. A plain PynamoDB model: nothing else ever sees it."""

    class Meta:
        table_name = "jobs"
        billing_mode = "PAY_PER_REQUEST"

    job_id = UnicodeAttribute(hash_key=True)
    listing = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    all_index = _AllJobs()


def model_tables():
    tables = {model.Meta.table_name.removeprefix(settings.MYBLOG_TABLE_PREFIX): model for model in aws.all_models()}
    tables.setdefault("jobs", JobShape)
    return tables


# Written and read by the batch jobs in the home region only: plain tables there, not global tables.
HOME_REGION_TABLES = {"newsletter-sends", "newsletter-deliveries", "jobs"}
# Plain tables in every region: rate-limit counters, the editor's autosaves and presence.
REGIONAL_TABLES = {"rate-limits", "post-autosaves", "post-presence"}


def key_schema(entries):
    """(name, HASH), then (name, RANGE) if any: PynamoDB lists them in either order."""
    return sorted(((entry["AttributeName"], entry["KeyType"]) for entry in entries), key=lambda key: key[1])


def test_every_model_has_its_table_and_every_table_its_model():
    assert set(template_tables(VARIANTS["home"])) == set(model_tables())
    # The tables the settings name (MYBLOG_TABLES) are the template's too.
    assert set(template_tables(VARIANTS["home"])) == set(settings.MYBLOG_TABLES)


@pytest.mark.parametrize("name", sorted(model_tables()))
def test_table_definition_equals_the_model(name):
    model = model_tables()[name]
    resource, table = template_tables(VARIANTS["home"])[name]
    schema = model._get_schema()

    assert key_schema(table["KeySchema"]) == key_schema(schema["key_schema"])
    assert {(d["AttributeName"], d["AttributeType"]) for d in table["AttributeDefinitions"]} == {
        (d["AttributeName"], d["AttributeType"]) for d in schema["attribute_definitions"]
    }
    expected_indexes = {
        index["index_name"]: (key_schema(index["key_schema"]), index["projection"]["ProjectionType"])
        for index in schema.get("global_secondary_indexes", [])
    }
    found_indexes = {
        index["IndexName"]: (key_schema(index["KeySchema"]), index["Projection"]["ProjectionType"])
        for index in table.get("GlobalSecondaryIndexes", [])
    }
    assert found_indexes == expected_indexes
    assert not table.get("LocalSecondaryIndexes") and not schema.get("local_secondary_indexes")
    assert table["BillingMode"] == model.Meta.billing_mode == "PAY_PER_REQUEST"

    view_type = getattr(model.Meta, "stream_view_type", None)
    if view_type:
        assert table["StreamSpecification"]["StreamViewType"] == view_type
    if resource["Type"] == "AWS::DynamoDB::GlobalTable":
        # A global table replicates through its stream.
        assert table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"

    ttl = [attribute.attr_name for attribute in model.get_attributes().values() if isinstance(attribute, TTLAttribute)]
    if ttl:
        assert table["TimeToLiveSpecification"] == {"AttributeName": ttl[0], "Enabled": True}
    else:
        assert "TimeToLiveSpecification" not in table


def test_content_tables_are_global_with_point_in_time_recovery_in_each_region():
    for name, (resource, table) in template_tables(VARIANTS["home"]).items():
        if name in REGIONAL_TABLES or name in HOME_REGION_TABLES:
            continue  # per-region scratch tables and the batch jobs' tables, deliberately not replicated
        assert resource["Type"] == "AWS::DynamoDB::GlobalTable", name
        assert resource["DeletionPolicy"] == resource["UpdateReplacePolicy"] == "Retain"
        assert [replica["Region"] for replica in table["Replicas"]] == ["us-east-1", "eu-west-1"]
        for replica in table["Replicas"]:
            assert replica["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    single = template_tables(VARIANTS["dev"])
    assert all(len(table.get("Replicas", [{}])) == 1 for _, table in single.values())


def test_secondary_region_owns_no_global_resources():
    resources = VARIANTS["secondary"].resources()
    types = {resource["Type"] for resource in resources.values()}
    assert "AWS::DynamoDB::GlobalTable" not in types
    assert not {"MediaBucket", "Distribution", "SesConfigurationSet", "StreamFailuresQueue"} & set(resources)
    assert {"LambdaRole", "DeploymentBucket", "DaxCluster", "RateLimitsTable", "ApiDomain"} <= set(resources)
    # The batch jobs run in the home region: their queues and tables are there only.
    assert not {
        f"{logical}{kind}" for logical in BATCH_QUEUES.values() for kind in ("Queue", "DeadLetterQueue")
    } & set(resources)
    tables = {VARIANTS["secondary"].properties(name).get("TableName") for name in resources}
    assert not {f"myblog-prod-{name}" for name in HOME_REGION_TABLES} & tables


def test_the_batch_jobs_tables_are_retained_recoverable_home_region_tables():
    for variant in ("home", "home-no-dax"):
        tables = template_tables(VARIANTS[variant])
        for name in HOME_REGION_TABLES:
            resource, table = tables[name]
            assert resource["Type"] == "AWS::DynamoDB::Table" and resource["Condition"] == "IsHome", name
            # A send's record is what keeps a post from being emailed twice: never dropped with the stack.
            assert resource["DeletionPolicy"] == resource["UpdateReplacePolicy"] == "Retain", name
            assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}, name
            assert table["DeletionProtectionEnabled"] is True and table["SSESpecification"] == {"SSEEnabled": True}


# --- IAM -------------------------------------------------------------------------
def statements(evaluator):
    """(where, statement) for every IAM and resource policy statement."""
    for name, resource in evaluator.resources().items():
        properties = evaluator.properties(name)
        if resource["Type"] == "AWS::IAM::Role":
            for policy in properties.get("Policies", []):
                for statement in policy["PolicyDocument"]["Statement"]:
                    yield f"{name}/{policy['PolicyName']}", statement
        elif "PolicyDocument" in properties:
            for statement in properties["PolicyDocument"]["Statement"]:
                yield name, statement


def as_list(value):
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_no_wildcard_action_on_a_wildcard_resource(variant):
    for where, statement in statements(VARIANTS[variant]):
        if statement["Effect"] != "Allow":
            continue
        actions = as_list(statement["Action"])
        resources = as_list(statement.get("Resource", []))
        assert not any(action == "*" or action.endswith(":*") for action in actions), (where, statement)
        if "*" in resources:
            # The actions AWS offers no resource-level scoping for: the two a VPC function
            # needs, and SES's account sending rate (the newsletter senders pace to it).
            assert sorted(actions) in (
                ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"],
                ["ses:GetAccount"],
            ), (where, statement)


def lambda_policy(evaluator):
    return {
        where.split("/", 1)[1]: statement
        for where, statement in statements(evaluator)
        if where.startswith("LambdaRole/")
    }


def lambda_statements(evaluator):
    return [statement for where, statement in statements(evaluator) if where.startswith("LambdaRole/")]


def test_lambda_role_names_its_tables_prefixes_and_services():
    found = lambda_statements(VARIANTS["home-api"])
    by_action = {}
    for statement in found:
        for action in as_list(statement["Action"]):
            by_action.setdefault(action, []).extend(as_list(statement["Resource"]))

    table_arn = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/myblog-prod-"
    assert sorted(by_action["dynamodb:GetItem"]) == sorted(table_arn + name for name in model_tables())
    assert "dynamodb:Scan" not in by_action  # public reads never Scan
    assert all(arn.endswith("/index/*") for arn in by_action["dynamodb:Query"] if "/index/" in arn)
    assert by_action["dynamodb:GetRecords"] == [table_arn + "subscribers/stream/*"]
    bucket = f"arn:aws:s3:::myblog-prod-media-{ACCOUNT}"
    assert sorted(by_action["s3:PutObject"]) == [
        f"{bucket}/imports/*",
        f"{bucket}/media/originals/*",
        f"{bucket}/media/renditions/*",
        f"{bucket}/search/*",
    ]
    # Nothing deletes media: only a finished subscriber import deletes its own file.
    assert by_action["s3:DeleteObject"] == [f"{bucket}/imports/*"]
    # Listing the bucket is what makes S3 answer 404, not 403, for a missing
    # key; S3 checks it with no s3:prefix, so it must carry no prefix condition.
    (listing,) = [s for s in found if "s3:ListBucket" in as_list(s["Action"])]
    assert as_list(listing["Resource"]) == [bucket] and "Condition" not in listing
    assert sorted(by_action["ses:SendEmail"]) == [
        f"arn:aws:ses:us-east-1:{ACCOUNT}:configuration-set/myblog-prod",
        f"arn:aws:ses:us-east-1:{ACCOUNT}:identity/myblog.example",
    ]
    assert by_action["ssm:GetParametersByPath"] == [f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/myblog/prod/"]
    assert by_action["cloudfront:CreateInvalidation"] == [
        f"arn:aws:cloudfront::{ACCOUNT}:distribution/Distribution-id"
    ]
    assert by_action["dax:GetItem"] == ["DaxCluster.Arn"]
    assert by_action["logs:PutLogEvents"][0].endswith(":log-group:/aws/lambda/myblog-prod")


def grants(statements_, action, arn):
    """Whether an Allow statement grants `action` on `arn` (IAM wildcards: * and ?)."""
    return any(
        statement["Effect"] == "Allow"
        and action in as_list(statement["Action"])
        and any(fnmatch.fnmatchcase(arn, pattern) for pattern in as_list(statement.get("Resource", [])))
        for statement in statements_
    )


def test_function_reads_the_static_manifest_and_nothing_else_under_static():
    # With MYBLOG_STATIC_ON_S3 the first {% static %} reads the manifest of hashed names.
    role = lambda_statements(VARIANTS["home-api"])
    bucket = f"arn:aws:s3:::myblog-prod-media-{ACCOUNT}"
    manifest = f"{bucket}/static/{ManifestFilesMixin.manifest_name}"
    assert grants(role, "s3:GetObject", manifest)
    static_resources = [
        (action, resource)
        for statement in role
        for action in as_list(statement["Action"])
        for resource in as_list(statement.get("Resource", []))
        if resource.startswith(f"{bucket}/static")
    ]
    assert static_resources == [("s3:GetObject", manifest)]
    assert not grants(role, "s3:GetObject", f"{bucket}/static/admin/css/base.4a5b6c.css")
    assert not grants(role, "s3:PutObject", manifest)


def test_function_may_do_on_the_bucket_what_the_code_does():
    role = lambda_statements(VARIANTS["home-api"])
    bucket = f"arn:aws:s3:::myblog-prod-media-{ACCOUNT}"
    original = f"{bucket}/{settings.MYBLOG_ORIGINALS_PREFIX}2026/11/3f9c2b.jpg"
    rendition = f"{bucket}/{settings.MYBLOG_RENDITIONS_PREFIX}2026/11/3f9c2b/640.webp"
    # Presigned POST uploads and the admin's presigned GETs are signed with this role.
    assert grants(role, "s3:PutObject", original) and grants(role, "s3:GetObject", original)
    # The renditions handler reads the original and writes the renditions.
    assert grants(role, "s3:PutObject", rendition)
    assert not grants(role, "s3:GetObject", rendition)  # never needed: readers get them from CloudFront
    assert not any(grants(role, "s3:DeleteObject", arn) for arn in (original, rendition))


def test_dax_passes_on_the_operations_the_function_sends_and_never_scans():
    (statement,) = [s for where, s in statements(VARIANTS["home"]) if where.startswith("DaxServiceRole/")]
    assert sorted(statement["Action"]) == sorted(
        f"dynamodb:{action}"
        for action in (
            "GetItem",
            "BatchGetItem",
            "Query",
            "PutItem",
            "UpdateItem",
            "DeleteItem",
            "BatchWriteItem",
            "ConditionCheckItem",
            "DescribeTable",
        )
    )
    assert statement["Resource"] == [f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/myblog-prod-*"]


def test_secondary_role_invalidates_the_home_distribution_and_sends_no_email():
    actions = {
        action for statement in lambda_statements(VARIANTS["secondary"]) for action in as_list(statement["Action"])
    }
    assert "ses:SendEmail" not in actions
    invalidation = [
        s for s in lambda_statements(VARIANTS["secondary"]) if s["Action"] == "cloudfront:CreateInvalidation"
    ]
    assert invalidation[0]["Resource"] == f"arn:aws:cloudfront::{ACCOUNT}:distribution/E2QWRUHEXAMPLE"


def test_function_role_is_assumable_by_lambda_and_api_gateway_of_this_account_only():
    # Zappa's REST API integration calls the function with this role as credentials.
    role = VARIANTS["home"].properties("LambdaRole")
    (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": ["lambda.amazonaws.com", "apigateway.amazonaws.com"]}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}


# --- media bucket and CloudFront -------------------------------------------------
def test_media_bucket_is_private_versioned_and_accepts_presigned_uploads():
    bucket = VARIANTS["home-api"].properties("MediaBucket")
    assert bucket["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    (cors,) = bucket["CorsConfiguration"]["CorsRules"]
    assert "POST" in cors["AllowedMethods"] and "GET" not in cors["AllowedMethods"]
    assert cors["AllowedOrigins"] == ["https://blog.example.com"]
    assert "NotificationConfiguration" not in bucket  # Zappa owns the S3 -> Lambda notification


@pytest.mark.parametrize("variant", ["home", "home-oai"])
def test_only_cloudfront_may_read_the_bucket(variant):
    evaluator = VARIANTS[variant]
    policy = evaluator.properties("MediaBucketPolicy")["PolicyDocument"]["Statement"]
    allows = [statement for statement in policy if statement["Effect"] == "Allow"]
    (allow,) = allows
    assert allow["Action"] == "s3:GetObject"
    assert sorted(allow["Resource"]) == [
        f"arn:aws:s3:::MediaBucket-id/{settings.MYBLOG_RENDITIONS_PREFIX}*",
        "arn:aws:s3:::MediaBucket-id/static/*",
    ]
    # Originals keep their EXIF (GPS position included): CloudFront cannot read them.
    assert not grants(policy, "s3:GetObject", f"arn:aws:s3:::MediaBucket-id/{settings.MYBLOG_ORIGINALS_PREFIX}a.jpg")
    assert grants(policy, "s3:GetObject", f"arn:aws:s3:::MediaBucket-id/{settings.MYBLOG_RENDITIONS_PREFIX}a/640.jpg")
    assert grants(policy, "s3:GetObject", "arn:aws:s3:::MediaBucket-id/static/admin/css/base.4a5b6c.css")
    if variant == "home":
        assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
        assert allow["Condition"] == {
            "StringEquals": {"AWS:SourceArn": f"arn:aws:cloudfront::{ACCOUNT}:distribution/Distribution-id"}
        }
    else:
        assert allow["Principal"] == {"CanonicalUser": "OriginAccessIdentity.S3CanonicalUserId"}
    denies = [statement for statement in policy if statement["Effect"] == "Deny"]
    assert denies and denies[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


@pytest.mark.parametrize(("variant", "access"), [("home", "OAC"), ("home-oai", "OAI")])
def test_s3_origin_is_reached_through_the_chosen_access_method(variant, access):
    config = VARIANTS[variant].properties("Distribution")["DistributionConfig"]
    (origin,) = [origin for origin in config["Origins"] if origin["Id"] == "media"]
    if access == "OAC":
        assert origin["OriginAccessControlId"] == "OriginAccessControl.Id"
        assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
        assert "OriginAccessIdentity" not in VARIANTS[variant].resources()
    else:
        assert "OriginAccessControlId" not in origin
        assert origin["S3OriginConfig"] == {
            "OriginAccessIdentity": "origin-access-identity/cloudfront/OriginAccessIdentity-id"
        }
        assert "OriginAccessControl" not in VARIANTS[variant].resources()


def behaviours(variant):
    config = VARIANTS[variant].properties("Distribution")["DistributionConfig"]
    return config, {behaviour["PathPattern"]: behaviour for behaviour in config["CacheBehaviors"]}


def behaviour_for(config, paths, path):
    """The behaviour CloudFront applies to `path`: the first pattern that matches, else the default."""
    return next(
        (behaviour for pattern, behaviour in paths.items() if fnmatch.fnmatchcase(path, pattern)),
        config["DefaultCacheBehavior"],
    )


def test_cache_behaviours_for_static_media_site_and_api():
    config, paths = behaviours("home-api")
    assert set(paths) == {"/static/*", "/media/renditions/*", "/api/*", "/admin/*", "/subscribe/*"}
    for path in ("/static/*", "/media/renditions/*"):
        assert paths[path]["TargetOriginId"] == "media"
        assert paths[path]["AllowedMethods"] == ["GET", "HEAD"]
    for path in ("/api/*", "/admin/*", "/subscribe/*"):
        assert paths[path]["TargetOriginId"] == "api"
        assert "POST" in paths[path]["AllowedMethods"]
    assert paths["/admin/*"]["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # CachingDisabled
    site = config["DefaultCacheBehavior"]
    assert site["TargetOriginId"] == "api"
    assert site["AllowedMethods"] == ["GET", "HEAD", "OPTIONS"]
    assert site["CachePolicyId"] == "SiteCachePolicy-id"
    (api,) = [origin for origin in config["Origins"] if origin["Id"] == "api"]
    assert api["DomainName"] == "ApiDomain.RegionalDomainName"
    assert api["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert config["Aliases"] == ["blog.example.com"]
    assert config["ViewerCertificate"]["MinimumProtocolVersion"] == "TLSv1.2_2021"
    assert all(b["ViewerProtocolPolicy"] in ("redirect-to-https", "https-only") for b in [site, *paths.values()])


@pytest.mark.parametrize("variant", ["home-api", "home-failover"])
def test_the_distribution_never_sends_a_request_for_an_original_to_the_bucket(variant):
    config, paths = behaviours(variant)
    original = f"/{settings.MYBLOG_ORIGINALS_PREFIX}2026/11/3f9c2b.jpg"
    assert behaviour_for(config, paths, original)["TargetOriginId"] != "media"  # the site answers 404
    rendition = f"/{settings.MYBLOG_RENDITIONS_PREFIX}2026/11/3f9c2b/640.webp"
    assert behaviour_for(config, paths, rendition)["TargetOriginId"] == "media"
    assert behaviour_for(config, paths, "/static/posts/admin/post_form.0a1b2c.js")["TargetOriginId"] == "media"


def test_before_the_api_exists_the_distribution_serves_the_bucket_only():
    config, paths = behaviours("home")
    assert set(paths) == {"/static/*", "/media/renditions/*"}
    assert config["DefaultCacheBehavior"]["TargetOriginId"] == "media"
    assert [origin["Id"] for origin in config["Origins"]] == ["media"]


def test_site_reads_fail_over_to_the_secondary_region():
    config, paths = behaviours("home-failover")
    assert config["DefaultCacheBehavior"]["TargetOriginId"] == "api-with-failover"
    (group,) = config["OriginGroups"]["Items"]
    assert [member["OriginId"] for member in group["Members"]["Items"]] == ["api", "api-failover"]
    assert paths["/admin/*"]["TargetOriginId"] == "api"  # writes stay in the home region


def test_api_behaviours_forward_the_viewer_address_the_rate_limits_read():
    config, paths = behaviours("home-api")
    with_viewer_headers = "33f36d7e-f396-46d9-90e0-52428a34d9dc"  # AllViewerAndCloudFrontHeaders-2022-06
    for behaviour in (config["DefaultCacheBehavior"], paths["/api/*"], paths["/admin/*"], paths["/subscribe/*"]):
        assert behaviour["OriginRequestPolicyId"] == with_viewer_headers
    assert settings.MYBLOG_CLIENT_IP_HEADER == "CloudFront-Viewer-Address"


def test_only_cloudfront_reaches_the_api_when_an_origin_secret_is_set():
    evaluator = VARIANTS["home-verified"]
    config = evaluator.properties("Distribution")["DistributionConfig"]
    api_origins = [origin for origin in config["Origins"] if origin["Id"].startswith("api")]
    assert len(api_origins) == 2
    for origin in api_origins:
        assert origin["OriginCustomHeaders"] == [
            {"HeaderName": "X-Origin-Verify", "HeaderValue": "s3cr3t-origin-value"}
        ]
    acl = evaluator.properties("OriginVerifyAcl")
    assert acl["Scope"] == "REGIONAL" and acl["DefaultAction"] == {"Block": {}}
    (rule,) = acl["Rules"]
    assert rule["Action"] == {"Allow": {}}
    match = rule["Statement"]["ByteMatchStatement"]
    assert match["FieldToMatch"] == {"SingleHeader": {"Name": "x-origin-verify"}}
    assert (match["PositionalConstraint"], match["SearchString"]) == ("EXACTLY", "s3cr3t-origin-value")
    association = evaluator.properties("OriginVerifyAclAssociation")
    assert association["ResourceArn"] == "arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5/stages/prod"
    assert evaluator.template["Parameters"]["OriginVerifySecret"]["NoEcho"] is True
    # Without the secret nothing is added.
    assert "OriginVerifyAcl" not in VARIANTS["home-api"].resources()
    assert all("OriginCustomHeaders" not in origin for origin in behaviours("home-api")[0]["Origins"])


def test_during_a_rotation_the_web_acl_accepts_both_secrets_and_cloudfront_sends_the_new_one():
    evaluator = VARIANTS["home-rotating"]
    config = evaluator.properties("Distribution")["DistributionConfig"]
    (api,) = [origin for origin in config["Origins"] if origin["Id"] == "api"]
    assert api["OriginCustomHeaders"] == [{"HeaderName": "X-Origin-Verify", "HeaderValue": "n3w-origin-value"}]
    (rule,) = evaluator.properties("OriginVerifyAcl")["Rules"]
    statements = rule["Statement"]["OrStatement"]["Statements"]
    matches = [statement["ByteMatchStatement"] for statement in statements]
    assert [m["SearchString"] for m in matches] == ["n3w-origin-value", "s3cr3t-origin-value"]
    assert all(m["FieldToMatch"] == {"SingleHeader": {"Name": "x-origin-verify"}} for m in matches)
    assert all(m["PositionalConstraint"] == "EXACTLY" for m in matches)
    assert evaluator.template["Parameters"]["OriginVerifyPreviousSecret"]["NoEcho"] is True


def test_site_cache_policy_lets_the_origin_decide():
    policy = VARIANTS["home-api"].properties("SiteCachePolicy")["CachePolicyConfig"]
    assert policy["MinTTL"] == 0 and policy["DefaultTTL"] == 0
    key = policy["ParametersInCacheKeyAndForwardedToOrigin"]
    assert key["CookiesConfig"] == {"CookieBehavior": "none"}
    assert key["QueryStringsConfig"] == {"QueryStringBehavior": "all"}


# --- DAX, SES ----------------------------------------------------------------------
def test_dax_is_encrypted_and_reachable_only_from_the_function():
    evaluator = VARIANTS["home"]
    cluster = evaluator.properties("DaxCluster")
    assert cluster["ClusterEndpointEncryptionType"] == "TLS"
    assert cluster["SSESpecification"] == {"SSEEnabled": True}
    assert cluster["SubnetGroupName"] == "DaxSubnetGroup-id"
    (ingress,) = evaluator.properties("DaxSecurityGroup")["SecurityGroupIngress"]
    assert (ingress["FromPort"], ingress["ToPort"], ingress["SourceSecurityGroupId"]) == (
        9111,
        9111,
        "LambdaSecurityGroup-id",
    )
    assert "DaxCluster" not in VARIANTS["home-no-dax"].resources()


def test_the_function_reaches_the_database_group_only_on_postgres():
    evaluator = stack(DatabaseSecurityGroupId="sg-0db", **VPC)
    egress = evaluator.properties("LambdaToDatabaseEgress")
    ingress = evaluator.properties("DatabaseFromLambdaIngress")
    assert (egress["FromPort"], egress["ToPort"], egress["DestinationSecurityGroupId"]) == (5432, 5432, "sg-0db")
    assert (ingress["GroupId"], ingress["SourceSecurityGroupId"]) == ("sg-0db", "LambdaSecurityGroup-id")
    rules = evaluator.properties("LambdaSecurityGroup")["SecurityGroupEgress"]
    assert [(rule["FromPort"], rule["CidrIp"]) for rule in rules] == [(443, "0.0.0.0/0")]
    assert "LambdaToDatabaseEgress" not in VARIANTS["home"].resources()


def test_ses_bounces_and_complaints_reach_the_notifications_topic():
    evaluator = VARIANTS["home"]
    destination = evaluator.properties("SesBounceAndComplaintDestination")
    assert sorted(destination["EventDestination"]["MatchingEventTypes"]) == ["bounce", "complaint"]
    assert destination["EventDestination"]["SnsDestination"] == {"TopicARN": "SesNotificationsTopic-id"}
    (statement,) = evaluator.properties("SesNotificationsTopicPolicy")["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "ses.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"AWS:SourceAccount": ACCOUNT}}


# --- outputs the stages read -------------------------------------------------------
def test_outputs_give_every_value_the_stages_read():
    home = set(VARIANTS["home"].outputs())
    secondary = set(VARIANTS["secondary"].outputs())
    regional_needs = {"LambdaRoleArn", "DeploymentBucket", "SubnetIds", "LambdaSecurityGroupId"}
    regional_needs |= set(stage_settings.REGIONAL_ENVIRONMENT)
    home_needs = set(stage_settings.HOME_ENVIRONMENT) | {
        "SubscribersStreamArn",
        "StreamFailuresQueueArn",
        "SesNotificationsTopicArn",
        *(stage_settings.queue_output(name) for name in BATCH_QUEUES),
    }
    assert regional_needs | home_needs <= home
    assert regional_needs <= secondary
    assert "ApiOriginDomain" in secondary  # the home stack's FailoverApiOrigin


def test_names_agree_with_zappa_settings():
    zappa = json.loads((REPO / "zappa_settings.json").read_text())
    for stage, evaluator in (("prod", VARIANTS["home"]), ("prod_eu", VARIANTS["secondary"]), ("dev", VARIANTS["dev"])):
        config = stage_settings.stage_config(zappa, stage)
        environment = config["environment_variables"]
        role = evaluator.properties("LambdaRole")
        assert config["role_arn"] == f"arn:aws:iam::{ACCOUNT}:role/{role['RoleName']}"
        assert config["s3_bucket"] == evaluator.properties("DeploymentBucket")["BucketName"]
        assert environment["MYBLOG_TABLE_PREFIX"] == evaluator.outputs()["TablePrefix"]
        ssm = [s for s in lambda_statements(evaluator) if s["Action"] == "ssm:GetParametersByPath"]
        # GetParametersByPath is authorised against the path exactly as sent, trailing slash included.
        assert environment["MYBLOG_SSM_PARAMETERS_PATH"] == ssm[0]["Resource"].split(":parameter", 1)[1]
        home = stack(Stage=evaluator.parameters["Stage"])
        assert environment["MYBLOG_MEDIA_BUCKET"] == home.properties("MediaBucket")["BucketName"]
        assert environment["MYBLOG_SES_CONFIGURATION_SET"] == home.properties("SesConfigurationSet")["Name"]
        assert environment["MYBLOG_QUEUE_PREFIX"] == home.outputs()["QueuePrefix"]


# Running the function: what its role must allow, where failures go, what is watched.
# Checked per Zappa stage, with the names Zappa derives (the function `myblog-<stage>`, its REST API of the
# same name) and the values the code sends (the SSM path in `MYBLOG_SSM_PARAMETERS_PATH`), so a rename on
# either side fails here rather than on AWS.

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
        if service == "sqs":
            # A queue's failures go to its own dead-letter queue (its RedrivePolicy), not the mapping's.
            queue = bound_queue(stage_stack(stage), source["arn"])
            assert queue["RedrivePolicy"]["deadLetterTargetArn"].endswith("DeadLetterQueue.Arn"), event
        elif service in POLLED_SERVICES:
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
        ("AWS/SQS", "ApproximateAgeOfOldestMessage", (("QueueName", "NewsletterSendQueue.QueueName"),)),
    }
    expected |= {
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible", (("QueueName", f"{logical}DeadLetterQueue.QueueName"),))
        for logical in BATCH_QUEUES.values()
    }
    assert set(found) == expected
    assert async_queue["QueueName"].endswith("-async-failures")
    # AWS reviews an account at 5% bounces and 0.1% complaints: alarm no later.
    assert found[("AWS/SES", "Reputation.BounceRate", ())]["Threshold"] <= 0.05
    assert found[("AWS/SES", "Reputation.ComplaintRate", ())]["Threshold"] <= 0.001
    # A failed event in any dead-letter queue is one message: alarm on the first.
    for key, alarm in found.items():
        if key[:2] == ("AWS/SQS", "ApproximateNumberOfMessagesVisible"):
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


# --- the batch jobs' queues ---------------------------------------------------------------
# Queue name without the stage's prefix -> the logical id its queue's resources start with.
BATCH_QUEUES = {
    "newsletter-fanout": "NewsletterFanout",
    "newsletter-send": "NewsletterSend",
    "photo-renders": "PhotoRenders",
    "subscriber-imports": "SubscriberImports",
    "search-index": "SearchIndex",
}
QUEUE_STAGES = ("dev", "prod", "rehearsal")
# myblog/queues.py: GetQueueUrl, then SendMessageBatch (authorised as sqs:SendMessage).
QUEUE_ACTIONS_OF_THE_CODE = {"sqs:GetQueueUrl", "sqs:SendMessage"}
# What Lambda's SQS event-source mapping does with the function's role.
QUEUE_ACTIONS_OF_A_MAPPING = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}


def queue_resources(evaluator):
    """Queue name -> (logical id, properties) of every SQS queue of the stack."""
    return {
        properties["QueueName"]: (name, properties)
        for name, resource in evaluator.resources().items()
        if resource["Type"] == "AWS::SQS::Queue"
        for properties in [evaluator.properties(name)]
    }


def bound_queue(evaluator, arn):
    return queue_resources(evaluator)[arn.rsplit(":", 1)[1]][1]


def queue_bindings(stage):
    return [
        (event["function"], event["event_source"])
        for event in config(stage).get("events", [])
        if event.get("event_source", {}).get("arn", "").startswith("arn:aws:sqs:")
    ]


@pytest.mark.parametrize("stage", QUEUE_STAGES)
def test_every_bound_queue_exists_with_its_dead_letter_queue(stage):
    evaluator = stage_stack(stage)
    queues = queue_resources(evaluator)
    prefix = config(stage)["environment_variables"]["MYBLOG_QUEUE_PREFIX"]
    bound = queue_bindings(stage)
    assert {source["arn"].rsplit(":", 1)[1] for _, source in bound} == {prefix + name for name in BATCH_QUEUES}
    for _, source in bound:
        region, account, name = source["arn"].split(":")[3:6]
        assert (region, account) == (config(stage)["aws_region"], ACCOUNT)
        logical, queue = queues[name]
        assert logical == BATCH_QUEUES[name.removeprefix(prefix)] + "Queue"
        # AWS's advice for a queue a function consumes: 6 times the function's timeout.
        assert queue["VisibilityTimeout"] == 6 * config(stage)["timeout_seconds"] == 360
        assert queue["RedrivePolicy"]["maxReceiveCount"] == 5
        dead_letter_id = queue["RedrivePolicy"]["deadLetterTargetArn"].removesuffix(".Arn")
        dead_letter = evaluator.properties(dead_letter_id)
        assert dead_letter["QueueName"] == f"{name}-dlq"
        assert "RedrivePolicy" not in dead_letter
        # The dead-letter queue's retention counts from the first enqueue: it must outlast the source's.
        assert dead_letter["MessageRetentionPeriod"] == 14 * 86400 > queue["MessageRetentionPeriod"]
        assert queue["SqsManagedSseEnabled"] is True and dead_letter["SqsManagedSseEnabled"] is True
        assert evaluator.outputs()[stage_settings.queue_output(name.removeprefix(prefix))] == f"{logical}.Arn"
    # No queue with a dead-letter queue that nothing consumes.
    redriven = {name for name, (_, queue) in queues.items() if "RedrivePolicy" in queue}
    assert redriven == {source["arn"].rsplit(":", 1)[1] for _, source in bound}


@pytest.mark.parametrize("stage", QUEUE_STAGES)
def test_the_role_may_do_on_the_queues_what_the_code_and_the_mappings_do_and_no_more(stage):
    evaluator = stage_stack(stage)
    role = lambda_statements(evaluator)
    for logical in BATCH_QUEUES.values():
        queue, dead_letter = f"{logical}Queue.Arn", f"{logical}DeadLetterQueue.Arn"
        for action in QUEUE_ACTIONS_OF_THE_CODE | QUEUE_ACTIONS_OF_A_MAPPING:
            assert allows(role, action, queue), (action, queue)
            # Nothing reads or writes a dead-letter queue: an operator redrives it.
            assert not allows(role, action, dead_letter), (action, dead_letter)
        for action in ("sqs:PurgeQueue", "sqs:DeleteQueue", "sqs:SetQueueAttributes", "sqs:ChangeMessageVisibility"):
            assert not allows(role, action, queue), (action, queue)
    granted = {
        (action, resource)
        for statement in role
        for action in as_list(statement["Action"])
        if action.startswith("sqs:")
        for resource in as_list(statement["Resource"])
    }
    failures = {("sqs:SendMessage", "AsyncFailuresQueue.Arn"), ("sqs:SendMessage", "StreamFailuresQueue.Arn")}
    assert granted == failures | {
        (action, f"{logical}Queue.Arn")
        for action in QUEUE_ACTIONS_OF_THE_CODE | QUEUE_ACTIONS_OF_A_MAPPING
        for logical in BATCH_QUEUES.values()
    }


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_the_role_may_do_on_the_batch_jobs_tables_what_the_jobs_do(stage):
    role = lambda_statements(stage_stack(stage))
    table = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/myblog-{stage}-"
    # Sends: conditional puts and updates, consistent gets; deliveries: BatchGetItem of a
    # batch's claims, one conditional put per recipient, a claim deleted when SES throttles;
    # transactions (the batch marker and the counters) are authorised per item.
    for name in HOME_REGION_TABLES:
        for action in ("GetItem", "BatchGetItem", "Query", "PutItem", "UpdateItem", "DeleteItem"):
            assert allows(role, f"dynamodb:{action}", table + name), (action, name)
        for action in ("Scan", "BatchWriteItem", "DeleteTable", "UpdateTable"):
            assert not allows(role, f"dynamodb:{action}", table + name), (action, name)
    assert allows(role, "dynamodb:Query", table + "newsletter-sends/index/all-index")
    assert allows(role, "dynamodb:Query", table + "jobs/index/all-index")
    assert not allows(role, "dynamodb:Query", table + "newsletter-deliveries/index/all-index")  # it has none
    # The senders pace themselves to the account's rate (MYBLOG_SES_MAX_SEND_RATE 0: ask SES).
    assert allows(role, "ses:GetAccount", "*")


def test_the_secondary_region_runs_no_batch_job():
    role = lambda_statements(stage_stack("prod_eu"))
    table = f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/myblog-prod-"
    assert not any(allows(role, "dynamodb:PutItem", table + name) for name in HOME_REGION_TABLES)
    assert not allows(role, "ses:GetAccount", "*")
    assert not [s for s in role if any(a in QUEUE_ACTIONS_OF_A_MAPPING for a in as_list(s["Action"]))]


def test_the_send_queue_age_alarm_is_set_above_a_large_send():
    evaluator = stage_stack("prod")
    alarm = evaluator.properties("NewsletterSendQueueAgeAlarm")
    assert alarm["Threshold"] == 10800 and alarm["Statistic"] == "Maximum"
    assert (
        stage_stack("prod", SendQueueAgeAlarmSeconds=86400).properties("NewsletterSendQueueAgeAlarm")["Threshold"]
        == 86400
    )
