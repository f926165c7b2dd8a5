"""The function's IAM role, locally: created from infra/myblog.yaml, assumed through STS, evaluated by moto.

On AWS the Lambda service assumes the template's `LambdaRole` and hands the
function temporary credentials; every call the code makes is checked
against the role's policies. Locally:

- `function_role()` renders the role (name, trust policy, inline policies)
  from the template itself for the local stage, with the stack's own
  distribution id and queue ARN where the template refers to resources;
- `bootstrap()` creates, on moto server still open to anyone, an admin user
  for the stack's own set-up, the function role, and a session of that role
  (the credentials the local Lambda runtime gets), then turns moto's
  authentication on (moto's INITIAL_NO_AUTH_ACTION_COUNT set to 0 through
  its /moto-api/reset-auth): from then on every request needs a known key
  and is checked against its policies;
- `PolicyEvaluator` answers "may the role do this action on this resource"
  with moto's own policy evaluation (moto.iam.access_control), for the
  engines that enforce nothing (DynamoDB Local, through
  devstack/dynamodb_proxy.py), and lists the grants no recorded call used.
"""

import json
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ACCOUNT = "123456789012"  # moto's default account
ADMIN_USER = "myblog-local-admin"
ADMIN_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


@dataclass
class Role:
    name: str
    trust_policy: dict
    policies: dict  # policy name -> document

    def arn(self, account=ACCOUNT):
        return f"arn:aws:iam::{account}:role/{self.name}"


def function_role(stage="dev", region="us-east-1", account=ACCOUNT, distribution_id="", template_path=None):
    """The template's LambdaRole for `stage` in `region`, as CloudFormation would create it."""
    import sys

    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from infra import template

    loaded = template.load(template_path) if template_path else template.load()
    attributes = {}
    evaluator = template.Evaluator(
        loaded,
        {"Stage": stage, "HomeRegion": region},
        region=region,
        account=account,
        physical_ids={"Distribution": distribution_id or "local"},
        attributes=attributes,
    )
    # The queues the role may send to, by the names the template gives them.
    for logical_id, resource in loaded["Resources"].items():
        if resource["Type"] == "AWS::SQS::Queue" and "QueueName" in resource.get("Properties", {}):
            name = evaluator.value(resource["Properties"]["QueueName"])
            attributes[(logical_id, "Arn")] = f"arn:aws:sqs:{region}:{account}:{name}"
    properties = evaluator.properties("LambdaRole")
    policies = {policy["PolicyName"]: policy["PolicyDocument"] for policy in properties.get("Policies", [])}
    return Role(properties["RoleName"], properties["AssumeRolePolicyDocument"], policies)


@dataclass
class Credentials:
    access_key_id: str
    secret_access_key: str
    session_token: str = ""

    def as_lambda(self):
        return {
            "AccessKeyId": self.access_key_id,
            "SecretAccessKey": self.secret_access_key,
            "SessionToken": self.session_token,
        }

    def as_environment(self):
        env = {"AWS_ACCESS_KEY_ID": self.access_key_id, "AWS_SECRET_ACCESS_KEY": self.secret_access_key}
        if self.session_token:
            env["AWS_SESSION_TOKEN"] = self.session_token
        return env


@dataclass
class LocalIam:
    admin: Credentials
    function: Credentials
    role: Role
    role_arn: str
    session_arn: str = ""
    notes: list = field(default_factory=list)


def _client(service, endpoint, region, credentials=None):
    import boto3

    credentials = credentials or Credentials("bootstrap", "bootstrap")
    return boto3.session.Session(
        aws_access_key_id=credentials.access_key_id,
        aws_secret_access_key=credentials.secret_access_key,
        aws_session_token=credentials.session_token or None,
        region_name=region,
    ).client(service, endpoint_url=endpoint)


