"""Re-rendering every photo, after the rendition sizes or formats change.

A batch job (`myblog.jobs`) of kind KIND on the `photo-renders` queue:

- `start` records the job and queues its first fan-out message;
- a fan-out message (`{"job", "kind": "fanout", "page", "cursor"}`) reads
  one page of photos (a Query on `Photo.status_index`, ready photos then
  failed ones, oldest first: never a Scan), queues one message per photo
  that needs its renditions again (`{"job", "kind": "photo", "key"}`) and
  the next fan-out message, then records the step (`jobs.advance`,
  conditional on the page: a redelivered fan-out message does nothing
  more). Pending photos are left out: their upload's own event makes their
  renditions, with the code of the day;
- a photo message makes the photo's renditions with the upload handler's
  own code (`photos.processing`: read the original, render, put the
  renditions) and records them in one transaction with the job's counter,
  on condition that the photo does not already carry this job's id in
  `render_job`. So a redelivered message, or two copies racing, count and
  record the photo once. An original that cannot be rendered (gone,
  corrupt, too large) leaves the photo as it was (its current renditions
  keep serving pages), records the reason in `render_error` and in the
  job's first errors, and counts as failed: the job still finishes.

Renditions keep their keys (derived from the original's key, width and
format), so a rendition whose size and format did not change is
overwritten in place; one of a new width or format gets a new key.
"""

import logging

from django.conf import settings
from django.utils import timezone

from myblog import aws, jobs, queues, transactions
from myblog.models import ENDED, Job
from photos import processing
from photos import renditions as images
from photos.keys import is_original_key
from photos.models import Photo
from photos.signals import RERENDER_JOB, renditions_ready
from photos.status import PHOTO_FAILED, PHOTO_READY

log = logging.getLogger(__name__)

KIND = RERENDER_JOB
QUEUE = "photo-renders"
FANOUT = "fanout"
PHOTO = "photo"
# Photos one fan-out message reads (one Query page) and queues.
PAGE_SIZE = 100
# The statuses whose photos are rendered again, in this order. Failed photos
# are tried again too: new code may render what the old could not.
STATUSES = (PHOTO_READY, PHOTO_FAILED)

RENDERED = "rendered"
FAILED = "failed"
ALREADY = "already"
DROPPED = "dropped"


class NotYet(Exception):
    """A fan-out message for a step after the job's current one: retried later."""


def start(*, only_missing=False, created_by="", now=None):
    """Record a re-render job and queue its first fan-out message; returns the job.

    If the message cannot be queued the job is ended as failed (with the
    reason) and the error raised: no job is left running with nothing to do it.
    """
    job = jobs.create(KIND, created_by=created_by, options={"only_missing": bool(only_missing)}, now=now)
    try:
        queues.send(QUEUE, [fanout_message(job.job_id, 0, None)])
    except Exception as error:
        jobs.finish(job, jobs.FAILED, error=f"the job could not be queued: {error}")
        raise
    return job


def fanout_message(job_id, page, cursor):
    return {"job": job_id, "kind": FANOUT, "page": page, "cursor": cursor}


def photo_message(job_id, key):
    return {"job": job_id, "kind": PHOTO, "key": key}


def needs_renditions(photo, widths=None, formats=None):
    """Whether `photo` lacks a rendition the current sizes and formats call for (`--only-missing`)."""
    widths = widths or images.WIDTHS
    formats = formats or images.FORMATS
    if photo.status != PHOTO_READY or not photo.width or not photo.height:
        return True
    sizes = images.target_sizes(int(photo.width), int(photo.height), widths)
    wanted = {(width, fmt) for width, _ in sizes for fmt in formats}
    made = {(int(r.width), r.format) for r in photo.renditions or []}
    return not wanted <= made


def read_page(cursor, page_size=None):
    """(photos, the cursor after them or None at the end) from `cursor` ({"status", "start"} or None)."""
    page_size = page_size or PAGE_SIZE
    cursor = cursor or {"status": STATUSES[0], "start": None}
    status = cursor["status"]
    results = Photo.status_index.query(
        status, last_evaluated_key=cursor.get("start"), limit=page_size, scan_index_forward=True
    )
    photos = list(results)
    last_key = results.last_evaluated_key
    if last_key:
        return photos, {"status": status, "start": last_key}
    following = STATUSES.index(status) + 1
    if following < len(STATUSES):
        return photos, {"status": STATUSES[following], "start": None}
    return photos, None


def survey(page_size=None):
    """What a job would do (`--dry-run`): {status: photos, "missing": photos lacking renditions}.

    Reads the same pages the fan-out would (Queries on the status index).
    """
    counts = dict.fromkeys(STATUSES, 0)
    counts["missing"] = 0
    cursor = None
    while True:
        photos, next_cursor = read_page(cursor, page_size)
        for photo in photos:
            counts[photo.status] = counts.get(photo.status, 0) + 1
            counts["missing"] += needs_renditions(photo)
        if next_cursor is None:
            return counts
        cursor = next_cursor


def fan_out(job, page):
    """Do fan-out step `page` of `job`: queue its photos and the next step, then record it."""
    if page < job.page:
        log.info("Re-render %s: fan-out page %d already done (now at %d)", job.job_id, page, job.page)
        return DROPPED
    if page > job.page:
        raise NotYet(f"fan-out page {page} of {job.job_id} before page {job.page}")
    only_missing = bool((job.options or {}).get("only_missing"))
    photos, next_cursor = read_page(jobs.decode_cursor(job))
    wanted = [
        photo.key for photo in photos if is_original_key(photo.key) and (not only_missing or needs_renditions(photo))
    ]
    bodies = [photo_message(job.job_id, key) for key in wanted]
    if next_cursor is not None:
        bodies.append(fanout_message(job.job_id, page + 1, next_cursor))
    if bodies:
        queues.send(QUEUE, bodies)
    recorded = jobs.advance(
        job,
        page=page,
        cursor=next_cursor,
        last=next_cursor is None,
        total=len(photos),
        skipped=len(photos) - len(wanted),
    )
    if recorded is None:
        log.info("Re-render %s: fan-out page %d was recorded by another copy", job.job_id, page)
        return DROPPED
    log.info("Re-render %s: page %d queued %d of %d photos", job.job_id, page, len(wanted), len(photos))
    return RENDERED


