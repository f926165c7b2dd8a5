"""The Django admin for PynamoDB models, plugged into Django's stock admin.

Django's admin assumes the ORM. This app keeps the stock `AdminSite` (login,
index, permissions, messages, admin log, look) and supplies what the ORM
would: a change list made of bounded DynamoDB Queries with cursor
pagination (`changelist`, `pagination`, `filters`), forms generated from
PynamoDB attributes (`forms`), a `ModelAdmin` whose views read and write the
PynamoDB model (`options`), the system checks that validate it (`checks`),
the unmanaged placeholder model it is registered against (`models`) and
DynamoDB's request limits (`limits`).

The names below are imported on first use: Django imports this package while
it loads the apps, before models may be imported, and a process that never
opens the admin (a public page, an event handler) never loads it.
"""

import importlib

_EXPORTS = {
    "ChoicesFilter": "dynamo_admin.filters",
    "ContainsFilter": "dynamo_admin.filters",
    "DynamoModelAdmin": "dynamo_admin.options",
    "DynamoModelForm": "dynamo_admin.forms",
    "ListFilter": "dynamo_admin.filters",
    "ListQuery": "dynamo_admin.filters",
    "SaveRejected": "dynamo_admin.options",
    "local_datetime": "dynamo_admin.display",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
