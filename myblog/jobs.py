"""Batch jobs: create one, record its steps and its units, finish it, report its progress.

A job is a chain of step messages on an SQS queue (each step reads one
page of its input and queues the next step) plus, for some jobs, one
message per unit of work. SQS delivers at least once, so:

- a step is recorded with `advance`, a conditional write on the step's
  page number: of two copies of one message, one records its step and the
  other finds the page moved on and does nothing more. The next step's
  message is queued *before* the step is recorded, so a crash in between
  leaves the message to be redelivered (and the step to be done again),
  never a job with no message left; the copy that then arrives "too early"
  (its page is ahead of the job's) is reported failed and retried;
- a unit's outcome is counted with `count` (UpdateItem ADD), or with
  `count_actions` inside the same transaction as the write that marks the
  unit done, so a unit is counted exactly once however often its message
  comes;
- every write that may complete the job checks, on the values it wrote,
  whether every unit is now accounted for, and then finishes it.

Plain functions over `myblog.models.Job`; the apps say what a step and a
unit are.
"""

import json
import logging
import time
import uuid

from django.utils import timezone
from pynamodb.exceptions import PutError, UpdateError
from pynamodb.expressions.condition import size

from myblog import aws, signals
from myblog.models import CANCELLED, COUNTERS, DONE, ENDED, FAILED, LISTING, PAUSED, RUNNING, STATES, Job

log = logging.getLogger(__name__)

# The first problems a job keeps (each cut to MAX_ERROR_LENGTH characters).
MAX_ERRORS = 20
MAX_ERROR_LENGTH = 300


class JobError(Exception):
    """A request about a job that cannot be done (the message says why, for editors)."""


def new_job_id(now=None):
    """Sortable by time at a glance (and unique): `<yyyymmddHHMMSS>-<12 hex>`."""
    now = now or timezone.now()
    return f"{now:%Y%m%d%H%M%S}-{uuid.uuid4().hex[:12]}"


def create(kind, *, created_by="", options=None, cursor=None, now=None):
    """Record a new running job of `kind`; returns it (a conditional put: a fresh id, never an overwrite)."""
    now = now or timezone.now()
    for _attempt in range(3):
        job = Job(
            new_job_id(now),
            kind=kind,
            listing=LISTING,
            state=RUNNING,
            options=options or {},
            cursor=encode_cursor(cursor),
            created_at=now,
            updated_at=now,
            created_by=created_by or "",
        )
        try:
            job.save(condition=Job.job_id.does_not_exist())
        except PutError as error:
            if not aws.is_conditional_check_failure(error):
                raise
            continue
        return job
    raise RuntimeError("could not allocate a job id")  # pragma: no cover - three uuid4 collisions


def get(job_id, kind=None):
    """The job `job_id` (a consistent read), or None; None too if it is not of `kind` (when given).

    Queue messages carry the id: anything else there (not a string, too
    long, another kind's job) is no job, so the handler drops the message.
    """
    if not isinstance(job_id, str) or not job_id or len(job_id) > 100:
        return None
    try:
        job = Job.get(job_id, consistent_read=True)
    except Job.DoesNotExist:
        return None
    return job if kind is None or job.kind == kind else None


def recent(kind=None, limit=20):
    """The newest jobs (of `kind`), newest first: one Query on `all-index`."""
    condition = Job.kind == kind if kind else None
    return list(Job.all_index.query(LISTING, filter_condition=condition, scan_index_forward=False, limit=limit))


def encode_cursor(cursor):
    return None if cursor is None else json.dumps(cursor, separators=(",", ":"), sort_keys=True)


def decode_cursor(job):
    return None if not job.cursor else json.loads(job.cursor)


def _clip(errors, room):
    return [str(error)[:MAX_ERROR_LENGTH] for error in errors][: max(0, room)]


def _counter_actions(counts):
    actions = []
    for name, value in counts.items():
        if name not in COUNTERS:
            raise ValueError(f"{name!r} is not a job counter")
        if value:
            actions.append(getattr(Job, name).add(value))
    return actions


def _error_actions(errors, room):
    errors = _clip(errors, room)
    return [Job.errors.set(Job.errors.append(errors))] if errors else []


def advance(job, *, page, cursor=None, next_page=None, last=False, errors=(), now=None, **counts):
    """Record step `page` of `job`: the job moves to `next_page` (page + 1) at `cursor`, adding `counts`.

    A step's "page" is whatever numbers the job's steps in order: a page
    number, or (for a file read row by row) the row the step starts at.

    `last` says this step queued the job's last unit (or was its last step).
    Conditional on the job still being at `page` and running; returns the
    updated job, or None when the condition failed (another copy of the
    message recorded the step, or the job was paused or ended meanwhile).
    `errors` are appended while the job keeps fewer than MAX_ERRORS (the
    count read with `job` is exact: steps are recorded one at a time).
    """
    now = now or timezone.now()
    actions = [
        Job.page.set(page + 1 if next_page is None else next_page),
        Job.cursor.set(encode_cursor(cursor)) if cursor is not None else Job.cursor.remove(),
        Job.updated_at.set(now),
        *_counter_actions(counts),
        *_error_actions(errors, MAX_ERRORS - len(job.errors or [])),
    ]
    if last:
        actions.append(Job.queued_all.set(True))
    try:
        job.update(actions=actions, condition=(Job.page == page) & (Job.state == RUNNING))
    except UpdateError as error:
        if aws.is_conditional_check_failure(error):
            return None
        raise
    finish_if_complete(job, now=now)
    return job


