"""The local event pump: AWS's event sources, emulated, delivered through Zappa.

On AWS, S3 invokes the Lambda function for uploads, Lambda polls the
subscribers table's stream, SNS pushes SES notifications and EventBridge
fires schedules; Zappa's `lambda_handler` then routes each event to the
function bound in `zappa_settings.json`. Locally nothing invokes anything,
so this pump does it, from the same bindings and through the same routing:

- the stage's runtime settings are generated offline by
  `zappa save-python-settings-file <stage>` into a work directory and
  imported as `zappa_settings`, as Lambda would; only the ARNs in
  `AWS_EVENT_MAPPING` are rewritten from the stage's resources to the local
  ones (the local bucket, DynamoDB Local's stream, the local topic);
- S3 bindings become bucket notifications to an SQS queue on moto server
  with the binding's prefix/suffix filter; the message is the S3 event JSON
  Lambda would receive;
- SNS bindings become an SQS subscription to a topic of the same name; each
  message is wrapped as Lambda's SNS event record;
- DynamoDB stream bindings are polled with `dynamodbstreams` on DynamoDB
  Local like Lambda's event-source mapping: filtered by the binding's
  `filter_patterns`, in batches of its batch size; a partial batch
  response (`batchItemFailures`) or an exception retries from the first
  failed record. The position in each shard is kept in the work directory,
  so a restarted pump resumes after the last record it handled (the
  binding's starting position only applies to a new mapping), reads a
  parent shard to its end before its children, and picks up new shards;
- `rate(...)` expressions fire EventBridge "Scheduled Event" JSON naming the
  rule as Zappa names it (Zappa finds the function from the rule's name).
- SQS bindings (the batch jobs' queues, created by devstack/queues.py as
  infra/myblog.yaml creates them) are polled like Lambda's SQS mapping:
  up to `maximum_concurrency` workers per binding, each receiving up to
  `batch_size` messages with the queue's visibility timeout and invoking
  the handler with real SQS records. The messages of a successful batch
  are deleted, except those the handler names in `batchItemFailures`
  (with ReportBatchItemFailures); a batch whose handler raised is left
  whole. What is left becomes visible again after the visibility timeout,
  and after the queue's maxReceiveCount moto's redrive moves it to the
  dead-letter queue, as SQS does. Workers run invocations side by side,
  as concurrent Lambda environments would (in the deployment package's
  runtime they queue for its one execution environment); the batching
  window is not emulated.

Every event goes through `zappa.handler.lambda_handler`, one at a time (one
warm Lambda container): in this process from the source tree, or, given a
`function` (devstack/lambda_runtime.py), in the deployment package's own
execution environment. The package's runtime settings name the stage's
ARNs, so stream records then carry the binding's ARN, as AWS's do. A handler's exception is logged and retried like
Lambda's asynchronous invocations (twice) or stream retries, never allowed
to stop the pump. Development tooling only: excluded from the Lambda package.
"""

import ast
import base64
import contextlib
import datetime
import json
import logging
import os
import re
import shutil
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from botocore.exceptions import ClientError
from django.conf import settings

from devstack import processes
from myblog import aws

log = logging.getLogger(__name__)

SETTINGS_MODULE = "zappa_settings"
ASYNC_ATTEMPTS = 3  # Lambda's asynchronous invocation: the first try and two retries
DEFAULT_STREAM_RETRIES = 3
RETRY_DELAY_SECONDS = 1.0
SHARD_REFRESH_SECONDS = 5.0
RATE_RE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
RATE_UNITS = {"minute": 60, "hour": 3600, "day": 86400}


class PumpError(RuntimeError):
    pass


# What Lambda's SQS records carry in `attributes`.
SQS_RECORD_ATTRIBUTES = ("ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp")
NONEXISTENT_QUEUE_CODES = {"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"}


@dataclass
class Binding:
    function: str
    kind: str  # "s3", "sns", "dynamodb", "sqs", "schedule"
    stage_arn: str = ""
    local_arn: str = ""
    config: dict = field(default_factory=dict)
    queue_url: str = ""
    interval: float = 0.0
    rule_arn: str = ""
    visibility_timeout: int = 30


