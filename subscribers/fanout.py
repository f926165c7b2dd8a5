"""The newsletter fan-out: confirmed subscribers, page by page, onto the send queue.

One fan-out message (`{"send", "page", "cursor"}` on the newsletter-fanout
queue) is one page: a Query on the subscribers' status index (status
confirmed, PAGE_SIZE a page; never a Scan), whose addresses go to the send
queue in batches of CHUNK_SIZE (batch id `<page>-<chunk>`), and one
conditional update of the send that records the page as read (the next
page and its cursor, the audience so far, whether the fan-out is over).
The message for the next page is queued after that update, so it always
finds its page recorded as the current one. Any subscriber count works:
each call reads one page, well within Lambda's time.

The send record is the truth, the message only a wake-up call: the page is
read from the cursor the send holds. A message for a page already read is
stale (a redelivery, or a duplicate) and dropped; one for a page not yet
reachable is returned to the queue. A paused or ended send reads no more
pages (`newsletter.resume_send` queues the current page again).

Delivery is at least once: two copies of a message may read the same page.
Only one records it; the other's batches duplicate the winner's, with the
same ids, and the sender counts each batch once (`subscribers.delivery`).
"""

import json
import logging

from django.utils import timezone
from pynamodb.exceptions import UpdateError

from myblog import aws, queues
from subscribers import newsletter
from subscribers.models import CONFIRMED, SEND_ENDED, SEND_PAUSED, SEND_QUEUED, SEND_SENDING, Send, Subscriber

log = logging.getLogger(__name__)

PAGE_SIZE = 1000  # subscribers a page (one Query)
CHUNK_SIZE = 50  # recipients a send-queue message
MAX_SLUG_LENGTH = 200

DONE = "done"  # the message is dealt with (or can never be): delete it
RETRY = "retry"  # return the message to the queue


def handle_event(event, context=None, *, page_size=None):
    """Fan out each message of an SQS event; returns the ids of the messages to retry."""
    failed = []
    for message in queues.messages(event, log):
        try:
            outcome = fan_out(message, page_size=page_size)
        except Exception:
            log.exception("Newsletter fan-out message %s failed; it is retried", message.message_id)
            outcome = RETRY
        if outcome == RETRY:
            failed.append(message.message_id)
    return failed


def parse(body):
    """(post slug, page) of a fan-out message body, or None if it is not one."""
    slug, page = body.get("send"), body.get("page")
    if not isinstance(slug, str) or not 0 < len(slug) <= MAX_SLUG_LENGTH:
        return None
    if not isinstance(page, int) or isinstance(page, bool) or page < 0:
        return None
    return slug, page


def fan_out(message, *, page_size=None, now=None):
    """Read the page `message` names and queue its recipients; returns DONE or RETRY."""
    parsed = parse(message.body)
    if parsed is None:
        log.warning(
            "Newsletter fan-out message %s skipped: not a fan-out message: %.300r", message.message_id, message.body
        )
        return DONE
    slug, page = parsed
    send = newsletter.get_send(slug)
    if send is None:
        log.warning("Newsletter fan-out message %s skipped: post %s has no send", message.message_id, slug)
        return DONE
    if send.state in SEND_ENDED or send.state == SEND_PAUSED:
        log.info("Newsletter send of %s is %s: page %s not read", slug, send.state, page)
        return DONE
    current = int(send.fanout_page)
    if page < current:
        if page == current - 1 and message.receive_count > 1 and not send.fanout_done:
            # An earlier receive of this message recorded its page and may
            # have died before queueing the next one: queue it (a duplicate
            # of it would be stale, and dropped).
            newsletter.queue_fanout(send)
        log.info("Newsletter fan-out of %s: page %s already read (now at %s)", slug, page, current)
        return DONE
    if page > current:
        log.info("Newsletter fan-out of %s: page %s is ahead of page %s; retried later", slug, page, current)
        return RETRY
    if send.fanout_done:
        return DONE

    cursor = json.loads(send.fanout_cursor) if send.fanout_cursor else None
    addresses, next_cursor = read_page(cursor, page_size or PAGE_SIZE)
    queues.send(newsletter.SEND_QUEUE, batches(slug, page, addresses))
    if not record_page(send, page, len(addresses), next_cursor, now=now):
        log.info("Newsletter fan-out of %s: page %s was recorded by another copy of its message", slug, page)
        return DONE
    log.info("Newsletter fan-out of %s: page %s queued %s recipient(s)", slug, page, len(addresses))
    if next_cursor is not None:
        queues.send(newsletter.FANOUT_QUEUE, [newsletter.fanout_message(slug, page + 1, json.dumps(next_cursor))])
    else:
        newsletter.complete_if_finished(slug, now=now)
    return DONE


def read_page(cursor, page_size):
    """The confirmed addresses after `cursor` (a Query's ExclusiveStartKey), and the next cursor or None."""
    results = Subscriber.status_index.query(
        CONFIRMED,
        limit=page_size,
        page_size=page_size,
        last_evaluated_key=cursor,
        attributes_to_get=["email"],
    )
    addresses = [subscriber.email for subscriber in results]
    return addresses, results.last_evaluated_key


def batches(slug, page, addresses):
    """The send-queue messages of one page: CHUNK_SIZE addresses each, numbered `<page>-<chunk>`."""
    return [
        {"send": slug, "batch": f"{page}-{index}", "to": addresses[start : start + CHUNK_SIZE]}
        for index, start in enumerate(range(0, len(addresses), CHUNK_SIZE))
    ]


def record_page(send, page, count, next_cursor, *, now=None):
    """Record page `page` as read (if it still is the current page); False if another copy did.

    One conditional update. A queued send becomes sending; if an editor
    paused or cancelled it meanwhile, the page is recorded all the same (its
    batches are on the queue).
    """
    now = now or timezone.now()
    state = send.state
    cursor = (
        Send.fanout_cursor.set(json.dumps(next_cursor)) if next_cursor is not None else Send.fanout_cursor.remove()
    )
    for _attempt in range(3):
        actions = [
            Send.fanout_page.set(page + 1),
            Send.audience.add(count),
            Send.fanout_done.set(next_cursor is None),
            Send.updated_at.set(now),
            cursor,
        ]
        condition = Send.fanout_page == page
        if state == SEND_QUEUED:
            actions.append(Send.state.set(SEND_SENDING))
            condition &= Send.state == SEND_QUEUED
        try:
            Send(send.post_slug).update(actions=actions, condition=condition)
        except UpdateError as error:
            if not aws.is_conditional_check_failure(error):
                raise
            current = newsletter.get_send(send.post_slug)
            if current is None or int(current.fanout_page) != page:
                return False
            state = current.state  # only the state changed: record the page without it
            continue
        return True
    return False
