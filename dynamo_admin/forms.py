"""Django forms generated from PynamoDB attributes.

`DynamoModelForm` is to a PynamoDB model what `ModelForm` is to a Django
model: declare `Meta.model` and `Meta.fields`, get a form field per
attribute (the right field class, labelled as a ModelForm labels its fields,
required unless the attribute is nullable or has a default), override or add fields as usual, and validation errors
show like any Django form's. A model with a `VersionAttribute` gets a hidden
version field, so a save can be made conditional on the version the editor
loaded (optimistic locking).
"""

from django import forms
from django.core.exceptions import ImproperlyConfigured
from django.forms.forms import DeclarativeFieldsMetaclass
from django.utils.text import capfirst
from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    NumberAttribute,
    NumberSetAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)

VERSION_FIELD = "_version"


class VersionField(forms.IntegerField):
    """The hidden version the editor loaded: a whole number, or None for anything else.

    An unreadable value (a tampered or truncated form) is no version, which
    the save treats as it treats a missing one: refused as stale, with the
    editor's text kept. It is never an error on a field the editor cannot see.
    """

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        super().__init__(required=False, **kwargs)

    def to_python(self, value):
        try:
            return super().to_python(value)
        except forms.ValidationError:
            return None


class DateTimeLocalInput(forms.DateTimeInput):
    """The browser's own date-and-time picker; values in the current time zone."""

    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


class StringListField(forms.CharField):
    """A list of strings typed as comma-separated text ("python, aws")."""

    def prepare_value(self, value):
        if isinstance(value, list | tuple | set):
            return ", ".join(str(item) for item in value)
        return value

    def to_python(self, value):
        text = super().to_python(value)
        return [part.strip() for part in text.split(",") if part.strip()]


def label_for_attribute(name):
    """The label Django's ModelForm would give a field: capfirst of its verbose name ("cover_alt" -> "Cover alt")."""
    return capfirst(name.replace("_", " "))


def formfield_for_attribute(name, attribute, *, widget=None, label=None, help_text=None, choices=None):
    """The form field for one PynamoDB attribute (None for the version attribute)."""
    if isinstance(attribute, VersionAttribute):
        return None
    required = not attribute.null and attribute.default is None
    kwargs = {"required": required, "label": label or label_for_attribute(name)}
    if help_text:
        kwargs["help_text"] = help_text
    if widget is not None:
        kwargs["widget"] = widget
    if choices is not None:
        return forms.ChoiceField(choices=choices, **kwargs)
    if isinstance(attribute, UnicodeAttribute):
        return forms.CharField(strip=True, **kwargs)
    if isinstance(attribute, BooleanAttribute):
        kwargs["required"] = False
        return forms.BooleanField(**kwargs)
    if isinstance(attribute, NumberAttribute):
        return forms.FloatField(**kwargs)
    if isinstance(attribute, UTCDateTimeAttribute):
        kwargs.setdefault("widget", DateTimeLocalInput())
        return forms.DateTimeField(input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"], **kwargs)
    if isinstance(attribute, UnicodeSetAttribute | NumberSetAttribute) or (
        isinstance(attribute, ListAttribute) and attribute.element_type in (UnicodeAttribute, None)
    ):
        kwargs["required"] = False
        return StringListField(**kwargs)
    raise ImproperlyConfigured(f"No form field for attribute {name!r} ({type(attribute).__name__}); declare one.")


def fields_for_model(model, fields, *, widgets=None, labels=None, help_texts=None, choices=None):
    attributes = model.get_attributes()
    result = {}
    for name in fields:
        if name not in attributes:
            raise ImproperlyConfigured(f"{model.__name__} has no attribute {name!r}")
        field = formfield_for_attribute(
            name,
            attributes[name],
            widget=(widgets or {}).get(name),
            label=(labels or {}).get(name),
            help_text=(help_texts or {}).get(name),
            choices=(choices or {}).get(name),
        )
        if field is not None:
            result[name] = field
    return result


def version_attribute(model):
    """Name of the model's VersionAttribute, or None."""
    for name, attribute in model.get_attributes().items():
        if isinstance(attribute, VersionAttribute):
            return name
    return None


def hash_key_name(model):
    """Name of the model's hash key attribute."""
    for name, attribute in model.get_attributes().items():
        if attribute.is_hash_key:
            return name
    raise ImproperlyConfigured(f"{model.__name__} has no hash key")


class DynamoModelFormMetaclass(DeclarativeFieldsMetaclass):
    def __new__(mcs, name, bases, attrs):
        new_class = super().__new__(mcs, name, bases, attrs)
        meta = getattr(new_class, "Meta", None)
        model = getattr(meta, "model", None)
        if model is None:
            return new_class
        fields = fields_for_model(
            model,
            [f for f in getattr(meta, "fields", ()) if f not in new_class.declared_fields],
            widgets=getattr(meta, "widgets", None),
            labels=getattr(meta, "labels", None),
            help_texts=getattr(meta, "help_texts", None),
            choices=getattr(meta, "choices", None),
        )
        ordered = {}
        for field_name in getattr(meta, "fields", ()):
            if field_name in new_class.declared_fields:
                ordered[field_name] = new_class.declared_fields[field_name]
            elif field_name in fields:
                ordered[field_name] = fields[field_name]
        for field_name, field in new_class.declared_fields.items():
            ordered.setdefault(field_name, field)
        new_class._version_attribute = version_attribute(model)
        if new_class._version_attribute:
            ordered[VERSION_FIELD] = VersionField()
        new_class.base_fields = ordered
        return new_class


class DynamoModelForm(forms.BaseForm, metaclass=DynamoModelFormMetaclass):
    """A form for a PynamoDB model instance (`instance=None` when adding)."""

    def __init__(self, data=None, files=None, *, instance=None, initial=None, **kwargs):
        self.instance = instance
        self.adding = instance is None
        object_initial = {}
        if instance is not None:
            for name in self.base_fields:
                if name == VERSION_FIELD:
                    object_initial[name] = getattr(instance, self._version_attribute)
                elif name in type(instance).get_attributes():
                    object_initial[name] = getattr(instance, name)
        object_initial.update(initial or {})
        super().__init__(data, files, initial=object_initial, **kwargs)
        key_name = hash_key_name(self._meta_model())
        if not self.adding and key_name in self.fields:
            # A DynamoDB key cannot change: the field shows it, read-only.
            self.fields[key_name].disabled = True

    @classmethod
    def _meta_model(cls):
        return cls.Meta.model

    @property
    def expected_version(self):
        """The version the editor loaded (None when adding or unversioned)."""
        if not self._version_attribute or not self.is_bound or not hasattr(self, "cleaned_data"):
            return None
        return self.cleaned_data.get(VERSION_FIELD)

    def attribute_values(self):
        """Cleaned values for the model's attributes (not the version)."""
        attributes = self._meta_model().get_attributes()
        return {
            name: value for name, value in self.cleaned_data.items() if name in attributes and name != VERSION_FIELD
        }
