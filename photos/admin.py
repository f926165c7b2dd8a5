"""The photo pieces of the CMS: photo cards, the photo panel, the cover widget.

The app that owns photos (posts) puts these in its own admin pages; none of
them is registered on the admin site by itself. A card (`photo_info`) is
what the editor sees of one photo: its thumbnail (the original, through a
short-lived presigned URL, until the renditions exist), its status, and why
it failed when it did, and the Markdown that places it in a text.
"""

from django import forms
from django.template.defaultfilters import filesizeformat

from myblog.storage import public_url
from photos import queries
from photos.keys import is_original_key
from photos.rendering import markdown_for_photo
from photos.status import PHOTO_FAILED, PHOTO_PENDING, PHOTO_READY
from photos.uploads import original_url

THUMBNAIL_WIDTH = 320
# The most photos the panel lists (one Query for the owner's uploads, one
# BatchGetItem for the others it shows).
MAX_PANEL_PHOTOS = queries.MAX_OWNER_PHOTOS


def thumbnail(photo):
    """The rendition to show in the admin: the narrowest at least THUMBNAIL_WIDTH wide."""
    renditions = sorted(photo.renditions or [], key=lambda r: (r.width, r.format != "jpeg"))
    if not renditions:
        return None
    return next((r for r in renditions if r.width >= THUMBNAIL_WIDTH), renditions[-1])


def status_label(photo):
    """The photo's status as the admin words it (a failure with its reason)."""
    if photo.status == PHOTO_READY:
        return "ready"
    if photo.status == PHOTO_FAILED:
        return f"failed: {photo.error or 'could not be processed'}"
    return "processing…"


def size_label(size):
    """A file size as people read it, with the exact bytes: "2.3 MB (2,411,724 bytes)"; "" when unknown."""
    if not size:
        return ""
    return f"{filesizeformat(int(size))} ({int(size):,} bytes)"


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
        "filename": photo.filename or photo.key.rsplit("/", 1)[-1],
        "size": int(photo.size) if photo.size else None,
        "size_label": size_label(photo.size),
        "markdown": markdown_for_photo(photo.key, photo.alt or ""),
    }


def panel_photos(owner, shown_keys=(), other_keys=()):
    """`photo_info` of the photos a form's photo panel offers.

    The photos uploaded for `owner` (one Query), then those the form shows
    but that were uploaded elsewhere (`shown_keys`: a post's cover and the
    photos in its text) and `other_keys` (uploads not yet attached to it),
    with one BatchGetItem for whichever of those the Query did not return
    (the first `queries.MAX_PHOTOS` of them).
    """
    uploaded = queries.photos_of_owner(owner, limit=MAX_PANEL_PHOTOS) if owner else []
    known = {photo.key for photo in uploaded}
    keys = [key for key in dict.fromkeys([*shown_keys, *other_keys]) if is_original_key(key) and key not in known]
    found = queries.get_photos(keys[: queries.MAX_PHOTOS])
    return [photo_info(photo) for photo in [*uploaded, *(found[key] for key in keys if key in found)]]


def cover_info(key):
    """`photo_info` of a cover (one GetItem); a cover with no `Photo` item has no image to show."""
    if not key:
        return None
    photo = queries.get_photo(key)
    if photo is not None:
        return photo_info(photo)
    return {
        "key": key,
        "status": "missing",
        "status_label": "not found among the uploaded photos",
        "original_url": None,
        "thumbnail_url": None,
    }


class CoverPhotoInput(forms.HiddenInput):
    """A cover photo's S3 key, shown as the current cover.

    The key itself stays a hidden input (editors pick the cover with “Set as
    cover” in the photo panel); beside it the widget shows the cover's
    thumbnail (until the renditions are made, its original through a
    short-lived presigned URL: originals are private), its status and a
    “Remove cover” button, which the form's script keeps up to date.
    """

    template_name = "photos/widgets/cover_photo.html"
    is_hidden = False  # shown in its fieldset, with its label

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        photo = cover_info(value)
        context["widget"]["photo"] = photo
        context["widget"]["image_url"] = (photo["thumbnail_url"] or photo["original_url"]) if photo else None
        return context

    def id_for_label(self, id_):
        return None  # the label names the photo; the hidden key cannot take focus
