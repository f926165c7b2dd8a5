"""The CMS for subscribers: list, filter by status, unsubscribe, export CSV.

Subscribers sign themselves up (and confirm) on the site, so the admin has no
"add" and no edit form: an editor can look, unsubscribe, export or delete.
"""

import csv
from functools import partial

from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE
from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.urls import path, reverse

from dynamo_admin import ChoicesFilter, DynamoModelAdmin, local_datetime
from subscribers import services
from subscribers.models import KIND_SUBSCRIBER, STATUS_CHOICES, Subscriber
from subscribers.placeholders import Subscriber as SubscriberPlaceholder

CSV_COLUMNS = ("email", "status", "created_at", "confirmed_at", "unsubscribed_at", "suppressed_reason")
# A cell starting with one of these is a formula to a spreadsheet.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
EXPORT_PAGE_SIZE = 100


def csv_cell(value):
    if value is None:
        return ""
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


class _Echo:
    """A file-like object whose write returns the line, for streaming CSV."""

    def write(self, value):
        return value


def csv_lines(subscribers):
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for subscriber in subscribers:
        yield writer.writerow([csv_cell(getattr(subscriber, column)) for column in CSV_COLUMNS])


def csv_response(subscribers, filename):
    response = StreamingHttpResponse(csv_lines(subscribers), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@admin.register(SubscriberPlaceholder)
class SubscriberAdmin(DynamoModelAdmin):
    dynamo_model = Subscriber
    form = None
    list_index = Subscriber.all_index
    list_hash_key = KIND_SUBSCRIBER
    list_display = ("email", "status_column", "signed_up", "confirmed")
    list_filter = (partial(ChoicesFilter, attribute="status", choices=STATUS_CHOICES, index=Subscriber.status_index),)
    search_fields = (("email", lambda term: term.strip().lower()),)
    search_help_text = (
        "Finds addresses that start with what you type, newest first; a full address is found at once. "
        "Each page reads at most 100 subscribers: use “Search further” for older ones."
    )
    actions = ("unsubscribe_selected", "export_selected", "delete_selected")
    readonly_fields = ("email", "status_column", "signed_up", "confirmed", "unsubscribed", "suppressed_reason")
    change_list_template = "admin/subscribers/subscriber/change_list.html"

    def has_add_permission(self, request):
        return False

    def has_export_permission(self, request):
        return request.user.has_perm(f"{self.opts.app_label}.export_subscriber")

    @admin.display(description="email")
    def email(self, subscriber):
        return subscriber.email

    @admin.display(description="status")
    def status_column(self, subscriber):
        return dict(STATUS_CHOICES).get(subscriber.status, subscriber.status)

    @admin.display(description="signed up")
    def signed_up(self, subscriber):
        return local_datetime(subscriber.created_at, empty="—")

    @admin.display(description="confirmed")
    def confirmed(self, subscriber):
        return local_datetime(subscriber.confirmed_at, empty="—")

    @admin.display(description="unsubscribed")
    def unsubscribed(self, subscriber):
        return local_datetime(subscriber.unsubscribed_at, empty="—")

    @admin.action(permissions=["change"], description="Unsubscribe selected subscribers")
    def unsubscribe_selected(self, request, keys):
        done = 0
        for email in keys:
            if services.unsubscribe(email):
                done += 1
                self.log_dynamo_action(request, email, email, CHANGE, "Unsubscribed.")
        self.message_user(request, f"Unsubscribed {done} {self._plural(done)}.", messages.SUCCESS)

    @admin.action(permissions=["export"], description="Export selected subscribers as CSV")
    def export_selected(self, request, keys):
        return csv_response(self.get_objects(keys), "subscribers-selected.csv")

    def get_extra_urls(self):
        return [
            path("export/", self.wrap_view(self.export_view), name=f"{self.url_name_prefix}_export"),
        ]

    def export_view(self, request):
        """Every subscriber matching the list's filter, as CSV, streamed page by page."""
        if not self.has_export_permission(request):
            raise PermissionDenied
        params = {key: request.GET.get(key, "") for key in request.GET}
        query = self.get_list_query(request)
        for factory in self.get_list_filter(request):
            list_filter = factory(request, params)
            if list_filter.is_active():
                list_filter.apply(query)
        subscribers = query.as_callable()(page_size=EXPORT_PAGE_SIZE)
        return csv_response(subscribers, "subscribers.csv")

    def changelist_view(self, request, extra_context=None):
        extra = dict(extra_context or {})
        if self.has_export_permission(request):
            query = request.GET.copy()
            query.pop("cursor", None)
            query.pop("q", None)
            extra["export_url"] = reverse(self._url_name("export")) + ("?" + query.urlencode() if query else "")
        return super().changelist_view(request, extra)


from subscribers import admin_sends  # noqa: E402, F401  (the newsletter sends' admin registers itself)
