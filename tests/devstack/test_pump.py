"""The local event pump on real emulators: moto server and DynamoDB Local.

Events flow as on AWS: an upload to the bucket, a row in the subscribers
table, an SNS message; the pump turns them into Lambda event JSON and runs
them through Zappa's own `lambda_handler` with the dev stage's bindings.
"""

import dataclasses
import hashlib
import json
import logging
import sqlite3
import time
import urllib.request
from contextlib import closing
from email.message import EmailMessage
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from devstack import mailbox, pump, services, system
from devstack import queues as local_queues
from devstack.tables import ensure_tables
from myblog import aws as myblog_aws
from myblog import queues
from photos.models import Photo
from photos.status import PHOTO_READY
from posts import services as post_services
from posts.models import Post
from posts.rules import PUBLISHED, SCHEDULED
from subscribers import services as subscriber_services
from subscribers.models import BOUNCED, Subscriber
from tests import image_fixtures as images
from tests.devstack import sqs_handlers
from tests.devstack.stack import wait_for

pytestmark = pytest.mark.dynamodb_local

EVENTS = Path(__file__).parent.parent / "events"


@pytest.fixture(scope="module")
def moto_endpoint(tmp_path_factory):
    log_path = tmp_path_factory.mktemp("moto") / "moto.log"
    service = services.moto_server(system.free_port(), log_path=log_path).start()
    yield service.endpoint
    service.stop()


def use_dynamodb(endpoint, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", endpoint)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB_STREAMS", endpoint)
    myblog_aws.reset_clients()


