"""Lambda entry points of the photos app, bound in `zappa_settings.json`.

Zappa calls each with `(event, context)` after its handler has set up
Django, so models and settings are ready. Kept thin: the work is in
`photos.processing`, which tests call directly.
"""

from photos import processing


def make_renditions(event, context):
    """S3 ObjectCreated under the originals prefix: make and record renditions."""
    return processing.handle_event(event)


def rerender_photos(event, context):
    """SQS (photo-renders queue): fan out a re-render job, or make one photo's renditions again."""
    raise NotImplementedError("photos.rerender")
