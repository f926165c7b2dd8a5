"""Benchmark: a newsletter send to 10,000 and 100,000 confirmed subscribers, and what it costs.

    .venv/bin/python bench/newsletter.py [--sizes 10000,100000]

For each size, on the local stack's engines (DynamoDB Local in memory, moto
server for SQS and SES, both on loopback, started here): the subscribers
are written, a send is started as publishing starts it, and the two
queues are drained the way Lambda's SQS mappings drain them (batches of the
bindings' size, handed to the same handler functions, failures left on the
queue), until the send is done. Printed for each size:

- fan-out time (the fan-out handler's own time) and its time per 1,000
  recipients, which should stay flat as the list grows (linear fan-out);
- send time, the SES calls per recipient (target: 1), the DynamoDB write
  calls and the write capacity per recipient (target: at most 2), read
  calls and read capacity per recipient, SQS messages and requests;
- the cost of 100,000 recipients at AWS's list prices (us-east-1, on-demand
  DynamoDB, SQS standard, SES outbound, Lambda x86 at 1 GB for the
  handler time measured here, which overstates Lambda's: DynamoDB Local and
  moto answer more slowly than AWS), computed from the counts.

Throttling is not measured: SES's rate is set high (MYBLOG_SES_MAX_SEND_RATE)
so the figures are the pipeline's own. Exits 1 if a recipient got no email
or two, or if the send did not finish.
"""

import argparse
import contextlib
import io
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# List prices, us-east-1 (USD), as published for 2026.
DYNAMODB_PER_MILLION_WRITE_UNITS = 0.625
DYNAMODB_PER_MILLION_READ_UNITS = 0.125
SQS_PER_MILLION_REQUESTS = 0.40
SES_PER_THOUSAND_EMAILS = 0.10
LAMBDA_PER_GB_SECOND = 0.0000166667
LAMBDA_PER_MILLION_REQUESTS = 0.20

DYNAMODB_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
DYNAMODB_READS = {"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"}
# SendMessage*, ReceiveMessage, DeleteMessage* are billed per request (and per 64 KB chunk).
SQS_BILLED = {"SendMessage", "SendMessageBatch", "ReceiveMessage", "DeleteMessage", "DeleteMessageBatch"}


class Meter:
    """Counts every AWS call the process makes, with DynamoDB's consumed capacity."""

    def __init__(self):
        self.calls = Counter()
        self.write_units = 0.0
        self.read_units = 0.0
        self.sqs_messages = 0

    def reset(self):
        self.__init__()

    def install(self):
        from botocore.client import BaseClient

        meter = self
        original = BaseClient._make_api_call

        def counting(client, operation, params):
            service = client.meta.service_model.service_name
            if service == "dynamodb" and (operation in DYNAMODB_WRITES or operation in DYNAMODB_READS):
                params = {**params, "ReturnConsumedCapacity": "TOTAL"}
            answer = original(client, operation, params)
            meter.calls[service, operation] += 1
            if service == "dynamodb":
                consumed = answer.get("ConsumedCapacity") or []
                for item in consumed if isinstance(consumed, list) else [consumed]:
                    units = float(item.get("CapacityUnits", 0) or 0)
                    if operation in DYNAMODB_WRITES:
                        meter.write_units += units
                    else:
                        meter.read_units += units
            if service == "sqs" and operation in ("SendMessage", "SendMessageBatch"):
                meter.sqs_messages += len(params.get("Entries", [None]))
            return answer

        BaseClient._make_api_call = counting

    def count(self, service, operations):
        return sum(n for (s, op), n in self.calls.items() if s == service and op in operations)


class Context:
    """A Lambda context with the function's full minute left."""

    function_name = "myblog-bench"
    aws_request_id = "bench"
    memory_limit_in_mb = 1024

    def get_remaining_time_in_millis(self):
        return 60_000


def drain(sqs, url, arn, handler, batch_size, clock):
    """Deliver one batch from the queue to `handler` as Lambda would; returns how many messages it held."""
    answer = sqs.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=batch_size,
        VisibilityTimeout=30,
        MessageSystemAttributeNames=["ApproximateReceiveCount"],
    )
    received = answer.get("Messages", [])
    if not received:
        return 0
    from devstack.pump import sqs_record

    event = {"Records": [sqs_record(message, arn, "us-east-1") for message in received]}
    started = time.perf_counter()
    result = handler(event, Context())
    clock[0] += time.perf_counter() - started
    failed = {item["itemIdentifier"] for item in (result or {}).get("batchItemFailures", [])}
    done = [m for m in received if m["MessageId"] not in failed]
    if done:
        sqs.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)]
        )
    return len(received)


