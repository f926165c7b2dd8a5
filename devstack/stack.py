"""The whole local stack, as `manage.py runlocal` runs it.

Order matters and mirrors a deploy: emulators up, then tables, bucket,
batch-job queues, SES identity and CloudFront distribution (as `infra/`
would create them),
then the bucket's saved objects, then the event pump (as Zappa binds the
handlers), then Django and the edge. Everything it starts is a daemon thread
of this process or a child process that dies with it (devstack/processes.py),
stopped in reverse order on Ctrl-C.
"""

import contextlib
import logging
import os
import secrets
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from devstack import services
from myblog import aws

log = logging.getLogger(__name__)


@dataclass
class Ports:
    web: int = 8000
    dynamodb: int = 8001
    moto: int = 8002
    edge: int = 8003

    @classmethod
    def from_base(cls, base):
        return cls(base, base + 1, base + 2, base + 3)


# moto's SES has no GetAccount to read the sending rate from: the newsletter
# senders are given a new production SES account's rate instead.
LOCAL_SES_SEND_RATE = "14"


def local_environment(ports, var_dir):
    """The only difference between the local stack and AWS: endpoints and settings."""
    return {
        "MYBLOG_LOCAL_STACK": "1",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{ports.moto}",
        "AWS_ENDPOINT_URL_DYNAMODB": f"http://127.0.0.1:{ports.dynamodb}",
        "AWS_ENDPOINT_URL_DYNAMODB_STREAMS": f"http://127.0.0.1:{ports.dynamodb}",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "AWS_EC2_METADATA_DISABLED": "true",
        "DJANGO_DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{Path(var_dir).resolve() / 'db.sqlite3'}",
        "MYBLOG_SITE_URL": f"http://127.0.0.1:{ports.web}",
        "MYBLOG_CLOUDFRONT_DOMAIN": f"127.0.0.1:{ports.edge}",
        "MYBLOG_CLOUDFRONT_PROTOCOL": "http:",
        "DJANGO_CSRF_TRUSTED_ORIGINS": f"http://127.0.0.1:{ports.web}",
        "MYBLOG_QUEUE_PREFIX": "myblog-local-",
        "MYBLOG_SES_MAX_SEND_RATE": LOCAL_SES_SEND_RATE,
    }


def _sender_address():
    sender = settings.MYBLOG_SES_SENDER
    return sender.split("<", 1)[1].rstrip(">").strip() if "<" in sender else sender


# Browser uploads POST straight to the bucket (presigned POST) from the admin.
CORS_RULES = [
    {
        "AllowedOrigins": ["*"],
        "AllowedMethods": ["GET", "HEAD", "POST"],
        "AllowedHeaders": ["*"],
        "ExposeHeaders": ["ETag", "Location"],
        "MaxAgeSeconds": 3000,
    }
]


def bootstrap_aws():
    """Create what `infra/` creates in AWS, idempotently. Returns a report."""
    from devstack.queues import ensure_queues
    from devstack.tables import ensure_tables

    report = ensure_tables()
    s3 = aws.client("s3")
    bucket = settings.MYBLOG_MEDIA_BUCKET
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou, s3.exceptions.BucketAlreadyExists):
        s3.create_bucket(Bucket=bucket)
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": CORS_RULES})
    report.append(f"bucket {bucket}")
    report += ensure_queues()
    aws.client("ses").verify_email_identity(EmailAddress=_sender_address())
    report.append(f"SES identity {_sender_address()}")
    return report


def create_distribution(edge_domain):
    """A CloudFront distribution in the emulator, so invalidations are real calls."""
    cloudfront = aws.client("cloudfront")
    result = cloudfront.create_distribution(
        DistributionConfig={
            "CallerReference": f"myblog-local-{time.time()}",
            "Comment": "MyBlog local",
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "media",
                        "DomainName": f"{settings.MYBLOG_MEDIA_BUCKET}.s3.amazonaws.com",
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                    }
                ],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "media",
                "ViewerProtocolPolicy": "redirect-to-https",
                "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
                "MinTTL": 0,
                "TrustedSigners": {"Enabled": False, "Quantity": 0},
            },
        }
    )
    return result["Distribution"]["Id"]


