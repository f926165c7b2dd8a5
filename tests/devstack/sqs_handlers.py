"""A handler bound to a test queue in the pump's SQS tests: it records each batch and fails as its messages say.

A message body may ask to fail (`fail_times`: reported in batchItemFailures
while its receive count is at most that), to crash the invocation
(`raise_times`, likewise) or to `meet` another invocation running at the
same time (a barrier of two: it only passes if two run side by side).
"""

import threading

from myblog import queues

batches = []  # the event of each invocation, in order
_lock = threading.Lock()
_running = 0
most_running = 0
meeting = threading.Barrier(2, timeout=20)


def reset():
    global _running, most_running, meeting
    with _lock:
        batches.clear()
        _running = most_running = 0
        meeting = threading.Barrier(2, timeout=20)


def received(body_key, value):
    """The receive counts at which the message whose body has `body_key: value` was delivered."""
    with _lock:
        events = list(batches)
    counts = []
    for event in events:
        for message in queues.messages(event):
            if message.body.get(body_key) == value:
                counts.append(message.receive_count)
    return counts


def handle(event, context):
    global _running, most_running
    with _lock:
        batches.append(event)
        _running += 1
        most_running = max(most_running, _running)
    try:
        failed = []
        for message in queues.messages(event):
            if message.receive_count <= message.body.get("raise_times", 0):
                raise RuntimeError(f"message {message.body.get('n')} crashes the invocation")
            if message.body.get("meet"):
                meeting.wait()
            if message.receive_count <= message.body.get("fail_times", 0):
                failed.append(message.message_id)
        return queues.batch_response(failed)
    finally:
        with _lock:
            _running -= 1
