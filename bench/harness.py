"""What the read-path benchmarks share: an emulated DynamoDB with demo content, Zappa's runtime
settings, and API Gateway events.

- DynamoDB is AWS's DynamoDB Local (the local stack's engine), in memory on a
  free loopback port, started and stopped by the benchmark.
- Zappa's runtime settings come from `zappa save-python-settings-file <stage>`,
  run in an empty directory: Zappa scans its working directory for WebSocket
  handlers, and a virtualenv under the checkout's `var/` would otherwise be
  mistaken for one (a deployment package never contains `var/`).
- The stage's environment variables (table prefix, site URL, ...) are those
  Zappa sets at start-up; the benchmark seeds the tables under that prefix.
  The stage loads secrets from SSM Parameter Store at start-up: that network
  call is skipped here (`MYBLOG_SSM_PARAMETERS_LOADED=1`), it does not depend
  on the code being measured.
- The reference both benchmarks measure in the same run (the machines are
  noisy, so figures are ratios against it): a bare Django + PynamoDB +
  boto3 hello-world whose one view makes one GetItem, served through the
  same Zappa handler with the stage's runtime settings minus its app,
  against the same DynamoDB Local.
"""

import ast
import contextlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
HOST = "dev.blog.example.com"

# Source run at the start of a benchmark's fresh process: it counts PynamoDB's
# DynamoDB calls, imports Zappa's handler and defines a Lambda context.
HANDLER_PROBE = """
import json, sys
from pynamodb.connection import base

calls = []
make_api_call = base.Connection._make_api_call

def counting(self, operation, kwargs):
    calls.append(operation)
    return make_api_call(self, operation, kwargs)

base.Connection._make_api_call = counting
from zappa.handler import lambda_handler

class Context:
    function_name = "bench"
    aws_request_id = "bench"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    def get_remaining_time_in_millis(self):
        return 30000
"""

FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "MYBLOG_SSM_PARAMETERS_LOADED": "1",
}


def zappa_settings(stage, directory):
    """Write Zappa's runtime settings for `stage` to directory/zappa_settings.py; returns its variables."""
    target = Path(directory) / "zappa_settings.py"
    with tempfile.TemporaryDirectory() as empty:
        subprocess.run(
            [
                str(VENV_BIN / "zappa"),
                "save-python-settings-file",
                stage,
                "-s",
                str(ROOT / "zappa_settings.json"),
                "-o",
                str(target),
            ],
            cwd=empty,
            check=True,
            capture_output=True,
        )
    values = {}
    for node in ast.parse(target.read_text()).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            values[node.targets[0].id] = ast.literal_eval(node.value)
    return values


def environment(stage_variables, endpoint, pythonpath):
    """The process environment of a benchmarked Lambda: the stage's variables, the emulator, fake credentials."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "MYBLOG_", "DJANGO_"))}
    # The first run writes the byte-code caches that a deployment package
    # ships (infra/deployenv.py): a shell's PYTHONDONTWRITEBYTECODE would
    # make every measured run compile MyBlog's modules instead.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(stage_variables)
    env.update(FAKE_AWS)
    env["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint
    env["PYTHONPATH"] = os.pathsep.join(str(path) for path in pythonpath)
    return env


@contextlib.contextmanager
def dynamodb_local():
    """AWS's DynamoDB Local in memory on a free port; yields its endpoint."""
    sys.path.insert(0, str(ROOT))
    from devstack import services, system

    log = Path(tempfile.gettempdir()) / "myblog-bench-dynamodb-local.log"
    service = services.dynamodb_local(system.free_port(), log_path=log).start()
    try:
        yield service.endpoint
    finally:
        service.stop()


def seed(env, posts=12):
    """Create MyBlog's tables and demo posts (covers with renditions) in a child process."""
    code = f"""
import django
django.setup()
from datetime import timedelta
from django.utils import timezone
from devstack.tables import ensure_tables
from posts import services
from photos.models import Photo, Rendition

ensure_tables()
now = timezone.now()
for index in range({posts}):
    key = f"media/originals/2026/11/bench-{{index}}.jpg"
    renditions = [
        Rendition(width=w, height=w * 2 // 3, format=f, key=f"media/renditions/2026/11/bench-{{index}}/{{w}}.{{e}}")
        for w in (320, 640, 960, 1280, 1920)
        for f, e in (("jpeg", "jpg"), ("webp", "webp"))
    ]
    Photo(key, status="ready", width=2400, height=1600, renditions=renditions).save()
    body = (
        "## A section\\n\\nSome *Markdown* with a [link](https://example.com), a list:\\n\\n- one\\n- two\\n\\n"
        f"![An inline photo](photo:{{key}})\\n\\n```python\\nprint('hello')\\n```\\n"
    ) * 3
    services.create_post(
        slug=f"post-{{index}}", title=f"Post number {{index}}", body=body, excerpt="An excerpt of the post.",
        tags=["aws", "python"] if index % 2 else ["django"], cover_image=key, cover_alt="A cover photo",
        status="published", publish_at=now - timedelta(days=index + 1), user="bench", now=now,
    )
"""
    child_env = {
        **env,
        "DJANGO_SETTINGS_MODULE": "myblog.settings",
        "MYBLOG_CLOUDFRONT_DISTRIBUTION_ID": "",
        "MYBLOG_SEARCH_AUTO_UPDATE": "0",  # no S3 here: the search index is not what these benchmarks measure
    }
    subprocess.run([sys.executable, "-c", code], env=child_env, cwd=ROOT, check=True)


