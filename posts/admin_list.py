"""What the posts' change list shows besides the posts: their count and their covers.

Both cost nothing per row. The count is DynamoDB's own `ItemCount` of the
posts table (DescribeTable: not billed, no items read), which AWS refreshes
about every six hours, so the list says "about"; a counter kept in every
save's transaction would be exact, but it would be one item every save and
delete writes, so concurrent saves would conflict on it (and a transaction
conflict is a retry or a refused save). The count is kept per function
instance for `COUNT_SECONDS`. The covers of a page are one BatchGetItem.
"""

import logging
import time

from myblog import aws
from myblog.storage import public_url
from photos import queries as photo_queries
from photos.status import PHOTO_READY
from posts.models import Post

log = logging.getLogger(__name__)

COUNT_SECONDS = 300
# The cover thumbnail's width in the list, in CSS pixels (the narrowest rendition is shown).
THUMBNAIL_WIDTH = 64

_count = {"value": None, "at": 0.0}


def approximate_post_count(now=None):
    """The posts table's ItemCount (DescribeTable), at most COUNT_SECONDS old here; None if unreadable."""
    now = time.monotonic() if now is None else now
    if _count["value"] is not None and now - _count["at"] < COUNT_SECONDS:
        return _count["value"]
    try:
        table = aws.client("dynamodb", Post.Meta.region).describe_table(TableName=Post.Meta.table_name)["Table"]
    except Exception:
        log.warning("The posts table's item count could not be read", exc_info=True)
        return None
    _count.update(value=int(table.get("ItemCount", 0)), at=now)
    return _count["value"]


def forget_count():
    _count.update(value=None, at=0.0)


def cover_thumbnails(posts):
    """{cover key: thumbnail URL} of the posts' covers that have renditions: one BatchGetItem (none without covers)."""
    photos = photo_queries.get_photos([post.cover_image for post in posts if post.cover_image])
    thumbnails = {}
    for key, photo in photos.items():
        if photo.status != PHOTO_READY or not photo.renditions:
            continue
        smallest = min(photo.renditions, key=lambda r: (r.width, r.format != "jpeg"))
        thumbnails[key] = public_url(smallest.key)
    return thumbnails
