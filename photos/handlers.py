"""Lambda entry points of the photos app, bound in `zappa_settings.json`.

Zappa calls each with `(event, context)` after its handler has set up
Django, so models and settings are ready. Kept thin: the work is in
`photos.processing` and `photos.rerender`, which tests call directly.
"""

from photos import processing, rerender


def make_renditions(event, context):
    """S3 ObjectCreated under the originals prefix: make and record renditions."""
    return processing.handle_event(event)


def rerender_photos(event, context):
    """SQS (photo-renders queue): fan out a re-render job, or make one photo's renditions again.

    Returns Lambda's partial batch response; the mapping must enable ReportBatchItemFailures.
    """
    return rerender.handle_event(event, context)