def prepare_emulators(moto_endpoint, dynamodb_endpoint, monkeypatch):
    """Fresh tables on DynamoDB Local, a fresh moto server with the bucket and SES identity."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    use_dynamodb(dynamodb_endpoint, monkeypatch)
    urllib.request.urlopen(urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST"), timeout=10)
    dynamodb = myblog_aws.client("dynamodb")
    for name in dynamodb.list_tables()["TableNames"]:
        if name.startswith(settings.MYBLOG_TABLE_PREFIX):
            dynamodb.delete_table(TableName=name)
    ensure_tables()
    local_queues.ensure_queues()
    queues.forget_urls()
    myblog_aws.client("s3").create_bucket(Bucket=settings.MYBLOG_MEDIA_BUCKET)
    myblog_aws.client("sesv2").create_email_identity(EmailIdentity="myblog.example")
    monkeypatch.setattr(settings, "MYBLOG_SES_SENDER", "MyBlog <hello@myblog.example>")


@pytest.fixture
def emulators(moto_endpoint, dynamodb_local_endpoint, monkeypatch):
    prepare_emulators(moto_endpoint, dynamodb_local_endpoint, monkeypatch)
    yield moto_endpoint
    myblog_aws.reset_clients()


@pytest.fixture
def running_pump(emulators, tmp_path):
    event_pump = pump.EventPump(stage="dev", work_dir=tmp_path / "pump", poll_seconds=0.1)
    event_pump.setup()
    event_pump.start()
    yield event_pump
    event_pump.stop()


def binding(event_pump, kind):
    return next(b for b in event_pump.bindings if b.kind == kind)


def test_setup_binds_the_stage_to_local_resources(running_pump, tmp_path):
    kinds = sorted(b.kind for b in running_pump.bindings)
    assert kinds == ["dynamodb", "s3", "schedule", "sns", "sqs", "sqs", "sqs", "sqs", "sqs"]
    assert binding(running_pump, "s3").local_arn == f"arn:aws:s3:::{settings.MYBLOG_MEDIA_BUCKET}"
    stream = binding(running_pump, "dynamodb")
    assert f"table/{settings.MYBLOG_TABLES['subscribers']}/stream/" in stream.local_arn
    queue_bindings = {b.function: b for b in running_pump.bindings if b.kind == "sqs"}
    send = queue_bindings["subscribers.handlers.send_newsletter"]
    assert send.local_arn.endswith(f":{settings.MYBLOG_QUEUE_PREFIX}newsletter-send")
    assert send.visibility_timeout == 360  # the template's: 6 x the function's timeout

    generated = (tmp_path / "pump" / "zappa_settings.py").read_text()
    mapping_line = next(line for line in generated.splitlines() if line.startswith("AWS_EVENT_MAPPING="))
    assert f"arn:aws:s3:::{settings.MYBLOG_MEDIA_BUCKET}" in mapping_line
    assert stream.local_arn in mapping_line
    assert all(b.local_arn in mapping_line for b in queue_bindings.values())
    assert "myblog-dev-media" not in mapping_line and "123456789012:table" not in mapping_line
    assert "myblog-dev-newsletter" not in mapping_line
    assert "DJANGO_SETTINGS='myblog.settings'" in generated  # the rest is Zappa's, untouched

    notification = myblog_aws.client("s3").get_bucket_notification_configuration(Bucket=settings.MYBLOG_MEDIA_BUCKET)
    (queue,) = notification["QueueConfigurations"]
    rules = queue["Filter"]["Key"]["FilterRules"]
    assert [(rule["Name"].lower(), rule["Value"]) for rule in rules] == [("prefix", "media/originals/")]


def test_the_stage_environment_does_not_leak_into_this_process(running_pump):
    import os

    assert os.environ["MYBLOG_TABLE_PREFIX"] == "test-"
    assert "MYBLOG_SSM_PARAMETERS_PATH" not in os.environ
    assert os.environ.get("SERVERTYPE") != "AWS Lambda"


def test_uploaded_photo_gets_renditions(running_pump):
    key = "media/originals/2026/11/from the admin.jpg"
    myblog_aws.client("s3").put_object(
        Bucket=settings.MYBLOG_MEDIA_BUCKET, Key=key, Body=images.photo_jpeg((1400, 1000)), ContentType="image/jpeg"
    )

    def ready():
        try:
            photo = Photo.get(key, consistent_read=True)
        except Photo.DoesNotExist:
            return None
        return photo if photo.status == PHOTO_READY else None

    photo = wait_for(ready, "the photo's renditions")
    assert sorted({int(r.width) for r in photo.renditions}) == [320, 640, 960, 1280, 1400]
    listing = myblog_aws.client("s3").list_objects_v2(
        Bucket=settings.MYBLOG_MEDIA_BUCKET, Prefix=settings.MYBLOG_RENDITIONS_PREFIX
    )
    # JPEG, WebP and AVIF at each of the five widths.
    assert {r.format for r in photo.renditions} == {"jpeg", "webp", "avif"}
    assert len(listing["Contents"]) == len(photo.renditions) == 15


def test_new_subscriber_gets_a_welcome_email_readable_in_the_mailbox(running_pump, emulators):
    subscriber_services.subscribe("reader@example.com")
    app = mailbox.Mailbox(emulators)

    def call(path):
        captured = {}

        def start_response(status, headers):
            captured["status"] = status

        body = b"".join(app({"PATH_INFO": path, "REQUEST_METHOD": "GET"}, start_response)).decode()
        return captured["status"], body

    sent = wait_for(lambda: mailbox.sent_messages(emulators), "the welcome email")
    assert len(sent) == 1
    assert sent[0]["message"]["To"] == "reader@example.com"
    assert Subscriber.get("reader@example.com", consistent_read=True).welcome_sent_at is not None

    status, index = call("/")
    assert status == "200 OK"
    assert "Welcome to" in index and "reader@example.com" in index
    status, detail = call(f"/{sent[0]['id']}/")
    assert status == "200 OK"
    assert "List-Unsubscribe" in detail and "List-Unsubscribe=One-Click" in detail
    assert "/subscribe/confirm/" in detail
    status, raw = call(f"/{sent[0]['id']}/raw")
    assert status == "200 OK" and "List-Unsubscribe-Post" in raw
    assert call("/no-such-id/")[0] == "404 Not Found"


def test_ses_bounce_published_to_the_topic_suppresses_the_subscriber(running_pump):
    subscriber_services.subscribe("reader@example.com")
    wait_for(lambda: Subscriber.get("reader@example.com", consistent_read=True).welcome_sent_at, "the welcome email")
    notification = json.loads((EVENTS / "sns_ses_bounce.json").read_text())["Records"][0]["Sns"]["Message"]
    myblog_aws.client("sns").publish(TopicArn=binding(running_pump, "sns").local_arn, Message=notification)
    wait_for(lambda: Subscriber.get("reader@example.com", consistent_read=True).status == BOUNCED, "the suppression")


def test_schedule_fires_through_zappa_routing(running_pump):
    now = timezone.now()
    post_services.create_post(
        slug="due",
        title="Due",
        status=SCHEDULED,
        publish_at=now - timezone.timedelta(minutes=1),
        now=now - timezone.timedelta(hours=1),
    )
    schedule = binding(running_pump, "schedule")
    assert schedule.interval == 300
    assert schedule.rule_arn.endswith(":rule/myblog-dev-posts.handlers.publish_scheduled")
    assert running_pump.fire_schedule(schedule) == {"published": ["due"]}
    assert Post.get("due").status == PUBLISHED


def test_a_failing_handler_is_retried_then_dropped_and_the_pump_goes_on(running_pump, caplog):
    queue = binding(running_pump, "s3").queue_url
    event = json.loads((EVENTS / "s3_put.json").read_text())
    # Zappa routes by the bucket's ARN; the handler then reads a bucket that does not exist.
    event["Records"][0]["s3"]["bucket"]["name"] = "no-such-bucket"
    event["Records"][0]["s3"]["bucket"]["arn"] = f"arn:aws:s3:::{settings.MYBLOG_MEDIA_BUCKET}"
    myblog_aws.client("sqs").send_message(QueueUrl=queue, MessageBody=json.dumps(event))
    wait_for(lambda: "failed 3 times; event dropped" in caplog.text, "the event to be given up")
    test_uploaded_photo_gets_renditions(running_pump)


def test_stream_partial_failures_are_retried_from_the_failed_record(emulators, tmp_path, monkeypatch):
    event_pump = pump.EventPump(stage="dev", work_dir=tmp_path / "pump").setup()
    stream = binding(event_pump, "dynamodb")
    records = json.loads((EVENTS / "dynamodb_stream.json").read_text())["Records"]
    calls = []

    def invoke(event):
        sequence = [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]
        calls.append(sequence)
        if len(calls) == 1:
            return {"batchItemFailures": [{"itemIdentifier": sequence[1]}]}
        return {"batchItemFailures": []}

    monkeypatch.setattr(event_pump, "invoke", invoke)
    monkeypatch.setattr(pump, "RETRY_DELAY_SECONDS", 0)
    event_pump._deliver_stream(stream, records)
    all_sequences = [r["dynamodb"]["SequenceNumber"] for r in records]
    assert calls == [all_sequences, all_sequences[1:]]


def test_stream_records_are_shaped_as_lambda_delivers_them():
    import datetime

    record = {
        "eventID": "1",
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "ddblocal",
        "dynamodb": {
            "ApproximateCreationDateTime": datetime.datetime(2026, 11, 20, 10, 0, tzinfo=datetime.UTC),
            "Keys": {"email": {"S": "a@example.com"}},
            "SequenceNumber": "000001",
            "SizeBytes": 10,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }
    shaped = pump.lambda_stream_record(record, "arn:aws:dynamodb:ddblocal:000000000000:table/t/stream/x")
    assert shaped["eventSourceARN"] == "arn:aws:dynamodb:ddblocal:000000000000:table/t/stream/x"
    assert shaped["dynamodb"]["ApproximateCreationDateTime"] == 1795168800  # 2026-11-20T10:00:00Z
    json.dumps(shaped)


def test_stream_filter_patterns_select_records_as_lambda_does():
    records = json.loads((EVENTS / "dynamodb_stream.json").read_text())["Records"]
    inserts_only = [{"eventName": ["INSERT"]}]
    assert [r["eventName"] for r in records if pump.passes_filters(r, inserts_only)] == ["INSERT"]
    assert all(pump.passes_filters(r, None) for r in records)
    nested = [{"dynamodb": {"NewImage": {"status": {"S": ["pending"]}}}}]
    assert [r["eventName"] for r in records if pump.passes_filters(r, nested)] == ["INSERT", "MODIFY"]
    operators = [{"eventName": [{"anything-but": ["REMOVE"]}], "dynamodb": {"OldImage": [{"exists": False}]}}]
    assert [r["eventName"] for r in records if pump.passes_filters(r, operators)] == ["INSERT"]
    assert [r["eventName"] for r in records if pump.passes_filters(r, [{"eventName": [{"prefix": "MOD"}]}])] == [
        "MODIFY"
    ]


# --- stream positions: the pump resumes where it stopped, as Lambda's mapping does ------------


def record_stream_deliveries(event_pump, delivered):
    """Note the subscriber of every stream record the pump delivers, then deliver it as usual."""
    invoke = event_pump.invoke

    def recording(event):
        records = event.get("Records", [])
        delivered.extend(
            r["dynamodb"]["Keys"]["email"]["S"] for r in records if r.get("eventSource") == "aws:dynamodb"
        )
        return invoke(event)

    event_pump.invoke = recording
    return event_pump


def start_pump(tmp_path, delivered):
    event_pump = pump.EventPump(stage="dev", work_dir=tmp_path / "pump", poll_seconds=0.1).setup()
    return record_stream_deliveries(event_pump, delivered).start()


def welcomed(address):
    return Subscriber.get(address, consistent_read=True).welcome_sent_at is not None


def welcome_first_subscriber_then_stop(tmp_path, delivered):
    """Run a pump until "first@example.com" is welcomed, then stop it."""
    first = start_pump(tmp_path, delivered)
    try:
        subscriber_services.subscribe("first@example.com")
        wait_for(lambda: welcomed("first@example.com"), "the first welcome email")
    finally:
        first.stop()


def test_a_restarted_pump_does_not_redeliver_what_it_handled(emulators, tmp_path):
    delivered = []
    welcome_first_subscriber_then_stop(tmp_path, delivered)

    second = start_pump(tmp_path, delivered)
    try:
        subscriber_services.subscribe("second@example.com")
        wait_for(lambda: welcomed("second@example.com"), "the second welcome email")
    finally:
        second.stop()
    # Had the second pump read the stream from its start, "first" would come again before "second".
    assert delivered == ["first@example.com", "second@example.com"]
    assert len(mailbox.sent_messages(emulators)) == 2


def test_records_written_while_the_pump_was_stopped_are_delivered_after_a_restart(emulators, tmp_path):
    delivered = []
    welcome_first_subscriber_then_stop(tmp_path, delivered)
    subscriber_services.subscribe("while-stopped@example.com")
    subscriber_services.subscribe("also-while-stopped@example.com")
    assert not welcomed("while-stopped@example.com")

    second = start_pump(tmp_path, delivered)
    try:
        wait_for(lambda: welcomed("also-while-stopped@example.com"), "the welcome emails after the restart")
    finally:
        second.stop()
    assert delivered == ["first@example.com", "while-stopped@example.com", "also-while-stopped@example.com"]
    assert welcomed("while-stopped@example.com")


def poll_until(poller, condition, rounds=10):
    """Drive a stream poller in this thread, one round at a time."""
    for _ in range(rounds):
        if condition():
            return
        poller.poll()
    assert condition()


@pytest.fixture
def idle_pump(emulators, tmp_path):
    """A pump set up but not started: a test drives its pollers itself.

    Set up in a fixture because Zappa's handler configures Django's logging
    again, which takes the test's log capture off the root logger.
    """
    return pump.EventPump(stage="dev", work_dir=tmp_path / "pump").setup()


def test_a_trimmed_iterator_resumes_from_the_oldest_record_without_a_traceback(idle_pump, caplog):
    caplog.set_level(logging.INFO, logger="devstack.pump")
    event_pump = idle_pump
    delivered = []
    record_stream_deliveries(event_pump, delivered)
    poller = pump.StreamPoller(event_pump, binding(event_pump, "dynamodb"))
    assert poller.poll() is False  # the subscribers' shard is empty: its iterator waits at the shard's start
    # DynamoDB Local numbers records across tables: after a write elsewhere, the
    # shard's first record lies past the iterator, which GetRecords calls trimmed.
    post_services.create_post(slug="elsewhere", title="A write to another table")
    subscriber_services.subscribe("reader@example.com")

    poll_until(poller, lambda: delivered)
    assert delivered == ["reader@example.com"]
    assert welcomed("reader@example.com")
    (trimmed,) = [r for r in caplog.records if "reading from its oldest record" in r.getMessage()]
    assert trimmed.levelno == logging.INFO and trimmed.exc_info is None
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_the_starting_position_only_applies_to_a_new_mapping(emulators, tmp_path):
    subscriber_services.subscribe("before@example.com")
    delivered = []

    def latest_poller():
        event_pump = record_stream_deliveries(
            pump.EventPump(stage="dev", work_dir=tmp_path / "pump").setup(), delivered
        )
        stream = binding(event_pump, "dynamodb")
        stream.config = {**stream.config, "starting_position": "LATEST"}
        return pump.StreamPoller(event_pump, stream)

    assert latest_poller().poll() is False  # a new LATEST mapping: "before" is not for it
    subscriber_services.subscribe("after@example.com")  # while no pump runs

    restarted = latest_poller()  # positions saved: LATEST no longer applies
    poll_until(restarted, lambda: delivered)
    restarted.poll()
    assert delivered == ["after@example.com"]


def test_a_stopped_pump_keeps_a_failing_record_for_its_next_start(tmp_path, monkeypatch):
    event_pump = pump.EventPump(stage="dev", work_dir=tmp_path / "pump")
    stream = pump.Binding("subscribers.handlers.send_welcome_emails", "dynamodb", config={"batch_size": 10})
    records = json.loads((EVENTS / "dynamodb_stream.json").read_text())["Records"]
    failing = records[1]["dynamodb"]["SequenceNumber"]

    def invoke(event):
        event_pump.stop()  # stopped while the batch runs: the retry is left to the next start
        return {"batchItemFailures": [{"itemIdentifier": failing}]}

    monkeypatch.setattr(event_pump, "invoke", invoke)
    assert event_pump._deliver_stream(stream, records) == 1  # the first record succeeded, the second was not handled


# --- shard rotation ----------------------------------------------------------------------------


class DiskDynamoDB:
    """DynamoDB Local kept on disk, so a test can stop it, roll its stream's shard over, and start it again."""

    def __init__(self, db_path, log_path):
        self.db_path = db_path
        self.log_path = log_path
        self.service = None

    def start(self):
        self.service = services.dynamodb_local(system.free_port(), db_path=self.db_path, log_path=self.log_path)
        return self.service.start().endpoint

    def stop(self):
        self.service.stop()

    def roll_over(self, stream_arn):
        """Close the stream's open shard at its last record and open its child, as DynamoDB does
        every few hours; done in DynamoDB Local's own database, while it is stopped."""
        (database,) = Path(self.db_path).glob("*.db")
        with closing(sqlite3.connect(database)) as db, db:
            ((parent,),) = db.execute(
                "SELECT ShardID FROM ss WHERE StreamID = ? AND SequenceNumberEnd IS NULL", (stream_arn,)
            )
            ((last_in_shard,),) = db.execute("SELECT MAX(SequenceNumber) FROM us WHERE ShardID = ?", (parent,))
            ((last,),) = db.execute("SELECT MAX(SequenceNumber) FROM us")
            now = int(time.time() * 1000)
            db.execute(
                "UPDATE ss SET SequenceNumberEnd = ?, DeletionDateTime = ? WHERE ShardID = ?",
                (last_in_shard, now, parent),
            )
            child = f"shardId-{now:020d}-0c41d5ad"
            db.execute("INSERT INTO ss VALUES (?, ?, ?, NULL, ?, NULL, ?)", (stream_arn, child, now, last + 1, parent))
        return parent, child