def seed(size):
    """`size` confirmed subscribers, written in batches of 25 (not counted)."""
    from django.utils import timezone

    from subscribers.models import CONFIRMED, Subscriber

    now = timezone.now()
    with Subscriber.batch_write() as batch:
        for number in range(size):
            batch.save(
                Subscriber(f"reader{number:06d}@example.com", status=CONFIRMED, created_at=now, confirmed_at=now)
            )


def prepare_moto(endpoint):
    """A fresh moto (SES identity, the two queues): the figures of one size never include another's."""
    import urllib.request

    from myblog import aws, queues
    from subscribers import newsletter

    reset = urllib.request.Request(endpoint + "/moto-api/reset", method="POST")  # noqa: S310 - loopback
    urllib.request.urlopen(reset).close()  # noqa: S310 - the emulator's own loopback address
    queues.forget_urls()
    aws.client("sesv2").create_email_identity(EmailIdentity="bench@example.com")
    for name in (newsletter.FANOUT_QUEUE, newsletter.SEND_QUEUE):
        aws.client("sqs").create_queue(QueueName=queues.queue_name(name), Attributes={"VisibilityTimeout": "30"})


def run(size, meter, ses_sent, moto_endpoint):
    from django.core.management import call_command

    from myblog import aws, queues
    from subscribers import handlers, newsletter
    from subscribers.models import Delivery, Send, Subscriber

    call_command("createtables", verbosity=0, stdout=io.StringIO())
    for model in (Subscriber, Send, Delivery):
        model.delete_table()
    call_command("createtables", verbosity=0, stdout=io.StringIO())
    seed(size)
    prepare_moto(moto_endpoint)
    sqs = aws.client("sqs")
    fanout_url, send_url = queues.queue_url(newsletter.FANOUT_QUEUE), queues.queue_url(newsletter.SEND_QUEUE)
    arn = "arn:aws:sqs:us-east-1:000000000000:"
    before = ses_sent()
    meter.reset()
    content = newsletter.Content(
        "Bench post", f"<p>Hello</p><p><a href='{newsletter.UNSUBSCRIBE_PLACEHOLDER}'>Unsubscribe</a></p>", "Hello"
    )
    newsletter.start_send("bench-post", content)
    fanout_clock, send_clock = [0.0], [0.0]
    fanout_calls = send_calls = None
    started = time.perf_counter()
    while True:
        moved = drain(
            sqs,
            fanout_url,
            arn + queues.queue_name(newsletter.FANOUT_QUEUE),
            handlers.fan_out_newsletter,
            1,
            fanout_clock,
        )
        if fanout_calls is None and newsletter.get_send("bench-post").fanout_done:
            fanout_calls = Counter(meter.calls)
        moved += drain(
            sqs, send_url, arn + queues.queue_name(newsletter.SEND_QUEUE), handlers.send_newsletter, 5, send_clock
        )
        send = newsletter.get_send("bench-post")
        if send.state in ("done", "cancelled", "paused"):
            break
        if not moved and time.perf_counter() - started > 600:
            break
    send_calls = Counter(meter.calls)
    emails = ses_sent() - before
    return {
        "send": send,
        "fanout_seconds": fanout_clock[0],
        "send_seconds": send_clock[0],
        "emails": emails,
        "calls": send_calls,
        "fanout_calls": fanout_calls or Counter(),
        "write_units": meter.write_units,
        "read_units": meter.read_units,
        "sqs_messages": meter.sqs_messages,
    }


def cost_per_100k(figures, size):
    scale = 100_000 / size
    calls = figures["calls"]
    sqs_requests = sum(n for (s, op), n in calls.items() if s == "sqs" and op in SQS_BILLED)
    invocations = sum(n for (s, op), n in calls.items() if s == "sqs" and op == "ReceiveMessage")
    seconds = figures["fanout_seconds"] + figures["send_seconds"]
    return {
        "DynamoDB": scale
        * (
            figures["write_units"] * DYNAMODB_PER_MILLION_WRITE_UNITS
            + figures["read_units"] * DYNAMODB_PER_MILLION_READ_UNITS
        )
        / 1e6,
        "SQS": scale * sqs_requests * SQS_PER_MILLION_REQUESTS / 1e6,
        "SES": scale * figures["emails"] * SES_PER_THOUSAND_EMAILS / 1000,
        "Lambda": scale * (seconds * LAMBDA_PER_GB_SECOND + invocations * LAMBDA_PER_MILLION_REQUESTS / 1e6),
    }


