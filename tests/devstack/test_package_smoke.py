"""The deployment package itself, run as Lambda runs it, under the function role's credentials.

The zip is built once per session as a deploy builds it (and reused across
sessions while its content is unchanged, see devstack/package.py), unpacked,
and run by the local Lambda runtime with only the runtime's SDK beside it.
The emulators are DynamoDB Local (behind the IAM-checking proxy) and moto
server with IAM enforced; the stage's tables, bucket, secrets and demo
content are created by an administrator, then every request and event
below goes through Zappa's `handler.lambda_handler` as real-shaped events.
The queue-bound handlers get their messages as Lambda's SQS mappings
deliver them (received and deleted with the role's keys): a reader signs
up, confirms from the welcome email's link, and gets the newsletter of the
post the scheduler publishes next; the search index is rebuilt from its
queue and finds that post; an editor imports a CSV of subscribers from the
admin's page, and an operator's `rerender-photos` job makes every photo's
renditions again.
The module ends by failing on any call the role was denied, and prints the
role's grants nothing used.
"""

import datetime
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path
from urllib.parse import quote_plus, urlencode

import boto3
import pytest
from urllib3 import encode_multipart_formdata

from devstack import iam, mailbox, moto_iam, package, pump, services, system
from devstack.apigateway import ApiGateway
from devstack.packaged import PackagedFunction
from subscribers.services import normalise_email

pytestmark = pytest.mark.package

BASE_DIR = Path(__file__).resolve().parents[2]
EVENTS = Path(__file__).resolve().parents[1] / "events"
REGION, ACCOUNT = "us-east-1", "123456789012"
BUCKET = f"myblog-dev-media-{ACCOUNT}"
STREAM_BINDING = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/myblog-dev-subscribers/stream/2026-01-01T00:00:00.000"
READER = "reader@bücher.de"
# Signs up and confirms before the scheduled post is published: the one its newsletter goes to.
CONFIRMED_READER = "second.reader@example.org"
EDITOR, EDITOR_PASSWORD = "editor", secrets.token_urlsafe(16)

# Run by the administrator, in a process with the stage's names: what infra/
# and a deploy create (tables, bucket, SES identity and configuration set,
# distribution, secrets, static files), then the demo content, dated so that
# the scheduled demo post is due.
ADMIN_SETUP = r"""
import datetime, json, os, django
django.setup()
from django.contrib.auth import get_user_model
from django.core.management import call_command
from myblog import aws
from devstack.stack import bootstrap_aws, create_distribution
from devstack.demo import seed
bootstrap_aws()
aws.client("sesv2").create_configuration_set(ConfigurationSetName="myblog-dev")
distribution = create_distribution(os.environ["MYBLOG_CLOUDFRONT_DOMAIN"])
ssm = aws.client("ssm")
for name in ("DJANGO_SECRET_KEY", "DATABASE_URL"):
    ssm.put_parameter(Name="/myblog/dev/" + name, Value=os.environ["SECRET_" + name], Type="SecureString")
call_command("migrate", interactive=False, verbosity=0)
call_command("collectstatic", interactive=False, verbosity=0)
get_user_model().objects.create_superuser(os.environ["EDITOR"], "editor@example.org", os.environ["EDITOR_PASSWORD"])
seed(now=datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=8))
print(json.dumps({"distribution": distribution}))
"""


@pytest.fixture(scope="session")
def built_package():
    """The deployment package for the session, reused while its digest is unchanged."""
    return package.build(log=lambda line: print(line, file=sys.stderr))