@pytest.fixture
def disk_emulators(moto_endpoint, dynamodb_local_endpoint, tmp_path, monkeypatch):
    """Like `emulators`, on a DynamoDB Local of its own that keeps its data on disk."""
    dynamodb = DiskDynamoDB(tmp_path / "dynamodb", tmp_path / "dynamodb-local.log")
    prepare_emulators(moto_endpoint, dynamodb.start(), monkeypatch)
    yield dynamodb
    dynamodb.stop()
    myblog_aws.reset_clients()


def test_a_closed_shard_is_read_to_its_end_then_its_child(disk_emulators, tmp_path, monkeypatch):
    delivered = []
    first = start_pump(tmp_path, delivered)
    stream_arn = binding(first, "dynamodb").local_arn
    try:
        subscriber_services.subscribe("first@example.com")
        wait_for(lambda: welcomed("first@example.com"), "the first welcome email")
    finally:
        first.stop()
    subscriber_services.subscribe("last-in-parent@example.com")

    disk_emulators.stop()
    parent, child = disk_emulators.roll_over(stream_arn)
    use_dynamodb(disk_emulators.start(), monkeypatch)
    subscriber_services.subscribe("first-in-child@example.com")
    shards = myblog_aws.client("dynamodbstreams").describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
    assert [(s["ShardId"], s.get("ParentShardId")) for s in shards] == [(parent, None), (child, parent)]

    second = start_pump(tmp_path, delivered)
    try:
        wait_for(lambda: welcomed("first-in-child@example.com"), "the welcome email from the child shard")
        subscriber_services.subscribe("next-in-child@example.com")
        wait_for(lambda: welcomed("next-in-child@example.com"), "the next welcome email")
    finally:
        second.stop()
    assert delivered == [
        "first@example.com",
        "last-in-parent@example.com",
        "first-in-child@example.com",
        "next-in-child@example.com",
    ]
    positions = pump.StreamPositions(second.positions_path(binding(second, "dynamodb")), stream_arn)
    assert positions.shards[parent]["done"] and not positions.shards[child]["done"]


