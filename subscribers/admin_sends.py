"""The CMS for newsletter sends: every send, newest first, with its progress; pause, resume, cancel.

A send is started by publishing a post (the post's page in the admin shows
its own send, live); this list is where an editor sees them all, from one
Query on `Send.all_index`. Sends are never added or edited here, and never
deleted: the send item is what keeps a post from being emailed twice.
"""

from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from dynamo_admin import DynamoModelAdmin, local_datetime
from subscribers import newsletter
from subscribers.models import KIND_SEND, SEND_STATES, Send
from subscribers.placeholders import Send as SendPlaceholder

STATE_LABELS = dict(SEND_STATES)


@admin.register(SendPlaceholder)
class SendAdmin(DynamoModelAdmin):
    dynamo_model = Send
    form = None
    list_index = Send.all_index
    list_hash_key = KIND_SEND
    list_display = (
        "post_column",
        "state_column",
        "progress_column",
        "sent",
        "skipped",
        "failed",
        "rejected",
        "bounced",
        "complained",
        "started_column",
    )
    actions = ("pause_selected", "resume_selected", "cancel_selected")
    readonly_fields = (
        "post_column",
        "subject",
        "state_column",
        "paused_reason",
        "progress_column",
        "audience",
        "sent",
        "skipped",
        "failed",
        "rejected",
        "bounced",
        "complained",
        "started_column",
        "finished_column",
    )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        # The send item is what makes a post's email go out once: it stays.
        return False

    # -- columns ----------------------------------------------------------------------------

    @admin.display(description="post")
    def post_column(self, send):
        try:
            url = reverse(f"{self.admin_site.name}:posts_post_change", args=(send.post_slug,))
        except NoReverseMatch:
            return send.post_slug
        return format_html('<a href="{}">{}</a>', url, send.subject or send.post_slug)

    @admin.display(description="state")
    def state_column(self, send):
        label = STATE_LABELS.get(send.state, send.state)
        return format_html("{}: {}", label, send.paused_reason) if send.paused_reason else label

    @admin.display(description="progress")
    def progress_column(self, send):
        progress = newsletter.progress(send)
        return format_html(
            '<progress max="100" value="{}">{}%</progress> {}% of {}',
            progress["percent"],
            progress["percent"],
            progress["percent"],
            progress["audience"],
        )

    @admin.display(description="started")
    def started_column(self, send):
        by = f" by {send.created_by}" if send.created_by else ""
        return f"{local_datetime(send.created_at)}{by}"

    @admin.display(description="finished")
    def finished_column(self, send):
        return local_datetime(send.finished_at, empty="—")

    # -- actions ----------------------------------------------------------------------------

    def _control(self, request, keys, change, done_message):
        done = 0
        for slug in keys:
            try:
                change(slug)
            except newsletter.SendError as error:
                self.message_user(request, f"{slug}: {error}", messages.ERROR)
                continue
            done += 1
            self.log_dynamo_action(request, slug, slug, CHANGE, done_message)
        if done:
            self.message_user(request, f"{done_message} {done} {self._plural(done)}.", messages.SUCCESS)

    @admin.action(permissions=["change"], description="Pause selected sends")
    def pause_selected(self, request, keys):
        reason = f"Paused by {request.user.get_username()}."
        self._control(request, keys, lambda slug: newsletter.pause_send(slug, reason), "Paused")

    @admin.action(permissions=["change"], description="Resume selected sends")
    def resume_selected(self, request, keys):
        self._control(request, keys, newsletter.resume_send, "Resumed")

    @admin.action(permissions=["change"], description="Cancel selected sends")
    def cancel_selected(self, request, keys):
        self._control(request, keys, newsletter.cancel_send, "Cancelled")
