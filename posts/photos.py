"""Photo uploads from the admin: straight from the browser to S3.

API Gateway and Lambda cap request payloads at 6-10 MB, so photos never pass
through Django. The admin asks for an upload (content type and size), gets a
presigned POST for a fresh key under `MYBLOG_ORIGINALS_PREFIX`, and the
browser sends the file to S3 itself. The POST policy pins the key and the
content type and caps the size, so S3 refuses anything else; the request is
checked here first so the editor gets a clear message instead of an S3 error.

The `Photo` item is created (status "pending") when the upload is granted;
the S3 event that follows makes the renditions and marks it ready or failed.

Originals are private: they keep the camera's EXIF metadata, GPS position
included, and CloudFront cannot read them. The admin shows them to editors
through presigned GET URLs that expire after a quarter of an hour
(`original_url`); everywhere else a photo is shown by its renditions.
"""

import re
import uuid

from django.conf import settings
from django.utils import timezone
from pynamodb.exceptions import PutError, UpdateError

from dynamo_admin.limits import fits_hash_key
from myblog import aws
from myblog.storage import public_url
from posts.models import PHOTO_FAILED, PHOTO_PENDING, PHOTO_READY, Photo
from posts.rendering import markdown_for_photo, photo_key
from posts.rules import is_valid_slug

# Content types browsers send for photos, and the extension of their keys.
CONTENT_TYPES = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/gif": "gif",
}
UPLOAD_EXPIRES_SECONDS = 600
# How long an editor's link to an original works (its page is reloaded, or
# its thumbnail replaces it, well before).
ORIGINAL_URL_EXPIRES_SECONDS = 900
THUMBNAIL_WIDTH = 320
# The most photos the post form's panel lists (one Query reads them).
MAX_PANEL_PHOTOS = 200
# The most photos one save attaches to its post.
MAX_ATTACHED_PER_SAVE = 50
IMAGE_RE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)")


class UploadRejected(ValueError):
    """An upload request the editor can fix (wrong type, too large)."""


def max_upload_bytes():
    return settings.MYBLOG_MAX_UPLOAD_BYTES


def validate_upload(content_type, size):
    """Check an upload request; returns the normalised content type."""
    content_type = (content_type or "").strip().lower()
    if content_type not in CONTENT_TYPES:
        raise UploadRejected("Only photos can be uploaded: JPEG, PNG, WebP or GIF.")
    try:
        size = int(size)
    except (TypeError, ValueError) as error:
        raise UploadRejected("The file's size is missing.") from error
    if size <= 0:
        raise UploadRejected("The file is empty.")
    limit = max_upload_bytes()
    if size > limit:
        raise UploadRejected(
            f"The photo is {size / 1048576:.1f} MB; the largest upload is {limit / 1048576:.0f} MB. "
            "Export it smaller and try again."
        )
    return content_type, size


def new_original_key(content_type, now):
    return f"{settings.MYBLOG_ORIGINALS_PREFIX}{now:%Y/%m}/{uuid.uuid4().hex}.{CONTENT_TYPES[content_type]}"


