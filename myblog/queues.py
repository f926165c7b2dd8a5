"""SQS for the blog's batch jobs: putting work on a queue, and reading an SQS event.

Long work (a newsletter send, re-rendering every photo, a subscriber
import) is cut into small units put on a queue; a handler bound to the
queue as a Zappa event source does each unit. Every queue is named
`MYBLOG_QUEUE_PREFIX + name` and its URL is looked up once per function
instance (GetQueueUrl), so the code never builds account- or
endpoint-specific URLs.

Lambda's SQS mapping delivers at least once and redelivers a message when
its visibility timeout passes: units must be idempotent (a conditional
write claims each), and a handler reports the messages to retry with
`batch_response` (the mapping needs ReportBatchItemFailures), so the
messages that succeeded are deleted and not redone.
"""

import json
import logging
import threading
from dataclasses import dataclass

from django.conf import settings

from myblog import aws, events

log = logging.getLogger(__name__)

# SendMessageBatch takes at most 10 entries and 256 KiB in all.
MAX_BATCH_ENTRIES = 10
MAX_BATCH_BYTES = 256 * 1024

_urls = {}
_urls_lock = threading.Lock()


class QueueError(RuntimeError):
    """SQS did not take every message; the caller must not record the work as queued."""


def queue_name(name):
    return settings.MYBLOG_QUEUE_PREFIX + name


def queue_url(name):
    """The URL of queue `name` (without the prefix), looked up once per instance."""
    full = queue_name(name)
    with _urls_lock:
        url = _urls.get(full)
    if url is None:
        url = aws.client("sqs").get_queue_url(QueueName=full)["QueueUrl"]
        with _urls_lock:
            _urls[full] = url
    return url


def forget_urls():
    """Drop the cached queue URLs (tests that recreate queues)."""
    with _urls_lock:
        _urls.clear()


def _encode(body):
    return json.dumps(body, separators=(",", ":"), sort_keys=True)


def _batches(bodies):
    """Entries for SendMessageBatch, at most 10 and 256 KiB a call."""
    batch, size = [], 0
    for index, body in enumerate(bodies):
        text = _encode(body)
        length = len(text.encode())
        if length > MAX_BATCH_BYTES:
            raise QueueError(f"a message of {length} bytes is over SQS's limit of {MAX_BATCH_BYTES}")
        if batch and (len(batch) == MAX_BATCH_ENTRIES or size + length > MAX_BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append({"Id": str(index), "MessageBody": text})
        size += length
    if batch:
        yield batch


def send(name, bodies, *, delay_seconds=0):
    """Put each JSON-serialisable body of `bodies` on queue `name`; returns how many.

    Entries SQS refuses in a batch are sent again once; if any is still
    refused, `QueueError` is raised (the messages already taken stay on the
    queue, which is why every unit of work is idempotent).
    """
    client = aws.client("sqs")
    url = queue_url(name)
    sent = 0
    for batch in _batches(bodies):
        if delay_seconds:
            for entry in batch:
                entry["DelaySeconds"] = delay_seconds
        pending = batch
        for _attempt in range(2):
            answer = client.send_message_batch(QueueUrl=url, Entries=pending)
            failed = {f["Id"] for f in answer.get("Failed", [])}
            sent += len(pending) - len(failed)
            pending = [entry for entry in pending if entry["Id"] in failed]
            if not pending:
                break
        if pending:
            raise QueueError(f"SQS refused {len(pending)} message(s) for {queue_name(name)}")
    return sent


@dataclass(frozen=True)
class Message:
    """One SQS record of a Lambda event: its id, how often it was received, its JSON body."""

    message_id: str
    receive_count: int
    body: dict


def messages(event, log=log):
    """The messages of an SQS event whose body is a JSON object.

    A record without a message id, or whose body is not a JSON object, can
    never be handled: it is logged and skipped (so Lambda deletes it) rather
    than retried until it reaches the dead-letter queue.
    """
    found = []
    for record in events.records(event, "SQS", log):
        message_id = record.get("messageId") if isinstance(record, dict) else None
        if not isinstance(message_id, str) or not message_id:
            log.warning("SQS record without a message id skipped: %.300r", record)
            continue
        try:
            body = json.loads(record.get("body") or "")
        except (TypeError, ValueError):
            body = None
        if not isinstance(body, dict):
            log.warning(
                "SQS message %s skipped: its body is not a JSON object: %.300r", message_id, record.get("body")
            )
            continue
        attributes = record.get("attributes") if isinstance(record.get("attributes"), dict) else {}
        try:
            receive_count = max(1, int(attributes.get("ApproximateReceiveCount", 1)))
        except (TypeError, ValueError):
            receive_count = 1
        found.append(Message(message_id, receive_count, body))
    return found


def batch_response(failed_message_ids):
    """Lambda's partial batch response: the messages to receive again."""
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed_message_ids]}
