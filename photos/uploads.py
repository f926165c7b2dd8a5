"""Photo uploads: straight from the browser to S3.

API Gateway and Lambda cap request payloads at 6-10 MB, so photos never pass
through Django. The CMS asks for an upload (content type and size), gets a
presigned POST for a fresh key under `MYBLOG_ORIGINALS_PREFIX`, and the
browser sends the file to S3 itself. The POST policy pins the key and the
content type and caps the size, so S3 refuses anything else; the request is
checked here first so the editor gets a clear message instead of an S3 error.

The `Photo` item is created (status "pending") when the upload is granted;
the S3 event that follows makes the renditions and marks it ready or failed
(`photos.processing`).

A photo may be uploaded for an owner (an opaque key: MyBlog passes a post's
slug, after checking it is one). A photo uploaded before its owner existed
(from a post's add form) is given one later with `attach_to_owner`.

Originals are private: they keep the camera's EXIF metadata, GPS position
included, and CloudFront cannot read them. The CMS shows them to editors
through presigned GET URLs that expire after a quarter of an hour
(`original_url`); everywhere else a photo is shown by its renditions.
"""

from django.conf import settings
from django.utils import timezone
from pynamodb.exceptions import PutError, UpdateError

from myblog import aws
from photos.keys import ORIGINAL_EXTENSIONS, is_original_key, is_owner_key, new_original_key
from photos.models import Photo

# Content types browsers send for photos.
CONTENT_TYPES = tuple(ORIGINAL_EXTENSIONS)
UPLOAD_EXPIRES_SECONDS = 600
# How long an editor's link to an original works (its page is reloaded, or
# its thumbnail replaces it, well before).
ORIGINAL_URL_EXPIRES_SECONDS = 900
# The most photos one `attach_to_owner` call attaches.
MAX_ATTACHED = 50


class UploadRejected(ValueError):
    """An upload request the editor can fix (wrong type, too large)."""


def max_upload_bytes():
    return settings.MYBLOG_MAX_UPLOAD_BYTES


def validate_upload(content_type, size):
    """Check an upload request; returns (the normalised content type, the size).

    `content_type` must be a string and `size` a whole number of bytes (an
    int, never a bool or a float): values from a JSON body arrive as any
    JSON type.
    """
    if not isinstance(content_type, str) or content_type.strip().lower() not in CONTENT_TYPES:
        raise UploadRejected("Only photos can be uploaded: JPEG, PNG, WebP or GIF.")
    if not isinstance(size, int) or isinstance(size, bool):
        raise UploadRejected("The file's size is missing or not a whole number of bytes.")
    if size <= 0:
        raise UploadRejected("The file is empty.")
    limit = max_upload_bytes()
    if size > limit:
        # A size from a request may be any integer: too large for a float is still "too large".
        shown = f"{size / 1048576:.1f} MB" if size < 2**53 else "far too large"
        raise UploadRejected(
            f"The photo is {shown}; the largest upload is {limit / 1048576:.0f} MB. Export it smaller and try again."
        )
    return content_type.strip().lower(), size


# The longest file name a photo card shows (longer ones are cut, keeping the extension).
MAX_FILENAME_LENGTH = 120


def clean_filename(name):
    """The file name to record: its last path part, without control characters, at most MAX_FILENAME_LENGTH."""
    if not isinstance(name, str):
        return None
    name = "".join(char for char in name.replace("\\", "/").rsplit("/", 1)[-1] if char.isprintable()).strip()
    if len(name) > MAX_FILENAME_LENGTH:
        stem, dot, extension = name.rpartition(".")
        extension = extension[:10] if dot else ""
        name = name[: MAX_FILENAME_LENGTH - len(extension) - 2] + "…" + (f".{extension}" if extension else "")
    return name or None


def create_upload(*, content_type, size, user="", owner=None, now=None, filename=None):
    """Grant one upload: records the pending `Photo`, returns the presigned POST.

    Returns {"url", "fields", "key", "max_bytes"}: the browser POSTs `fields`
    plus the file (last) as multipart/form-data to `url`. `owner` is stored
    as given; the caller has checked that it names something real.
    """
    content_type, _ = validate_upload(content_type, size)
    if owner is not None and not is_owner_key(owner):
        raise UploadRejected("The photo cannot be recorded for this owner.")
    now = now or timezone.now()
    limit = max_upload_bytes()
    for _attempt in range(3):
        key = new_original_key(content_type, now)
        photo = Photo(
            key,
            content_type=content_type,
            uploaded_by=user,
            owner=owner,
            created_at=now,
            updated_at=now,
            filename=clean_filename(filename),
            size=size,
        )
        try:
            photo.save(condition=Photo.key.does_not_exist())
            break
        except PutError as error:
            if not aws.is_conditional_check_failure(error):
                raise
    else:  # pragma: no cover - three uuid4 collisions
        raise RuntimeError("could not allocate a photo key")
    post = aws.client("s3").generate_presigned_post(
        Bucket=settings.MYBLOG_MEDIA_BUCKET,
        Key=key,
        Fields={"Content-Type": content_type},
        Conditions=[
            {"Content-Type": content_type},
            ["content-length-range", 1, limit],
        ],
        ExpiresIn=UPLOAD_EXPIRES_SECONDS,
    )
    return {"url": post["url"], "fields": post["fields"], "key": key, "max_bytes": limit}


def original_url(key):
    """A presigned S3 GET URL for the original `key`, for editors only (see the module docstring).

    Signing is local (no request to S3); the URL points at the S3 endpoint
    (the local stack's emulator locally).
    """
    return aws.client("s3").generate_presigned_url(
        "get_object",
        Params={"Bucket": settings.MYBLOG_MEDIA_BUCKET, "Key": key},
        ExpiresIn=ORIGINAL_URL_EXPIRES_SECONDS,
    )


def attach_to_owner(keys, owner):
    """Record that the photos `keys`, uploaded with no owner, belong to `owner`.

    A photo uploaded from a post's add form has no post yet; the first save
    attaches it, so the post's photo panel lists it from then on. Photos
    that already have an owner (this one or another) are left alone, and
    so are keys that are not originals'. Returns the keys attached.
    """
    if not is_owner_key(owner):
        return []
    attached = []
    for key in [key for key in dict.fromkeys(keys) if is_original_key(key)][:MAX_ATTACHED]:
        try:
            Photo(key).update(
                actions=[Photo.owner.set(owner)],
                condition=Photo.key.exists() & Photo.owner.does_not_exist(),
            )
        except UpdateError as error:
            if not aws.is_conditional_check_failure(error):
                raise
            continue
        attached.append(key)
    return attached
