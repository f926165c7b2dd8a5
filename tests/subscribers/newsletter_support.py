"""What the newsletter tests share: queues on moto, Lambda-shaped SQS events, a mapping that drains them.

`SqsMapping` plays Lambda's SQS event source mapping on moto's queues:
it receives up to its batch size, builds the event Lambda would (message
id, receipt handle, body, attributes with the real ApproximateReceiveCount,
eventSource aws:sqs, the queue's ARN), calls the handler, deletes what
succeeded and makes what failed visible again at once (Lambda waits for the
visibility timeout), so the next receive has a higher receive count.
"""

import email
import json
from email import policy

from django.utils import timezone
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from myblog import aws, queues
from subscribers import newsletter
from subscribers.models import CONFIRMED, PENDING, UNSUBSCRIBED, Subscriber

REGION = "us-east-1"
NEWSLETTER_QUEUES = (newsletter.FANOUT_QUEUE, newsletter.SEND_QUEUE)
CONTENT = newsletter.Content(
    subject="A new post: Tides",
    html='<p>Hello! Read <a href="https://blog.example.com/posts/tides/">Tides</a>.</p>'
    f'<p><a href="{newsletter.UNSUBSCRIBE_PLACEHOLDER}">Unsubscribe</a></p>',
    text="Hello! Read Tides: https://blog.example.com/posts/tides/\n\n"
    f"Unsubscribe: {newsletter.UNSUBSCRIBE_PLACEHOLDER}\n",
)


def create_queues():
    client = aws.client("sqs")
    queues.forget_urls()
    for name in NEWSLETTER_QUEUES:
        client.create_queue(QueueName=queues.queue_name(name), Attributes={"VisibilityTimeout": "360"})


def queue_arn(name):
    return f"arn:aws:sqs:{REGION}:{DEFAULT_ACCOUNT_ID}:{queues.queue_name(name)}"


def receive(name, limit=10):
    answer = aws.client("sqs").receive_message(
        QueueUrl=queues.queue_url(name),
        MaxNumberOfMessages=limit,
        AttributeNames=["All"],
        MessageAttributeNames=["All"],
    )
    return answer.get("Messages", [])


def sqs_record(message, name):
    attributes = message.get("Attributes", {})
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {
            "ApproximateReceiveCount": attributes.get("ApproximateReceiveCount", "1"),
            "SentTimestamp": attributes.get("SentTimestamp", "1764633600000"),
            "SenderId": attributes.get("SenderId", "AIDAIENQZJOLO23YVJ4VO"),
            "ApproximateFirstReceiveTimestamp": attributes.get("ApproximateFirstReceiveTimestamp", "1764633600001"),
        },
        "messageAttributes": {},
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn(name),
        "awsRegion": REGION,
    }


def sqs_event(messages, name):
    return {"Records": [sqs_record(message, name) for message in messages]}


def record(body, name, *, message_id="059f36b4-87a3-44ab-83d2-661975830a7d", receive_count=1):
    """A hand-made SQS record (for bodies the code under test never queues)."""
    text = body if isinstance(body, str) else json.dumps(body)
    return {
        "messageId": message_id,
        "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a" + message_id,
        "body": text,
        "attributes": {
            "ApproximateReceiveCount": str(receive_count),
            "SentTimestamp": "1764633600000",
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": "1764633600001",
        },
        "messageAttributes": {},
        "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn(name),
        "awsRegion": REGION,
    }


class Killed(BaseException):
    """The function instance dies (a timeout, out of memory): nothing of the invocation completes."""


class SqsMapping:
    """Lambda's SQS mapping of queue `name` to `handler`, on moto (see the module docstring)."""

    def __init__(self, name, handler, batch_size, context=None):
        self.name = name
        self.handler = handler
        self.batch_size = batch_size
        self.context = context
        self.failures = []  # message ids reported failed, in order
        self.events = []  # every event the handler was given
        self.kills = 0

    def poll(self):
        """One invocation, if there are messages; returns the handler's answer or None.

        If the handler dies (`Killed`), every message of the invocation comes
        back, as Lambda does after a function error.
        """
        messages = receive(self.name, self.batch_size)
        if not messages:
            return None
        event = sqs_event(messages, self.name)
        self.events.append(event)
        try:
            answer = self.handler(event, self.context)
        except Killed:
            answer = {"batchItemFailures": [{"itemIdentifier": message["MessageId"]} for message in messages]}
            self.kills += 1
        failed = {item["itemIdentifier"] for item in answer["batchItemFailures"]}
        client, url = aws.client("sqs"), queues.queue_url(self.name)
        for message in messages:
            if message["MessageId"] in failed:
                self.failures.append(message["MessageId"])
                client.change_message_visibility(
                    QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
            else:
                client.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return answer

    def drain(self, limit=200):
        """Invoke until the queue is empty (at most `limit` times); returns the number of invocations."""
        for count in range(limit):
            if self.poll() is None:
                return count
        raise AssertionError(f"{self.name} was not empty after {limit} invocations")


def queued_bodies(name):
    """The bodies on a queue, taken off it."""
    bodies = []
    while messages := receive(name):
        client, url = aws.client("sqs"), queues.queue_url(name)
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            client.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def add_subscribers(count, *, prefix="reader", status=CONFIRMED, start=0):
    """`count` subscribers, created a minute apart (so the status index has a stable order); their addresses."""
    base = timezone.now() - timezone.timedelta(days=30)
    addresses = []
    with Subscriber.batch_write() as batch:
        for index in range(start, start + count):
            address = f"{prefix}{index:05d}@example.com"
            created = base + timezone.timedelta(minutes=index)
            subscriber = Subscriber(address, status=status, created_at=created)
            if status == CONFIRMED:
                subscriber.confirmed_at = created
            if status == UNSUBSCRIBED:
                subscriber.unsubscribed_at = created
            batch.save(subscriber)
            addresses.append(address)
    return addresses


def mixed_audience(confirmed=30):
    """Confirmed subscribers interleaved with pending and unsubscribed ones; returns the confirmed addresses."""
    addresses = add_subscribers(confirmed, prefix="confirmed")
    add_subscribers(7, prefix="pending", status=PENDING, start=3)
    add_subscribers(5, prefix="gone", status=UNSUBSCRIBED, start=11)
    return addresses


def ses_backend():
    return ses_backends[DEFAULT_ACCOUNT_ID][REGION]


def sent_messages():
    """What SES (moto) accepted, parsed back into email messages."""
    return [email.message_from_string(m.raw_data, policy=policy.default) for m in ses_backend().sent_messages]


def recipients():
    """The address of every email SES accepted (one entry per email)."""
    return [message["To"] for message in sent_messages()]


class FakeClock:
    """A monotonic clock that only moves when slept on (for `delivery.Pacer`)."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


class LambdaContext:
    """The part of Lambda's context the handlers read: the time left, which runs down as `clock` moves."""

    def __init__(self, clock, seconds):
        self.clock = clock
        self.deadline = clock() + seconds

    def get_remaining_time_in_millis(self):
        return int(max(0.0, self.deadline - self.clock()) * 1000)
