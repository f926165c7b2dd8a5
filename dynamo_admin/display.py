"""Formatting shared by the change lists and forms of PynamoDB admins."""

from django.utils import timezone
from django.utils.formats import date_format


def local_datetime(value, empty=""):
    """A stored UTC datetime in the editor's time zone and Django's format, or `empty`."""
    return date_format(timezone.localtime(value), "DATETIME_FORMAT") if value else empty
