"""The deployment package works as Lambda runs it, and ships every module it imports.

The package is built as a deploy builds it (`zappa package prod` from the
deploy virtualenv, infra/deployenv.py), unzipped outside the repository and
run by tests/deploy/lambda_runtime.py in a Python whose `sys.path` is the package,
the function's layer (infra/layers.py: psycopg, as under /opt/python) and the AWS
SDK only, as on Lambda's python3.11 runtime. Real-shaped API
Gateway proxy events go through Zappa's `handler.lambda_handler`, against
moto server (tables, bucket, the stage's secrets in SSM), and so does S3's
notification of a photo upload, routed by Zappa to the bound thumbnail
handler, which makes its renditions with the package's Pillow.

The development virtualenv has every library's `.dist-info` metadata and
every module; the package has what `zappa_settings.json`'s `exclude` and
`exclude_glob` leave. These tests are what notices the difference: a
library that finds its extensions or its version through metadata, or a
lazy `import` of a module the package leaves out.
"""

import base64
import dis
import fnmatch
import io
import json
import marshal
import subprocess
import types
import zipfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote_plus

import boto3
import pytest
from PIL import Image

from devstack import services, system
from infra import deployenv, layers, stage_settings
from tests import image_fixtures as images

pytestmark = pytest.mark.deploy_rehearsal

REPO = Path(__file__).resolve().parents[2]
STAGE = "prod"
ACCOUNT = "123456789012"  # moto's default account, as in the stage's names
# What Lambda's python3.11 runtime provides besides the package: the AWS SDK.
RUNTIME_SDK = ("boto3", "botocore", "s3transfer")
# Shipped modules (or `module:function`) that import a module the package
# leaves out, and why the function never runs them. Anything else that
# imports an excluded module fails test_no_shipped_module_imports_an_excluded_one.
NEVER_RUN_ON_LAMBDA = {
    "zappa/cli": "the zappa command (deploys); the handler never imports it",
    "zappa/cli:ZappaCLI.certify": "`zappa certify` (Let's Encrypt); the package leaves letsencrypt out",
    "zappa/core": "Zappa's deploy-time API client; the handler never imports it",
    "werkzeug/testapp": "Werkzeug's demo application",
    "markdown/__main__": "the markdown command line",
    "zappa/utilities:check_new_version_available": "asks PyPI for a newer Zappa; only the zappa command does",
    # Pillow's optional parts the package leaves out (FreeType text, Tk):
    # each import is guarded and Pillow reports the feature missing.
    "PIL/ImageFont": "imports FreeType inside try/except; MyBlog draws no text",
    "PIL/ImageTk:_pyimagingtkcall": "Tk display; no display on Lambda",
    # Django registers its YAML serializer only when `import yaml` succeeds
    # (django.core.serializers catches the ImportError); nothing serializes YAML.
    "django/core/serializers/pyyaml": "Django's optional YAML serializer",
    # Django calls an expression's as_<vendor>() only on that vendor's database, and the
    # package leaves out the backends MyBlog never uses (Oracle, MySQL).
    "django/db/models/functions/mixins:FixDurationInputMixin.as_oracle": "SQL for Oracle only",
}
# The editors' database backend: Django refuses psycopg when it cannot read
# psycopg's version, which comes from the package metadata.
POSTGRESQL_BACKEND = "django.db.backends.postgresql.base"
# Pillow's AVIF codec (its extension and the libavif it links): the photo handler encodes with it.
AVIF_CODEC = "PIL._avif"
# What the photo handler encodes AVIF with: Pillow's encoder object, driven directly (and the C library's malloc_trim).
AVIF_ENCODER = "photos.avif"
# A phone's portrait photo (upright size; stored landscape with EXIF orientation 6), uploaded to the stage's
# media bucket.
PHOTO_KEY = "media/originals/2026/12/package-test.jpg"
PHOTO_SIZE = (1800, 2400)
FENCED_POST = {
    "slug": "fenced-code",
    "title": "Fenced code",
    "excerpt": "A post with a code block and a table.",
    "body": "Some code:\n\n```python\nprint('hello')\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n\"Quoted\" -- text.\n",
    "tags": ["python"],
    "status": "published",
    "user": "editor",
}


@dataclass
class Package:
    venv: Path
    zip_path: Path
    task: Path
    sdk: Path
    work: Path
    opt: Path  # the function's layer, unpacked as Lambda unpacks it under /opt


