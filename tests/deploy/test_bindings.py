"""zappa_settings.json: every event binding points at a real handler, bound sanely.

Stages are resolved with Zappa's own `extends` logic, and the runtime
routing table (`AWS_EVENT_MAPPING`) is produced by Zappa's own settings
generator, so these tests see what a deploy would.
"""

import inspect
import json
from pathlib import Path

import pytest
from django.conf import settings
from zappa.cli import ZappaCLI
from zappa.core import Zappa
from zappa.handler import LambdaHandler
from zappa.utilities import import_and_get_function

SETTINGS_FILE = Path(settings.BASE_DIR) / "zappa_settings.json"
EVENTS = Path(__file__).resolve().parents[1] / "events"
STAGES = [name for name, config in json.loads(SETTINGS_FILE.read_text()).items() if name != "base"]


def stage_config(stage):
    cli = ZappaCLI()
    cli.load_settings_file(str(SETTINGS_FILE))
    cli.api_stage = stage
    return cli.stage_config


def all_bindings():
    for stage in STAGES:
        for event in stage_config(stage).get("events", []):
            yield stage, event


BINDINGS = list(all_bindings())


def source_kind(event):
    arn = event.get("event_source", {}).get("arn", "")
    return arn.split(":")[2] if arn else "schedule"


def test_there_are_bindings_to_check():
    functions = {event["function"] for _, event in BINDINGS}
    assert {
        "photos.handlers.make_renditions",
        "posts.handlers.publish_scheduled",
        "subscribers.handlers.send_welcome_emails",
        "subscribers.handlers.record_ses_notifications",
    } <= functions


@pytest.mark.parametrize(("stage", "event"), BINDINGS, ids=[f"{s}:{e['function']}" for s, e in BINDINGS])
def test_binding_points_at_an_importable_handler(stage, event):
    function = import_and_get_function(event["function"])
    parameters = list(inspect.signature(function).parameters.values())
    # Zappa calls fn(event, context) and, on a TypeError, tries fn(event) and
    # fn(): required parameters make those fail before any work is redone.
    assert [p.name for p in parameters] == ["event", "context"]
    assert all(p.default is inspect.Parameter.empty for p in parameters)


@pytest.mark.parametrize(("stage", "event"), [b for b in BINDINGS if source_kind(b[1]) == "s3"])
def test_s3_bindings_filter_with_prefix_and_cannot_retrigger(stage, event):
    source = event["event_source"]
    assert "key_filters" not in source  # ignored by Zappa 0.61+: it would bind the whole bucket
    assert source["prefix"] == settings.MYBLOG_ORIGINALS_PREFIX
    assert not settings.MYBLOG_RENDITIONS_PREFIX.startswith(source["prefix"])
    assert all(name.startswith("s3:ObjectCreated:") for name in source["events"])
    bucket = source["arn"].split(":::", 1)[1]
    assert bucket == stage_config(stage)["environment_variables"]["MYBLOG_MEDIA_BUCKET"]


@pytest.mark.parametrize(("stage", "event"), [b for b in BINDINGS if source_kind(b[1]) == "dynamodb"])
def test_stream_bindings_are_deliberate(stage, event):
    source = event["event_source"]
    assert source["starting_position"] in ("TRIM_HORIZON", "LATEST")
    assert 1 <= source["batch_size"] <= 100
    assert "ReportBatchItemFailures" in source.get("function_response_types", [])
    region = source["arn"].split(":")[3]
    assert region == stage_config(stage)["aws_region"]


def test_each_subscribers_stream_is_bound_in_one_region_only():
    """Each global-table replica has its own stream: two regions would mean two emails."""
    regions = {}
    for stage, event in BINDINGS:
        if event["function"] == "subscribers.handlers.send_welcome_emails":
            table = event["event_source"]["arn"].split(":table/", 1)[1].split("/stream/", 1)[0]
            regions.setdefault(table, set()).add(stage_config(stage)["aws_region"])
    assert regions
    assert all(len(found) == 1 for found in regions.values()), regions


# The batch-job queues (names without MYBLOG_QUEUE_PREFIX): handler, batch size, maximum concurrency.
QUEUES = {
    "newsletter-fanout": ("subscribers.handlers.fan_out_newsletter", 1, 2),
    "newsletter-send": ("subscribers.handlers.send_newsletter", 5, 2),
    "photo-renders": ("photos.handlers.rerender_photos", 5, 5),
    "subscriber-imports": ("subscribers.handlers.import_subscribers", 1, 2),
    "search-index": ("posts.handlers.rebuild_search_index", 10, 2),
}
QUEUE_STAGES = ("dev", "prod", "rehearsal")


