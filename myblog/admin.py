"""The CMS page of batch jobs: every job newest first, its progress, and cancelling one.

Jobs are started elsewhere (`manage.py rerender-photos`, the subscribers'
import page); here editors follow them. The change page of a running job
reloads itself every few seconds, so its progress bar moves while it runs.
"""

from functools import partial

from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE
from django.template.loader import render_to_string

from dynamo_admin import ChoicesFilter, DynamoModelAdmin, local_datetime
from myblog import jobs
from myblog.models import LISTING, STATES, Job
from myblog.placeholders import Job as JobPlaceholder

# How often the page of a running job reloads itself, in seconds.
REFRESH_SECONDS = 3


def progress_html(job):
    """The job's progress bar and counts (the admin's job pages share it)."""
    return render_to_string("admin/myblog/job/includes/progress.html", {"progress": jobs.progress(job)})


@admin.register(JobPlaceholder)
class JobAdmin(DynamoModelAdmin):
    dynamo_model = Job
    form = None
    list_index = Job.all_index
    list_hash_key = LISTING
    list_display = ("job_id", "kind", "state_column", "processed_column", "created", "created_by")
    list_filter = (partial(ChoicesFilter, attribute="state", choices=STATES),)
    actions = ("cancel_selected",)
    readonly_fields = ("kind", "state_column", "progress", "options_column", "created", "created_by", "finished")
    change_form_template = "admin/myblog/job/change_form.html"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="job")
    def job_id(self, job):
        return job.job_id

    @admin.display(description="state")
    def state_column(self, job):
        return jobs.label(job.state)

    @admin.display(description="processed")
    def processed_column(self, job):
        progress = jobs.progress(job)
        total = f"{progress['total']}" if progress["total_known"] else f"{progress['total']}+"
        return f"{progress['processed']} of {total} ({progress['failed']} failed)"

    @admin.display(description="progress")
    def progress(self, job):
        return progress_html(job)

    @admin.display(description="options")
    def options_column(self, job):
        return ", ".join(f"{key}: {value}" for key, value in sorted((job.options or {}).items())) or "—"

    @admin.display(description="started")
    def created(self, job):
        return local_datetime(job.created_at, empty="—")

    @admin.display(description="finished")
    def finished(self, job):
        return local_datetime(job.finished_at, empty="—")

    @admin.action(permissions=["change"], description="Cancel selected batch jobs")
    def cancel_selected(self, request, keys):
        cancelled = 0
        for job_id in keys:
            try:
                jobs.cancel(job_id)
            except jobs.JobError as error:
                self.message_user(request, f"{job_id}: {error}", messages.WARNING)
                continue
            cancelled += 1
            self.log_dynamo_action(request, job_id, job_id, CHANGE, "Cancelled.")
        if cancelled:
            self.message_user(request, f"Cancelled {cancelled} {self._plural(cancelled)}.", messages.SUCCESS)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra = dict(extra_context or {})
        extra["refresh_seconds"] = REFRESH_SECONDS
        return super().changeform_view(request, object_id, form_url, extra)