# --- SQS: the batch jobs' queues, as Lambda's SQS mapping delivers them ------------------------

TEST_QUEUE = "pump-jobs"
TEST_HANDLER = "tests.devstack.sqs_handlers.handle"


def test_local_queues_are_the_templates_and_survive_a_second_bootstrap(emulators):
    sqs = myblog_aws.client("sqs")
    url = sqs.get_queue_url(QueueName=f"{settings.MYBLOG_QUEUE_PREFIX}newsletter-send")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="{}")

    report = local_queues.ensure_queues()  # a restart of the stack on the same moto server

    assert len(report) == 5
    names = [f"{settings.MYBLOG_QUEUE_PREFIX}{name}" for name in ("newsletter-fanout", "newsletter-send")]
    names += [
        f"{settings.MYBLOG_QUEUE_PREFIX}{name}" for name in ("photo-renders", "subscriber-imports", "search-index")
    ]
    for name in names:
        queue_url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
        assert attributes["VisibilityTimeout"] == "360"
        redrive = json.loads(attributes["RedrivePolicy"])
        assert int(redrive["maxReceiveCount"]) == 5
        assert redrive["deadLetterTargetArn"] == attributes["QueueArn"] + "-dlq"
    kept = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
    assert kept["ApproximateNumberOfMessages"] == "1"


