"""The system checks: every option of a DynamoModelAdmin is checked at start-up."""

from functools import partial

import pytest
from django import forms
from django.contrib import admin
from django.core import checks
from pynamodb.attributes import UnicodeAttribute
from pynamodb.models import Model

from dynamo_admin.filters import ChoicesFilter, ListFilter
from dynamo_admin.forms import DynamoModelForm
from dynamo_admin.options import DynamoModelAdmin
from dynamo_admin.tests import placeholders
from dynamo_admin.tests.models import Note, NoteAllIndex
from dynamo_admin.tests.site import NoteAdmin


def errors_of(admin_class):
    return admin_class(placeholders.Note, admin.AdminSite(name="checked")).check()


def ids_of(admin_class):
    return [error.id for error in errors_of(admin_class)]


def note_admin(**options):
    """A NoteAdmin with `options` set on a subclass, as a project would write it."""
    return type("CheckedAdmin", (NoteAdmin,), options)


def test_a_complete_admin_passes():
    assert errors_of(NoteAdmin) == []


def test_the_minimal_admin_passes():
    assert errors_of(type("Minimal", (DynamoModelAdmin,), {"dynamo_model": Note})) == []


@pytest.mark.parametrize("value", [None, Note.all_index, placeholders.Note, "Note"])
def test_e001_dynamo_model_must_be_a_pynamodb_model(value):
    checked = type("NoModel", (DynamoModelAdmin,), {"dynamo_model": value})
    assert ids_of(checked) == ["dynamo_admin.E001"]


@pytest.mark.parametrize(
    "old, new",
    [
        ("list_columns", "list_display"),
        ("list_filters", "list_filter"),
        ("search_prefixes", "search_fields"),
        ("dynamo_actions", "actions"),
        ("form_fieldsets", "fieldsets"),
        ("form_class", "form"),
        ("readonly_attributes", "readonly_fields"),
    ],
)
def test_e002_the_layers_former_option_names_are_refused(old, new):
    [error] = errors_of(note_admin(**{old: ("title",)}))
    assert (error.id, error.hint) == ("dynamo_admin.E002", f"Use '{new}'.")
    assert old in error.msg and error.obj.__name__ == "CheckedAdmin"


def test_e002_a_save_form_override_is_refused_since_save_item_writes():
    def save_form(self, request, form, obj):
        return obj

    [error] = errors_of(note_admin(save_form=save_form))
    assert (error.id, error.hint) == ("dynamo_admin.E002", "Use 'save_item'.")


@pytest.mark.parametrize(
    "name, meant",
    [
        ("list_dispaly", "list_display"),
        ("search_field", "search_fields"),
        ("action", "actions"),
        ("list_hashkey", "list_hash_key"),
    ],
)
def test_e003_a_misspelt_option_is_refused(name, meant):
    [error] = errors_of(note_admin(**{name: ("title",)}))
    assert (error.id, error.hint) == ("dynamo_admin.E003", f"Did you mean '{meant}'?")


def test_e003_an_admins_own_attributes_and_methods_are_its_business():
    assert errors_of(note_admin(revision_template="admin/notes/revision.html", export_page_size=50)) == []


@pytest.mark.parametrize(
    "name, value",
    [("list_editable", ("title",)), ("inlines", [object]), ("ordering", ("title",)), ("date_hierarchy", "updated_at")],
)
def test_e004_django_options_this_layer_does_not_implement_are_refused(name, value):
    [error] = errors_of(note_admin(**{name: value}))
    assert error.id == "dynamo_admin.E004" and name in error.msg


def test_e005_e006_list_display():
    assert ids_of(note_admin(list_display="title")) == ["dynamo_admin.E005"]
    [error] = errors_of(note_admin(list_display=("title", "colour", "updated", "__str__")))
    assert error.id == "dynamo_admin.E006" and "'list_display[1]' refers to 'colour'" in error.msg


class NoAttributeFilter(ListFilter):
    parameter_name = "x"