def _admin_env(admin, moto, dynamodb, var):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MYBLOG_", "DJANGO_"))}
    env.update(admin.as_environment())
    env.update(
        {
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ENDPOINT_URL": moto,
            "AWS_ENDPOINT_URL_DYNAMODB": dynamodb,
            "AWS_ENDPOINT_URL_DYNAMODB_STREAMS": dynamodb,
            "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
            "MYBLOG_TABLE_PREFIX": "myblog-dev-",
            "MYBLOG_QUEUE_PREFIX": "myblog-dev-",
            "MYBLOG_MEDIA_BUCKET": BUCKET,
            "MYBLOG_STATIC_ON_S3": "1",
            "MYBLOG_CLOUDFRONT_DOMAIN": "127.0.0.1:9",
            "DATABASE_URL": f"sqlite:///{var / 'db.sqlite3'}",
            "SECRET_DJANGO_SECRET_KEY": "package-smoke-" + "k" * 50,
            "SECRET_DATABASE_URL": f"sqlite:///{var / 'db.sqlite3'}",
            "DJANGO_SETTINGS_MODULE": "myblog.settings",
            "EDITOR": EDITOR,
            "EDITOR_PASSWORD": EDITOR_PASSWORD,
        }
    )
    return env


def _operator(admin, moto, dynamodb, var, *args):
    """Run `manage.py *args` as an operator does against the stage (the administrator's keys); its output."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=_admin_env(admin, moto, dynamodb, var),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


@pytest.fixture(scope="module")
def stack(built_package, tmp_path_factory):
    if os.environ.get("CI", "").lower() != "true" and not shutil.which("java"):
        pytest.skip("Java 17 is not installed: DynamoDB Local needs it (always run in CI)")
    var = tmp_path_factory.mktemp("package-smoke")
    started = []
    try:
        dynamodb = services.dynamodb_local(system.free_port(), log_path=var / "dynamodb-local.log").start()
        started.append(dynamodb)
        moto = moto_iam.service(system.free_port(), record=var / "iam-moto.jsonl", log_path=var / "moto.log").start()
        started.append(moto)
        admin = iam.create_admin(moto.endpoint)
        result = subprocess.run(
            [sys.executable, "-c", ADMIN_SETUP],
            cwd=BASE_DIR,
            env=_admin_env(admin, moto.endpoint, dynamodb.endpoint, var),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        distribution = json.loads(result.stdout.strip().splitlines()[-1])["distribution"]
        role = iam.function_role("dev", REGION, ACCOUNT, distribution_id=distribution)
        local_iam = iam.bootstrap(moto.endpoint, role, admin=admin)
        function = PackagedFunction(
            built_package,
            local_iam,
            dynamodb.endpoint,
            moto.endpoint,
            var,
            "http://127.0.0.1:8000",
            "127.0.0.1:9",
            distribution,
            moto_record=var / "iam-moto.jsonl",
        ).start()
        started.append(function)
        gateway = ApiGateway(function.http, "dev", system.free_port()).serve_in_thread()
        started.append(gateway)
        yield Smoke(function, gateway, local_iam, moto.endpoint, dynamodb.endpoint, var)
        report = function.report()
        lines = report.lines()
        (var / "iam-report.txt").write_text("\n".join(lines) + "\n")
        print("\n" + "\n".join(lines))
        assert not report.denied, "\n".join(lines)
    finally:
        for service in reversed(started):
            service.stop()


class Smoke:
    def __init__(self, function, gateway, local_iam, moto, dynamodb, var):
        self.function = function
        self.url = f"http://127.0.0.1:{gateway.server_address[1]}"
        self.iam = local_iam
        self.moto = moto
        self.dynamodb = dynamodb
        self.var = var

    def admin(self, service, endpoint=None):
        return boto3.session.Session(
            region_name=REGION,
            aws_access_key_id=self.iam.admin.access_key_id,
            aws_secret_access_key=self.iam.admin.secret_access_key,
        ).client(service, endpoint_url=endpoint or self.moto)

    def as_function(self, service, endpoint):
        """A client with the role's keys: Lambda's event-source mapping polls streams as the function."""
        keys = self.iam.function
        return boto3.session.Session(
            region_name=REGION,
            aws_access_key_id=keys.access_key_id,
            aws_secret_access_key=keys.secret_access_key,
            aws_session_token=keys.session_token,
        ).client(service, endpoint_url=endpoint)

    def get(self, path, data=None, headers=None):
        request = urllib.request.Request(self.url + path, data=data, headers={"Host": "127.0.0.1", **(headers or {})})
        try:
            response = urllib.request.urlopen(request, timeout=60)
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read().decode(errors="replace")
        return response.status, response.headers, response.read().decode(errors="replace")

    def invoke(self, event):
        result = self.function.events.invoke(event)
        assert not result.failed, result.error
        return result.payload

    def manage(self, *args):
        return _operator(self.iam.admin, self.moto, self.dynamodb, self.var, *args)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """An editor's browser on the stage: it keeps the cookies it is given and sends them back, follows no redirect."""

    def __init__(self, url):
        self.url = url
        self.cookies = {}
        self.opener = urllib.request.build_opener(_NoRedirects)

    def request(self, path, data=None, headers=None):
        cookie = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        headers = {"Host": "127.0.0.1", **({"Cookie": cookie} if cookie else {}), **(headers or {})}
        request = urllib.request.Request(self.url + path, data=data, headers=headers)
        try:
            response = self.opener.open(request, timeout=60)
        except urllib.error.HTTPError as error:
            response = error
        for header in response.headers.get_all("Set-Cookie") or []:
            name, value = header.split(";", 1)[0].split("=", 1)
            self.cookies[name.strip()] = value
        return response.status, response.headers, response.read().decode(errors="replace")

    def post(self, path, fields, form_path=None):
        """Submit the form of `form_path` (default `path`) to `path`, with its CSRF token; `fields` may hold files."""
        status, _, page = self.request(form_path or path)
        assert status == 200, page[:2000]
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        body, content_type = encode_multipart_formdata({"csrfmiddlewaretoken": token, **fields})
        return self.request(path, data=body, headers={"Content-Type": content_type})


