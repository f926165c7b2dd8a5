"""The Django-side stand-in a PynamoDB model is registered under in the admin.

Django's admin and permission system know only Django models. Each PynamoDB
model the admin shows gets an unmanaged placeholder model (a subclass of
`DynamoPlaceholder`, declared in the app that owns the PynamoDB model, under
that app's label), so that:

- the stock admin lists it on the index next to Users and Groups;
- migrations create its content type and the view/add/change/delete
  permissions (plus custom ones such as a "publish" permission), which an
  administrator grants per group like any other.

A placeholder has no table (`managed = False`) and is never queried:
`dynamo_admin.options.DynamoModelAdmin` reads and writes the PynamoDB model
instead.
"""

from django.db import models


class DynamoPlaceholder(models.Model):
    class Meta:
        abstract = True
        managed = False
        default_permissions = ("add", "change", "delete", "view")

    def __str__(self):
        return self._meta.verbose_name
