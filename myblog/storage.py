"""Where readers fetch a stored file from.

Media live in a private bucket that readers reach only through CloudFront,
so a file's public address is `MEDIA_URL` (the CloudFront domain's `media/`
path, or `/media/` without one) followed by the rest of its S3 key.
"""

import functools
from urllib.parse import quote, unquote

from django.conf import settings

MEDIA_PREFIX = "media/"


def public_url(key):
    """The URL readers use for the S3 object `key` (for example `media/renditions/...`)."""
    return settings.MEDIA_URL + _quoted(key.removeprefix(MEDIA_PREFIX))


# A listing's covers name dozens of renditions on every request; quoting a key depends on the key alone.
@functools.lru_cache(maxsize=8192)
def _quoted(path):
    return quote(path)


def key_from_public_url(url):
    """The S3 key behind a `public_url`, or None if `url` is not one of ours."""
    if not url.startswith(settings.MEDIA_URL):
        return None
    rest = url[len(settings.MEDIA_URL) :].split("?", 1)[0].split("#", 1)[0]
    return MEDIA_PREFIX + unquote(rest) if rest else None