class LocalContext:
    """The parts of Lambda's context object handlers and Zappa may read."""

    def __init__(self, function_name, region, timeout_seconds=30, memory_mb=1024):
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{region}:000000000000:function:{function_name}"
        self.memory_limit_in_mb = memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self):
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def stage_config(stage, settings_file):
    """The stage's settings with `extends` resolved, exactly as Zappa resolves them."""
    from zappa.cli import ZappaCLI

    cli = ZappaCLI()
    cli.load_settings_file(str(settings_file))
    if stage not in cli.zappa_settings:
        raise PumpError(f"stage {stage!r} is not in {settings_file}")
    cli.api_stage = stage
    return cli.stage_config


def generate_runtime_settings(stage, settings_file, directory):
    """Run `zappa save-python-settings-file` offline; returns the module's path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{SETTINGS_MODULE}.py"
    zappa = Path(sys.executable).with_name("zappa")
    command = [str(zappa)] if zappa.exists() else [shutil.which("zappa") or "zappa"]
    processes.run(
        [*command, "save-python-settings-file", stage, "-o", str(target)],
        cwd=Path(settings_file).parent,
        check=True,
        capture_output=True,
        text=True,
    )
    return target


def rewrite_event_mapping(path, arns):
    """Replace the stage's ARNs by local ones in the module's AWS_EVENT_MAPPING line."""
    lines = Path(path).read_text().splitlines()
    for index, line in enumerate(lines):
        if line.startswith("AWS_EVENT_MAPPING="):
            mapping = ast.literal_eval(line.split("=", 1)[1])
            local = {arns.get(arn, arn): functions for arn, functions in mapping.items()}
            lines[index] = f"AWS_EVENT_MAPPING={local!r}"
            break
    else:
        raise PumpError(f"{path} has no AWS_EVENT_MAPPING")
    Path(path).write_text("\n".join(lines) + "\n")


def _lambda_handler_class():
    from zappa.handler import LambdaHandler

    return LambdaHandler


class EventPump:
    def __init__(
        self,
        stage="dev",
        settings_file=None,
        work_dir=None,
        poll_seconds=0.5,
        function=None,
        streams_client=None,
        queues_client=None,
    ):
        self.stage = stage
        self.function = function
        # Lambda's event-source mappings read the stream and the queues with
        # the function's role: clients holding those credentials, or this
        # process's own.
        self.streams_client = streams_client
        self.queues_client = queues_client
        self.settings_file = Path(settings_file or Path(settings.BASE_DIR) / "zappa_settings.json")
        self.work_dir = Path(work_dir or Path(settings.BASE_DIR) / "var" / "pump")
        self.poll_seconds = poll_seconds
        self.bindings = []
        self.region = settings.AWS_REGION
        self._stop = threading.Event()
        self._invoke_lock = threading.Lock()
        self._threads = []
        self._handler = None

    # --- setup ----------------------------------------------------------------

    def setup(self):
        """Wire the local event sources for the stage's bindings (tables and bucket must exist)."""
        config = stage_config(self.stage, self.settings_file)
        self.stage_env = config.get("environment_variables", {})
        self.lambda_name = re.sub(r"[^a-z0-9-]+", "-", f"{config['project_name']}-{self.stage}".lower())
        self.timeout_seconds = int(config.get("timeout_seconds", 30))
        self.bindings = []
        for index, event in enumerate(config.get("events", [])):
            binding = self._binding(index, event)
            if binding is not None:
                self.bindings.append(binding)
        if self.function is None:
            module = generate_runtime_settings(self.stage, self.settings_file, self.work_dir)
            rewrite_event_mapping(module, {b.stage_arn: b.local_arn for b in self.bindings if b.stage_arn})
            self._load_handler(module.parent)
        for binding in self.bindings:
            log.info("pump: %s %s -> %s", binding.kind, binding.local_arn or binding.rule_arn, binding.function)
        return self

    def _binding(self, index, event):
        function = event.get("function")
        source = event.get("event_source")
        if source:
            arn = source.get("arn", "")
            service = arn.split(":")[2] if arn.count(":") >= 5 else ""
            setup = {
                "s3": self._setup_s3,
                "sns": self._setup_sns,
                "dynamodb": self._setup_stream,
                "sqs": self._setup_sqs,
            }.get(service)
            if setup is None:
                log.warning("pump: %s bindings are not emulated (%s)", service or arn, function)
                return None
            return setup(index, Binding(function, service, stage_arn=arn, config=source))
        expression = event.get("expression")
        if expression:
            return self._setup_schedule(index, event, expression)
        log.warning("pump: binding %r has neither an event source nor an expression", event)
        return None

    def _local_bucket(self, stage_bucket):
        if stage_bucket == self.stage_env.get("MYBLOG_MEDIA_BUCKET"):
            return settings.MYBLOG_MEDIA_BUCKET
        return stage_bucket

    def _queue(self, name):
        """The binding's queue, created if needed. Messages already on it are
        events not delivered yet (the pump was stopped): they are kept, as
        Lambda would still be invoked for them."""
        sqs = aws.client("sqs")
        url = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "2"})["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return url, arn

    def _setup_s3(self, index, binding):
        bucket = self._local_bucket(binding.stage_arn.split(":::", 1)[1])
        url, queue_arn = self._queue(f"{self.lambda_name}-pump-s3-{index}")
        rules = [
            {"Name": name, "Value": binding.config[name]} for name in ("prefix", "suffix") if binding.config.get(name)
        ]
        notification = {
            # Zappa names its S3 notifications after the function ARN's last
            # part (no colon), so its handler routes by the bucket's ARN.
            "Id": self.lambda_name,
            "QueueArn": queue_arn,
            "Events": binding.config.get("events", ["s3:ObjectCreated:*"]),
        }
        if rules:
            notification["Filter"] = {"Key": {"FilterRules": rules}}
        s3 = aws.client("s3")
        existing = s3.get_bucket_notification_configuration(Bucket=bucket)
        existing.pop("ResponseMetadata", None)
        queues = [q for q in existing.get("QueueConfigurations", []) if q.get("QueueArn") != queue_arn]
        existing["QueueConfigurations"] = [*queues, notification]
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=existing)
        binding.local_arn = f"arn:aws:s3:::{bucket}"
        binding.queue_url = url
        return binding

    def _setup_sns(self, index, binding):
        topic_name = binding.stage_arn.rsplit(":", 1)[1]
        sns = aws.client("sns")
        topic_arn = sns.create_topic(Name=topic_name)["TopicArn"]
        url, queue_arn = self._queue(f"{self.lambda_name}-pump-sns-{index}")
        subscription = sns.subscribe(
            TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn, ReturnSubscriptionArn=True
        )
        binding.config = {**binding.config, "subscription_arn": subscription["SubscriptionArn"]}
        binding.local_arn = topic_arn
        binding.queue_url = url
        return binding

    def _setup_stream(self, index, binding):
        table = binding.stage_arn.split(":table/", 1)[1].split("/stream/", 1)[0]
        prefix = self.stage_env.get("MYBLOG_TABLE_PREFIX", "")
        logical = table.removeprefix(prefix) if prefix and table.startswith(prefix) else table
        local_table = settings.MYBLOG_TABLES.get(logical, table)
        description = aws.client("dynamodb").describe_table(TableName=local_table)["Table"]
        stream_arn = description.get("LatestStreamArn")
        if not stream_arn:
            log.warning("pump: table %s has no stream; %s is not bound", local_table, binding.function)
            return None
        binding.local_arn = stream_arn
        return binding

    def _setup_sqs(self, index, binding):
        """The local queue of the binding's job: the stage's queue name with the local prefix."""
        stage_name = binding.stage_arn.rsplit(":", 1)[1]
        prefix = self.stage_env.get("MYBLOG_QUEUE_PREFIX", "")
        job = stage_name.removeprefix(prefix) if prefix and stage_name.startswith(prefix) else stage_name
        name = settings.MYBLOG_QUEUE_PREFIX + job
        sqs = aws.client("sqs")
        try:
            url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        except ClientError as error:
            if _error_code(error) not in NONEXISTENT_QUEUE_CODES:
                raise
            log.warning("pump: queue %s does not exist; %s is not bound", name, binding.function)
            return None
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn", "VisibilityTimeout"])
        binding.local_arn = attributes["Attributes"]["QueueArn"]
        binding.queue_url = url
        binding.visibility_timeout = int(attributes["Attributes"].get("VisibilityTimeout", 30))
        return binding

    def _setup_schedule(self, index, event, expression):
        match = RATE_RE.match(expression.strip())
        if not match:
            log.warning("pump: only rate(...) schedules run locally; %s (%s) does not", event["function"], expression)
            return None
        from zappa.core import Zappa

        rule = Zappa.__new__(Zappa).get_scheduled_event_name(event, event["function"], self.lambda_name)
        binding = Binding(event["function"], "schedule", config=event)
        binding.interval = int(match.group(1)) * RATE_UNITS[match.group(2).rstrip("s")]
        binding.rule_arn = f"arn:aws:events:{self.region}:000000000000:rule/{rule}"
        return binding

    def _load_handler(self, directory):
        """Import the generated settings and build Zappa's handler as Lambda's cold start does.

        Zappa's handler exports the stage's environment variables (and a log
        level) into the process on start; this process is the developer's,
        so they are put back as they were once the handler exists.
        """
        handler_class = _lambda_handler_class()
        if str(directory) not in sys.path:
            sys.path.insert(0, str(directory))
        sys.modules.pop(SETTINGS_MODULE, None)
        handler_class._LambdaHandler__instance = None
        saved_env = dict(os.environ)
        root_level = logging.getLogger().level
        try:
            self._handler = handler_class(SETTINGS_MODULE)
        finally:
            os.environ.clear()
            os.environ.update(saved_env)
            logging.getLogger().setLevel(root_level)

    # --- delivery -------------------------------------------------------------

    def invoke(self, event):
        """Run one event through Zappa's `lambda_handler`, as one Lambda invocation."""
        if self.function is not None:
            result = self.function.invoke(event)
            if result.failed:
                raise PumpError(f"{result.error.get('errorType')}: {result.error.get('errorMessage')}")
            return result.payload
        from zappa import handler as zappa_handler

        context = LocalContext(self.lambda_name, self.region, self.timeout_seconds)
        with self._invoke_lock:
            zappa_handler.global_handler = self._handler
            return zappa_handler.lambda_handler(event, context)

    def invoke_concurrently(self, event):
        """Like `invoke`, as one of several concurrent Lambda environments (an SQS mapping's workers).

        In this process the invocations run side by side (Zappa's handler
        keeps no per-call state); the package's runtime has one execution
        environment for events, which takes them one at a time.
        """
        if self.function is not None:
            return self.invoke(event)
        from zappa import handler as zappa_handler

        zappa_handler.global_handler = self._handler
        return zappa_handler.lambda_handler(event, LocalContext(self.lambda_name, self.region, self.timeout_seconds))

    def start(self):
        self._stop.clear()
        targets = {
            "s3": self._poll_queue,
            "sns": self._poll_queue,
            "dynamodb": self._poll_stream,
            "sqs": self._poll_sqs,
        }
        for binding in self.bindings:
            target = targets.get(binding.kind, self._run_schedule)
            workers = max(1, int(binding.config.get("maximum_concurrency", 1))) if binding.kind == "sqs" else 1
            for worker in range(workers):
                thread = threading.Thread(
                    target=self._guard, args=(target, binding), name=f"pump-{binding.kind}-{worker}", daemon=True
                )
                thread.start()
                self._threads.append(thread)
        return self

    def stop(self, timeout=10):
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads = []

    def _guard(self, target, binding):
        while not self._stop.is_set():
            try:
                target(binding)
            except Exception:
                log.exception("pump: %s poller failed; restarting it", binding.kind)
                self._stop.wait(RETRY_DELAY_SECONDS)

    def _poll_queue(self, binding):
        sqs = aws.client("sqs")
        while not self._stop.is_set():
            response = sqs.receive_message(
                QueueUrl=binding.queue_url,
                MaxNumberOfMessages=1,
                WaitTimeSeconds=1,
                MessageSystemAttributeNames=["ApproximateReceiveCount"],
            )
            for message in response.get("Messages", []):
                self._deliver_message(sqs, binding, message)
            if not response.get("Messages"):
                self._stop.wait(self.poll_seconds)

    def _deliver_message(self, sqs, binding, message):
        try:
            body = json.loads(message["Body"])
        except ValueError:
            log.warning("pump: undecodable message on %s dropped", binding.local_arn)
            body = None
        event = None
        if binding.kind == "s3" and isinstance(body, dict) and body.get("Records"):
            event = body
        elif binding.kind == "sns" and isinstance(body, dict) and body.get("Type") == "Notification":
            event = {"Records": [sns_record(body, binding.config.get("subscription_arn", ""))]}
        if event is not None:
            attempts = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
            try:
                self.invoke(event)
            except Exception:
                if attempts < ASYNC_ATTEMPTS:
                    log.exception("pump: %s failed (attempt %d); it will be retried", binding.function, attempts)
                    return  # left on the queue: visible again after its visibility timeout
                log.exception("pump: %s failed %d times; event dropped: %.500r", binding.function, attempts, event)
        sqs.delete_message(QueueUrl=binding.queue_url, ReceiptHandle=message["ReceiptHandle"])

    # --- SQS: Lambda's SQS event-source mapping -----------------------------------

    def _poll_sqs(self, binding):
        """One worker of an SQS binding: receive a batch, invoke, delete what succeeded, again."""
        sqs = self.queues_client or aws.client("sqs")
        # As Lambda's poller does, with the mapping's credentials: the queue's visibility timeout.
        attributes = sqs.get_queue_attributes(QueueUrl=binding.queue_url, AttributeNames=["VisibilityTimeout"])
        binding.visibility_timeout = int(attributes["Attributes"].get("VisibilityTimeout", binding.visibility_timeout))
        while not self._stop.is_set():
            if not self.poll_sqs_once(binding, sqs):
                self._stop.wait(self.poll_seconds)

    def poll_sqs_once(self, binding, sqs=None, wait_seconds=1):
        """Receive one batch of `binding`'s queue and deliver it; returns how many messages came."""
        sqs = sqs or self.queues_client or aws.client("sqs")
        messages = receive_sqs_batch(
            sqs,
            binding.queue_url,
            batch_size=int(binding.config.get("batch_size", 10)),
            visibility_timeout=binding.visibility_timeout,
            wait_seconds=wait_seconds,
        )
        if messages:
            deliver_sqs_batch(
                sqs,
                binding.queue_url,
                binding.stage_arn if self.function is not None else binding.local_arn,
                messages,
                self.invoke_concurrently,
                region=self.region,
                response_types=binding.config.get("function_response_types", []),
                name=binding.function,
            )
        return len(messages)

    @property
    def stopping(self):
        return self._stop.is_set()

    def positions_path(self, binding):
        """The file keeping a stream binding's positions: one per function and table."""
        table = binding.local_arn.split(":table/", 1)[1].split("/stream/", 1)[0]
        return self.work_dir / "streams" / f"{binding.function}@{table}.json"

    def _poll_stream(self, binding):
        poller = StreamPoller(self, binding)
        while not self._stop.is_set():
            if not poller.poll():
                self._stop.wait(self.poll_seconds)

    def _deliver_stream(self, binding, records):
        """Deliver stream records in batches; returns how many were handled.

        A record is handled once its batch succeeded or its retries ran out
        (it is then skipped, as Lambda skips it without a failure
        destination). When the pump stops mid-way, the count stops at the
        first record not handled, so the saved position never passes it.
        """
        size = int(binding.config.get("batch_size", 100))
        retries = int(binding.config.get("maximum_retry_attempts", DEFAULT_STREAM_RETRIES))
        position = 0
        while position < len(records):
            if self._stop.is_set():
                return position
            end = min(position + size, len(records))
            start = position
            for attempt in range(retries + 1):
                failed_at = self._invoke_batch(binding, records[start:end])
                if failed_at is None:
                    break
                start += failed_at
                if attempt == retries:
                    log.error(
                        "pump: %s kept failing; records from %s on skipped",
                        binding.function,
                        sequence_number(records[start]),
                    )
                    break
                log.warning("pump: retrying %s from record %s", binding.function, sequence_number(records[start]))
                if self._stop.wait(RETRY_DELAY_SECONDS * (attempt + 1)):
                    return start
            position = end
        return len(records)

    def _invoke_batch(self, binding, batch):
        """Index of the first record to retry, or None when the batch succeeded."""
        try:
            result = self.invoke({"Records": batch})
        except Exception:
            log.exception("pump: %s raised on a batch of %d records", binding.function, len(batch))
            return 0
        failures = (result or {}).get("batchItemFailures") if isinstance(result, dict) else None
        if not failures:
            return None
        failed = {item.get("itemIdentifier") for item in failures}
        for index, record in enumerate(batch):
            if record["dynamodb"].get("SequenceNumber") in failed:
                return index
        return 0

    def _run_schedule(self, binding):
        next_run = time.monotonic() + binding.interval
        while not self._stop.wait(max(0.0, min(1.0, next_run - time.monotonic()))):
            if time.monotonic() < next_run:
                continue
            next_run += binding.interval
            with contextlib.suppress(Exception):
                self.fire_schedule(binding)

    def fire_schedule(self, binding):
        """Deliver one EventBridge scheduled event for `binding` now."""
        try:
            return self.invoke(scheduled_event(binding, self.region))
        except Exception:
            log.exception("pump: scheduled %s failed", binding.function)
            raise