def create_admin(endpoint, region="us-east-1"):
    """The stack's own administrator (for its set-up and the tests), on moto still open to anyone."""
    iam = _client("iam", endpoint, region)
    iam.create_user(UserName=ADMIN_USER)
    iam.put_user_policy(UserName=ADMIN_USER, PolicyName="local-stack-admin", PolicyDocument=json.dumps(ADMIN_POLICY))
    key = iam.create_access_key(UserName=ADMIN_USER)["AccessKey"]
    return Credentials(key["AccessKeyId"], key["SecretAccessKey"])


def bootstrap(endpoint, role, admin=None, region="us-east-1", session_name="myblog-local"):
    """Function role and its session on a fresh moto server; then authentication on.

    `admin` is the administrator `create_admin()` made (one is made when absent).
    """
    admin = admin or create_admin(endpoint, region)
    iam = _client("iam", endpoint, region, admin)
    arn = iam.create_role(RoleName=role.name, AssumeRolePolicyDocument=json.dumps(role.trust_policy))["Role"]["Arn"]
    for name, document in role.policies.items():
        iam.put_role_policy(RoleName=role.name, PolicyName=name, PolicyDocument=json.dumps(document))
    # As the Lambda service does: it assumes the role and hands the function
    # the session (moto checks no trust policy while authentication is off).
    assumed = _client("sts", endpoint, region, admin).assume_role(
        RoleArn=arn, RoleSessionName=session_name, DurationSeconds=43200
    )
    session = assumed["Credentials"]
    function = Credentials(session["AccessKeyId"], session["SecretAccessKey"], session["SessionToken"])
    enable_authentication(endpoint)
    return LocalIam(admin, function, role, arn, assumed["AssumedRoleUser"]["Arn"])


def enable_authentication(endpoint):
    """moto's INITIAL_NO_AUTH_ACTION_COUNT to 0: every request from now on is authenticated and authorised."""
    request = urllib.request.Request(
        f"{endpoint}/moto-api/reset-auth", data=b"0", method="POST", headers={"Content-Type": "text/plain"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - the local moto server
        return json.loads(response.read())


# --- evaluation ---------------------------------------------------------------
@dataclass(frozen=True)
class Grant:
    policy: str
    statement: int
    action: str
    resource: str

    def __str__(self):
        return f"{self.policy}[{self.statement}] {self.action} on {self.resource}"


class PolicyEvaluator:
    """The role's identity policies, evaluated by moto's IAM policy engine."""

    def __init__(self, policies):
        from moto.iam.access_control import IAMPolicy

        self.policies = dict(policies)
        self._compiled = [IAMPolicy(json.dumps(document)) for document in self.policies.values()]

    def allows(self, action, resource):
        """An explicit deny wins; otherwise some statement must allow (IAM's evaluation logic)."""
        from moto.iam.access_control import PermissionResult

        results = [policy.is_action_permitted(action, resource) for policy in self._compiled]
        if PermissionResult.DENIED in results:
            return False
        return PermissionResult.PERMITTED in results

    def grants(self, services=None):
        """Every (action, resource) an Allow statement names, optionally only for some services."""
        found = []
        for name, document in self.policies.items():
            statements = document["Statement"]
            for index, statement in enumerate(statements if isinstance(statements, list) else [statements]):
                if statement.get("Effect") != "Allow":
                    continue
                actions = statement.get("Action", [])
                resources = statement.get("Resource", ["*"])
                for action in [actions] if isinstance(actions, str) else actions:
                    if services and action.split(":", 1)[0] not in services:
                        continue
                    for resource in [resources] if isinstance(resources, str) else resources:
                        found.append(Grant(name, index, action, resource))
        return found

    def unused(self, calls, services=None):
        """The grants no allowed call in `calls` ((action, resource) pairs) fell under."""
        from moto.iam.access_control import IAMPolicyStatement

        unused = []
        for grant in self.grants(services):
            statement = IAMPolicyStatement({"Effect": "Allow", "Action": grant.action, "Resource": grant.resource})
            if not any(
                statement._check_element_matches("Action", action)
                and statement._check_element_matches("Resource", resource)
                for action, resource in calls
            ):
                unused.append(grant)
        return unused