def create_upload(*, content_type, size, user="", post_slug=None, now=None):
    """Grant one upload: records the pending `Photo`, returns the presigned POST.

    Returns {"url", "fields", "key", "max_bytes"}: the browser POSTs `fields`
    plus the file (last) as multipart/form-data to `url`.
    """
    content_type, _ = validate_upload(content_type, size)
    if post_slug and not is_valid_slug(post_slug):
        raise UploadRejected("There is no post with this address to upload the photo for.")
    now = now or timezone.now()
    limit = max_upload_bytes()
    for _attempt in range(3):
        key = new_original_key(content_type, now)
        photo = Photo(
            key,
            content_type=content_type,
            uploaded_by=user,
            post_slug=post_slug or None,
            created_at=now,
            updated_at=now,
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


def thumbnail(photo):
    """The rendition to show in the admin: the narrowest at least THUMBNAIL_WIDTH wide."""
    renditions = sorted(photo.renditions or [], key=lambda r: (r.width, r.format != "jpeg"))
    if not renditions:
        return None
    return next((r for r in renditions if r.width >= THUMBNAIL_WIDTH), renditions[-1])


def status_label(photo):
    """The photo's status as the admin words it."""
    if photo.status == PHOTO_READY:
        return "ready"
    if photo.status == PHOTO_FAILED:
        return f"failed: {photo.error or 'could not be processed'}"
    return "processing…"


def photo_info(photo):
    """What the admin shows for a photo (JSON-ready)."""
    thumb = thumbnail(photo) if photo.status == PHOTO_READY else None
    return {
        "key": photo.key,
        "status": photo.status,
        "status_label": status_label(photo),
        "original_url": original_url(photo.key),
        "thumbnail_url": public_url(thumb.key) if thumb else None,
        "width": int(photo.width) if photo.width else None,
        "height": int(photo.height) if photo.height else None,
        "renditions": [
            {"width": int(r.width), "height": int(r.height), "format": r.format, "url": public_url(r.key)}
            for r in photo.renditions or []
        ],
        "error": photo.error if photo.status != PHOTO_PENDING else None,
        "markdown": markdown_for_photo(photo.key, photo.alt or ""),
    }


def get_photo(key):
    if not fits_hash_key(key):  # a key from a request that no photo can have
        return None
    try:
        return Photo.get(key)
    except Photo.DoesNotExist:
        return None


def load_photos(keys):
    """{key: Photo} for the keys that exist (one BatchGetItem per 100 keys)."""
    keys = [key for key in dict.fromkeys(keys) if fits_hash_key(key)]
    return {photo.key: photo for photo in Photo.batch_get(keys)} if keys else {}


def keys_in_post(body, cover_image=None):
    """S3 keys of the photos a post uses: its cover, then those in its body, in order."""
    keys = [cover_image] if cover_image else []
    for match in IMAGE_RE.finditer(body or ""):
        key = photo_key(match.group(1))
        if key:
            keys.append(key)
    return list(dict.fromkeys(keys))


def valid_original_key(key):
    return (
        isinstance(key, str)
        and key.startswith(settings.MYBLOG_ORIGINALS_PREFIX)
        and ".." not in key
        and fits_hash_key(key)
    )


def photos_of_post(slug, limit=MAX_PANEL_PHOTOS):
    """The photos uploaded for the post `slug`, oldest first: one Query on `Photo.post_index`."""
    if not slug:
        return []
    return list(Photo.post_index.query(slug, limit=limit))


def panel_photos(slug, body="", cover_image=None, other_keys=()):
    """`photo_info` of the photos the post form offers, for its photo panel.

    The photos uploaded for the post (one Query), then those it shows but
    that were uploaded elsewhere (its cover, photos in its body) and
    `other_keys` (uploads not yet attached to it), with one BatchGetItem for
    whichever of those the Query did not return.
    """
    uploaded = photos_of_post(slug)
    known = {photo.key for photo in uploaded}
    keys = [*keys_in_post(body, cover_image), *(key for key in other_keys if valid_original_key(key))]
    others = [key for key in dict.fromkeys(keys) if key not in known][:MAX_PANEL_PHOTOS]
    found = load_photos(others)
    return [photo_info(photo) for photo in [*uploaded, *(found[key] for key in others if key in found)]]


def attach_to_post(keys, slug):
    """Record that the photos `keys`, uploaded before their post existed, belong to `slug`.

    A photo uploaded from the add form has no post yet; the first save
    attaches it, so the post's photo panel lists it from then on. Photos
    already attached to a post (this one or another) are left alone.
    Returns the keys attached.
    """
    attached = []
    for key in [key for key in dict.fromkeys(keys) if valid_original_key(key)][:MAX_ATTACHED_PER_SAVE]:
        try:
            Photo(key).update(
                actions=[Photo.post_slug.set(slug)],
                condition=Photo.key.exists() & Photo.post_slug.does_not_exist(),
            )
        except UpdateError as error:
            if not aws.is_conditional_check_failure(error):
                raise
            continue
        attached.append(key)
    return attached


def cover_info(key):
    """`photo_info` of a post's cover (one GetItem); a cover with no `Photo` item has no image to show."""
    if not key:
        return None
    photo = get_photo(key)
    if photo is not None:
        return photo_info(photo)
    return {
        "key": key,
        "status": "missing",
        "status_label": "not found among the uploaded photos",
        "original_url": None,
        "thumbnail_url": None,
    }
