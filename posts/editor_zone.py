"""The admin in the editor's own time zone.

The browser knows the editor's zone (`Intl.DateTimeFormat().resolvedOptions()
.timeZone`); desk.js sends it as the hidden form field `editor_tz` with every
post form, and keeps it in the `myblog_tz` cookie (path /admin/, so readers'
requests never carry it) for the pages it cannot add a field to. The
middleware activates the zone for the request, so Django's own machinery
does the rest: the "Go live at" field shows and parses its value in that
zone (`forms.DateTimeField`), and dates in messages are in it too. Names are
checked against the IANA database (`zoneinfo`); anything else is ignored, and
the site's zone (UTC) stays.

`when` writes a moment for a sentence: the editor's time with its zone
named, and the UTC time beside it when they differ.
"""

import functools
import zoneinfo
from datetime import UTC

from django.utils import timezone
from django.utils.formats import date_format

FIELD = "editor_tz"
COOKIE = "myblog_tz"
MAX_NAME_LENGTH = 64
ADMIN_PREFIX = "/admin/"


@functools.cache
def _known_zones():
    return frozenset(zoneinfo.available_timezones())


def zone_named(name):
    """The `ZoneInfo` of an IANA zone name, or None for anything else (empty, unknown, a path)."""
    if not isinstance(name, str) or not name or len(name) > MAX_NAME_LENGTH or name not in _known_zones():
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def zone_of(request):
    """The editor's zone for `request`: the form's field, else the cookie, else None."""
    if request.method == "POST":
        zone = zone_named(request.POST.get(FIELD, ""))
        if zone is not None:
            return zone
    return zone_named(request.COOKIES.get(COOKIE, ""))


class EditorZoneMiddleware:
    """Activates the editor's zone (see the module docstring) around the view and its rendering."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Only the admin (myblog/urls.py: /admin/): the public site keeps the site's zone.
        zone = zone_of(request) if request.path_info.startswith(ADMIN_PREFIX) else None
        if zone is None:
            return self.get_response(request)
        with timezone.override(zone):
            return self.get_response(request)


def zone_name(zone=None):
    """The zone's IANA name ("America/New_York"; "UTC")."""
    zone = zone or timezone.get_current_timezone()
    return getattr(zone, "key", None) or str(zone)


def when(value, zone=None):
    """`value` (aware) for a sentence: "1 December 2026, 15:54 America/New_York (20:54 UTC)".

    In UTC itself: "1 December 2026, 20:54 UTC". A 24-hour clock and no
    trailing full stop, so a message can end its sentence after it. No
    moment (a draft's date): "".
    """
    if value is None:
        return ""
    zone = zone or timezone.get_current_timezone()
    local = timezone.localtime(value, zone)
    name = zone_name(zone)
    text = f"{date_format(local, 'j F Y, H:i')} {name}"
    if local.utcoffset() or name not in ("UTC", "Etc/UTC"):
        utc = value.astimezone(UTC)
        same_day = utc.date() == local.date()
        text += f" ({date_format(utc, 'H:i' if same_day else 'j F Y, H:i')} UTC)"
    return text
