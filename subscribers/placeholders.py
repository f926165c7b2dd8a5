"""The admin's Django-side stand-ins for the PynamoDB `Subscriber` and `Send` (see `dynamo_admin.models`).

They give subscribers and newsletter sends their content types and
permissions (`subscribers.export_subscriber`; `subscribers.change_send`
is what starting, pausing, resuming and cancelling a send takes);
`subscribers.models` imports them so that Django loads them with the app's
models.
"""

from dynamo_admin.models import DynamoPlaceholder


class Subscriber(DynamoPlaceholder):
    class Meta(DynamoPlaceholder.Meta):
        app_label = "subscribers"
        verbose_name = "subscriber"
        verbose_name_plural = "subscribers"
        permissions = [("export_subscriber", "Can export subscribers as CSV")]


class Send(DynamoPlaceholder):
    class Meta(DynamoPlaceholder.Meta):
        app_label = "subscribers"
        verbose_name = "newsletter send"
        verbose_name_plural = "newsletter sends"
