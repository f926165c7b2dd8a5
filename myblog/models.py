"""Django-side stand-ins for content that lives in DynamoDB.

Posts and subscribers are PynamoDB models, which Django's admin and
permission system know nothing about. Each gets an unmanaged placeholder
model here, under its own app's label, so that:

- the stock admin lists it on the index next to Users and Groups;
- migrations create its content type and the view/add/change/delete
  permissions (plus custom ones such as `posts.publish_post`), which an
  administrator grants per group like any other.

The placeholders have no table (`managed = False`) and are never queried:
`myblog.dynamo_admin.DynamoModelAdmin` reads and writes the PynamoDB model
instead. They live in this module because the apps' own `models.py` hold
the PynamoDB models.
"""

from django.db import models


class DynamoPlaceholder(models.Model):
    class Meta:
        abstract = True
        managed = False
        default_permissions = ("add", "change", "delete", "view")

    def __str__(self):
        return self._meta.verbose_name


class Post(DynamoPlaceholder):
    class Meta(DynamoPlaceholder.Meta):
        app_label = "posts"
        verbose_name = "post"
        verbose_name_plural = "posts"
        permissions = [("publish_post", "Can publish, schedule and unpublish posts")]


class Subscriber(DynamoPlaceholder):
    class Meta(DynamoPlaceholder.Meta):
        app_label = "subscribers"
        verbose_name = "subscriber"
        verbose_name_plural = "subscribers"
        permissions = [("export_subscriber", "Can export subscribers as CSV")]
