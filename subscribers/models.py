"""Subscribers as a PynamoDB model.

The email address (normalised to lower case) is the hash key, so "is this
address subscribed" is one GetItem and a conditional put makes sign-up
idempotent. The table has a stream (NEW_AND_OLD_IMAGES): each INSERT is a
new subscriber, to whom `subscribers.handlers` sends the welcome email.
Confirm and unsubscribe links are signed with Django's signing framework,
so no token is stored.
"""

from django.conf import settings
from django.utils import timezone
from pynamodb.attributes import (
    BinaryAttribute,
    BooleanAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from myblog.aws import DynamoModel, table_name

# The admin's placeholder model (content type, permissions): Django loads it with these models.
from subscribers import placeholders  # noqa: F401

PENDING = "pending"
CONFIRMED = "confirmed"
UNSUBSCRIBED = "unsubscribed"
BOUNCED = "bounced"
COMPLAINED = "complained"
STATUS_CHOICES = [
    (PENDING, "Pending confirmation"),
    (CONFIRMED, "Confirmed"),
    (UNSUBSCRIBED, "Unsubscribed"),
    (BOUNCED, "Bounced"),
    (COMPLAINED, "Complained"),
]
# Addresses that must never be mailed again.
SUPPRESSED = {UNSUBSCRIBED, BOUNCED, COMPLAINED}
KIND_SUBSCRIBER = "subscriber"


class SubscriberStatusIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "status-index"
        projection = AllProjection()

    status = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class AllSubscribersIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "all-index"
        projection = AllProjection()

    kind = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class Subscriber(DynamoModel):
    class Meta:
        table_name = table_name("subscribers")
        region = settings.AWS_REGION
        billing_mode = "PAY_PER_REQUEST"
        stream_view_type = "NEW_AND_OLD_IMAGES"

    email = UnicodeAttribute(hash_key=True)  # normalised: see subscribers.services
    status = UnicodeAttribute(default=PENDING)
    kind = UnicodeAttribute(default=KIND_SUBSCRIBER)
    created_at = UTCDateTimeAttribute(default=timezone.now)
    confirmed_at = UTCDateTimeAttribute(null=True)
    unsubscribed_at = UTCDateTimeAttribute(null=True)
    # Claimed by a conditional write before the welcome email is sent, so a
    # redelivered stream record never sends a second one.
    welcome_claimed_at = UTCDateTimeAttribute(null=True)
    welcome_sent_at = UTCDateTimeAttribute(null=True)
    welcome_message_id = UnicodeAttribute(null=True)
    suppressed_reason = UnicodeAttribute(null=True)
    # Added by a CSV import (see `subscribers.imports`): the name the file
    # gave, when and by which job, from which row, and for addresses
    # imported as already confirmed, the editor's note of how they consented.
    name = UnicodeAttribute(null=True)
    imported_at = UTCDateTimeAttribute(null=True)
    import_job = UnicodeAttribute(null=True)
    import_row = NumberAttribute(null=True)
    consent_note = UnicodeAttribute(null=True)

    status_index = SubscriberStatusIndex()
    all_index = AllSubscribersIndex()

    def __str__(self):
        return self.email

    @property
    def can_be_mailed(self):
        return self.status not in SUPPRESSED


class RateLimit(DynamoModel):
    """How many requests one client made in one time window (see `subscribers.ratelimit`).

    The window is part of the key, so a counter never needs resetting; the
    TTL attribute lets DynamoDB delete old windows (within a day or two of
    expiry, which is why the key, not the TTL, decides what counts).
    """

    class Meta:
        table_name = table_name("rate-limits")
        region = settings.AWS_REGION
        billing_mode = "PAY_PER_REQUEST"

    key = UnicodeAttribute(hash_key=True)  # "<scope>#<client digest>#<window start>"
    count = NumberAttribute(default=0)
    expires_at = TTLAttribute(null=True)


# --- Newsletter sends -----------------------------------------------------
# A send is the one email of a newly published post to every confirmed
# subscriber (see `subscribers.newsletter`). Its states:
SEND_QUEUED = "queued"  # recorded; the fan-out has not read a page yet
SEND_SENDING = "sending"  # fanning out and/or sending
SEND_PAUSED = "paused"  # by an editor or by the deliverability guard (see `paused_reason`)
SEND_CANCELLED = "cancelled"
SEND_DONE = "done"
SEND_STATES = [
    (SEND_QUEUED, "Queued"),
    (SEND_SENDING, "Sending"),
    (SEND_PAUSED, "Paused"),
    (SEND_CANCELLED, "Cancelled"),
    (SEND_DONE, "Sent"),
]
SEND_ENDED = {SEND_CANCELLED, SEND_DONE}
KIND_SEND = "send"
# Counters of a send: each recipient ends in exactly one of the first four;
# bounced and complained come later, from SES's notifications.
SEND_COUNTERS = ("sent", "skipped", "failed", "rejected", "bounced", "complained")


class AllSendsIndex(GlobalSecondaryIndex):
    """Every send, newest first (the admin's list of sends)."""

    class Meta:
        index_name = "all-index"
        projection = AllProjection()

    kind = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class Send(DynamoModel):
    """The newsletter send of one post: created once, ever, per post.

    The post's slug is the hash key and the send is created with a
    condition that it does not exist, so unpublishing and publishing again,
    a double click or two schedulers can never start a second send.
    `content` is the email as rendered when the post went live (zlib JSON
    of subject, HTML and text, with `newsletter.UNSUBSCRIBE_PLACEHOLDER`
    where each recipient's own link goes), so every recipient gets the
    same post, whatever is edited during the send.
    """

    class Meta:
        table_name = table_name("newsletter-sends")
        region = settings.AWS_REGION
        billing_mode = "PAY_PER_REQUEST"

    post_slug = UnicodeAttribute(hash_key=True)
    subject = UnicodeAttribute()
    content = BinaryAttribute(legacy_encoding=False)
    state = UnicodeAttribute(default=SEND_QUEUED)
    paused_reason = UnicodeAttribute(default="")
    kind = UnicodeAttribute(default=KIND_SEND)
    created_at = UTCDateTimeAttribute(default=timezone.now)
    created_by = UnicodeAttribute(default="")
    updated_at = UTCDateTimeAttribute(default=timezone.now)
    finished_at = UTCDateTimeAttribute(null=True)
    # The fan-out's place in the confirmed subscribers: the page it reads
    # next and the Query's ExclusiveStartKey for it (JSON), until done.
    fanout_page = NumberAttribute(default=0)
    fanout_cursor = UnicodeAttribute(null=True)
    fanout_done = BooleanAttribute(default=False)
    audience = NumberAttribute(default=0)  # recipients put on the send queue so far
    sent = NumberAttribute(default=0)
    skipped = NumberAttribute(default=0)  # unsubscribed, bounced or complained since the send started
    failed = NumberAttribute(default=0)
    rejected = NumberAttribute(default=0)  # SES refused the address for good (now marked bounced)
    bounced = NumberAttribute(default=0)
    complained = NumberAttribute(default=0)

    all_index = AllSendsIndex()

    def __str__(self):
        return self.post_slug


# What became of a claimed recipient. A claim without an outcome was made
# just before its SES call: sent, unless the sender died during that call
# (see `subscribers.delivery`).
DELIVERY_SENT = "sent"  # sent, and recorded so because the attempt stopped right after it
DELIVERY_RELEASED = "released"  # not sent (SES refused for now): free for the next attempt
DELIVERY_REJECTED = "rejected"  # SES refused the address for good
DELIVERY_FAILED = "failed"  # SES refused this message for a reason of its own: not retried
# The range key of a batch's marker: the batch is done and its counters added.
BATCH_MARKER = "#batch#"


class Delivery(DynamoModel):
    """One recipient's claim in a send (hash: the send's post slug; range: the address).

    Written with a condition before SES is called, so that redelivered
    messages, retried batches and racing senders send each recipient at most
    once. The range key `BATCH_MARKER + batch id` marks a batch of the send
    queue as done (and counted).
    """

    class Meta:
        table_name = table_name("newsletter-deliveries")
        region = settings.AWS_REGION
        billing_mode = "PAY_PER_REQUEST"

    send = UnicodeAttribute(hash_key=True)
    email = UnicodeAttribute(range_key=True)
    batch = UnicodeAttribute(default="")  # the batch (send-queue message body's id) that claimed it
    attempt = NumberAttribute(default=1)  # that message's receive count when it claimed
    seq = NumberAttribute(default=0)  # the recipient's place in the batch
    claimed_at = UTCDateTimeAttribute(default=timezone.now)
    outcome = UnicodeAttribute(null=True)  # one of DELIVERY_*; none while the SES call is (or was) under way
    # Set when SES reports a bounce or a complaint of this email, so that a
    # notification delivered twice counts once against the send.
    bounced_at = UTCDateTimeAttribute(null=True)
    complained_at = UTCDateTimeAttribute(null=True)
    expires_at = TTLAttribute(null=True)