def report(size, figures):
    calls = figures["calls"]
    send = figures["send"]
    writes = sum(n for (s, op), n in calls.items() if s == "dynamodb" and op in DYNAMODB_WRITES)
    reads = sum(n for (s, op), n in calls.items() if s == "dynamodb" and op in DYNAMODB_READS)
    ses = calls["sesv2", "SendEmail"]
    per = 1 / size
    print(
        f"\n{size:,} subscribers: send {send.state}, {int(send.sent):,} sent, {int(send.skipped):,} skipped, "
        f"{int(send.failed):,} failed, {figures['emails']:,} emails in SES"
    )
    print(
        f"  fan-out  {figures['fanout_seconds']:8.2f} s   {1000 * figures['fanout_seconds'] / size:6.3f} s per 1,000"
    )
    print(f"  sending  {figures['send_seconds']:8.2f} s   {1000 * figures['send_seconds'] / size:6.3f} s per 1,000")
    print(
        f"  per recipient: SES calls {ses * per:.3f}, DynamoDB write calls {writes * per:.3f} "
        f"({figures['write_units'] * per:.3f} WCU), "
        f"read calls {reads * per:.3f} ({figures['read_units'] * per:.3f} RCU)"
    )
    print(
        f"  SQS: {figures['sqs_messages']:,} messages sent, "
        f"{sum(n for (s, op), n in calls.items() if s == 'sqs' and op in SQS_BILLED):,} billed requests"
    )
    print("  calls: " + ", ".join(f"{s}.{op} {n:,}" for (s, op), n in sorted(calls.items())))
    costs = cost_per_100k(figures, size)
    print(
        "  cost per 100,000 recipients (USD): "
        + ", ".join(f"{k} {v:.4f}" for k, v in costs.items())
        + f", total {sum(costs.values()):.4f}"
    )
    return figures["emails"] == size and send.state == "done" and ses == size


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]

    from devstack import services, system

    logs = Path(os.environ.get("TMPDIR", "/tmp"))
    dynamodb = services.dynamodb_local(system.free_port(), log_path=logs / "myblog-bench-newsletter-ddb.log")
    moto = services.moto_server(system.free_port(), log_path=logs / "myblog-bench-newsletter-moto.log")
    with contextlib.ExitStack() as stack:
        for service in (dynamodb.start(), moto.start()):
            stack.callback(service.stop)
        os.environ.update(
            {
                "AWS_ACCESS_KEY_ID": "bench",
                "AWS_SECRET_ACCESS_KEY": "bench",
                "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_REGION": "us-east-1",
                "AWS_EC2_METADATA_DISABLED": "true",
                "AWS_ENDPOINT_URL": moto.endpoint,
                "AWS_ENDPOINT_URL_DYNAMODB": dynamodb.endpoint,
                "DJANGO_SETTINGS_MODULE": "myblog.settings",
                "MYBLOG_TABLE_PREFIX": "bench-",
                "MYBLOG_QUEUE_PREFIX": "bench-",
                "MYBLOG_SES_MAX_SEND_RATE": "1000000",
                "MYBLOG_SES_SENDER": "bench@example.com",
                "MYBLOG_LOG_LEVEL": "WARNING",
            }
        )
        import django

        django.setup()
        import urllib.request

        def ses_sent():
            with urllib.request.urlopen(moto.endpoint + "/moto-api/data.json") as answer:  # noqa: S310 - loopback
                data = json.load(answer)
            ses = data.get("ses", {})
            return len(ses.get("RawMessage", [])) + len(ses.get("Message", []))

        meter = Meter()
        meter.install()
        ok = True
        per_thousand = []
        for size in sizes:
            figures = run(size, meter, ses_sent, moto.endpoint)
            ok = report(size, figures) and ok
            per_thousand.append(1000 * figures["fanout_seconds"] / size)
        if len(per_thousand) > 1:
            print(
                f"\nfan-out time per 1,000 at {sizes[-1]:,} over {sizes[0]:,}: "
                f"{per_thousand[-1] / per_thousand[0]:.2f}x (1.00x is linear)"
            )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