def sequence_number(record):
    return record["dynamodb"]["SequenceNumber"]


def _error_code(error):
    return error.response.get("Error", {}).get("Code", "")


class StreamPositions:
    """Where a stream binding has read to, per shard: its checkpoint, kept in a file.

    Lambda's event-source mapping keeps, for each shard, the sequence number
    of the last record it handled, and resumes after it. This file does the
    same for the pump, so a restart neither re-reads the stream nor misses
    what was written while it was stopped. Each shard has `after` (the last
    handled record's sequence number, or None before the first), `done`
    (closed and read to its end) and `parent` (read to its end first).

    The file belongs to one stream: a table created again has a new stream,
    and its positions start afresh, as a new mapping would.
    """

    def __init__(self, path, stream_arn):
        self.path = Path(path)
        self.stream_arn = stream_arn
        self.shards = {}
        self.saved = False
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return
        except ValueError:
            log.warning("pump: %s is not readable JSON; %s is read as a new mapping", self.path, stream_arn)
            return
        if data.get("stream") == stream_arn:
            self.shards = data.get("shards", {})
            self.saved = True

    def save(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(self.path.name + ".tmp")
        partial.write_text(json.dumps({"stream": self.stream_arn, "shards": self.shards}, indent=1, sort_keys=True))
        os.replace(partial, self.path)  # a stop mid-write never leaves half a file
        self.saved = True


class StreamPoller:
    """Lambda's event-source mapping for one DynamoDB stream binding, one poll at a time.

    Each `poll()` lists the stream's shards when due, then reads every shard
    whose parent is finished once, from its saved position, and delivers
    the records through the pump. A shard nobody has read yet starts at the
    binding's `starting_position` when the mapping is new (no saved
    positions), and at its oldest record otherwise: a shard that appears
    later holds only records written since.

    DynamoDB Local numbers stream records across all its tables, so an
    iterator left at the start of an empty shard points before the shard's
    first record once other tables have been written to, and GetRecords
    then raises TrimmedDataAccessException (AWS raises it when records
    expired after 24 hours). Either way the records before the oldest one
    are gone: reading resumes from the oldest one.
    """

    def __init__(self, pump, binding):
        self.pump = pump
        self.binding = binding
        self.stream_arn = binding.local_arn
        self.positions = StreamPositions(pump.positions_path(binding), binding.local_arn)
        self.iterators = {}
        self.next_refresh = 0.0

    def poll(self):
        """One round over the stream; True when records were read (poll again at once)."""
        streams = self.pump.streams_client or aws.client("dynamodbstreams")
        if time.monotonic() >= self.next_refresh:
            self.refresh_shards(streams)
            self.next_refresh = time.monotonic() + SHARD_REFRESH_SECONDS
        busy = False
        for shard_id, state in list(self.positions.shards.items()):
            if self.pump.stopping:
                break
            if not state.get("done") and self._parent_done(state):
                busy = self._read(streams, shard_id, state) or busy
        return busy

    def refresh_shards(self, streams):
        shards = list_shards(streams, self.stream_arn)
        listed = {shard["ShardId"] for shard in shards}
        new_mapping = not self.positions.saved
        changed = new_mapping
        for shard_id in [shard_id for shard_id in self.positions.shards if shard_id not in listed]:
            # Gone from the stream: closed more than 24 hours ago.
            del self.positions.shards[shard_id]
            self.iterators.pop(shard_id, None)
            changed = True
        latest = self.binding.config.get("starting_position", "TRIM_HORIZON") == "LATEST"
        for shard in shards:
            shard_id = shard["ShardId"]
            if shard_id in self.positions.shards:
                continue
            state = {"parent": shard.get("ParentShardId"), "after": None, "done": False}
            if new_mapping and latest:
                if "EndingSequenceNumber" in shard.get("SequenceNumberRange", {}):
                    state["done"] = True
                else:
                    state["after"] = self._last_sequence_number(streams, shard_id)
            self.positions.shards[shard_id] = state
            changed = True
        if changed:
            self.positions.save()

    def _parent_done(self, state):
        parent = self.positions.shards.get(state.get("parent"))
        return parent is None or parent.get("done")

    def _iterator(self, streams, shard_id, after=None):
        if after:
            position = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after}
        else:
            position = {"ShardIteratorType": "TRIM_HORIZON"}
        return streams.get_shard_iterator(StreamArn=self.stream_arn, ShardId=shard_id, **position)["ShardIterator"]

    def _last_sequence_number(self, streams, shard_id):
        """The shard's newest record now: where LATEST begins, as a position that survives a restart."""
        last = None
        iterator = self._iterator(streams, shard_id)
        while iterator:
            response = streams.get_records(ShardIterator=iterator, Limit=1000)
            if not response.get("Records"):
                break
            last = sequence_number(response["Records"][-1])
            iterator = response.get("NextShardIterator")
        return last

    def _read(self, streams, shard_id, state):
        try:
            iterator = self.iterators.get(shard_id) or self._iterator(streams, shard_id, state["after"])
            response = streams.get_records(ShardIterator=iterator, Limit=1000)
        except ClientError as error:
            code = _error_code(error)
            if code == "TrimmedDataAccessException":
                log.info(
                    "pump: %s: no records left after position %s in shard %s; reading from its oldest record",
                    self.binding.function,
                    state["after"] or "TRIM_HORIZON",
                    shard_id,
                )
                self.iterators[shard_id] = self._iterator(streams, shard_id)
                return True
            if code == "ExpiredIteratorException":
                self.iterators.pop(shard_id, None)  # a new one from the saved position
                return True
            raise
        records = response.get("Records", [])
        if records and not self._handle(state, records):
            self.iterators.pop(shard_id, None)  # stopped part-way: resume from the saved position
            return False
        if response.get("NextShardIterator"):
            self.iterators[shard_id] = response["NextShardIterator"]
        else:
            # A closed shard, read to its end: its children may start, so
            # look for them now rather than at the next listing.
            self.iterators.pop(shard_id, None)
            state["done"] = True
            self.positions.save()
            self.next_refresh = 0.0
        return bool(records)

    def _handle(self, state, records):
        """Deliver the records after the saved position and move it; False if the pump stopped first."""
        after = int(state["after"]) if state["after"] else -1
        fresh = [record for record in records if int(sequence_number(record)) > after]
        if not fresh:
            return True
        source_arn = self.binding.stage_arn if self.pump.function is not None else self.stream_arn
        events = [lambda_stream_record(record, source_arn) for record in fresh]
        selected = [event for event in events if passes_filters(event, self.binding.config.get("filter_patterns"))]
        handled = self.pump._deliver_stream(self.binding, selected)
        if handled < len(selected):
            if handled:
                state["after"] = sequence_number(selected[handled - 1])
                self.positions.save()
            return False
        # Filtered-out records count as handled, as they do for Lambda.
        state["after"] = sequence_number(fresh[-1])
        self.positions.save()
        return True