def rerender(job_id, key, now=None):
    """Make the renditions of photo `key` again for job `job_id`, once; returns an outcome.

    Raises for failures worth retrying (AWS's); a file that cannot be
    rendered is a recorded failure, never a retry.
    """
    photo = _get(key)
    if photo is None:
        # Deleted since the fan-out read it: there is nothing to render or to mark.
        jobs.count(job_id, skipped=1, now=now)
        return DROPPED
    if photo.render_job == job_id:
        return ALREADY
    reason = None
    try:
        data, etag = processing.read_original(settings.MYBLOG_MEDIA_BUCKET, key)
        rendered = processing.render_original(key, data)
    except processing.OriginalGone:
        reason = "the original is no longer in the bucket"
    except processing.OriginalTooLarge as error:
        reason = str(error)
    except images.InvalidImage as error:
        reason = str(error)
    if reason is not None:
        log.warning("Re-render %s: %s not rendered: %s", job_id, key, reason)
        return _record(job_id, key, _failure_actions(job_id, reason, now), failed=1, error=f"{key}: {reason}", now=now)
    records = processing.upload_renditions(settings.MYBLOG_MEDIA_BUCKET, key, rendered)
    actions = [
        *processing.ready_actions(etag, rendered, records, now or timezone.now()),
        Photo.render_job.set(job_id),
        Photo.render_error.remove(),
    ]
    outcome = _record(job_id, key, actions, done=1, now=now)
    if outcome == RENDERED:
        renditions_ready.send(sender=Photo, photo=Photo(key), job=job_id)
    return outcome


def _get(key):
    if not is_original_key(key):
        return None
    try:
        return Photo.get(key, consistent_read=True)
    except Photo.DoesNotExist:
        return None


def _failure_actions(job_id, reason, now):
    now = now or timezone.now()
    return [Photo.render_job.set(job_id), Photo.render_error.set(reason[:500]), Photo.updated_at.set(now)]


def _record(job_id, key, photo_actions, *, error=None, now=None, **counts):
    """Mark the photo handled by `job_id` and count it on the job, in one transaction; the outcome."""
    outcome = FAILED if counts.get("failed") else RENDERED
    unmarked = Photo.key.exists() & (Photo.render_job.does_not_exist() | (Photo.render_job != job_id))
    room = True
    for _attempt in range(2):
        job_actions, job_condition = jobs.count_actions(error=error, room=room, now=now, **counts)

        def build(transaction, job_actions=job_actions, job_condition=job_condition):
            transaction.update(Photo(key), actions=photo_actions, condition=unmarked)
            transaction.update(Job(job_id), actions=job_actions, condition=job_condition)

        try:
            transactions.write(build, connection=aws.connection())
        except transactions.ConditionFailed:
            photo = _get(key)
            if photo is None or photo.render_job == job_id:
                return ALREADY  # another copy of the message recorded it
            if not (error and room):
                raise
            room = False  # the job keeps enough errors already: count this one without its text
            continue
        return outcome
    raise AssertionError("unreachable")  # pragma: no cover


def handle_message(body, now=None):
    """Handle one message body of the photo-renders queue; the outcome (NotYet: retry it later)."""
    job_id = body.get("job")
    kind = body.get("kind")
    job = jobs.get(job_id, kind=KIND)
    if job is None:
        log.warning("Photo-renders message for no re-render job dropped: %.300r", body)
        return DROPPED
    if job.state in ENDED:
        log.info("Re-render %s is %s: message dropped", job_id, job.state)
        return DROPPED
    if kind == FANOUT:
        page = body.get("page")
        if not isinstance(page, int) or isinstance(page, bool) or page < 0:
            log.warning("Fan-out message without a page dropped: %.300r", body)
            return DROPPED
        return fan_out(job, page)
    if kind == PHOTO:
        key = body.get("key")
        if not is_original_key(key):
            log.warning("Photo message without an original's key dropped: %.300r", body)
            return DROPPED
        return rerender(job_id, key, now=now)
    log.warning("Photo-renders message of unknown kind dropped: %.300r", body)
    return DROPPED


# Below this much time left in the invocation no new message is started (a
# large photo takes a few seconds): the rest are reported for a retry.
TIME_RESERVE_MS = 15_000


def handle_event(event, context=None):
    """Handle an SQS batch of the photo-renders queue; Lambda's partial batch response."""
    failed = []
    touched = set()
    for message in queues.messages(event, log):
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        if remaining is not None and remaining() < TIME_RESERVE_MS:
            failed.append(message.message_id)
            continue
        try:
            outcome = handle_message(message.body)
        except NotYet as error:
            log.info("%s: retried later", error)
            failed.append(message.message_id)
            continue
        except Exception:
            log.exception("Photo-renders message %s failed; it is retried", message.message_id)
            failed.append(message.message_id)
            continue
        if outcome in (RENDERED, FAILED, DROPPED) and message.body.get("kind") == PHOTO:
            touched.add(message.body["job"])
    for job_id in touched:
        job = jobs.get(job_id)
        if job is not None:
            jobs.finish_if_complete(job)
    return queues.batch_response(failed)
