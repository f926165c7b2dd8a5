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
from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
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
