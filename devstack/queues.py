"""The batch jobs' SQS queues on moto server, as infra/myblog.yaml creates them in AWS.

Every queue of the template with a RedrivePolicy (a batch-job queue) is
created with its dead-letter queue, the template's visibility timeout,
retention and maxReceiveCount, named `MYBLOG_QUEUE_PREFIX + name`, so the
local event pump redelivers and dead-letters messages as AWS does. Read
from the template itself, the local queues cannot drift from the deployed
ones. Idempotent: an existing queue keeps its messages and gets the
template's attributes again (moto keeps nothing across a restart, so the
stack creates them on every start).
"""

import functools
import json
from dataclasses import dataclass

from django.conf import settings

from myblog import aws

TEMPLATE_STAGE = "dev"
TEMPLATE_PREFIX = f"myblog-{TEMPLATE_STAGE}-"


@dataclass(frozen=True)
class QueueDefinition:
    name: str  # without the prefix: "newsletter-send"
    visibility_timeout: int
    retention: int
    dead_letter_name: str
    dead_letter_retention: int
    max_receive_count: int


class _Attributes(dict):
    """GetAtt of the template's resources as "<logical id>.<attribute>"."""

    def __missing__(self, key):
        return ".".join(key)


@functools.cache
def queue_definitions(template_path=None):
    """The template's batch-job queues (home region), in template order (read once per process)."""
    import sys

    from devstack.iam import REPO

    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from infra import template

    loaded = template.load(template_path) if template_path else template.load()
    evaluator = template.Evaluator(
        loaded,
        {"Stage": TEMPLATE_STAGE, "HomeRegion": settings.AWS_REGION},
        region=settings.AWS_REGION,
        physical_ids={},
        attributes=_Attributes(),
    )
    found = []
    for logical_id, resource in evaluator.resources().items():
        if resource["Type"] != "AWS::SQS::Queue" or "RedrivePolicy" not in resource.get("Properties", {}):
            continue
        queue = evaluator.properties(logical_id)
        redrive = queue["RedrivePolicy"]
        dead_letter = evaluator.properties(redrive["deadLetterTargetArn"].removesuffix(".Arn"))
        found.append(
            QueueDefinition(
                name=queue["QueueName"].removeprefix(TEMPLATE_PREFIX),
                visibility_timeout=int(queue.get("VisibilityTimeout", 30)),
                retention=int(queue.get("MessageRetentionPeriod", 345600)),
                dead_letter_name=dead_letter["QueueName"].removeprefix(TEMPLATE_PREFIX),
                dead_letter_retention=int(dead_letter.get("MessageRetentionPeriod", 345600)),
                max_receive_count=int(redrive["maxReceiveCount"]),
            )
        )
    return tuple(found)


def _ensure(sqs, name, attributes):
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={key: str(value) for key, value in attributes.items()})
    return url


def ensure_queue(definition, prefix=None):
    """Create (or bring up to date) one queue and its dead-letter queue; returns the queue's URL."""
    prefix = settings.MYBLOG_QUEUE_PREFIX if prefix is None else prefix
    sqs = aws.client("sqs")
    dead_letter_url = _ensure(
        sqs, prefix + definition.dead_letter_name, {"MessageRetentionPeriod": definition.dead_letter_retention}
    )
    dead_letter_arn = sqs.get_queue_attributes(QueueUrl=dead_letter_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    redrive = {"deadLetterTargetArn": dead_letter_arn, "maxReceiveCount": definition.max_receive_count}
    return _ensure(
        sqs,
        prefix + definition.name,
        {
            "VisibilityTimeout": definition.visibility_timeout,
            "MessageRetentionPeriod": definition.retention,
            "RedrivePolicy": json.dumps(redrive),
        },
    )


def ensure_queues(prefix=None):
    """Every batch-job queue of the template; returns a report line per queue."""
    prefix = settings.MYBLOG_QUEUE_PREFIX if prefix is None else prefix
    report = []
    for definition in queue_definitions():
        ensure_queue(definition, prefix)
        report.append(
            f"queue {prefix}{definition.name} (visibility {definition.visibility_timeout} s, "
            f"to {prefix}{definition.dead_letter_name} after {definition.max_receive_count} receives)"
        )
    return report