def queue_bindings(stage):
    """Queue name (without the stage's prefix) -> its binding's event source."""
    config = stage_config(stage)
    prefix = config["environment_variables"]["MYBLOG_QUEUE_PREFIX"]
    found = {}
    for event in config.get("events", []):
        if source_kind(event) == "sqs":
            name = event["event_source"]["arn"].rsplit(":", 1)[1]
            assert name.startswith(prefix), (stage, name)
            assert name.removeprefix(prefix) not in found, (stage, name)  # one function per queue
            found[name.removeprefix(prefix)] = {"function": event["function"], **event["event_source"]}
    return found


@pytest.mark.parametrize("stage", QUEUE_STAGES)
def test_each_batch_job_queue_is_bound_to_its_handler_as_the_jobs_need(stage):
    config = stage_config(stage)
    bound = queue_bindings(stage)
    assert set(bound) == set(QUEUES)
    for name, (function, batch_size, concurrency) in QUEUES.items():
        source = bound[name]
        region, account = source["arn"].split(":")[3:5]
        assert region == config["aws_region"]
        assert account == config["role_arn"].split(":")[4]
        assert (source["function"], source["batch_size"], source["maximum_concurrency"]) == (
            function,
            batch_size,
            concurrency,
        ), name
        # Handlers answer with batchItemFailures: without this Lambda would redo the whole batch.
        assert source["function_response_types"] == ["ReportBatchItemFailures"]
        assert source.get("enabled", True) is True
        # Lambda's limits for an SQS mapping: at most 10 messages without a batching window,
        # a maximum concurrency of at least 2.
        assert 1 <= source["batch_size"] <= 10 and source["maximum_concurrency"] >= 2
        assert source["batch_window"] in (0, 1)


@pytest.mark.parametrize("stage", QUEUE_STAGES)
def test_the_newsletter_senders_setting_is_the_send_queue_concurrency(stage):
    # The senders share SES's sending rate between them: each paces itself to rate / senders.
    environment = stage_config(stage)["environment_variables"]
    assert (
        int(environment["MYBLOG_NEWSLETTER_SENDERS"])
        == queue_bindings(stage)["newsletter-send"]["maximum_concurrency"]
    )


def test_each_queue_is_consumed_in_one_region_only():
    regions = {}
    for stage, event in BINDINGS:
        if source_kind(event) == "sqs":
            regions.setdefault(event["event_source"]["arn"].rsplit(":", 1)[1], set()).add(
                stage_config(stage)["aws_region"]
            )
    assert regions and all(found == {"us-east-1"} for found in regions.values()), regions
    assert not [event for event in stage_config("prod_eu").get("events", []) if source_kind(event) == "sqs"]


@pytest.mark.parametrize(("stage", "event"), [b for b in BINDINGS if source_kind(b[1]) == "schedule"])
def test_schedules_get_a_rule_name_zappa_can_route_back(stage, event):
    lambda_name = f"{stage_config(stage)['project_name']}-{stage}"
    rule = Zappa.__new__(Zappa).get_scheduled_event_name(event, event["function"], lambda_name)
    assert len(rule) <= 64
    # Zappa's handler finds the function from the rule name in the event's resources.
    assert rule.split("-")[-1] == event["function"]


def zappa_runtime_mapping(stage):
    cli = ZappaCLI()
    cli.load_settings_file(str(SETTINGS_FILE))
    cli.api_stage = stage
    cli.load_settings(str(SETTINGS_FILE))
    namespace = {}
    exec(cli.get_zappa_settings_string(), namespace)  # noqa: S102 - Zappa's generated settings module
    return namespace["AWS_EVENT_MAPPING"]


def test_zappa_routes_captured_events_to_the_bound_handlers():
    """Zappa's generated routing table sends real-shaped records to our functions."""
    mapping = zappa_runtime_mapping("dev")
    router = LambdaHandler.__new__(LambdaHandler)
    router.settings = type("Settings", (), {"AWS_EVENT_MAPPING": mapping})

    s3_record = json.loads((EVENTS / "s3_put.json").read_text())["Records"][0]
    assert router.get_function_for_aws_event(s3_record) == ["photos.handlers.make_renditions"]

    stream_record = json.loads((EVENTS / "dynamodb_stream.json").read_text())["Records"][0]
    assert router.get_function_for_aws_event(stream_record) == ["subscribers.handlers.send_welcome_emails"]

    sns_record = json.loads((EVENTS / "sns_ses_bounce.json").read_text())["Records"][0]
    assert router.get_function_for_aws_event(sns_record) == ["subscribers.handlers.record_ses_notifications"]

    for name, (function, _, _) in QUEUES.items():
        sqs_record = {
            "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
            "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a",
            "body": '{"send": "hello-world", "page": 0, "cursor": null}',
            "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1796198400000"},
            "messageAttributes": {},
            "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
            "eventSource": "aws:sqs",
            "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:myblog-dev-{name}",
            "awsRegion": "us-east-1",
        }
        assert router.get_function_for_aws_event(sqs_record) == [function]
