"""The read path for photos: the one way pages, feeds, the API, the preview and the CMS load them.

Each function is exactly one DynamoDB call (or none), so a page's cost is
the sum of the functions it calls, which tests count:

- `get_photo(key)`: one GetItem;
- `get_photos(keys)`: one BatchGetItem for every photo of a page (a post's
  cover and the photos in its text, or every photo of a feed);
- `photos_of_owner(owner)`: one Query on the owner index (the CMS panel).

Keys come from URLs, forms and Markdown: a key no photo can have (not an
original's key, or too long for DynamoDB) is "not found" without a call.

`PageLoader` is how a page asks for its photos: the renderer hands it the
keys it found in the text, the page adds its own (the cover), and all of
them are fetched together.
"""

from dynamo_admin.limits import MAX_BATCH_GET_KEYS
from photos.keys import is_original_key, is_owner_key
from photos.models import Photo

# The most photos one page shows: what one BatchGetItem returns.
MAX_PHOTOS = MAX_BATCH_GET_KEYS
# The most photos the CMS panel lists for an owner (one Query).
MAX_OWNER_PHOTOS = 200


def get_photo(key):
    """The `Photo` of the original `key`, or None: one GetItem (none for a key no photo can have)."""
    if not is_original_key(key):
        return None
    try:
        return Photo.get(key)
    except Photo.DoesNotExist:
        return None


def get_photos(keys):
    """{key: Photo} for the originals' keys given that exist: one BatchGetItem (none for no keys).

    Keys no photo can have are left out; of the rest, the first MAX_PHOTOS
    in the order given (so a page lists its cover first).
    """
    keys = [key for key in dict.fromkeys(keys) if is_original_key(key)][:MAX_PHOTOS]
    if not keys:
        return {}
    return {photo.key: photo for photo in Photo.batch_get(keys)}


def photos_of_owner(owner, limit=MAX_OWNER_PHOTOS):
    """The photos uploaded for `owner`, oldest first: one Query on `Photo.owner_index`."""
    if not is_owner_key(owner):
        return []
    return list(Photo.owner_index.query(owner, limit=limit))


class PageLoader:
    """The photos of one page, loaded with one BatchGetItem.

    Pass it as the renderer's `load_photos`: called with the keys found in
    the text, it fetches them together with the page's own `keys` (a
    cover). `photos()` returns what was loaded, loading the page's own keys
    if the renderer never called (a text without photos).
    """

    def __init__(self, *keys):
        self.keys = [key for key in keys if key]
        self.loaded = None

    def __call__(self, keys):
        self.loaded = get_photos([*self.keys, *keys])
        return self.loaded

    def photos(self):
        return self.loaded if self.loaded is not None else self(())
