"""SQS for the batch-job tests: the job queues on moto, and a pump that feeds them to a handler.

`deliver` does what Lambda's SQS mapping does: it receives up to
`batch_size` messages, builds the event Lambda would (the captured shape
of `tests/events/sqs_batch_job.json`, each record's id, receipt handle,
body, MD5 and receive count), calls the handler, and deletes the messages
the handler did not report in `batchItemFailures`. Reported messages are
made visible again at once, standing in for the visibility timeout.
"""

import copy
import hashlib
import json
from pathlib import Path

import pytest
from django.conf import settings

from myblog import queues

EVENTS = Path(__file__).resolve().parent / "events"
JOB_QUEUES = ("photo-renders", "subscriber-imports", "search-index")


def sqs_record_template():
    return json.loads((EVENTS / "sqs_batch_job.json").read_text())["Records"][0]


def sqs_event(queue, messages):
    """The Lambda event for received SQS `messages` (dicts as ReceiveMessage returns them)."""
    template = sqs_record_template()
    records = []
    for message in messages:
        record = copy.deepcopy(template)
        record["messageId"] = message["MessageId"]
        record["receiptHandle"] = message["ReceiptHandle"]
        record["body"] = message["Body"]
        record["md5OfBody"] = hashlib.md5(message["Body"].encode(), usedforsecurity=False).hexdigest()
        record["attributes"]["ApproximateReceiveCount"] = message["Attributes"]["ApproximateReceiveCount"]
        record["attributes"]["SentTimestamp"] = message["Attributes"]["SentTimestamp"]
        record["eventSourceARN"] = f"arn:aws:sqs:{settings.AWS_REGION}:123456789012:{queues.queue_name(queue)}"
        record["awsRegion"] = settings.AWS_REGION
        records.append(record)
    return {"Records": records}


def body_event(queue, *bodies):
    """A Lambda SQS event of `bodies` (JSON-serialisable, or str as sent) never put on a queue."""
    messages = [
        {
            "MessageId": f"00000000-0000-4000-8000-{index:012d}",
            "ReceiptHandle": f"handle-{index}",
            "Body": body if isinstance(body, str) else json.dumps(body),
            "Attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1764633600000"},
        }
        for index, body in enumerate(bodies)
    ]
    return sqs_event(queue, messages)


class Pump:
    def __init__(self, client):
        self.client = client
        self.events = []

    def url(self, queue):
        return queues.queue_url(queue)

    def receive(self, queue, batch_size):
        answer = self.client.receive_message(
            QueueUrl=self.url(queue),
            MaxNumberOfMessages=batch_size,
            AttributeNames=["All"],
            VisibilityTimeout=30,
        )
        return answer.get("Messages", [])

    def bodies(self, queue):
        """The bodies waiting on `queue` (made visible again afterwards)."""
        messages = self.receive(queue, 10)
        found = []
        while messages:
            found.extend(messages)
            messages = self.receive(queue, 10)
        for message in found:
            self.client.change_message_visibility(
                QueueUrl=self.url(queue), ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
        return [json.loads(message["Body"]) for message in found]

    def deliver(self, queue, handler, *, batch_size=5, context=None, keep=False):
        """One batch of `queue` through `handler`; returns (event, response). `keep` deletes nothing."""
        messages = self.receive(queue, batch_size)
        if not messages:
            return None, None
        event = sqs_event(queue, messages)
        self.events.append(event)
        response = handler(copy.deepcopy(event), context)
        failed = {item["itemIdentifier"] for item in response["batchItemFailures"]}
        for message in messages:
            if message["MessageId"] in failed or keep:
                self.client.change_message_visibility(
                    QueueUrl=self.url(queue), ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
            else:
                self.client.delete_message(QueueUrl=self.url(queue), ReceiptHandle=message["ReceiptHandle"])
        return event, response

    def drain(self, queue, handler, *, batch_size=5, max_batches=1000):
        """Deliver batches until the queue is empty; the number of batches."""
        for count in range(max_batches):
            event, _ = self.deliver(queue, handler, batch_size=batch_size)
            if event is None:
                return count
        raise AssertionError(f"{queue} did not empty in {max_batches} batches")


@pytest.fixture
def job_queues(aws):
    """The batch jobs' queues on moto, and a pump for them."""
    client = aws.client("sqs")
    for name in JOB_QUEUES:
        client.create_queue(QueueName=queues.queue_name(name))
    queues.forget_urls()
    yield Pump(client)
    queues.forget_urls()


@pytest.fixture
def reindex(job_queues):
    """Work the search-index queue as its mapping would (batches of 10); returns the batches' responses."""
    from posts import handlers

    def run():
        responses = []
        while True:
            event, response = job_queues.deliver("search-index", handlers.rebuild_search_index, batch_size=10)
            if event is None:
                return responses
            responses.append(response)
            if response["batchItemFailures"]:
                return responses

    return run
