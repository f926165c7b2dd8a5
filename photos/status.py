"""A photo's processing status, as `Photo.status` stores it.

In a module of its own, with no imports, so that rendering a page (which
reads the status of the photos it shows) does not load the models on a
cold start that shows none.
"""

PHOTO_PENDING = "pending"  # upload granted, renditions not made yet
PHOTO_READY = "ready"  # renditions made and recorded
PHOTO_FAILED = "failed"  # the file could not be made into renditions; `Photo.error` says why
