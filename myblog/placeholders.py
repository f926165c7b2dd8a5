"""The admin's Django-side stand-in for the PynamoDB `Job` (see `dynamo_admin.models`).

It gives batch jobs their content type and permissions (view to follow a
job's progress, change to cancel it); `myblog.models` imports it so that
Django loads it with the project's models.
"""

from dynamo_admin.models import DynamoPlaceholder


class Job(DynamoPlaceholder):
    class Meta(DynamoPlaceholder.Meta):
        app_label = "myblog"
        verbose_name = "batch job"
        verbose_name_plural = "batch jobs"