def test_e007_e008_e009_list_filter():
    assert ids_of(note_admin(list_filter=ChoicesFilter)) == ["dynamo_admin.E007"]
    assert ids_of(note_admin(list_filter=("status",))) == ["dynamo_admin.E008"]
    assert ids_of(note_admin(list_filter=(forms.Form,))) == ["dynamo_admin.E008"]
    [error] = errors_of(note_admin(list_filter=(partial(ChoicesFilter, attribute="colour", choices=()),)))
    assert error.id == "dynamo_admin.E009" and "'colour'" in error.msg
    assert errors_of(note_admin(list_filter=(NoAttributeFilter, lambda request, params: None))) == []


def test_e010_e011_e012_search_fields():
    assert ids_of(note_admin(search_fields={"title": str.strip})) == ["dynamo_admin.E010"]
    assert ids_of(note_admin(search_fields=(("title",), ("key", "lower"), 3))) == ["dynamo_admin.E011"] * 3
    [error] = errors_of(note_admin(search_fields=("title", ("colour", str.lower))))
    assert error.id == "dynamo_admin.E012" and "'search_fields[1]' refers to 'colour'" in error.msg


def test_e013_e014_e015_actions():
    assert ids_of(note_admin(actions="delete_selected")) == ["dynamo_admin.E013"]
    [error] = errors_of(note_admin(actions=("archive_selected", "publish_selected")))
    assert error.id == "dynamo_admin.E014" and "'actions[1]' refers to 'publish_selected'" in error.msg
    assert ids_of(note_admin(actions=("list_per_page",))) == ["dynamo_admin.E014"]  # not a method
    assert ids_of(note_admin(actions=("delete_selected", "delete_selected"))) == ["dynamo_admin.E015"]
    assert errors_of(note_admin(actions=None)) == []


class Other(Model):
    class Meta:
        table_name = "other"

    title = UnicodeAttribute(hash_key=True)


class OtherModelForm(DynamoModelForm):
    class Meta:
        model = Other
        fields = ["title"]


def test_e016_e017_form():
    assert ids_of(note_admin(form=forms.Form, fieldsets=None)) == ["dynamo_admin.E016"]
    assert ids_of(note_admin(form=OtherModelForm, fieldsets=None)) == ["dynamo_admin.E017"]
    assert errors_of(note_admin(form=None, fieldsets=None)) == []


def test_e018_e019_fieldsets():
    assert ids_of(note_admin(fieldsets=[("Main", ["title"])])) == ["dynamo_admin.E018"]
    assert ids_of(note_admin(fieldsets={"fields": ["title"]})) == ["dynamo_admin.E018"]
    [error] = errors_of(note_admin(fieldsets=[(None, {"fields": ["title", "summary"]})]))
    assert error.id == "dynamo_admin.E019" and "'summary'" in error.msg
    assert ids_of(note_admin(form=None)) == ["dynamo_admin.E019"] * 5  # fieldsets without a form to show


def test_e020_e021_readonly_fields():
    assert ids_of(note_admin(readonly_fields="version")) == ["dynamo_admin.E020"]
    [error] = errors_of(note_admin(readonly_fields=("version", "colour")))
    assert error.id == "dynamo_admin.E021" and "'colour'" in error.msg


@pytest.mark.parametrize(
    "name, value",
    [("list_per_page", 0), ("list_per_page", "25"), ("max_requests_per_page", True), ("max_action_items", 101)],
)
def test_e022_sizes_are_positive_integers_within_dynamodbs_limits(name, value):
    assert ids_of(note_admin(**{name: value})) == ["dynamo_admin.E022"]


@pytest.mark.parametrize("value", [Note, "all-index", NoteAllIndex()])
def test_e023_list_index_is_an_index_of_the_model(value):
    assert ids_of(note_admin(list_index=value)) == ["dynamo_admin.E023"]


def test_checks_run_with_djangos_for_every_registered_site():
    """Django's admin check (`check_admin_app`) runs them, as `manage.py check` does for an app."""
    site = admin.AdminSite(name="broken")
    site.register(placeholders.Note, note_admin(list_columns=("title",), actions=("nope",)))
    # The placeholder's app is the one of its own registry (see placeholders.py): check that app.
    app_configs = [placeholders.Note._meta.app_config]
    try:
        found = [
            error.id
            for error in checks.run_checks(app_configs=app_configs, tags=[checks.Tags.admin])
            if getattr(error.obj, "__name__", None) == "CheckedAdmin"
        ]
    finally:
        site.unregister(placeholders.Note)
    assert found == ["dynamo_admin.E002", "dynamo_admin.E014"]