def stage_config():
    return stage_settings.stage_config(stage_settings.load(REPO / "zappa_settings.json"), STAGE)


@pytest.fixture(scope="module")
def package(lambda_package, tmp_path_factory):
    """The session's `zappa package prod` zip, unzipped outside the repository."""
    venv = deployenv.ensure(log=lambda line: None)
    work = tmp_path_factory.mktemp("lambda-task")
    assert not work.resolve().is_relative_to(REPO)
    zip_path = lambda_package
    task, sdk = work / "task", work / "runtime-sdk"
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(task)
    sdk.mkdir()
    for name in RUNTIME_SDK:
        (sdk / name).symlink_to(deployenv.site_packages(venv) / name)
    layer_zip = layers.build(work / "layer.zip", venv, log=lambda line: None)
    with zipfile.ZipFile(layer_zip) as archive:
        archive.extractall(work / "opt")
    return Package(venv, zip_path, task, sdk, work, work / "opt")


@pytest.fixture(scope="module")
def moto_endpoint(package):
    """moto server with what the stage expects to find: its secrets in SSM and its media bucket."""
    server = services.moto_server(system.free_port(), log_path=package.work / "moto.log").start()
    try:
        environment = stage_config()["environment_variables"]
        session = boto3.Session(aws_access_key_id="local", aws_secret_access_key="local", region_name="us-east-1")
        ssm = session.client("ssm", endpoint_url=server.endpoint)
        path = environment["MYBLOG_SSM_PARAMETERS_PATH"]
        secrets = {
            "DJANGO_SECRET_KEY": "package-test-" + "k" * 50,
            "DATABASE_URL": f"sqlite:///{package.work / 'editors.sqlite3'}",
        }
        for name, value in secrets.items():
            ssm.put_parameter(Name=path + name, Value=value, Type="SecureString")
        session.client("s3", endpoint_url=server.endpoint).create_bucket(Bucket=environment["MYBLOG_MEDIA_BUCKET"])
        yield server.endpoint
    finally:
        server.stop()


def run_package(package, endpoint, events, seed=(), imports=()):
    """Run `events` through the package's handler in a Lambda-like process; returns its answer."""
    request_path = package.work / "request.json"
    request_path.write_text(
        json.dumps(
            {
                # moto has no DAX data plane: the function reads DynamoDB directly.
                "environment": {"MYBLOG_DAX_ENDPOINT": None},
                "seed": list(seed),
                "events": events,
                "imports": list(imports),
            }
        )
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "HOME": str(package.work),
        "PYTHONDONTWRITEBYTECODE": "1",  # Lambda's code directory is read-only
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_LAMBDA_FUNCTION_NAME": stage_settings.lambda_name(stage_config(), STAGE),
        "LAMBDA_TASK_ROOT": str(package.task),
    }
    result = subprocess.run(
        [
            str(package.venv / "bin" / "python"),
            "-I",  # no PYTHON* variables, no script directory on sys.path
            "-S",  # no site-packages
            str(Path(__file__).with_name("lambda_runtime.py")),
            str(package.task),
            str(package.sdk),
            str(request_path),
            str(package.opt),
        ],
        cwd=package.task,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-5000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def proxy_event(method, path, *, body=None, headers=None):
    """An API Gateway REST proxy event as CloudFront -> the regional custom domain sends it."""
    host = stage_config()["environment_variables"]["DJANGO_ALLOWED_HOSTS"].split(",")[0]
    headers = {
        "Accept": "*/*",
        "CloudFront-Viewer-Address": "203.0.113.7:51234",
        "Host": host,
        "User-Agent": "Amazon CloudFront",
        "Via": "2.0 a1b2c3.cloudfront.net (CloudFront)",
        "X-Forwarded-For": "203.0.113.7, 130.176.0.1",
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
        **(headers or {}),
    }
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourceId": "abc123",
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "extendedRequestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "requestTime": "01/Dec/2026:10:00:00 +0000",
            "path": path,
            "accountId": ACCOUNT,
            "protocol": "HTTP/1.1",
            "stage": STAGE,
            "domainPrefix": host.split(".")[0],
            "requestTimeEpoch": 1796119200000,
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "identity": {"sourceIp": "130.176.0.1", "userAgent": "Amazon CloudFront"},
            "domainName": host,
            "apiId": "a1b2c3d4e5",
        },
        "body": body,
        "isBase64Encoded": False,
    }