def count(job_id, *, error=None, now=None, **counts):
    """Add `counts` to job `job_id` (atomic ADD), and its `error` while it keeps fewer than MAX_ERRORS.

    Returns the updated job (finished if that was its last unit), or None if there is no such job.
    """
    now = now or timezone.now()
    job = Job(job_id)
    actions = [*_counter_actions(counts), Job.updated_at.set(now)]
    condition = Job.job_id.exists()
    if error:
        try:
            job.update(actions=[*actions, *_error_actions([error], 1)], condition=condition & _room_for_errors())
        except UpdateError as failure:
            if not aws.is_conditional_check_failure(failure):
                raise
        else:
            finish_if_complete(job, now=now)
            return job
    try:
        job.update(actions=actions, condition=condition)
    except UpdateError as failure:
        if aws.is_conditional_check_failure(failure):
            return None
        raise
    finish_if_complete(job, now=now)
    return job


def _room_for_errors():
    return size(Job.errors) < MAX_ERRORS


def count_actions(*, error=None, room=True, now=None, **counts):
    """(actions, condition) that count a unit on a job, for a transaction that also marks the unit done.

    With `error` and `room`, the error is appended on condition that the job
    keeps fewer than MAX_ERRORS; a transaction cancelled for that is sent
    again with `room=False` (see `photos.rerender` for the pattern).
    """
    now = now or timezone.now()
    actions = [*_counter_actions(counts), Job.updated_at.set(now)]
    condition = Job.job_id.exists()
    if error and room:
        actions.extend(_error_actions([error], 1))
        condition = condition & _room_for_errors()
    return actions, condition


def processed(job):
    return int(job.done or 0) + int(job.skipped or 0) + int(job.failed or 0)


def is_complete(job):
    return bool(job.queued_all) and processed(job) >= int(job.total or 0)


def finish_if_complete(job, now=None):
    """Mark `job` done if every unit is accounted for (by the values just written or read); True if it is done."""
    if job.state == RUNNING and is_complete(job):
        return finish(job, DONE, now=now)
    return job.state == DONE


def finish(job, state=DONE, *, error=None, now=None):
    """End a running (or paused) `job` as `state`; True if this call ended it."""
    if state not in ENDED:
        raise ValueError(f"{state!r} does not end a job")
    now = now or timezone.now()
    actions = [Job.state.set(state), Job.finished_at.set(now), Job.updated_at.set(now)]
    if error:
        actions.extend(_error_actions([error], MAX_ERRORS - len(job.errors or [])))
    try:
        job.update(actions=actions, condition=Job.state.is_in(RUNNING, PAUSED))
    except UpdateError as failure:
        if aws.is_conditional_check_failure(failure):
            return False
        raise
    log.info("Job %s (%s) %s: %s", job.job_id, job.kind, state, progress(job))
    signals.job_ended.send(sender=Job, job=job, state=state)
    return True


def cancel(job_id, now=None):
    """Stop job `job_id`: its remaining messages are dropped as they come. Raises JobError if it cannot be."""
    job = get(job_id)
    if job is None:
        raise JobError("There is no such job.")
    if job.state in ENDED:
        raise JobError(f"The job is already {label(job.state).lower()}.")
    if not finish(job, CANCELLED, now=now):
        raise JobError("The job ended meanwhile.")
    return job


def label(state):
    return dict(STATES).get(state, state)


def progress(job):
    """What the admin and the commands show of `job` (JSON-ready)."""
    total = int(job.total or 0)
    done = processed(job)
    return {
        "job": job.job_id,
        "kind": job.kind,
        "state": job.state,
        "state_label": label(job.state),
        "total": total,
        "total_known": bool(job.queued_all),
        "done": int(job.done or 0),
        "skipped": int(job.skipped or 0),
        "failed": int(job.failed or 0),
        "processed": done,
        "percent": 100 if job.state == DONE else (min(100, done * 100 // total) if total else 0),
        "errors": list(job.errors or []),
        "created_at": job.created_at.isoformat() if job.created_at else None,
        "created_by": job.created_by,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "ended": job.state in ENDED,
    }


def follow(job_id, describe, write, *, interval=2.0, timeout=3600.0):
    """Wait for job `job_id` to end, writing `describe(progress)` each time it changes; returns the last progress.

    For the commands that start a job and may wait for it (`--wait`): the
    work happens in the queue handlers, so all they can do is watch the
    job's item. The errors the job kept are written once it ends; a job
    still running after `timeout` seconds raises TimeoutError.
    """
    deadline = time.monotonic() + timeout
    last = None
    while True:
        progress_now = progress(get(job_id))
        line = describe(progress_now)
        if line != last:
            write(line)
            last = line
        if progress_now["ended"]:
            for error in progress_now["errors"]:
                write(f"  {error}")
            return progress_now
        if time.monotonic() >= deadline:
            raise TimeoutError(f"Job {job_id} is still {progress_now['state']} after {timeout:.0f} s.")
        time.sleep(interval)


def wait(job_id, describe, write, *, interval=2.0, timeout=3600.0):
    """`follow` job `job_id` to its end; JobError unless it ended done, TimeoutError if it did not end."""
    ended = follow(job_id, describe, write, interval=interval, timeout=timeout)
    if ended["state"] != DONE:
        raise JobError(f"Job {job_id} ended {ended['state']}.")
    return ended


__all__ = [
    "CANCELLED",
    "DONE",
    "FAILED",
    "PAUSED",
    "RUNNING",
    "JobError",
    "advance",
    "cancel",
    "count",
    "count_actions",
    "create",
    "finish",
    "finish_if_complete",
    "follow",
    "get",
    "progress",
    "recent",
    "wait",
]