def queue_stage_settings(tmp_path, **source):
    """A zappa_settings.json with one stage binding the test handler to a queue."""
    folder = tmp_path / "settings"
    folder.mkdir(exist_ok=True)
    event_source = {
        "arn": f"arn:aws:sqs:us-east-1:123456789012:myblog-test-{TEST_QUEUE}",
        "batch_size": 3,
        "function_response_types": ["ReportBatchItemFailures"],
        "maximum_concurrency": 2,
        **source,
    }
    stage = {
        "project_name": "myblog",
        "django_settings": "myblog.settings",
        "aws_region": "us-east-1",
        "timeout_seconds": 60,
        "environment_variables": {"MYBLOG_QUEUE_PREFIX": "myblog-test-"},
        "events": [{"function": TEST_HANDLER, "event_source": event_source}],
    }
    path = folder / "zappa_settings.json"
    path.write_text(json.dumps({"test": stage}))
    return path


@pytest.fixture
def queue_pump(emulators, tmp_path):
    """A pump (not started) for a stage binding the test handler to a local queue with a 1 s visibility
    timeout and the template's redrive (5 receives, then the dead-letter queue)."""
    (template,) = [d for d in local_queues.queue_definitions() if d.name == "newsletter-send"]
    definition = dataclasses.replace(
        template, name=TEST_QUEUE, dead_letter_name=f"{TEST_QUEUE}-dlq", visibility_timeout=1
    )
    url = local_queues.ensure_queue(definition)
    sqs_handlers.reset()

    def make(**source):
        event_pump = pump.EventPump(
            stage="test", settings_file=queue_stage_settings(tmp_path, **source), work_dir=tmp_path / "pump"
        ).setup()
        (queue,) = event_pump.bindings
        assert queue.queue_url == url
        return event_pump, queue

    return make


