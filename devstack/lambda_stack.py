"""`runlocal`'s default: the local stack serving the deployment package, under the function's role.

The same emulators, bootstrap, mirror, edge and event pump as the source
mode (devstack/stack.py), with what a deploy changes:

- resources carry the `dev` stage's names (the package is the `dev`
  stage's, and the role's policies name `myblog-dev-*`), static files are
  collected to the bucket (`MYBLOG_STATIC_ON_S3`, as a deploy does) and
  the secrets are SSM parameters under the stage's path;
- moto server runs with IAM enforced; the stack itself works with an
  administrator's keys, and the function (devstack/packaged.py) with the
  temporary keys of the template's role, its DynamoDB calls checked by the
  proxy; the IAM report is printed on stop and kept in var/logs/;
- HTTP is served by the local API Gateway on the site's port, events are
  delivered by the pump to the function's execution environment.
"""

import json
import logging
import os
import secrets
from pathlib import Path

from django.conf import settings

from devstack import iam, moto_iam, package, services
from devstack.apigateway import ApiGateway
from devstack.packaged import PackagedFunction
from devstack.stack import LocalStack, bootstrap_aws, create_distribution, ensure_superuser
from myblog import aws

log = logging.getLogger(__name__)

STAGE = "dev"
ACCOUNT = iam.ACCOUNT
# Connections of the event pump's shared clients: at least its workers (see `_function_client`).
POLL_CONNECTIONS = 32


def package_environment(ports, var_dir):
    """The stage's resource names on top of the local endpoints (see local_environment())."""
    return {
        "MYBLOG_TABLE_PREFIX": f"myblog-{STAGE}-",
        "MYBLOG_QUEUE_PREFIX": f"myblog-{STAGE}-",
        "MYBLOG_MEDIA_BUCKET": f"myblog-{STAGE}-media-{ACCOUNT}",
        "MYBLOG_SES_CONFIGURATION_SET": f"myblog-{STAGE}",
        "MYBLOG_STATIC_ON_S3": "1",
    }


