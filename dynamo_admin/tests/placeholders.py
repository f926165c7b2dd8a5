"""The admin's placeholder for the test-only `Note`.

It lives in a registry of its own (`Meta.apps`), so it never reaches the
project's migrations, and its content type and permissions exist only in the
tests that create them.
"""

from django.apps.registry import Apps

from dynamo_admin.models import DynamoPlaceholder

placeholder_apps = Apps(["dynamo_admin"])


class Note(DynamoPlaceholder):
    class Meta(DynamoPlaceholder.Meta):
        apps = placeholder_apps
        app_label = "dynamo_admin"
        verbose_name = "note"
        verbose_name_plural = "notes"
        permissions = [("archive_note", "Can archive notes")]
