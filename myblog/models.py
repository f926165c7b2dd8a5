"""The record of a batch job: what it is, where it has got to, what went wrong.

Long work (re-rendering every photo, importing a CSV of subscribers) runs
as small units on an SQS queue (see `myblog.queues`); the `Job` item is
what those units share. It holds:

- the job's place in its input: `page` (how many steps of the job's chain
  of messages are done) and `cursor` (JSON: where the next step starts).
  A step's message carries the page it is for, and the step is recorded
  with a condition on that page, so a redelivered or duplicated message
  never does a step twice (see `myblog.jobs.advance`);
- counters, added to atomically (UpdateItem ADD): `total` units known so
  far, and how many were `done`, `skipped` or `failed`; `queued_all` once
  every unit is known, so the job is done when the three add up to `total`;
- `errors`: the first few problems, as editors read them (a row number, a
  photo's key and why).

Jobs are listed newest first through `all-index` (hash: the constant
`listing`, range: `created_at`); there are a few a month, so the admin's
filter by kind is a filter expression on that one partition.
"""

from django.conf import settings
from django.utils import timezone
from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from myblog.aws import DynamoModel, table_name

# The admin's placeholder model (content type, permissions): Django loads it with these models.
from myblog import placeholders  # noqa: F401  isort: skip

RUNNING = "running"
PAUSED = "paused"
CANCELLED = "cancelled"
DONE = "done"
FAILED = "failed"
STATES = [
    (RUNNING, "Running"),
    (PAUSED, "Paused"),
    (CANCELLED, "Cancelled"),
    (DONE, "Done"),
    (FAILED, "Failed"),
]
ENDED = {CANCELLED, DONE, FAILED}
LISTING = "job"
COUNTERS = ("total", "done", "skipped", "failed")


class AllJobsIndex(GlobalSecondaryIndex):
    """Every job, newest first (the admin's list of jobs)."""

    class Meta:
        index_name = "all-index"
        projection = AllProjection()

    listing = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class Job(DynamoModel):
    """One run of a batch job (a photo re-render, a subscriber import)."""

    class Meta:
        table_name = table_name("jobs")
        region = settings.AWS_REGION
        billing_mode = "PAY_PER_REQUEST"

    job_id = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute()  # which job: e.g. "photos.rerender", "subscribers.import"
    listing = UnicodeAttribute(default=LISTING)
    state = UnicodeAttribute(default=RUNNING)
    # What the job was asked to do (its options, as the command or the form gave them).
    options = JSONAttribute(default=dict)
    page = NumberAttribute(default=0)
    cursor = UnicodeAttribute(null=True)
    queued_all = BooleanAttribute(default=False)
    total = NumberAttribute(default=0)
    done = NumberAttribute(default=0)
    skipped = NumberAttribute(default=0)
    failed = NumberAttribute(default=0)
    errors = ListAttribute(of=UnicodeAttribute, default=list)
    created_at = UTCDateTimeAttribute(default=timezone.now)
    created_by = UnicodeAttribute(default="")
    updated_at = UTCDateTimeAttribute(default=timezone.now)
    finished_at = UTCDateTimeAttribute(null=True)

    all_index = AllJobsIndex()

    def __str__(self):
        return self.job_id