def send_bodies(queue, bodies):
    sqs = myblog_aws.client("sqs")
    for body in bodies:
        sqs.send_message(QueueUrl=queue.queue_url, MessageBody=json.dumps(body))


def queue_depth(url):
    attributes = myblog_aws.client("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def dead_letters(queue):
    sqs = myblog_aws.client("sqs")
    url = sqs.get_queue_url(QueueName=f"{settings.MYBLOG_QUEUE_PREFIX}{TEST_QUEUE}-dlq")["QueueUrl"]
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(message["Body"]) for message in received]


def drain(event_pump, queue, until, what):
    """Receive and deliver batches in this thread until `until()` holds."""
    return wait_for(lambda: event_pump.poll_sqs_once(queue) >= 0 and until(), what, timeout=60, interval=0)


def test_sqs_batches_are_at_most_the_batch_size_of_real_sqs_records(queue_pump):
    event_pump, queue = queue_pump()
    send_bodies(queue, [{"n": n} for n in range(7)])

    sizes = []
    while len(sizes) < 3:
        sizes.append(event_pump.poll_sqs_once(queue))

    assert sizes == [3, 3, 1]
    assert [len(event["Records"]) for event in sqs_handlers.batches] == [3, 3, 1]
    assert queue_depth(queue.queue_url) == 0  # every message of a successful batch is deleted
    record = sqs_handlers.batches[0]["Records"][0]
    assert set(record) == {
        "messageId",
        "receiptHandle",
        "body",
        "attributes",
        "messageAttributes",
        "md5OfBody",
        "eventSource",
        "eventSourceARN",
        "awsRegion",
    }
    assert (record["eventSource"], record["eventSourceARN"], record["awsRegion"]) == (
        "aws:sqs",
        queue.local_arn,
        "us-east-1",
    )
    assert record["md5OfBody"] == hashlib.md5(record["body"].encode()).hexdigest()  # noqa: S324 - SQS's checksum
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert {"SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} <= set(record["attributes"])
    assert sorted(m.body["n"] for e in sqs_handlers.batches for m in queues.messages(e)) == list(range(7))


def test_sqs_partial_failures_are_received_again_and_the_rest_deleted(queue_pump):
    event_pump, queue = queue_pump()
    send_bodies(queue, [{"n": 0}, {"n": 1, "fail_times": 1}, {"n": 2}])

    assert event_pump.poll_sqs_once(queue) == 3
    assert queue_depth(queue.queue_url) == 1  # only the failed one is left, invisible for now
    drain(event_pump, queue, lambda: sqs_handlers.received("n", 1) == [1, 2], "the failed message again")

    assert [sqs_handlers.received("n", n) for n in range(3)] == [[1], [1, 2], [1]]
    assert queue_depth(queue.queue_url) == 0
    assert dead_letters(queue) == []


def test_sqs_message_failing_every_receive_lands_in_the_dead_letter_queue(queue_pump):
    event_pump, queue = queue_pump()
    send_bodies(queue, [{"n": "poison", "fail_times": 1000}, {"n": "fine"}])

    drain(event_pump, queue, lambda: queue_depth(queue.queue_url) == 0, "the poison message to leave the queue")

    assert dead_letters(queue) == [{"n": "poison", "fail_times": 1000}]
    assert sqs_handlers.received("n", "poison") == [1, 2, 3, 4, 5]  # the queue's maxReceiveCount
    assert sqs_handlers.received("n", "fine") == [1]


def test_sqs_handler_exception_leaves_the_whole_batch_to_be_received_again(queue_pump):
    event_pump, queue = queue_pump()
    send_bodies(queue, [{"n": 0}, {"n": 1, "raise_times": 1}, {"n": 2}])

    assert event_pump.poll_sqs_once(queue) == 3
    assert queue_depth(queue.queue_url) == 3  # nothing deleted
    drain(event_pump, queue, lambda: queue_depth(queue.queue_url) == 0, "the batch to be handled")

    assert [sqs_handlers.received("n", n) for n in range(3)] == [[1, 2], [1, 2], [1, 2]]


def test_sqs_partial_failures_are_ignored_without_report_batch_item_failures(queue_pump):
    event_pump, queue = queue_pump(function_response_types=[])
    send_bodies(queue, [{"n": 0, "fail_times": 1}])

    assert event_pump.poll_sqs_once(queue) == 1

    assert queue_depth(queue.queue_url) == 0  # as Lambda: the answer is not read, the batch succeeded


def test_sqs_workers_run_up_to_the_maximum_concurrency(queue_pump):
    event_pump, queue = queue_pump(batch_size=1, maximum_concurrency=2)
    # Each of these waits for another invocation running at the same time.
    send_bodies(queue, [{"n": n, "meet": True} for n in range(4)])
    event_pump.poll_seconds = 0.05
    event_pump.start()
    try:
        wait_for(lambda: queue_depth(queue.queue_url) == 0, "the four messages", timeout=60)
    finally:
        event_pump.stop()

    assert [sqs_handlers.received("n", n) for n in range(4)] == [[1], [1], [1], [1]]  # none waited in vain
    assert sqs_handlers.most_running == 2


def test_an_invalid_batch_response_fails_the_whole_batch():
    messages = [{"MessageId": "a"}, {"MessageId": "b"}]
    partial = ["ReportBatchItemFailures"]
    assert pump.failed_message_ids({"batchItemFailures": [{"itemIdentifier": "b"}]}, messages, partial) == {"b"}
    assert pump.failed_message_ids({"batchItemFailures": []}, messages, partial) == set()
    assert pump.failed_message_ids(None, messages, partial) == set()
    assert pump.failed_message_ids({"batchItemFailures": [{"itemIdentifier": "zz"}]}, messages, partial) == {"a", "b"}
    assert pump.failed_message_ids({"batchItemFailures": [{}]}, messages, partial) == {"a", "b"}
    assert pump.failed_message_ids({"batchItemFailures": [{"itemIdentifier": "b"}]}, messages, []) == set()


def test_a_missing_queue_leaves_its_binding_out(emulators, tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="devstack.pump")
    event_pump = pump.EventPump(
        stage="test",
        settings_file=queue_stage_settings(tmp_path, arn="arn:aws:sqs:us-east-1:123456789012:myblog-test-none"),
        work_dir=tmp_path / "pump",
    ).setup()
    assert event_pump.bindings == []
    assert f"queue {settings.MYBLOG_QUEUE_PREFIX}none does not exist" in caplog.text


# --- the mailbox shows every email sent through SES v2 -------------------------------------------


def test_the_mailbox_shows_newsletter_and_simple_emails_sent_through_ses_v2(emulators):
    newsletter = EmailMessage()
    newsletter["From"] = "MyBlog <hello@myblog.example>"
    newsletter["To"] = "reader@example.com"
    newsletter["Subject"] = "Nouveautés: a post with a café in its title"
    newsletter["List-Id"] = "MyBlog <newsletter.myblog.example>"
    newsletter["List-Unsubscribe"] = "<https://blog.example.com/subscribe/unsubscribe/abc/?one-click=1>"
    newsletter["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    newsletter.set_content("Read it on the blog: https://blog.example.com/posts/cafe/ ☕")
    newsletter.add_alternative("<p>Read <a href='https://blog.example.com/posts/cafe/'>the café post</a></p>", "html")
    ses = myblog_aws.client("sesv2")
    ses.send_email(
        FromEmailAddress=newsletter["From"],
        Destination={"ToAddresses": ["reader@example.com"]},
        Content={"Raw": {"Data": newsletter.as_bytes()}},
        EmailTags=[{"Name": "myblog-send", "Value": "cafe"}],
    )
    ses.send_email(
        FromEmailAddress="hello@myblog.example",
        Destination={"ToAddresses": ["editor@example.com"]},
        Content={"Simple": {"Subject": {"Data": "A test send"}, "Body": {"Text": {"Data": "Hello editor"}}}},
    )
    app = mailbox.Mailbox(emulators)

    def call(path):
        captured = {}
        body = b"".join(app({"PATH_INFO": path, "REQUEST_METHOD": "GET"}, lambda s, h: captured.update(s=s)))
        return captured["s"], body.decode()

    sent = mailbox.sent_messages(emulators)
    assert sorted(item["message"]["To"] for item in sent) == ["editor@example.com", "reader@example.com"]
    status, index = call("/")
    assert status == "200 OK" and "Nouveautés" in index and "A test send" in index
    (item,) = [item for item in sent if item["message"]["To"] == "reader@example.com"]
    status, detail = call(f"/{item['id']}/")
    assert status == "200 OK"
    assert "List-Id" in detail and "https://blog.example.com/posts/cafe/" in detail and "☕" in detail
    status, raw = call(f"/{item['id']}/raw")
    assert status == "200 OK" and "List-Unsubscribe-Post" in raw


def test_the_pumps_shared_clients_hold_a_connection_for_each_of_its_workers():
    from devstack import lambda_stack

    stage = json.loads((settings.BASE_DIR / "zappa_settings.json").read_text())[lambda_stack.STAGE]
    workers = sum(
        int(event["event_source"].get("maximum_concurrency", 1))
        for event in stage["events"]
        if event.get("event_source", {}).get("arn", "").startswith("arn:aws:sqs:")
    )
    assert workers > 10  # more than botocore's default pool
    assert workers <= lambda_stack.POLL_CONNECTIONS
