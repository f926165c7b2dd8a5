"""Importing subscribers from a CSV file, as a batch job on the subscriber-imports queue.

Double opt-in is kept: an imported address is pending, so the subscribers
stream sends it the welcome email with its confirm link (as for a sign-up
on the site), unless the editor marks the file as already confirmed, with
a note of how those readers consented, which is stored on each of them.

The editor's request only checks the file (`read_csv`: a CSV of at most
MAX_BYTES with an email column), stores it privately in the media bucket
under IMPORTS_PREFIX (outside `media/`: CloudFront can read nothing
there), records the job and queues its first message. The handler then
reads the file from S3 and adds the rows from the message's offset for a
time budget (at most ROWS_PER_MESSAGE), queues the continuation and
records the step, conditional on the offset (`myblog.jobs.advance`), so
a redelivered message never adds or counts a row twice:

- each row is one conditional put (the address must be new): an address
  already subscribed, in whatever state, is left as it is and counted
  skipped, as is a repeat within the file;
- a row whose put fails its condition is read back: if it carries this
  job's id and this row number, an earlier attempt of the same step added
  it (the attempt died before recording the step), and it counts as added;
- an invalid address is counted failed, with its row number in the job's
  first errors.

When the last rows are recorded the stored file is deleted.
"""

import codecs
import csv
import datetime
import io
import logging
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone
from pynamodb.exceptions import PutError

from myblog import aws, jobs, queues
from myblog.models import ENDED
from subscribers import services
from subscribers.models import CONFIRMED, PENDING, Subscriber

log = logging.getLogger(__name__)

KIND = "subscribers.import"
QUEUE = "subscriber-imports"
IMPORTS_PREFIX = "imports/"
# The file passes through the admin's request: API Gateway hands Lambda a
# multipart body base64-encoded, and Lambda takes at most 6 MB of event, so
# 4 MB of CSV (about 80 000 addresses) is what fits with room to spare.
MAX_BYTES = 4 * 1024 * 1024
MAX_CONSENT_NOTE = 500
MAX_NAME = 200
# Rows one message adds at most, and the invocation time it leaves unused.
ROWS_PER_MESSAGE = 1000
TIME_RESERVE_MS = 15_000
# Without a Lambda context (tests, a shell), the time one message may take.
TIME_BUDGET_SECONDS = 40
# The continuation is queued before its step is recorded (see myblog.jobs);
# this short delay lets the record land before the continuation is read.
CONTINUATION_DELAY = 2

EMAIL_HEADERS = {"email", "emailaddress", "mail", "e-mail", "emails"}
NAME_HEADERS = {"name", "fullname", "displayname", "subscribername"}
CREATED_HEADERS = {"created", "createdat", "subscribed", "subscribedat", "signedup", "signupdate", "joined", "date"}

ADDED = "added"
SKIPPED = "skipped"
FAILED = "failed"
DROPPED = "dropped"
DONE = "done"


class InvalidFile(ValueError):
    """The upload is not a CSV this import can read (the message says why, for editors)."""


class NotYet(Exception):
    """A message for rows after the job's current offset: retried later."""


@dataclass(frozen=True)
class Row:
    number: int  # the record's line in the file, 1 for the first (a spreadsheet's row number)
    email: str
    name: str
    created: str


@dataclass(frozen=True)
class Parsed:
    rows: list
    has_header: bool
    columns: dict  # "email", "name", "created" -> column index


