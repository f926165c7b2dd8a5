"""What every Lambda event handler does first: find the event's records.

S3 notifications, DynamoDB stream batches and SNS deliveries all carry a
`Records` list. An event without one can never be handled, so it is logged
and skipped rather than raised: a raise would only make Lambda retry it.
"""

import logging


def records(event, source, log=None):
    """The event's `Records` list, or [] (logged as `source`) when it has none."""
    found = event.get("Records") if isinstance(event, dict) else None
    if isinstance(found, list):
        return found
    (log or logging.getLogger(__name__)).warning("%s event without Records skipped: %.200r", source, event)
    return []