class LambdaStack(LocalStack):
    def start(self):
        var = Path(self.var_dir)
        (var / "logs").mkdir(parents=True, exist_ok=True)
        self.package = package.build(log=lambda line: print(line, flush=True))
        dynamodb = services.dynamodb_local(
            self.ports.dynamodb, db_path=var / "dynamodb", log_path=var / "logs" / "dynamodb-local.log"
        )
        moto_record = var / "logs" / "iam-moto-calls.jsonl"
        moto_record.unlink(missing_ok=True)
        moto = moto_iam.service(self.ports.moto, record=moto_record, log_path=var / "logs" / "moto.log")
        for service in (dynamodb, moto):
            self._spawn(service)
        for service in (dynamodb, moto):
            service.wait_ready(check=self.check_stop)

        admin = iam.create_admin(moto.endpoint)
        os.environ.update(admin.as_environment())
        aws.reset_clients()
        for line in bootstrap_aws():
            log.info("bootstrap: %s", line)
        aws.client("sesv2").create_configuration_set(ConfigurationSetName=settings.MYBLOG_SES_CONFIGURATION_SET)
        distribution_id = create_distribution(f"127.0.0.1:{self.ports.edge}")
        os.environ["MYBLOG_CLOUDFRONT_DISTRIBUTION_ID"] = distribution_id
        settings.MYBLOG_CLOUDFRONT_DISTRIBUTION_ID = distribution_id
        self._put_secrets(var)
        self.check_stop()

        from devstack.mirror import BucketMirror

        mirror = BucketMirror(settings.MYBLOG_MEDIA_BUCKET, var / "s3-package")
        restored = mirror.restore()
        if restored:
            print(f"Restored {restored} objects into the bucket from {var / 's3-package'}", flush=True)
        self._collect_static()
        mirror.start()
        self.threads.append(mirror)
        self.check_stop()

        role = iam.function_role(STAGE, settings.AWS_REGION, ACCOUNT, distribution_id=distribution_id)
        self.iam = iam.bootstrap(moto.endpoint, role, admin=admin, region=settings.AWS_REGION)
        print(f"IAM enforced on moto server; the function holds the keys of {self.iam.session_arn}", flush=True)
        self.function = PackagedFunction(
            self.package,
            self.iam,
            dynamodb.endpoint,
            moto.endpoint,
            var,
            f"http://127.0.0.1:{self.ports.web}",
            f"127.0.0.1:{self.ports.edge}",
            distribution_id,
            moto_record=moto_record,
        ).start()
        self._write_description(var)
        self.check_stop()

        from devstack.pump import EventPump

        pump = EventPump(
            stage=STAGE,
            work_dir=var / "pump-package",
            function=self.function.events,
            streams_client=self._function_client("dynamodbstreams", self.function.proxy.endpoint),
            queues_client=self._function_client("sqs", moto.endpoint),
        )
        pump.setup()
        pump.start()
        self.threads.append(pump)

        self.credentials = ensure_superuser(var)
        seeded_marker = var / f"seeded-{settings.MYBLOG_TABLE_PREFIX.rstrip('-')}"
        if self.seed and not seeded_marker.exists():
            from devstack.demo import seed

            seed()
            seeded_marker.write_text("demo content created\n")
            print("Created the demo posts.", flush=True)

        self.check_stop()
        self._start_edge()
        self.gateway = ApiGateway(self.function.http, self.function.stage, self.ports.web).serve_in_thread()
        print(
            f"Serving {self.package.zip_path} ({self.package.size / 1e6:.1f} MB) through the local API Gateway "
            f"on port {self.ports.web}",
            flush=True,
        )
        return self

    def _function_client(self, service, endpoint):
        """A client with the function role's keys (what Lambda's event-source mapping uses to poll).

        Every worker of the event pump shares it (each SQS mapping has up to
        its maximum concurrency of them, 13 in all for a stage): its pool
        holds a connection for each, where botocore's default 10 would
        discard one after every poll, with a warning.
        """
        import boto3
        from botocore.config import Config

        keys = self.iam.function
        return boto3.session.Session(
            aws_access_key_id=keys.access_key_id,
            aws_secret_access_key=keys.secret_access_key,
            aws_session_token=keys.session_token,
            region_name=settings.AWS_REGION,
        ).client(service, endpoint_url=endpoint, config=Config(max_pool_connections=POLL_CONNECTIONS))

    def _put_secrets(self, var):
        """What a deploy keeps in SSM Parameter Store: the secret key (kept in var/) and the editors' database."""
        key_file = var / "secret-key.txt"
        if not key_file.exists():
            key_file.write_text(secrets.token_urlsafe(50) + "\n")
            key_file.chmod(0o600)
        path = f"/myblog/{STAGE}/"
        ssm = aws.client("ssm")
        for name, value in (
            ("DJANGO_SECRET_KEY", key_file.read_text().strip()),
            ("DATABASE_URL", os.environ["DATABASE_URL"]),
        ):
            ssm.put_parameter(Name=path + name, Value=value, Type="SecureString", Overwrite=True)

    def _collect_static(self):
        from django.core.management import call_command

        call_command("collectstatic", interactive=False, verbosity=0)

    def _write_description(self, var):
        """What tests and tools need to reach the stack: names and the administrator's keys."""
        description = {
            "mode": "package",
            "bucket": settings.MYBLOG_MEDIA_BUCKET,
            "table_prefix": settings.MYBLOG_TABLE_PREFIX,
            "admin": self.iam.admin.as_environment(),
            "package": str(self.package.zip_path),
        }
        target = var / "stack.json"
        target.write_text(json.dumps(description, indent=1))
        target.chmod(0o600)

    def iam_report(self):
        report = self.function.report()
        lines = report.lines()
        (Path(self.var_dir) / "logs" / "iam-report.txt").write_text("\n".join(lines) + "\n")
        return lines

    def stop(self):
        try:
            if getattr(self, "function", None) is not None:
                for line in self.iam_report():
                    print(line, flush=True)
        except Exception:
            log.exception("the IAM report failed")
        if getattr(self, "gateway", None):
            self.gateway.stop()
        super().stop()
        if getattr(self, "function", None) is not None:
            self.function.stop()
