"""Forms generated from PynamoDB attributes, as ModelForm generates them from model fields."""

import pytest
from django import forms
from django.core.exceptions import ImproperlyConfigured
from pynamodb.attributes import MapAttribute, UnicodeAttribute
from pynamodb.models import Model

from dynamo_admin.forms import VERSION_FIELD, DynamoModelForm, StringListField
from dynamo_admin.tests.models import Note


class NoteEditForm(DynamoModelForm):
    class Meta:
        model = Note
        fields = ["title", "key", "body", "tags", "updated_at"]
        widgets = {"body": forms.Textarea}


def test_form_fields_follow_the_attributes():
    fields = NoteEditForm().fields
    assert isinstance(fields["title"], forms.CharField) and fields["title"].required
    assert not fields["body"].required and isinstance(fields["body"].widget, forms.Textarea)  # null=True
    assert isinstance(fields["tags"], StringListField)
    assert isinstance(fields["updated_at"], forms.DateTimeField) and not fields["updated_at"].required  # a default
    assert list(fields) == ["title", "key", "body", "tags", "updated_at", VERSION_FIELD]
    assert fields[VERSION_FIELD].widget.is_hidden


def test_form_binds_an_instance_and_locks_its_key(notes):
    note = Note(key="bound", title="Bound", tags=["a", "b"])
    note.save()
    form = NoteEditForm(instance=note)
    assert form.fields["key"].disabled
    assert form["tags"].value() == "a, b" and form[VERSION_FIELD].value() == note.version == 1
    bound = NoteEditForm(
        {"title": "New", "key": "hacked", "tags": "x, y", "updated_at": "2026-12-01T09:30", VERSION_FIELD: "1"},
        instance=note,
    )
    assert bound.is_valid(), bound.errors
    values = bound.attribute_values()
    assert values["key"] == "bound" and values["tags"] == ["x", "y"] and VERSION_FIELD not in values
    assert values["updated_at"].isoformat().startswith("2026-12-01T09:30")
    assert bound.expected_version == 1


def test_form_labels_are_capitalised_verbose_names_like_a_model_forms():
    class Labelled(DynamoModelForm):
        class Meta:
            model = Note
            fields = ["title", "updated_at", "body"]
            labels = {"body": "the text"}

    form = Labelled()
    assert [form.fields[name].label for name in ("title", "updated_at", "body")] == [
        "Title",
        "Updated at",
        "the text",  # an explicit label is used as given, as in Django
    ]
    assert '<label for="id_updated_at">Updated at:</label>' in form["updated_at"].label_tag()


def test_form_errors_are_django_form_errors():
    form = NoteEditForm({"title": "", "updated_at": "tomorrow-ish"})
    assert not form.is_valid()
    assert set(form.errors) == {"title", "key", "updated_at"}  # the key is required when adding


def test_an_attribute_without_a_form_field_is_a_configuration_error():
    class Shape(Model):
        class Meta:
            table_name = "shapes"

        name = UnicodeAttribute(hash_key=True)
        outline = MapAttribute()

    with pytest.raises(ImproperlyConfigured, match="No form field for attribute 'outline'"):

        class ShapeForm(DynamoModelForm):
            class Meta:
                model = Shape
                fields = ["outline"]
