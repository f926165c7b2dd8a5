"""From an S3 "object created" event to renditions on S3 and a ready `Photo`.

S3 delivers events at least once and, for one object, possibly out of order
or long after the upload; so the work is idempotent:

- rendition keys are derived from the original's key, so a redelivered event
  overwrites identical objects;
- a `Photo` that already records renditions made from the same ETag is left
  alone (no download, no work);
- the original is read with `IfMatch` on the event's ETag, so an event for a
  version that has since been replaced does nothing (the newer upload has
  its own event).

Renditions are written under `MYBLOG_RENDITIONS_PREFIX`, outside the
originals prefix the event is bound to, so writing them never triggers this
handler again (and a record outside the originals prefix is ignored, in case
a binding is ever widened by mistake).

Bad input (not an image, truncated, too large, a decompression bomb, a
shape a format cannot encode) is logged and recorded on the `Photo` as
failed, with a reason the editor reads on the photo's card: the event is
consumed, never retried. So is any other error of the image work itself
(an encoder or decoder fault on a file nobody foresaw): retrying the same
bytes would fail the same way, and the photo must not stay "processing"
forever. Only failures of AWS itself (throttling, a timeout) raise, so
Lambda's asynchronous retries run the event again.
"""

import logging
from dataclasses import dataclass
from urllib.parse import unquote_plus

from botocore.exceptions import ClientError
from django.conf import settings
from django.utils import timezone

from myblog import aws, events
from photos import renditions as images
from photos.keys import is_original_key, rendition_key
from photos.models import Photo, Rendition
from photos.queries import get_photo
from photos.signals import renditions_ready
from photos.status import PHOTO_FAILED, PHOTO_READY

log = logging.getLogger(__name__)

# Renditions never change once written (a new original gets a new key).
CACHE_CONTROL = "public, max-age=31536000, immutable"
# Originals larger than this are refused without being downloaded.
MAX_ORIGINAL_BYTES = 50 * 1024 * 1024
GONE_CODES = {"NoSuchKey", "404", "NotFound", "PreconditionFailed", "412"}

PROCESSED = "processed"
UNCHANGED = "unchanged"
FAILED = "failed"
IGNORED = "ignored"


@dataclass(frozen=True)
class S3Object:
    bucket: str
    key: str
    etag: str | None
    size: int | None


def created_objects(event):
    """The objects an S3 event notification says were created.

    Keys arrive URL-encoded (spaces as '+'). Records of other kinds and
    malformed records are logged and skipped.
    """
    records = events.records(event, "S3", log)
    objects = []
    for record in records:
        try:
            if not str(record.get("eventName", "")).startswith("ObjectCreated:"):
                log.info("S3 record %r ignored", record.get("eventName"))
                continue
            s3 = record["s3"]
            key = unquote_plus(s3["object"]["key"])
            bucket = s3["bucket"]["name"]
            etag = s3["object"].get("eTag") or None
            size = s3["object"].get("size")
        except (AttributeError, KeyError, TypeError) as error:
            log.warning("Malformed S3 record skipped (%s): %.300r", error, record)
            continue
        if not bucket or not key:
            log.warning("S3 record without bucket or key skipped: %.300r", record)
            continue
        objects.append(S3Object(bucket, key, etag.strip('"') if etag else None, _int_or_none(size)))
    return objects


def _int_or_none(value):
    """The object's size in bytes as S3 sends it (a JSON whole number), or None (then unknown).

    Checked by type, never with `int()`: a record may carry anything, and
    `int()` would read a bool, a float or "+1_0" as a size.
    """
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def process(obj, now=None):
    """Make and record the renditions of one uploaded original; returns an outcome.

    Raises only for failures worth retrying (AWS errors); bad images are
    recorded as failed photos.
    """
    if not is_original_key(obj.key):
        log.warning("Ignored %.300r: not an original's key (under %s)", obj.key, settings.MYBLOG_ORIGINALS_PREFIX)
        return IGNORED
    photo = get_photo(obj.key)
    if obj.etag and _already_done(photo, obj.etag):
        log.info("%s (ETag %s) already processed: %s", obj.key, obj.etag, photo.status)
        return UNCHANGED
    if obj.size is not None and obj.size > MAX_ORIGINAL_BYTES:
        return _record_failure(obj.key, obj.etag, _too_large_reason(obj.size), now)
    original = _download(obj)
    if original is None:
        return IGNORED
    data, etag = original
    if _already_done(photo, etag):
        return UNCHANGED
    try:
        rendered = render_original(obj.key, data)
    except images.InvalidImage as error:
        return _record_failure(obj.key, etag, str(error), now)
    records = upload_renditions(obj.bucket, obj.key, rendered)
    _record_ready(obj.key, etag, rendered, records, now)
    log.info("Made %d renditions of %s (%dx%d)", len(records), obj.key, rendered.width, rendered.height)
    return PROCESSED