def s3_event(bucket, item):
    """S3's ObjectCreated event for a listed object (keys URL-encoded, as S3 sends them)."""
    event = json.loads((EVENTS / "s3_put.json").read_text())
    record = event["Records"][0]
    record["s3"]["bucket"].update({"name": bucket, "arn": f"arn:aws:s3:::{bucket}"})
    record["s3"]["object"].update(
        {"key": quote_plus(item["Key"], safe="/"), "size": item["Size"], "eTag": item["ETag"].strip('"')}
    )
    return event


@pytest.fixture(scope="module")
def renditions(stack):
    """The demo photos' S3 ObjectCreated events, delivered to the package."""
    s3 = stack.admin("s3")
    originals = s3.list_objects_v2(Bucket=BUCKET, Prefix="media/originals/")["Contents"]
    for item in originals:
        stack.invoke(s3_event(BUCKET, item))
    return [item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET, Prefix="media/renditions/")["Contents"]]


def test_s3_object_created_makes_renditions(renditions):
    assert any(key.endswith(".webp") for key in renditions) and any(key.endswith(".jpg") for key in renditions)


def test_a_seeded_post_with_a_photo_renders(stack, renditions):
    status, _, body = stack.get("/posts/hello-serverless-world/")
    assert status == 200, body[:2000]
    assert "<picture" in body and "/media/renditions/" in body


def test_the_post_api_answers_json(stack):
    status, headers, body = stack.get("/api/posts/writing-in-markdown", headers={"Accept": "application/json"})
    assert status == 200, body[:2000]
    assert headers["Content-Type"].startswith("application/json")
    assert json.loads(body)["slug"] == "writing-in-markdown"


@pytest.mark.parametrize(
    "path, marker, text",
    [
        ("/feeds/rss.xml", "<rss", "writing-in-markdown"),
        ("/feeds/atom.xml", "<feed", "writing-in-markdown"),
        ("/feed.json", '"version": "https://jsonfeed.org/version/1.1"', "writing-in-markdown"),
        ("/sitemap.xml", "<sitemapindex", "/sitemaps/posts.xml"),
        ("/sitemaps/posts.xml", "<urlset", "writing-in-markdown"),
    ],
)
def test_feeds_and_sitemap(stack, path, marker, text):
    status, _, body = stack.get(path)
    assert status == 200, body[:2000]
    assert marker in body and text in body


