"""The site's icons, linked from every page: their hashed static URLs, worked out without the manifest.

collectstatic stores a file it does not rewrite (an image) as
`<name>.<first 12 hex digits of its MD5>.<ext>` (`HashedFilesMixin.hashed_name`).
The icons ship in the package (in `myblog/icons/`, not a `static/` folder,
which the package leaves out) and are published by collectstatic as
`myblog/<name>` (STATICFILES_DIRS), so their names are computed from the
files themselves, once per process. `{% static %}` would instead read the
manifest from the bucket on each instance's first page (a request on
every cold start), and fail on every page of an instance started before
collectstatic uploaded the icons.
"""

import functools
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles.storage import HashedFilesMixin
from django.core.files import File

ICONS_DIR = Path(__file__).resolve().parent / "icons"
PREFIX = "myblog/"  # where collectstatic publishes them (STATICFILES_DIRS)
ICON = PREFIX + "favicon.svg"  # SVG, light and dark
TOUCH_ICON = PREFIX + "apple-touch-icon.png"  # 180 x 180 PNG, opaque


def _hashes_names():
    # Deployed stages publish static files with the manifest storage (MYBLOG_STATIC_ON_S3), which
    # hashes names (and serves them unhashed under DEBUG); the local storage does not. Decided from
    # the setting rather than the storage class, whose import (boto3's S3 transfer) costs a cold start.
    return settings.MYBLOG_STATIC_ON_S3 and not settings.DEBUG


@functools.cache
def static_url(name):
    """The URL of the icon `name` (`ICON`, `TOUCH_ICON`) as collectstatic publishes it."""
    if _hashes_names():
        with path(name).open("rb") as handle:
            name = HashedFilesMixin().hashed_name(name, content=File(handle))
    return settings.STATIC_URL + name


def path(name):
    """The packaged file of the icon `name`."""
    return ICONS_DIR / name.removeprefix(PREFIX)


def icon_urls():
    return {"icon": static_url(ICON), "touch_icon": static_url(TOUCH_ICON)}