def ensure_superuser(var_dir):
    """The local editor account; its password is kept in var/ and printed."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    password_file = Path(var_dir) / "admin-password.txt"
    User = get_user_model()
    if not password_file.exists() or not User.objects.filter(username="admin").exists():
        password = secrets.token_urlsafe(12)
        user = User.objects.filter(username="admin").first() or User(username="admin", email="admin@myblog.example")
        user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()
        password_file.write_text(password + "\n")
        password_file.chmod(0o600)
    return "admin", password_file.read_text().strip()


@dataclass
class LocalStack:
    var_dir: Path
    ports: Ports
    reload: bool = True
    seed: bool = True
    # Called between steps: raises to cut the start short (runlocal's stop signals).
    check_stop: Callable[[], None] = lambda: None
    children: list = field(default_factory=list)
    threads: list = field(default_factory=list)

    def start(self):
        var = Path(self.var_dir)
        (var / "logs").mkdir(parents=True, exist_ok=True)
        dynamodb = services.dynamodb_local(
            self.ports.dynamodb, db_path=var / "dynamodb", log_path=var / "logs" / "dynamodb-local.log"
        )
        moto = services.moto_server(self.ports.moto, log_path=var / "logs" / "moto.log")
        for service in (dynamodb, moto):
            self._spawn(service)
        for service in (dynamodb, moto):
            service.wait_ready(check=self.check_stop)
        aws.reset_clients()
        for line in bootstrap_aws():
            log.info("bootstrap: %s", line)
        self.check_stop()
        distribution_id = create_distribution(f"127.0.0.1:{self.ports.edge}")
        os.environ["MYBLOG_CLOUDFRONT_DISTRIBUTION_ID"] = distribution_id
        settings.MYBLOG_CLOUDFRONT_DISTRIBUTION_ID = distribution_id

        from devstack.mirror import BucketMirror

        mirror = BucketMirror(settings.MYBLOG_MEDIA_BUCKET, var / "s3")
        restored = mirror.restore()
        if restored:
            print(f"Restored {restored} objects into the bucket from {var / 's3'}", flush=True)
        mirror.start()
        self.threads.append(mirror)
        self.check_stop()

        self._start_pump()
        self.check_stop()
        self.credentials = ensure_superuser(var)
        seeded_marker = var / "seeded"
        if self.seed and not seeded_marker.exists():
            from devstack.demo import seed

            seed()
            seeded_marker.write_text("demo content created\n")
            print("Created the demo posts.", flush=True)

        self.check_stop()
        self._start_edge()
        self._start_web()
        return self

    def _start_pump(self):
        from devstack.pump import EventPump

        pump = EventPump(stage="dev", work_dir=Path(self.var_dir) / "pump")
        pump.setup()
        pump.start()
        self.threads.append(pump)

    def _start_edge(self):
        from devstack.edge import Edge, serve
        from devstack.mailbox import application as mailbox

        self.edge = serve(Edge(settings.MYBLOG_MEDIA_BUCKET, {"/_mail/": mailbox}), self.ports.edge)

    def _start_web(self):
        args = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "runserver", f"127.0.0.1:{self.ports.web}"]
        if not self.reload:
            args.append("--noreload")
        web = services.Service(
            "Django",
            args,
            self.ports.web,
            log_path=None if self.reload else Path(self.var_dir) / "logs" / "django.log",
        )
        self._spawn(web)
        web.wait_ready(timeout=60, check=self.check_stop)

    def _spawn(self, service):
        """Start a child process and say its PID (tools and tests check that none outlives the stack)."""
        self.children.append(service)
        service.spawn()
        print(f"Starting {service.name} on {service.endpoint} (pid {service.pid}) ...", flush=True)
        self.check_stop()

    def stop(self):
        """Stop what was started, newest first: also after a start cut short by Ctrl-C."""
        for thread in reversed(self.threads):
            try:
                thread.stop()
            except Exception:
                log.exception("stopping %r failed", thread)
        if getattr(self, "edge", None):
            self.edge.shutdown()
            self.edge.server_close()
        for child in reversed(self.children):
            try:
                child.stop()
            except Exception:
                log.exception("stopping %s failed", child.name)
