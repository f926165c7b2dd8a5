"""The deployment package wired to the local emulators as Lambda would run it, under the function's role.

`PackagedFunction` takes a built package (devstack/package.py), the role
session from devstack/iam.py and the emulators' endpoints, and starts:

- the DynamoDB proxy that checks and records the function's calls;
- two execution environments of the function (devstack/lambda_runtime.py),
  one for HTTP and one for events, each holding only the role's
  temporary credentials and the function's configuration: the stage's own
  environment variables are in the package, the values only the running
  stack knows (its loopback URLs, the distribution id) are set here.

`report()` gathers what IAM said: the calls denied by moto (its record, see
devstack/moto_iam.py) or by the proxy, and the role's grants no call used.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

from devstack.dynamodb_proxy import DynamoDBProxy, Recorder
from devstack.iam import PolicyEvaluator
from devstack.lambda_runtime import LambdaFunction, lambda_environment, runtime_sdk
from devstack.stack import LOCAL_SES_SEND_RATE

REGION = "us-east-1"
SECRETS = ("DJANGO_SECRET_KEY", "DATABASE_URL")


def function_configuration(site_url, edge_domain, distribution_id, moto_endpoint, dynamodb_endpoint):
    """The function's environment beyond the package's own: the running stack's values and endpoints."""
    host = site_url.split("://", 1)[1].split(":", 1)[0]
    return {
        "DJANGO_ALLOWED_HOSTS": f"{host},localhost",
        "DJANGO_CSRF_TRUSTED_ORIGINS": site_url,
        "MYBLOG_SITE_URL": site_url,
        "MYBLOG_CLOUDFRONT_DOMAIN": edge_domain,
        "MYBLOG_CLOUDFRONT_PROTOCOL": "http:",
        "MYBLOG_CLOUDFRONT_DISTRIBUTION_ID": distribution_id,
        # Plain HTTP on loopback: no HTTPS redirect, no secure-only cookies.
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_SESSION_COOKIE_SECURE": "0",
        "DJANGO_CSRF_COOKIE_SECURE": "0",
        "DJANGO_SECURE_HSTS_SECONDS": "0",
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_endpoint,
        "AWS_ENDPOINT_URL_DYNAMODB_STREAMS": dynamodb_endpoint,
        "AWS_EC2_METADATA_DISABLED": "true",
        "MYBLOG_SES_MAX_SEND_RATE": LOCAL_SES_SEND_RATE,
    }


@dataclass
class IamReport:
    denied: list = field(default_factory=list)
    unused: list = field(default_factory=list)
    calls: int = 0

    def lines(self):
        found = [f"IAM: {self.calls} calls of the function checked, {len(self.denied)} denied"]
        found += [f"  DENIED {call['action']} on {call['resource']}" for call in self.denied]
        found.append(f"IAM: {len(self.unused)} grants of the function role no call used:")
        found += [f"  unused {grant}" for grant in self.unused]
        return found


class PackagedFunction:
    def __init__(
        self,
        package,
        local_iam,
        dynamodb_upstream,
        moto_endpoint,
        var_dir,
        site_url,
        edge_domain,
        distribution_id,
        moto_record=None,
        proxy_port=0,
        timeout=None,
    ):
        self.package = package
        self.iam = local_iam
        self.dynamodb_upstream = dynamodb_upstream
        self.moto_endpoint = moto_endpoint
        self.var_dir = Path(var_dir)
        self.site_url = site_url
        self.edge_domain = edge_domain
        self.distribution_id = distribution_id
        self.moto_record = Path(moto_record) if moto_record else None
        self.proxy_port = proxy_port
        settings = package.runtime_settings()
        self.name = settings.get("LAMBDA_FUNCTION_NAME") or f"{settings['PROJECT_NAME']}-{settings['API_STAGE']}"
        self.stage = settings["API_STAGE"]
        self.timeout = timeout or 60  # zappa_settings.json timeout_seconds
        self.evaluator = PolicyEvaluator(local_iam.role.policies)
        self.recorder = None
        self.proxy = None
        self.http = None
        self.events = None

    def start(self):
        logs = self.var_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        self.recorder = Recorder(logs / "iam-dynamodb-calls.jsonl")
        self.proxy = DynamoDBProxy(
            self.dynamodb_upstream,
            self.proxy_port,
            self.evaluator,
            self.iam.function.access_key_id,
            self.iam.session_arn,
            self.recorder,
        ).serve_in_thread()
        configuration = function_configuration(
            self.site_url, self.edge_domain, self.distribution_id, self.moto_endpoint, self.proxy.endpoint
        )
        env = lambda_environment(
            self.name, REGION, 1024, self.timeout, self.package.task_dir, configuration, self.iam.function.as_lambda()
        )
        sdk = runtime_sdk()
        task, opt = self.package.task_dir, self.package.opt_dir
        self.http = LambdaFunction(self.name, task, env, sdk, self.timeout, logs / "lambda-http.log", opt_dir=opt)
        self.events = LambdaFunction(self.name, task, env, sdk, self.timeout, logs / "lambda-events.log", opt_dir=opt)
        return self

    def moto_decisions(self):
        if not self.moto_record or not self.moto_record.exists():
            return []
        return [json.loads(line) for line in self.moto_record.read_text().splitlines() if line.strip()]

    def report(self):
        moto = [d for d in self.moto_decisions() if "allowed" in d]
        dynamodb = list(self.recorder.calls) if self.recorder else []
        calls = moto + dynamodb
        denied = [call for call in calls if not call["allowed"]]
        used = [(call["action"], call["resource"]) for call in calls if call["allowed"]]
        return IamReport(denied, self.evaluator.unused(used), len(calls))

    def stop(self):
        for function in (self.http, self.events):
            if function:
                function.stop()
        if self.proxy:
            self.proxy.stop()
