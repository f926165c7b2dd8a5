"""Lambda entry points of the subscribers app, bound in `zappa_settings.json`.

Zappa calls each with `(event, context)` after its handler has set up
Django. Thin on purpose: the work is in `subscribers.welcome`,
`subscribers.notifications`, `subscribers.fanout` and
`subscribers.delivery`, which tests call directly. Return values are
JSON, as Lambda requires.
"""

from myblog import queues
from subscribers import delivery, fanout, notifications, welcome


def send_welcome_emails(event, context):
    """Subscribers table stream: one welcome email per new subscriber.

    Returns Lambda's partial batch response ({"batchItemFailures": [...]});
    the event source mapping must enable ReportBatchItemFailures.
    """
    return welcome.handle_stream(event, context)


def record_ses_notifications(event, context):
    """SNS topic of SES bounces and complaints: never mail those addresses again."""
    applied = notifications.handle_event(event)
    return {"suppressed": [{"email": s.email, "status": s.status} for s in applied]}


def fan_out_newsletter(event, context):
    """SQS (newsletter-fanout queue): put the next page of confirmed subscribers on the send queue.

    Returns Lambda's partial batch response; the mapping must enable ReportBatchItemFailures.
    """
    return queues.batch_response(fanout.handle_event(event, context))


def send_newsletter(event, context):
    """SQS (newsletter-send queue): send each recipient of each batch its email, once.

    Returns Lambda's partial batch response; the mapping must enable ReportBatchItemFailures.
    """
    return queues.batch_response(delivery.handle_event(event, context))


def import_subscribers(event, context):
    """SQS (subscriber-imports queue): add the next rows of an uploaded CSV as subscribers.

    Returns Lambda's partial batch response; the mapping must enable ReportBatchItemFailures.
    """
    from subscribers import imports

    return imports.handle_event(event, context)