def s3_client(endpoint):
    return boto3.client(
        "s3", endpoint_url=endpoint, aws_access_key_id="local", aws_secret_access_key="local", region_name="us-east-1"
    )


def uploaded(endpoint, key, data):
    """`data` put in the stage's media bucket, and S3's notification of it (the captured one, pointed at it)."""
    bucket = stage_config()["environment_variables"]["MYBLOG_MEDIA_BUCKET"]
    s3 = s3_client(endpoint)
    s3.put_object(Bucket=bucket, Key=key, Body=data, ContentType="image/jpeg")
    head = s3.head_object(Bucket=bucket, Key=key)
    event = json.loads((REPO / "tests" / "events" / "s3_put.json").read_text())
    record = event["Records"][0]["s3"]
    record["bucket"].update(name=bucket, arn=f"arn:aws:s3:::{bucket}")
    record["object"].update(key=quote_plus(key), eTag=head["ETag"].strip('"'), size=head["ContentLength"])
    return event


@pytest.fixture(scope="module")
def served(package, moto_endpoint):
    """One cold start serving every request the tests below check, in order."""
    slug = FENCED_POST["slug"]
    photo = images.photo_jpeg(PHOTO_SIZE, orientation=6)
    events = {
        "photo": uploaded(moto_endpoint, PHOTO_KEY, photo),
        "page": proxy_event("GET", f"/posts/{slug}/", headers={"Accept": "text/html"}),
        "api": proxy_event("GET", f"/api/posts/{slug}", headers={"Accept": "application/json"}),
        "rss": proxy_event("GET", "/feeds/rss.xml"),
        "subscribe": proxy_event(
            "POST",
            "/api/subscribers",
            body=json.dumps({"email": "reader@bücher.de"}, ensure_ascii=False),
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        ),
        # Requests Django refuses before any view: the API's JSON, the site's own pages.
        "document_write": proxy_event("POST", "/api/openapi.json", headers={"Accept": "application/json"}),
        "api_bad_host": proxy_event("GET", "/api/posts", headers={"Host": "evil..example"}),
        "form_without_token": proxy_event(
            "POST",
            "/subscribe/",
            body="email=reader%40example.com",
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html"},
        ),
    }
    answer = run_package(
        package,
        moto_endpoint,
        list(events.values()),
        seed=[FENCED_POST],
        imports=[POSTGRESQL_BACKEND, AVIF_CODEC, AVIF_ENCODER],
    )
    return {**dict(zip(events, answer["responses"], strict=True)), **answer}


def body_of(response):
    body = response["body"]
    return base64.b64decode(body).decode() if response["isBase64Encoded"] else body


def test_post_page_renders_its_markdown_extensions(served):
    page = served["page"]
    assert page["statusCode"] == 200, body_of(page)[:3000]
    html = body_of(page)
    assert '<code class="language-python">' in html  # fenced_code
    assert "<table>" in html  # tables
    assert "\u201cQuoted\u201d \u2013 text." in html  # smarty


def test_post_api_answers_the_rendered_post(served):
    api = served["api"]
    assert api["statusCode"] == 200, body_of(api)[:3000]
    data = json.loads(body_of(api))
    assert data["slug"] == FENCED_POST["slug"]
    assert '<code class="language-python">' in data["body_html"]


def test_rss_feed_carries_the_post(served):
    rss = served["rss"]
    assert rss["statusCode"] == 200, body_of(rss)[:3000]
    feed = body_of(rss)
    assert "&lt;code class=&quot;language-python&quot;&gt;" in feed or '&lt;code class="language-python"&gt;' in feed
    assert f"https://blog.example.com/posts/{FENCED_POST['slug']}/" in feed