def _already_done(photo, etag):
    """The photo records the outcome (renditions, or rejection) of this very file."""
    return photo is not None and photo.status in (PHOTO_READY, PHOTO_FAILED) and photo.etag == etag


class OriginalGone(Exception):
    """The original is not there (deleted), or not the version asked for (replaced)."""


class OriginalTooLarge(Exception):
    def __init__(self, size):
        super().__init__(_too_large_reason(size))
        self.size = size


def read_original(bucket, key, etag=None):
    """(bytes, etag) of the original `key` (of version `etag` if given).

    Raises OriginalGone or OriginalTooLarge (read no further than the limit);
    AWS's other errors propagate, for a retry.
    """
    params = {"Bucket": bucket, "Key": key}
    if etag:
        params["IfMatch"] = etag
    try:
        response = aws.client("s3").get_object(**params)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code in GONE_CODES:
            raise OriginalGone(code) from error
        raise
    with response["Body"] as body:
        length = response.get("ContentLength")
        if length is not None and length > MAX_ORIGINAL_BYTES:
            raise OriginalTooLarge(length)
        data = body.read(MAX_ORIGINAL_BYTES + 1)
    if len(data) > MAX_ORIGINAL_BYTES:
        raise OriginalTooLarge(len(data))
    return data, response.get("ETag", "").strip('"') or etag


def render_original(key, data):
    """The renditions of the original `key` (its bytes `data`); InvalidImage if they cannot be made.

    Any fault of the image work is the file's, not AWS's (see the module
    docstring): it is logged and raised as InvalidImage with its kind.
    """
    try:
        return images.render(data)
    except images.InvalidImage as error:
        if error.__cause__ is not None:  # Pillow's own words, which the editor's message leaves out
            log.info("Photo %s: %s: %s", key, type(error.__cause__).__name__, error.__cause__)
        raise
    except Exception as error:
        log.exception("Renditions of %s could not be made", key)
        raise images.InvalidImage(f"the image could not be processed ({type(error).__name__})") from error


def _download(obj):
    """(bytes, etag) of the original, or None if it is gone, was replaced or is too large (then recorded)."""
    try:
        return read_original(obj.bucket, obj.key, obj.etag)
    except OriginalGone as error:
        log.info("Skipped %s: %s (deleted or replaced since the event)", obj.key, error)
        return None
    except OriginalTooLarge as error:
        return _too_large(obj, error.size)


def _too_large_reason(size):
    return f"the file is {size} bytes; the limit is {MAX_ORIGINAL_BYTES}"


def _too_large(obj, size):
    _record_failure(obj.key, obj.etag, _too_large_reason(size), None)
    return None


def upload_renditions(bucket, original_key, rendered):
    """Put every rendition of `rendered` on S3 (keys derived from the original's); their `Rendition` records."""
    s3 = aws.client("s3")
    records = []
    for rendition in rendered.renditions:
        key = rendition_key(original_key, rendition.width, rendition.format)
        s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=rendition.data,
            ContentType=rendition.content_type,
            CacheControl=CACHE_CONTROL,
        )
        records.append(Rendition(width=rendition.width, height=rendition.height, format=rendition.format, key=key))
    return records


def ready_actions(etag, rendered, records, now):
    """The update that records a photo's renditions (made from version `etag` of its original) as ready."""
    return [
        Photo.status.set(PHOTO_READY),
        Photo.width.set(rendered.width),
        Photo.height.set(rendered.height),
        Photo.content_type.set(rendered.content_type),
        Photo.renditions.set(records),
        Photo.etag.set(etag),
        Photo.error.remove(),
        Photo.updated_at.set(now),
        Photo.created_at.set(Photo.created_at | now),
    ]


def _record_ready(key, etag, rendered, records, now):
    now = now or timezone.now()
    photo = Photo(key)
    photo.update(actions=ready_actions(etag, rendered, records, now))
    renditions_ready.send(sender=Photo, photo=photo)


def _record_failure(key, etag, reason, now):
    log.warning("Photo %s rejected: %s", key, reason)
    now = now or timezone.now()
    actions = [
        Photo.status.set(PHOTO_FAILED),
        Photo.error.set(reason[:500]),
        Photo.renditions.set([]),
        Photo.updated_at.set(now),
        Photo.created_at.set(Photo.created_at | now),
    ]
    if etag:
        actions.append(Photo.etag.set(etag))
    Photo(key).update(actions=actions)
    return FAILED


def handle_event(event):
    """Process every created object of an S3 event; {outcome: [keys]}.

    Every record is attempted; if any failed for a reason worth retrying the
    last such error is raised afterwards, so Lambda retries the event (the
    records already done are then skipped as unchanged).
    """
    outcomes = {}
    retry_error = None
    for obj in created_objects(event):
        try:
            outcome = process(obj)
        except Exception as error:
            log.exception("Renditions of %s failed; the event will be retried", obj.key)
            retry_error = error
            continue
        outcomes.setdefault(outcome, []).append(obj.key)
    if retry_error is not None:
        raise retry_error
    return outcomes
