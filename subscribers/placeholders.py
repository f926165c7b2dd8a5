"""The admin's Django-side stand-in for the PynamoDB `Subscriber` (see `dynamo_admin.models`).

It gives subscribers their content type and permissions
(`subscribers.export_subscriber` among them); `subscribers.models` imports
it so that Django loads it with the app's models.
"""

from dynamo_admin.models import DynamoPlaceholder


class Subscriber(DynamoPlaceholder):
    class Meta(DynamoPlaceholder.Meta):
        app_label = "subscribers"
        verbose_name = "subscriber"
        verbose_name_plural = "subscribers"
        permissions = [("export_subscriber", "Can export subscribers as CSV")]
