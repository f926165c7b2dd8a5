"""An admin site of its own for the tests, with `NoteAdmin` on it (mounted by `dynamo_admin.tests.urls`)."""

from functools import partial

from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE
from django.urls import reverse

from dynamo_admin.display import local_datetime
from dynamo_admin.filters import ChoicesFilter, ContainsFilter
from dynamo_admin.options import DynamoModelAdmin
from dynamo_admin.tests import placeholders
from dynamo_admin.tests.models import DONE, KIND_NOTE, STATUS_CHOICES, Note, NoteForm

SITE_NAME = "dynamo_admin_tests"


class NoteAdmin(DynamoModelAdmin):
    dynamo_model = Note
    form = NoteForm
    list_index = Note.all_index
    list_hash_key = KIND_NOTE
    list_display = ("title", "status", "updated")
    list_filter = (
        partial(ChoicesFilter, attribute="status", choices=STATUS_CHOICES, index=Note.status_index),
        partial(ContainsFilter, attribute="tags", title="tag", parameter_name="tag", normalise=str.lower),
    )
    search_fields = (("key", str.lower), "title")
    actions = ("archive_selected", "delete_selected")
    fieldsets = [
        (None, {"fields": ["key", "title", "body"]}),
        ("Sorting", {"fields": ["status", "tags"]}),
    ]
    readonly_fields = ("updated", "version")
    list_per_page = 3

    def has_archive_permission(self, request):
        return request.user.has_perm(f"{self.opts.app_label}.archive_note")

    @admin.display(description="updated")
    def updated(self, note):
        return local_datetime(note.updated_at, empty="—")

    @admin.action(permissions=["archive"], description="Mark selected %(verbose_name_plural)s done")
    def archive_selected(self, request, keys):
        done = 0
        for note in self.get_objects(keys):
            note.status = DONE
            note.save()
            self.log_dynamo_action(request, note.key, note, CHANGE, "Archived.")
            done += 1
        self.message_user(request, f"Archived {done} {self._plural(done)}.", messages.SUCCESS)


site = admin.AdminSite(name=SITE_NAME)
site.register(placeholders.Note, NoteAdmin)


def note_url(view, *args):
    """The URL of one of NoteAdmin's views on the test site."""
    return reverse(f"{SITE_NAME}:dynamo_admin_note_{view}", args=args)
