"""The CMS for subscribers: list, filter by status, unsubscribe, export CSV, import CSV.

Subscribers sign themselves up (and confirm) on the site, so the admin has no
"add" and no edit form: an editor can look, unsubscribe, export or delete,
and import a CSV of addresses (`subscribers.imports`: a queued job, whose
page shows its progress), which needs the "add subscriber" permission.
"""

import csv
import logging
from functools import partial

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse

from dynamo_admin import ChoicesFilter, DynamoModelAdmin, local_datetime
from myblog import jobs
from subscribers import imports, services
from subscribers.models import KIND_SUBSCRIBER, STATUS_CHOICES, Subscriber
from subscribers.placeholders import Subscriber as SubscriberPlaceholder

log = logging.getLogger(__name__)

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


# Files a spreadsheet saves in its own format, not as CSV.
SPREADSHEET_EXTENSIONS = (".xlsx", ".xls", ".xlsm", ".ods", ".numbers")


class ImportForm(forms.Form):
    """The CSV to import, and whether its addresses are confirmed already (then: how they consented)."""

    file = forms.FileField(
        label="CSV file",
        help_text=(
            f"At most {imports.MAX_BYTES // 1048576} MB. One address a row, in a column headed “email” "
            "(optional columns: “name”, and “created” as an ISO date); without a header, the first "
            "column holding an address is used."
        ),
    )
    confirmed = forms.BooleanField(
        required=False,
        label="These addresses are already confirmed",
        help_text=(
            "Only for readers who already agreed to get this blog's emails (for example on the platform you "
            "are moving from). Otherwise each new address gets the confirmation email and stays pending until "
            "its reader confirms."
        ),
    )
    consent_note = forms.CharField(
        required=False,
        max_length=imports.MAX_CONSENT_NOTE,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="How they consented",
        help_text="Required for confirmed addresses; stored on each of them (e.g. “Newsletter sign-up form on the "
        "old site, 2019–2026”).",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        name = (upload.name or "").lower()
        if name.endswith(SPREADSHEET_EXTENSIONS):
            raise ValidationError("This is a spreadsheet file, not a CSV: export it as CSV and upload that.")
        if upload.size > imports.MAX_BYTES:
            raise ValidationError(imports.too_large_message(upload.size))
        data = upload.read(imports.MAX_BYTES + 1)
        try:
            self.parsed = imports.read_csv(data)
        except imports.InvalidFile as error:
            raise ValidationError(str(error)) from error
        self.contents = data
        return upload

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("confirmed") and not (cleaned.get("consent_note") or "").strip():
            self.add_error("consent_note", "Say how these readers consented: confirmed addresses need a consent note.")
        return cleaned


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
    readonly_fields = (
        "email",
        "status_column",
        "name",
        "signed_up",
        "confirmed",
        "unsubscribed",
        "suppressed_reason",
        "imported",
        "consent_note",
    )
    change_list_template = "admin/subscribers/subscriber/change_list.html"
    import_template = "admin/subscribers/subscriber/import.html"
    import_job_template = "admin/subscribers/subscriber/import_job.html"
    # The imports listed under the import form.
    recent_imports = 10

    def has_add_permission(self, request):
        return False

    def has_import_permission(self, request):
        """Importing adds subscribers: Django's "add subscriber" permission (the admin has no add form)."""
        return request.user.has_perm(f"{self.opts.app_label}.add_subscriber")

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

    @admin.display(description="imported")
    def imported(self, subscriber):
        if not subscriber.imported_at:
            return "—"
        return (
            f"{local_datetime(subscriber.imported_at)} (import {subscriber.import_job}, row {subscriber.import_row})"
        )

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
            path("import/", self.wrap_view(self.import_view), name=f"{self.url_name_prefix}_import"),
            path(
                "import/<str:job_id>/",
                self.wrap_view(self.import_job_view),
                name=f"{self.url_name_prefix}_import_job",
            ),
        ]

    def import_view(self, request):
        """The import form (POST: store the file, start the job, go to its page) and the latest imports.

        The request stores the file and queues the job's first message; the
        rows are added by the subscriber-imports handler, never here.
        """
        if not self.has_import_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            form = ImportForm(request.POST, request.FILES)
            if form.is_valid():
                try:
                    job, parsed = imports.start_import(
                        form.contents,
                        filename=form.cleaned_data["file"].name,
                        confirmed=form.cleaned_data["confirmed"],
                        consent_note=form.cleaned_data["consent_note"],
                        created_by=request.user.get_username(),
                    )
                except Exception:
                    log.exception("A subscriber import could not be started")
                    form.add_error(None, "The import could not be started (the file was not stored). Try again.")
                    return self._import_page(request, form)
                self.message_user(
                    request,
                    f"The import of {len(parsed.rows)} rows has started; this page shows its progress.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse(self._url_name("import_job"), args=(job.job_id,)))
        else:
            form = ImportForm()
        return self._import_page(request, form)

    def _import_page(self, request, form):
        context = self.base_context(
            request,
            title="Import subscribers",
            subtitle=None,
            form=form,
            imports=[(job, jobs.progress(job)) for job in jobs.recent(imports.KIND, limit=self.recent_imports)],
        )
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.import_template, context)

    def import_job_view(self, request, job_id):
        """One import's progress (the page reloads itself while it runs)."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        job = jobs.get(job_id)
        if job is None or job.kind != imports.KIND:
            raise Http404("No such import.")
        context = self.base_context(
            request,
            title=f"Import {job.job_id}",
            subtitle=None,
            job=job,
            progress=jobs.progress(job),
            refresh_seconds=3,
        )
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.import_job_template, context)

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
        if self.has_import_permission(request):
            extra["import_url"] = reverse(self._url_name("import"))
        return super().changelist_view(request, extra)


from subscribers import admin_sends  # noqa: E402, F401  (the newsletter sends' admin registers itself)