def test_sign_up_with_an_international_domain(served, moto_endpoint):
    answer = served["subscribe"]
    assert answer["statusCode"] == 202, body_of(answer)[:3000]
    assert json.loads(body_of(answer))["status"] == "accepted"
    table = f"{stage_config()['environment_variables']['MYBLOG_TABLE_PREFIX']}subscribers"
    client = boto3.client(
        "dynamodb",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    item = client.get_item(TableName=table, Key={"email": {"S": "reader@xn--bcher-kva.de"}})
    assert item.get("Item", {}).get("status") == {"S": "pending"}


def test_the_editors_postgresql_backend_loads_from_the_layer(served):
    assert served["imports"][POSTGRESQL_BACKEND] == "ok"


def test_the_thumbnail_handler_makes_every_rendition_of_an_upload(served, moto_endpoint):
    assert served["photo"] == {"result": {"processed": [PHOTO_KEY]}}
    bucket = stage_config()["environment_variables"]["MYBLOG_MEDIA_BUCKET"]
    s3 = s3_client(moto_endpoint)
    listing = s3.list_objects_v2(Bucket=bucket, Prefix="media/renditions/2026/12/package-test/")
    keys = sorted(item["Key"].rsplit("/", 1)[1] for item in listing.get("Contents", []))
    assert keys == sorted(f"{width}.{ext}" for width in (1800, 1280, 960, 640, 320) for ext in ("jpg", "webp", "avif"))
    for ext, fmt in (("jpg", "JPEG"), ("webp", "WEBP"), ("avif", "AVIF")):
        data = s3.get_object(Bucket=bucket, Key=f"media/renditions/2026/12/package-test/1800.{ext}")["Body"].read()
        rendition = Image.open(io.BytesIO(data))
        rendition.load()
        assert (rendition.format, rendition.size) == (fmt, (1800, 2400))  # upright
        marker = rendition.convert("RGB").getpixel((2, 2))  # the scene's top-left marker, where it belongs
        assert all(abs(got - want) <= 40 for got, want in zip(marker, images.RED, strict=True)), marker
        assert not rendition.getexif()


def test_the_package_carries_pillows_avif_encoder(served, package):
    assert served["imports"][AVIF_CODEC] == "ok"
    assert served["imports"][AVIF_ENCODER] == "ok"
    assert list((package.task / "pillow.libs").glob("libavif-*"))


def test_the_package_carries_the_time_zone_database(package):
    """Editors' zones (`posts.editor_zone`) resolve whatever tz database the Lambda runtime has or lacks."""
    assert (package.task / "tzdata" / "zoneinfo" / "America" / "New_York").is_file()


def test_psycopg_is_in_the_layer_not_the_package(package):
    assert not [path.name for path in package.task.iterdir() if path.name.startswith("psycopg")]
    assert (package.opt / "python" / "psycopg" / "__init__.pyc").exists()
    assert list((package.opt / "python" / "psycopg_binary.libs").glob("libpq-*"))


def test_the_handler_never_imports_zappas_deploy_modules(served):
    # What NEVER_RUN_ON_LAMBDA says of zappa.cli and zappa.core.
    assert not {"zappa.cli", "zappa.core"} & set(served["modules"])


def test_the_function_imports_nothing_from_outside_the_package_and_the_sdk(served):
    assert served["outside"] == []


# --- what the package leaves out --------------------------------------------------
def module_names(root, top_level=None):
    """Dotted names of the modules and packages under `root` (only `top_level` entries, if given)."""
    names = set()
    entries = [root / name for name in top_level] if top_level is not None else list(root.iterdir())
    for entry in entries:
        for path in [entry, *entry.rglob("*")] if entry.is_dir() else [entry]:
            parts = list(path.relative_to(root).parts)
            if path.is_file() and path.suffix in (".py", ".pyc", ".so"):
                parts[-1] = parts[-1].split(".")[0]
                if parts[-1] == "__init__":
                    parts.pop()
            elif not path.is_dir():
                continue
            if parts and all(part.isidentifier() for part in parts):
                names.add(".".join(parts))
    return names


def project_top_level():
    """The repository's own top-level modules and packages (what `zappa package` copies from the project)."""
    return [
        path.name
        for path in REPO.iterdir()
        if not path.name.startswith(".")
        and path.name not in ("var", "node_modules")
        and ((path.is_dir() and (path / "__init__.py").exists()) or path.suffix == ".py")
    ]


def imported_modules(code, package):
    """(function qualname, module) for each module `code` may import, function-level imports included.

    Relative imports are resolved against `package`; `from x import y`
    yields `x.y` too, since `y` may be a submodule.
    """
    instructions = list(dis.get_instructions(code))
    for index, instruction in enumerate(instructions):
        if instruction.opname != "IMPORT_NAME":
            continue
        level = instructions[index - 2].argval
        fromlist = instructions[index - 1].argval or ()
        if level:
            base = package[: len(package) - level + 1]
            name = ".".join([*base, instruction.argval] if instruction.argval else base)
        else:
            name = instruction.argval
        yield code.co_qualname, name
        for item in fromlist:
            if item != "*":
                yield code.co_qualname, f"{name}.{item}"
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            yield from imported_modules(constant, package)


def shipped_modules(task):
    """(module path, its package as a list, code object) for every module in the unzipped package."""
    for path in sorted(task.rglob("*.py*")):
        relative = path.relative_to(task)
        if "__pycache__" in relative.parts:
            continue
        if path.suffix == ".pyc":
            code = marshal.loads(path.read_bytes()[16:])  # noqa: S302 - the package's own bytecode
        elif path.suffix == ".py" and not path.with_suffix(".pyc").exists():
            code = compile(path.read_bytes(), str(relative), "exec")
        else:
            continue
        parts = list(relative.with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
            package = parts
        else:
            package = parts[:-1]
        yield "/".join(parts), package, code


def excluded_top_level_names(venv):
    """Top-level modules of the deploy virtualenv that the stage's `exclude` names."""
    site = deployenv.site_packages(venv)
    return {
        pattern
        for pattern in stage_config()["exclude"]
        if pattern.isidentifier() and (any(site.glob(pattern)) or any(site.glob(f"{pattern}.*")))
    }


def test_no_shipped_module_imports_one_the_package_leaves_out(package):
    """What `exclude` removed from the deploy virtualenv and the project, no shipped code imports."""
    shipped = module_names(package.task) | module_names(package.opt / "python")  # the layer's too
    left_out = module_names(deployenv.site_packages(package.venv)) | module_names(REPO, project_top_level())
    left_out = {name for name in left_out - shipped if name.split(".")[0] not in RUNTIME_SDK}
    assert "idna" not in left_out  # subscribers.services and urllib3 import it for international domains
    offenders = {}
    for module, package_parts, code in shipped_modules(package.task):
        if module in NEVER_RUN_ON_LAMBDA:
            continue
        wanted = sorted(
            {
                name
                for function, name in imported_modules(code, package_parts)
                if name in left_out and f"{module}:{function}" not in NEVER_RUN_ON_LAMBDA
            }
        )
        if wanted:
            offenders[module] = wanted
    assert offenders == {}


def test_modules_left_out_are_really_left_out(package):
    # Otherwise the exclude list no longer says what the package holds.
    shipped = {path.name for path in package.task.iterdir()}
    for name in excluded_top_level_names(package.venv):
        assert name not in shipped, name
    for name in NEVER_RUN_ON_LAMBDA:
        module = name.split(":")[0]
        assert (package.task / f"{module}.pyc").exists() or (package.task / f"{module}.py").exists(), name


def test_every_shipped_library_keeps_its_metadata(package):
    """importlib.metadata works in the package: versions (psycopg, which Django's backend checks) and entry points."""
    shipped = {path.name for path in package.task.iterdir()}
    metadata = {name for name in shipped if name.endswith(".dist-info")}
    for distribution in ("django", "markdown", "pynamodb", "pillow", "nh3", "idna"):
        (found,) = [name for name in metadata if name.lower().startswith(f"{distribution}-")]
        assert (package.task / found / "METADATA").exists(), found
    # psycopg's metadata is in its layer, with it.
    in_layer = {path.name for path in (package.opt / "python").iterdir()}
    for distribution in ("psycopg", "psycopg_binary"):
        (found,) = [name for name in in_layer if name.lower().startswith(f"{distribution}-")]
        assert (package.opt / "python" / found / "METADATA").exists(), found
    # No metadata of a distribution the package leaves out.
    excluded = stage_config()["exclude"]
    assert not [name for name in metadata if any(fnmatch.fnmatch(name, pattern) for pattern in excluded)]
    for name in metadata:
        top_level = package.task / name / "top_level.txt"
        if top_level.exists():
            for module in top_level.read_text().split():
                assert module in shipped or f"{module}.pyc" in shipped or f"{module}.py" in shipped, (name, module)


def test_refused_requests_answer_json_under_the_api_and_the_sites_pages_elsewhere(served):
    for name, status, code in (("document_write", 405, "method_not_allowed"), ("api_bad_host", 400, "bad_request")):
        answer = served[name]
        assert answer["statusCode"] == status, body_of(answer)[:3000]
        assert json.loads(body_of(answer))["error"]["code"] == code
    refused = served["form_without_token"]
    assert refused["statusCode"] == 403, body_of(refused)[:3000]
    page = body_of(refused)
    assert "The form could not be sent" in page and 'class="site-header"' in page
