"""Photos as PynamoDB models: one item per uploaded original, its renditions inside it.

Keys are designed for the pages and the CMS, so that every read is one call:

- a photo's renditions: `Photo` GetItem / BatchGetItem by its original's S3 key;
- the photos uploaded for one owner (the CMS photo panel of a post):
  `Photo.owner_index` (sparse: only photos uploaded for an owner carry one);
- every photo of one status, oldest first (the re-render job's fan-out,
  `photos.rerender`): `Photo.status_index`. Every photo has a status and a
  creation time from its first write, so the index covers photos stored
  before it existed without a backfill.

The table, its key and its index keep the names they were created with
(`photos`, `key`, `post-index` over `post_slug`), so existing items load
as they are.
"""

from django.conf import settings
from django.utils import timezone
from pynamodb.attributes import ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from myblog.aws import DynamoModel, table_name
from photos.status import PHOTO_PENDING


class Rendition(MapAttribute):
    width = NumberAttribute()
    height = NumberAttribute()
    format = UnicodeAttribute()  # "jpeg", "webp" or "avif" (photos.renditions.FORMATS)
    key = UnicodeAttribute()  # S3 key under MYBLOG_RENDITIONS_PREFIX


class OwnerIndex(GlobalSecondaryIndex):
    """The photos uploaded for one owner, oldest first: Query owner=<key>."""

    class Meta:
        index_name = "post-index"
        projection = AllProjection()

    owner = UnicodeAttribute(hash_key=True, attr_name="post_slug")
    created_at = UTCDateTimeAttribute(range_key=True)


class StatusIndex(GlobalSecondaryIndex):
    """The photos of one status, oldest first: Query status=<status> (see `photos.status`)."""

    class Meta:
        index_name = "status-index"
        projection = AllProjection()

    status = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class Photo(DynamoModel):
    """An uploaded photo (its original's S3 key) and its generated renditions."""

    class Meta:
        table_name = table_name("photos")
        region = settings.AWS_REGION
        billing_mode = "PAY_PER_REQUEST"

    key = UnicodeAttribute(hash_key=True)  # e.g. media/originals/2026/11/<uuid>.jpg
    status = UnicodeAttribute(default=PHOTO_PENDING)  # see photos.status
    width = NumberAttribute(null=True)  # upright (EXIF-applied) size of the original
    height = NumberAttribute(null=True)
    content_type = UnicodeAttribute(null=True)
    renditions = ListAttribute(of=Rendition, default=list)
    error = UnicodeAttribute(null=True)  # why processing failed, as the editor reads it
    etag = UnicodeAttribute(null=True)  # the original's ETag the renditions were made from
    alt = UnicodeAttribute(default="")
    # The file as the editor chose it: its name (without folders) and size in bytes, for the photo cards
    # (absent on photos uploaded before they were recorded).
    filename = UnicodeAttribute(null=True)
    size = NumberAttribute(null=True)
    # What the photo was uploaded for (a post's slug): opaque to this app.
    owner = UnicodeAttribute(null=True, attr_name="post_slug")
    uploaded_by = UnicodeAttribute(default="")
    created_at = UTCDateTimeAttribute(default=timezone.now)
    updated_at = UTCDateTimeAttribute(default=timezone.now)
    # The last re-render job that handled this photo (a conditional write
    # sets it with the outcome, so a redelivered message does nothing twice),
    # and why that job could not make its renditions, if it could not.
    render_job = UnicodeAttribute(null=True)
    render_error = UnicodeAttribute(null=True)

    owner_index = OwnerIndex()
    status_index = StatusIndex()

    @property
    def formats(self):
        """The formats this photo's renditions were made in, in `photos.renditions.FORMATS` order.

        Read from the renditions themselves (each records its format), so a
        photo made before AVIF existed says ("jpeg", "webp") without a
        migration; the re-render job brings it up to date.
        """
        made = {rendition.format for rendition in self.renditions or []}
        order = ("jpeg", "webp", "avif")
        return tuple(fmt for fmt in order if fmt in made) + tuple(sorted(made - set(order)))