def api_gateway_event(path, host=HOST, method="GET"):
    """An API Gateway REST (v1) proxy event, as CloudFront forwards a reader's request."""
    headers = {
        "Accept": "text/html,application/xhtml+xml",
        "Accept-Encoding": "gzip, br",
        "CloudFront-Viewer-Address": "203.0.113.10:50123",
        "CloudFront-Forwarded-Proto": "https",
        "Host": host,
        "User-Agent": "Amazon CloudFront",
        "Via": "2.0 abcdef.cloudfront.net (CloudFront)",
        "X-Amz-Cf-Id": "bench-cf-id",
        "X-Forwarded-For": "203.0.113.10, 130.176.0.1",
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
    }
    return {
        "resource": "/{proxy+}" if path != "/" else "/",
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"proxy": path.lstrip("/")} if path != "/" else None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}" if path != "/" else "/",
            "httpMethod": method,
            "path": f"/dev{path}",
            "stage": "dev",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "accountId": "123456789012",
            "apiId": "abc123defg",
            "protocol": "HTTP/1.1",
            "domainName": "abc123defg.execute-api.us-east-1.amazonaws.com",
            "identity": {"sourceIp": "130.176.0.1", "userAgent": "Amazon CloudFront"},
            "requestTimeEpoch": 1_795_000_000_000,
        },
        "body": None,
        "isBase64Encoded": False,
    }


class LambdaContext:
    """The attributes of Lambda's context object that handlers read."""

    function_name = "myblog-dev"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:myblog-dev"
    memory_limit_in_mb = 1024
    aws_request_id = "bench-request"
    log_group_name = "/aws/lambda/myblog-dev"
    log_stream_name = "bench"

    def get_remaining_time_in_millis(self):
        return 30_000


def write_event(directory, path):
    target = Path(directory) / "event.json"
    target.write_text(json.dumps(api_gateway_event(path)))
    return target


BARE_SETTINGS = """
SECRET_KEY = "bench-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = []
MIDDLEWARE = []
ROOT_URLCONF = "bare_urls"
DATABASES = {}
USE_TZ = True
"""

BARE_URLS = """
import boto3  # noqa: F401 - the bare app carries boto3 like MyBlog does
from django.http import HttpResponse
from django.urls import path
from pynamodb.attributes import UnicodeAttribute
from pynamodb.models import Model


class Hello(Model):
    class Meta:
        table_name = "bare-hello"
        region = "us-east-1"

    key = UnicodeAttribute(hash_key=True)
    text = UnicodeAttribute()


def hello(request):
    return HttpResponse(Hello.get("hello").text)


urlpatterns = [path("", hello)]
"""

CREATE_BARE_TABLE = """
import django
django.setup()
from bare_urls import Hello
if not Hello.exists():
    Hello.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
Hello("hello", text="hello").save()
"""


def bare_app(directory, app_settings, endpoint):
    """Write the bare app and its Zappa settings to `directory`, create its table; returns its environment.

    Its Zappa settings are the stage's (`app_settings`, as `zappa_settings()`
    returns them) with the bare app's Django settings and no environment
    variables or event bindings, so Zappa does the same work for both apps.
    """
    directory = Path(directory)
    (directory / "bare_settings.py").write_text(BARE_SETTINGS)
    (directory / "bare_urls.py").write_text(BARE_URLS)
    settings = dict(app_settings, DJANGO_SETTINGS="bare_settings", ENVIRONMENT_VARIABLES={}, AWS_EVENT_MAPPING={})
    lines = ["# Zappa's runtime settings for the bare app (the stage's, minus its app)"]
    lines += [f"{name}={value!r}" for name, value in settings.items()]
    (directory / "zappa_settings.py").write_text("\n".join(lines) + "\n")
    env = environment({}, endpoint, [directory])
    env["DJANGO_SETTINGS_MODULE"] = "bare_settings"
    subprocess.run([sys.executable, "-c", CREATE_BARE_TABLE], env=env, cwd=directory, check=True)
    return env


@contextlib.contextmanager
def ssm_parameters(path, parameters):
    """moto server on a free port holding `parameters` (name -> value) under `path`; yields its endpoint.

    What a deployed stage reads at start-up (`myblog.secrets`): a cold start
    measured with it pays the GetParametersByPath round trip, as on Lambda.
    """
    sys.path.insert(0, str(ROOT))
    import boto3

    from devstack import services, system

    log = Path(tempfile.gettempdir()) / "myblog-bench-moto.log"
    service = services.moto_server(system.free_port(), log_path=log).start()
    try:
        client = boto3.client(
            "ssm",
            endpoint_url=service.endpoint,
            region_name="us-east-1",
            aws_access_key_id=FAKE_AWS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_AWS["AWS_SECRET_ACCESS_KEY"],
        )
        for name, value in parameters.items():
            client.put_parameter(Name=path + name, Value=value, Type="SecureString", Overwrite=True)
        yield service.endpoint
    finally:
        service.stop()


def with_ssm(env, endpoint):
    """`env` loading its secrets from the SSM emulator at `endpoint` at start-up (none of them preset)."""
    preset = ("MYBLOG_SSM_PARAMETERS_LOADED", "DJANGO_SECRET_KEY")
    env = {key: value for key, value in env.items() if key not in preset}
    env["AWS_ENDPOINT_URL_SSM"] = endpoint
    return env


def both_apps(work, stage, endpoint):
    """MyBlog (seeded) and the bare reference app, side by side under `work`.

    Returns MyBlog's environment, and the bare app's directory and
    environment: every benchmark compares the two.
    """
    app_dir, bare_dir = Path(work) / "app", Path(work) / "bare"
    app_dir.mkdir()
    bare_dir.mkdir()
    settings = zappa_settings(stage, app_dir)
    app_env = environment(settings["ENVIRONMENT_VARIABLES"], endpoint, [app_dir, ROOT])
    seed(app_env)
    return app_env, bare_dir, bare_app(bare_dir, settings, endpoint)