def list_shards(streams, stream_arn):
    shards, start = [], {}
    while True:
        description = streams.describe_stream(StreamArn=stream_arn, **start)["StreamDescription"]
        shards += description.get("Shards", [])
        if not description.get("LastEvaluatedShardId"):
            return shards
        start = {"ExclusiveStartShardId": description["LastEvaluatedShardId"]}


_MISSING = object()


def passes_filters(record, patterns):
    """Lambda's event filtering: a record is delivered if it matches any pattern (or there are none).

    Supports literal values, nested fields, and the `prefix`, `exists` and
    `anything-but` operators; other operators let the record through.
    """
    if not patterns:
        return True
    return any(_matches(pattern, record) for pattern in patterns)


def _matches(pattern, value):
    if isinstance(pattern, dict):
        if not isinstance(value, dict):
            return False
        return all(_matches(sub, value.get(key, _MISSING)) for key, sub in pattern.items())
    if isinstance(pattern, list):
        values = value if isinstance(value, list) else [value]
        return any(_matches_rule(rule, item) for rule in pattern for item in values)
    return pattern == value


def _matches_rule(rule, value):
    if not isinstance(rule, dict):
        return value == rule
    if "exists" in rule:
        return (value is not _MISSING) == bool(rule["exists"])
    if "prefix" in rule:
        return isinstance(value, str) and value.startswith(rule["prefix"])
    if "anything-but" in rule:
        excluded = rule["anything-but"] if isinstance(rule["anything-but"], list) else [rule["anything-but"]]
        return value is not _MISSING and value not in excluded
    return True