def _decode(data):
    """The file's text: UTF-8 (with or without a byte order mark), else Windows-1252 (Excel's "CSV").

    A file that starts with UTF-8's byte order mark says it is UTF-8, so
    an invalid byte after it is damage, refused with where it is, never
    read as Windows-1252 (which would turn the mark into `ï»¿` on the
    first column's name).
    """
    if b"\x00" in data:
        raise InvalidFile("This is not a CSV file (it contains binary data). Export the list as CSV and try again.")
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            line = data.count(b"\n", 0, error.start) + 1
            raise InvalidFile(
                f"The file is marked as UTF-8 but line {line} is not valid UTF-8: "
                "save it as UTF-8 CSV again and upload the new file."
            ) from error
    for encoding in ("utf-8", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InvalidFile("The file's text encoding is not readable: save it as UTF-8 CSV and try again.")


def _dialect(text):
    try:
        return csv.Sniffer().sniff(text[:8192], delimiters=",;\t")
    except csv.Error:
        return csv.excel


def _header_key(cell):
    return "".join(ch for ch in cell.strip().lower() if ch.isalnum() or ch == "-")


def _is_email(cell):
    try:
        services.normalise_email(cell)
    except services.InvalidEmail:
        return False
    return True


def _columns(first):
    """(has_header, {"email": i, ...}) from the file's first record; InvalidFile if no email column."""
    keys = [_header_key(cell) for cell in first]
    columns = {}
    for name, headers in (("email", EMAIL_HEADERS), ("name", NAME_HEADERS), ("created", CREATED_HEADERS)):
        for index, key in enumerate(keys):
            if key in headers or key.replace("-", "") in headers:
                columns.setdefault(name, index)
    if "email" in columns:
        return True, columns
    for index, cell in enumerate(first):
        if _is_email(cell):
            return False, {"email": index}
    raise InvalidFile(
        "No email column: the first row must name one (“email”) or hold an address. "
        f"It reads: {', '.join(cell.strip()[:40] for cell in first[:6]) or '(empty)'}."
    )


def too_large_message(size):
    return (
        f"The file is {size / 1048576:.1f} MB; the largest import is {MAX_BYTES // 1048576} MB. "
        "Split it into smaller files."
    )


def read_csv(data):
    """The rows of the CSV `data` (bytes); InvalidFile if it is not one this import reads.

    The first record is a header if one of its cells names the email column
    (email, e-mail, email address...; name and created columns are optional),
    otherwise the email column is the first cell of that record holding an
    address, and every record is a row. Blank records are left out.
    """
    if len(data) > MAX_BYTES:
        raise InvalidFile(
            f"The file is {len(data) / 1048576:.1f} MB; the largest import is {MAX_BYTES // 1048576} MB."
        )
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), _dialect(text))
    try:
        records = [(number, record) for number, record in enumerate(reader, start=1)]
    except csv.Error as error:
        raise InvalidFile(f"This is not a CSV file this import can read ({error}).") from error
    records = [(number, record) for number, record in records if any(cell.strip() for cell in record)]
    if not records:
        raise InvalidFile("The file is empty.")
    has_header, columns = _columns(records[0][1])
    if has_header:
        records = records[1:]
    if not records:
        raise InvalidFile("The file has a header but no addresses.")

    def cell(record, name):
        index = columns.get(name)
        return record[index].strip() if index is not None and index < len(record) else ""

    rows = [
        Row(number, cell(record, "email"), cell(record, "name"), cell(record, "created")) for number, record in records
    ]
    return Parsed(rows, has_header, columns)


def parse_created(value, now):
    """When a row's subscriber signed up (an ISO 8601 date or time, naive = UTC), never after `now`; else None."""
    if not value:
        return None
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return min(moment, now)


def file_key(job_id):
    return f"{IMPORTS_PREFIX}{job_id}.csv"


def start_import(data, *, filename="", confirmed=False, consent_note="", created_by="", now=None):
    """Check the CSV `data`, store it, record the import job and queue its first message; (job, Parsed).

    Raises InvalidFile for a file the editor must fix, ValueError for a
    confirmed import without a consent note. If the file cannot be stored
    or the message queued, the job is ended as failed and the error raised.
    """
    parsed = read_csv(data)
    consent_note = (consent_note or "").strip()
    if confirmed and not consent_note:
        raise ValueError("Say how these readers consented: a confirmed import needs a consent note.")
    options = {
        "filename": str(filename or "")[:200],
        "confirmed": bool(confirmed),
        "consent_note": consent_note[:MAX_CONSENT_NOTE] if confirmed else "",
        "rows": len(parsed.rows),
    }
    job = jobs.create(KIND, created_by=created_by, options=options, now=now)
    try:
        aws.client("s3").put_object(
            Bucket=settings.MYBLOG_MEDIA_BUCKET,
            Key=file_key(job.job_id),
            Body=data,
            ContentType="text/csv",
            CacheControl="private, no-store",
        )
        queues.send(QUEUE, [{"job": job.job_id, "offset": 0}])
    except Exception as error:
        jobs.finish(job, jobs.FAILED, error=f"the import could not be started: {error}")
        raise
    return job, parsed


def _load_rows(job):
    """The rows of the job's stored file, or None if it is gone (or no longer reads)."""
    client = aws.client("s3")
    try:
        response = client.get_object(Bucket=settings.MYBLOG_MEDIA_BUCKET, Key=file_key(job.job_id))
    except client.exceptions.NoSuchKey:
        return None
    with response["Body"] as body:
        data = body.read(MAX_BYTES + 1)
    try:
        return read_csv(data).rows
    except InvalidFile:
        return None


