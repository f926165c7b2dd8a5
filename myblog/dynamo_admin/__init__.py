"""A small admin layer for PynamoDB models, plugged into Django's stock admin.

No library does this: Django's admin assumes the ORM. This package keeps the
stock `AdminSite` (login, index, permissions, messages, admin log, look) and
supplies what the ORM would: a change list made of bounded DynamoDB Queries
with cursor pagination (`changelist`, `pagination`, `filters`), forms
generated from PynamoDB attributes (`forms`) and a `ModelAdmin` whose views
read and write the PynamoDB model (`options`).
"""

from myblog.dynamo_admin.display import local_datetime
from myblog.dynamo_admin.filters import ChoicesFilter, ContainsFilter, ListFilter, ListQuery
from myblog.dynamo_admin.forms import DynamoModelForm
from myblog.dynamo_admin.options import DynamoModelAdmin, SaveRejected

__all__ = [
    "ChoicesFilter",
    "ContainsFilter",
    "DynamoModelAdmin",
    "DynamoModelForm",
    "ListFilter",
    "ListQuery",
    "SaveRejected",
    "local_datetime",
]