def lambda_stream_record(record, stream_arn):
    """A `dynamodbstreams` GetRecords record as Lambda delivers it (JSON, with its source ARN)."""
    record = dict(record)
    change = dict(record.get("dynamodb", {}))
    created = change.get("ApproximateCreationDateTime")
    if isinstance(created, datetime.datetime):
        change["ApproximateCreationDateTime"] = int(created.timestamp())
    record["dynamodb"] = change
    record["eventSourceARN"] = stream_arn
    return json.loads(json.dumps(record, default=str))


def receive_sqs_batch(sqs, queue_url, *, batch_size=10, visibility_timeout=None, wait_seconds=1):
    """One ReceiveMessage as Lambda's SQS poller makes it: up to `batch_size` messages, with what its records carry."""
    options = {"VisibilityTimeout": visibility_timeout} if visibility_timeout is not None else {}
    response = sqs.receive_message(
        QueueUrl=queue_url,
        MaxNumberOfMessages=min(10, batch_size),
        WaitTimeSeconds=wait_seconds,
        MessageSystemAttributeNames=list(SQS_RECORD_ATTRIBUTES),
        MessageAttributeNames=["All"],
        **options,
    )
    return response.get("Messages", [])


def deliver_sqs_batch(sqs, queue_url, queue_arn, messages, invoke, *, region, response_types=(), name="the function"):
    """Invoke with `messages` as Lambda's SQS event-source mapping does, and delete the ones handled.

    The event is a batch of Lambda's records naming `queue_arn` (the
    binding's ARN, which the handlers route on). A raising invocation
    leaves the whole batch on the queue, visible again after its visibility
    timeout; with ReportBatchItemFailures in `response_types` the messages
    the answer names stay too. Returns the ids of the messages left.
    """
    event = {"Records": [sqs_record(message, queue_arn, region) for message in messages]}
    try:
        result = invoke(event)
    except Exception:
        log.exception("pump: %s raised on a batch of %d messages; they will be received again", name, len(messages))
        return {message["MessageId"] for message in messages}
    failed = failed_message_ids(result, messages, response_types)
    if failed:
        log.warning(
            "pump: %s reported %d of %d messages failed; they will be received again", name, len(failed), len(messages)
        )
    done = [message for message in messages if message["MessageId"] not in failed]
    for start in range(0, len(done), 10):
        entries = [
            {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
            for index, message in enumerate(done[start : start + 10])
        ]
        answer = sqs.delete_message_batch(QueueUrl=queue_url, Entries=entries)
        for failure in answer.get("Failed", []):
            log.warning("pump: could not delete a message of %s: %s", queue_arn, failure)
    return failed


def failed_message_ids(result, messages, response_types):
    """The ids of the messages Lambda would leave on the queue after a batch that returned `result`.

    Without ReportBatchItemFailures the response is ignored: every message
    was handled. With it, `batchItemFailures` names the failed ones; a
    response naming a message not in the batch (or without an id) fails
    the whole batch, as Lambda treats an invalid response.
    """
    if "ReportBatchItemFailures" not in (response_types or []):
        return set()
    failures = result.get("batchItemFailures") if isinstance(result, dict) else None
    if not failures:
        return set()
    ids = {message["MessageId"] for message in messages}
    named = {item.get("itemIdentifier") if isinstance(item, dict) else None for item in failures}
    if not named <= ids:
        log.warning("pump: invalid batchItemFailures %.300r: the whole batch is retried", failures)
        return ids
    return named


def _lambda_message_attribute(value):
    binary = value.get("BinaryValue")
    return {
        "stringValue": value.get("StringValue"),
        "binaryValue": base64.b64encode(binary).decode() if isinstance(binary, bytes) else binary,
        "stringListValues": value.get("StringListValues", []),
        "binaryListValues": value.get("BinaryListValues", []),
        "dataType": value.get("DataType"),
    }


def sqs_record(message, queue_arn, region):
    """A ReceiveMessage message as Lambda's SQS event record."""
    attributes = message.get("Attributes", {})
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {name: attributes[name] for name in SQS_RECORD_ATTRIBUTES if name in attributes},
        "messageAttributes": {
            name: _lambda_message_attribute(value) for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def sns_record(message, subscription_arn):
    """An SNS message (as delivered to SQS) as Lambda's SNS event record."""
    return {
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": subscription_arn,
        "Sns": {
            "Type": message.get("Type"),
            "MessageId": message.get("MessageId"),
            "TopicArn": message.get("TopicArn"),
            "Subject": message.get("Subject"),
            "Message": message.get("Message"),
            "Timestamp": message.get("Timestamp"),
            "SignatureVersion": message.get("SignatureVersion"),
            "Signature": message.get("Signature"),
            "SigningCertUrl": message.get("SigningCertURL"),
            "UnsubscribeUrl": message.get("UnsubscribeURL"),
            "MessageAttributes": message.get("MessageAttributes", {}),
        },
    }


def scheduled_event(binding, region):
    """EventBridge's scheduled event, as Zappa's rule target passes it on."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [binding.rule_arn],
        "detail": {},
        "kwargs": binding.config.get("kwargs", {}),
    }
