"""Lambda entry points of the posts app, bound in `zappa_settings.json`.

Zappa calls each with `(event, context)` after its handler has set up
Django, so models and settings are ready. Keep these thin: the work is in
`posts.services`, which tests call directly. (Photos have their own:
`photos.handlers`.)
"""

import logging

from posts import search_index, services

log = logging.getLogger(__name__)


def publish_scheduled(event, context):
    """Scheduled (rate expression): publish the posts whose time has come."""
    published = services.publish_due_posts()
    if published:
        log.info("Published on schedule: %s", ", ".join(published))
    else:
        log.info("No scheduled post is due")
    return {"published": published}


def rebuild_search_index(event, context):
    """SQS (search-index queue): rebuild the search index once for a batch of post changes.

    Returns Lambda's partial batch response; the mapping must enable ReportBatchItemFailures.
    """
    return search_index.handle_event(event, context)
