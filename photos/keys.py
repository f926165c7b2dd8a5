"""The shapes of photo keys: originals and renditions in S3, owners in DynamoDB.

The one place that says whether a string is an original's key, so that the
upload, the event handler, the Markdown renderer and the admin agree:
keys come from browsers, from Markdown and from S3 events, and a key that
does not have this shape is never looked up, shown or processed.

- An original: `MYBLOG_ORIGINALS_PREFIX` + `<yyyy>/<mm>/<uuid>.<ext>` as the
  upload makes it (any key under the prefix is accepted, for photos put
  there by other means), never with `..`, and short enough to be a
  DynamoDB hash key.
- A rendition: `MYBLOG_RENDITIONS_PREFIX` + the original's path without its
  prefix and extension + `/<width>.<ext>`, outside the originals prefix so
  that writing one never triggers the event handler.
- An owner: whatever the app using photos groups them by (a post's slug),
  opaque here; only DynamoDB's limits for an index key are checked.
"""

import uuid

from django.conf import settings

from dynamo_admin.limits import fits_hash_key

# The extension of an original's key, by the content type it was uploaded with.
ORIGINAL_EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/gif": "gif",
}
# The extension of a rendition's key, by its format.
RENDITION_EXTENSIONS = {"jpeg": "jpg", "webp": "webp", "avif": "avif"}


def is_original_key(key):
    """Whether `key` can be the S3 key of an uploaded original (see the module docstring)."""
    return (
        isinstance(key, str)
        and key.startswith(settings.MYBLOG_ORIGINALS_PREFIX)
        and ".." not in key
        and fits_hash_key(key)
    )


def is_owner_key(owner):
    """Whether `owner` can be stored as a photo's owner (an index hash key: 1 to 2048 bytes of UTF-8)."""
    return fits_hash_key(owner)


def new_original_key(content_type, now):
    """A fresh key for an upload of `content_type` (one of ORIGINAL_EXTENSIONS) at `now`."""
    return f"{settings.MYBLOG_ORIGINALS_PREFIX}{now:%Y/%m}/{uuid.uuid4().hex}.{ORIGINAL_EXTENSIONS[content_type]}"


def rendition_key(original_key, width, fmt):
    """`media/renditions/<original path without prefix and extension>/<width>.<ext>`."""
    relative = original_key.removeprefix(settings.MYBLOG_ORIGINALS_PREFIX)
    folder, _, name = relative.rpartition("/")
    stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
    path = f"{folder}/{stem}" if folder else stem
    return f"{settings.MYBLOG_RENDITIONS_PREFIX}{path}/{width}.{RENDITION_EXTENSIONS[fmt]}"