def test_the_admin_login_page(stack):
    status, _, body = stack.get("/admin/login/")
    assert status == 200, body[:2000]
    assert 'name="csrfmiddlewaretoken"' in body


@pytest.fixture(scope="module")
def signed_up(stack):
    return stack.get(
        "/api/subscribers",
        data=json.dumps({"email": READER}).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )


def test_an_international_sign_up(signed_up):
    status, _, body = signed_up
    assert status in (200, 201, 202), body[:2000]


def stream_inserts(stack, email):
    """The subscribers table's INSERT records of `email`, as Lambda's event-source mapping delivers them.

    Read from DynamoDB Local's stream with the role's keys, and filtered as
    the binding's filter (INSERT only) and the binding's stream ARN say.
    """
    streams = stack.as_function("dynamodbstreams", stack.function.proxy.endpoint)
    table = stack.admin("dynamodb", stack.dynamodb).describe_table(TableName="myblog-dev-subscribers")["Table"]
    records = []
    for shard in streams.describe_stream(StreamArn=table["LatestStreamArn"])["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=table["LatestStreamArn"], ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records += streams.get_records(ShardIterator=iterator)["Records"]
    batch = [pump.lambda_stream_record(record, STREAM_BINDING) for record in records]
    return [
        record
        for record in batch
        if pump.passes_filters(record, [{"eventName": ["INSERT"]}])
        and record["dynamodb"]["Keys"]["email"]["S"] == normalise_email(email)
    ]


def messages_to(stack, address):
    """The messages moto's SES accepted for `address` (sent to it as the subscribers table keeps it), oldest first."""
    wanted = normalise_email(address)
    return [
        item["message"]
        for item in mailbox.sent_messages(stack.moto)
        if wanted in {recipient.strip().lower() for recipient in str(item["message"]["To"]).split(",")}
    ]


def test_a_stream_batch_sends_the_welcome_email(stack, signed_up):
    assert signed_up[0] in (200, 201, 202)
    batch = stream_inserts(stack, READER)
    assert batch
    assert stack.invoke({"Records": batch}) == {"batchItemFailures": []}
    assert [message["Subject"] for message in messages_to(stack, READER)]


@pytest.fixture(scope="module")
def confirmed_reader(stack):
    """A reader who signed up through the API and pressed the button their welcome email's link opens."""
    status, _, body = stack.get(
        "/api/subscribers",
        data=json.dumps({"email": CONFIRMED_READER}).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    assert status in (200, 201, 202), body[:2000]
    assert stack.invoke({"Records": stream_inserts(stack, CONFIRMED_READER)}) == {"batchItemFailures": []}
    (welcome,) = messages_to(stack, CONFIRMED_READER)
    link = re.search(r"https?://[^/\s]+(/subscribe/confirm/[^/\s]+/)", welcome.get_body(("plain",)).get_content())
    assert link, welcome
    status, headers, page = stack.get(link.group(1))
    assert status == 200, page[:2000]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    cookies = "; ".join(cookie.split(";", 1)[0] for cookie in headers.get_all("Set-Cookie") or [])
    status, _, page = stack.get(
        link.group(1),
        data=urlencode({"csrfmiddlewaretoken": token}).encode(),
        headers={"Cookie": cookies, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status == 200 and "Subscription confirmed" in page, page[:2000]
    return CONFIRMED_READER


def test_an_ses_bounce_notification_suppresses_the_address(stack, signed_up):
    event = json.loads((EVENTS / "sns_ses_bounce.json").read_text())
    message = json.loads(event["Records"][0]["Sns"]["Message"])
    message["bounce"]["bouncedRecipients"] = [{"emailAddress": READER, "status": "5.1.1", "action": "failed"}]
    message["mail"]["destination"] = [READER]
    event["Records"][0]["Sns"]["Message"] = json.dumps(message)
    event["Records"][0]["Sns"]["TopicArn"] = f"arn:aws:sns:{REGION}:{ACCOUNT}:myblog-dev-ses-notifications"
    event["Records"][0]["EventSubscriptionArn"] = event["Records"][0]["Sns"]["TopicArn"] + ":local"
    answer = stack.invoke(event)
    assert [entry["status"] for entry in answer["suppressed"]] == ["bounced"], answer


@pytest.fixture(scope="module")
def published(stack, confirmed_reader):
    """The scheduler's run once the demo's scheduled post is due (a confirmed reader is waiting for it)."""
    assert stack.get("/posts/coming-next-week/")[0] == 404
    event = json.loads((EVENTS / "eventbridge_scheduled.json").read_text())
    event["time"] = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    event["resources"] = [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/myblog-dev-posts.handlers.publish_scheduled"]
    return stack.invoke(event)


def test_the_scheduled_publish_publishes_the_due_post(stack, published):
    assert published["published"] == ["coming-next-week"]
    assert stack.get("/posts/coming-next-week/")[0] == 200


def drain(stack, names, rounds=10):
    """Deliver the visible messages of queues `names` to the function until none is left, as the mappings do.

    Lambda's SQS event-source mapping receives with the function's role,
    invokes with a batch in Lambda's shape (the binding's queue ARN), and
    deletes the messages the answer does not report as failed (see
    devstack/pump.py, which runs the mappings of the local stack). Every
    message must be handled. Returns how many messages each queue delivered.
    """
    sqs = stack.as_function("sqs", stack.moto)
    urls = {name: sqs.get_queue_url(QueueName=f"myblog-dev-{name}")["QueueUrl"] for name in names}
    delivered = dict.fromkeys(names, 0)
    for _ in range(rounds):
        moved = False
        for name, url in urls.items():
            messages = pump.receive_sqs_batch(sqs, url, wait_seconds=0)
            if not messages:
                continue
            queue_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:myblog-dev-{name}"
            failed = pump.deliver_sqs_batch(
                sqs, url, queue_arn, messages, stack.invoke, region=REGION, response_types=["ReportBatchItemFailures"]
            )
            assert not failed, f"{len(failed)} of {len(messages)} messages of {name} failed (see the log)"
            delivered[name] += len(messages)
            moved = True
        if not moved:
            break
    return delivered


def test_the_published_post_is_emailed_to_the_confirmed_reader_through_the_queues(stack, published, confirmed_reader):
    """What the confirmation page promises: one email for each new post, from the next one on."""
    delivered = drain(stack, ("newsletter-fanout", "newsletter-send"))
    assert delivered["newsletter-fanout"] >= 1 and delivered["newsletter-send"] >= 1, delivered
    subjects = [str(message["Subject"]) for message in messages_to(stack, confirmed_reader)]
    assert any("Coming next week" in subject for subject in subjects), subjects
    assert not any("Coming next week" in str(message["Subject"]) for message in messages_to(stack, READER))


def test_the_search_index_rebuilt_from_its_queue_finds_the_published_post(stack, published):
    assert drain(stack, ("search-index",))["search-index"] >= 1
    status, _, body = stack.get("/search/?q=scheduled")
    assert status == 200, body[:2000]
    assert "/posts/coming-next-week/" in body


def test_the_function_cannot_import_the_development_virtualenv(stack):
    for module in ("moto", "devstack", "pytest"):
        assert stack.function.http.probe(f"__import__('importlib.util').util.find_spec({module!r})") is None


def test_the_icons_every_page_links_were_collected(stack):
    """The icons' hashed names, computed from the packaged files, are the files collectstatic uploaded."""
    status, _, body = stack.get("/")
    assert status == 200, body[:2000]
    keys = re.findall(r'<link rel="(?:icon|apple-touch-icon)" href="https?://[^/"]+/(static/[^"]+)"', body)
    assert len(keys) == 2 and all(re.search(r"\.[0-9a-f]{12}\.(svg|png)$", key) for key in keys), keys
    s3 = stack.admin("s3")
    for key in keys:
        assert s3.head_object(Bucket=BUCKET, Key=key)["ContentLength"] > 0, key


@pytest.fixture(scope="module")
def editor(stack):
    """The editor, signed in to the admin through the login form."""
    browser = Browser(stack.url)
    credentials = {"username": EDITOR, "password": EDITOR_PASSWORD}
    status, headers, page = browser.post("/admin/login/?next=/admin/", credentials)
    assert status == 302 and headers["Location"] == "/admin/", page[:2000]
    assert "sessionid" in browser.cookies
    return browser


IMPORTED = "imported.reader@example.org"


def test_an_import_from_the_admin_page_adds_its_rows_through_the_queue(stack, editor):
    """The page stores the file and queues the job as the function; the queue's handler adds the rows."""
    csv = f"email,name\r\n{IMPORTED},Imported Reader\r\nnot-an-address\r\n".encode()
    url = "/admin/subscribers/subscriber/import/"
    status, headers, page = editor.post(url, {"file": ("readers.csv", csv, "text/csv")})
    assert status == 302, page[:2000]
    job_page = headers["Location"]
    assert job_page.startswith(url)

    assert drain(stack, ("subscriber-imports",))["subscriber-imports"] >= 1
    status, _, page = editor.request(job_page)
    assert status == 200, page[:2000]
    assert "<strong>1</strong> done, <strong>0</strong> skipped, <strong>1</strong> failed" in page, page[-3000:]
    # Imported addresses are pending: the stream's INSERT sends them the confirmation email.
    assert stack.invoke({"Records": stream_inserts(stack, IMPORTED)}) == {"batchItemFailures": []}
    (welcome,) = messages_to(stack, IMPORTED)
    assert "/subscribe/confirm/" in welcome.get_body(("plain",)).get_content()


def test_a_rerender_job_makes_every_photos_renditions_again_through_the_queue(stack, renditions):
    """The operator starts the job; the function's fan-out and photo messages make the renditions again."""
    s3 = stack.admin("s3")
    gone = next(key for key in renditions if key.endswith(".avif"))
    s3.delete_object(Bucket=BUCKET, Key=gone)
    job = re.search(r"Started re-render job (\S+)\.", stack.manage("rerender-photos")).group(1)

    delivered = drain(stack, ("photo-renders",))
    photos = stack.admin("dynamodb", stack.dynamodb).scan(TableName="myblog-dev-photos")["Items"]
    ready = [item for item in photos if item["status"]["S"] == "ready"]
    assert ready and delivered["photo-renders"] >= 1 + len(ready), delivered
    assert all(item.get("render_job", {}).get("S") == job for item in ready), photos
    assert s3.head_object(Bucket=BUCKET, Key=gone)["ContentType"] == "image/avif"
    followed = stack.manage("rerender-photos", "--job", job, "--wait", "--timeout", "30", "--interval", "0.5")
    assert f"{job}: done, {len(ready)} of {len(ready)} photos ({len(ready)} rendered" in followed, followed


def test_the_functions_dynamodb_reads_are_parsed_in_one_pass_with_the_runtimes_sdk(stack):
    """myblog.dynamodb_reads overrides a hook of botocore's JSON parser: the runtime's botocore must have it."""
    client = "__import__('posts.models').models.Post._get_connection().connection.client"
    parser = f"{client}._endpoint._response_parser_factory.create_parser('json')"
    found = stack.function.http.probe(
        f"[type({parser}).__name__, '_handle_json_body' in vars(__import__('botocore.parsers').parsers.JSONParser)]"
    )
    assert found == ["ReadParser", True]