def add_row(job, row, now):
    """Add one row's subscriber (a conditional put); ADDED, SKIPPED, or (FAILED, reason)."""
    try:
        email = services.normalise_email(row.email)
    except services.InvalidEmail:
        shown = row.email[:80] or "(empty)"
        return FAILED, f"row {row.number}: not a valid email address: {shown!r}"
    options = job.options or {}
    confirmed = bool(options.get("confirmed"))
    subscriber = Subscriber(
        email,
        status=CONFIRMED if confirmed else PENDING,
        created_at=parse_created(row.created, now) or now,
        confirmed_at=now if confirmed else None,
        name=row.name[:MAX_NAME] or None,
        imported_at=now,
        import_job=job.job_id,
        import_row=row.number,
        consent_note=(options.get("consent_note") or None) if confirmed else None,
    )
    try:
        subscriber.save(condition=Subscriber.email.does_not_exist())
    except PutError as error:
        if not aws.is_conditional_check_failure(error):
            raise
        try:
            existing = Subscriber.get(email, consistent_read=True)
        except Subscriber.DoesNotExist:  # deleted in between: leave it deleted
            return SKIPPED
        if existing.import_job == job.job_id and existing.import_row == row.number:
            return ADDED  # by an earlier attempt of this very step
        return SKIPPED
    return ADDED


def _time_left(context, started):
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is not None:
        return remaining() > TIME_RESERVE_MS
    return timezone.now() - started < datetime.timedelta(seconds=TIME_BUDGET_SECONDS)


def import_step(job, offset, context=None, now=None):
    """Add the job's rows from `offset` for a time budget, queue the rest, record the step; an outcome."""
    if offset < job.page:
        log.info("Import %s: rows from %d already added (now at %d)", job.job_id, offset, job.page)
        return DROPPED
    if offset > job.page:
        raise NotYet(f"import {job.job_id}: rows from {offset} before {job.page}")
    rows = _load_rows(job)
    if rows is None:
        jobs.finish(job, jobs.FAILED, error="the uploaded file is no longer in the bucket")
        return DROPPED
    started = timezone.now()
    now = now or started
    counts = {ADDED: 0, SKIPPED: 0, FAILED: 0}
    errors = []
    end = offset
    for row in rows[offset : offset + ROWS_PER_MESSAGE]:
        if end > offset and not _time_left(context, started):
            break
        outcome = add_row(job, row, now)
        if isinstance(outcome, tuple):
            outcome, reason = outcome
            errors.append(reason)
        counts[outcome] += 1
        end += 1
    if end < len(rows):
        queues.send(QUEUE, [{"job": job.job_id, "offset": end}], delay_seconds=CONTINUATION_DELAY)
    recorded = jobs.advance(
        job,
        page=offset,
        next_page=end,
        last=True,
        errors=errors,
        total=len(rows) if offset == 0 else 0,
        done=counts[ADDED],
        skipped=counts[SKIPPED],
        failed=counts[FAILED],
    )
    if recorded is None:
        log.info("Import %s: rows from %d were recorded by another copy", job.job_id, offset)
        return DROPPED
    log.info("Import %s: rows %d-%d: %s", job.job_id, offset, end, counts)
    if recorded.state == jobs.DONE:
        _delete_file(job)
    return DONE


def _delete_file(job):
    """Delete the finished import's file: the addresses are in the table now, and a copy is one more to protect.

    Best effort: a file left behind is removed by the bucket's lifecycle rule for IMPORTS_PREFIX.
    """
    try:
        aws.client("s3").delete_object(Bucket=settings.MYBLOG_MEDIA_BUCKET, Key=file_key(job.job_id))
    except Exception:
        log.exception("Import %s: its file could not be deleted", job.job_id)


def handle_message(body, context=None, now=None):
    job_id = body.get("job")
    offset = body.get("offset")
    job = jobs.get(job_id, kind=KIND)
    if job is None:
        log.warning("Subscriber-imports message for no import job dropped: %.300r", body)
        return DROPPED
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        log.warning("Subscriber-imports message without an offset dropped: %.300r", body)
        return DROPPED
    if job.state in ENDED:
        log.info("Import %s is %s: message dropped", job_id, job.state)
        return DROPPED
    return import_step(job, offset, context, now)


def handle_event(event, context=None):
    """Handle an SQS batch of the subscriber-imports queue; Lambda's partial batch response."""
    failed = []
    for message in queues.messages(event, log):
        try:
            handle_message(message.body, context)
        except NotYet as error:
            log.info("%s: retried later", error)
            failed.append(message.message_id)
        except Exception:
            log.exception("Subscriber-imports message %s failed; it is retried", message.message_id)
            failed.append(message.message_id)
    return queues.batch_response(failed)
