"""System checks for `DynamoModelAdmin`, run at start-up with the admin's own.

Django checks every ModelAdmin registered on an admin site
(`django.contrib.admin.checks.check_admin_app` calls `ModelAdmin.check()`,
which runs its `checks_class`). A DynamoModelAdmin's `checks_class` is
`DynamoModelAdminChecks`: Django's own checks would test the options against
the placeholder's ORM fields, which a PynamoDB admin never uses. These test
them against the PynamoDB model and the admin, and refuse what would
otherwise silently do nothing:

- a name this layer used before it took Django's (`list_columns` for
  `list_display`, `save_form` for `save_item`, ...);
- a misspelt option (`list_dispaly`: a class attribute close to an option's
  name);
- a Django option it does not implement (`list_editable`, `inlines`, ...);
- an option of the wrong type, or naming no attribute, method or field.

Each problem is an `Error` with an id `dynamo_admin.E0xx`, like the admin's
`admin.E0xx`.
"""

import difflib
import functools

from django.contrib.admin.options import BaseModelAdmin, ModelAdmin
from django.core import checks
from pynamodb.indexes import Index
from pynamodb.models import Model

from dynamo_admin.filters import ListFilter
from dynamo_admin.forms import DynamoModelForm
from dynamo_admin.limits import MAX_BATCH_GET_KEYS

# Names this layer had for what Django names otherwise (options, then hooks).
RENAMED = {
    "list_columns": "list_display",
    "list_filters": "list_filter",
    "search_prefixes": "search_fields",
    "dynamo_actions": "actions",
    "form_fieldsets": "fieldsets",
    "form_class": "form",
    "readonly_attributes": "readonly_fields",
    "save_form": "save_item",
    "get_form_class": "get_form",
    "get_form_fieldsets": "get_fieldsets",
    "get_list_filters": "get_list_filter",
    "get_dynamo_actions": "get_actions",
}

# Django's options that mean the same here.
SUPPORTED_DJANGO_OPTIONS = {
    "actions",
    "change_form_template",
    "change_list_template",
    "checks_class",
    "delete_confirmation_template",
    "delete_selected_confirmation_template",
    "fieldsets",
    "form",
    "list_display",
    "list_display_links",
    "list_filter",
    "list_per_page",
    "object_history_template",
    "readonly_fields",
    "search_fields",
    "search_help_text",
    "sortable_by",
    "view_on_site",
}

# The options of this layer that Django does not have.
DYNAMO_OPTIONS = {
    "dynamo_model",
    "list_hash_key",
    "list_index",
    "max_action_items",
    "max_requests_per_page",
}


def _is_option(value):
    return not callable(value) and not isinstance(value, property | classmethod | staticmethod)


def _django_options():
    names = {"form", "paginator", "action_form", "checks_class"}  # classes, so callable
    for cls in (BaseModelAdmin, ModelAdmin):
        names.update(name for name, value in vars(cls).items() if not name.startswith("_") and _is_option(value))
    return names


DJANGO_OPTIONS = _django_options()
KNOWN_OPTIONS = DJANGO_OPTIONS | DYNAMO_OPTIONS


def _error(message, obj, number, hint=None):
    return checks.Error(message, hint=hint, obj=type(obj), id=f"dynamo_admin.E{number:03d}")


def _subclass_attributes(obj):
    """(name, value) of what the admin's own classes define, below DynamoModelAdmin."""
    from dynamo_admin.options import DynamoModelAdmin

    seen = set()
    for cls in type(obj).__mro__:
        if cls is DynamoModelAdmin:
            break
        if not issubclass(cls, DynamoModelAdmin):
            continue  # a mixin's attributes are its own business
        for name, value in vars(cls).items():
            if name not in seen and not name.startswith("_"):
                seen.add(name)
                yield name, value


def _sequence(value):
    return isinstance(value, list | tuple)


def _is_method(obj, name):
    return isinstance(name, str) and callable(getattr(obj, name, None))


class DynamoModelAdminChecks:
    def check(self, admin_obj, **kwargs):
        errors = self._check_dynamo_model(admin_obj)
        errors += self._check_option_names(admin_obj)
        errors += self._check_unsupported_options(admin_obj)
        if errors and errors[0].id == "dynamo_admin.E001":
            return errors  # the rest are checked against the model
        for check in (
            self._check_list_display,
            self._check_list_filter,
            self._check_search_fields,
            self._check_actions,
            self._check_form,
            self._check_fieldsets,
            self._check_readonly_fields,
            self._check_numbers,
            self._check_list_index,
        ):
            errors += check(admin_obj)
        return errors

    # -- what is shown, and under which names ----------------------------------------

    def _check_dynamo_model(self, obj):
        model = obj.dynamo_model
        if not (isinstance(model, type) and issubclass(model, Model)):
            return [
                _error(
                    "The value of 'dynamo_model' must be a PynamoDB Model class.",
                    obj,
                    1,
                    hint="Set dynamo_model to the PynamoDB model this admin lists and edits.",
                )
            ]
        return []

    def _check_option_names(self, obj):
        errors = []
        for name, value in _subclass_attributes(obj):
            if name in RENAMED:
                errors.append(
                    _error(
                        f"'{name}' is not used by DynamoModelAdmin.",
                        obj,
                        2,
                        hint=f"Use '{RENAMED[name]}'.",
                    )
                )
            elif _is_option(value) and name not in KNOWN_OPTIONS:
                close = difflib.get_close_matches(name, KNOWN_OPTIONS, n=1, cutoff=0.8)
                if close:
                    errors.append(_error(f"'{name}' is not an option.", obj, 3, hint=f"Did you mean '{close[0]}'?"))
        return errors

    def _check_unsupported_options(self, obj):
        errors = []
        for name in sorted(DJANGO_OPTIONS - SUPPORTED_DJANGO_OPTIONS):
            if getattr(type(obj), name, None) != getattr(ModelAdmin, name, None):
                errors.append(
                    _error(
                        f"DynamoModelAdmin does not support the ModelAdmin option '{name}'.",
                        obj,
                        4,
                        hint="Remove it: it would have no effect.",
                    )
                )
        return errors

    # -- the change list --------------------------------------------------------------

    def _check_list_display(self, obj):
        if not _sequence(obj.list_display):
            return [_error("The value of 'list_display' must be a list or tuple.", obj, 5)]
        attributes = obj.dynamo_model.get_attributes()
        errors = []
        for index, name in enumerate(obj.list_display):
            if name == "__str__" or name in attributes or _is_method(obj, name):
                continue
            errors.append(
                _error(
                    f"The value of 'list_display[{index}]' refers to {name!r}, which is not an attribute of "
                    f"{obj.dynamo_model.__name__} or a method of {type(obj).__name__}.",
                    obj,
                    6,
                )
            )
        return errors

    def _check_list_filter(self, obj):
        if not _sequence(obj.list_filter):
            return [_error("The value of 'list_filter' must be a list or tuple.", obj, 7)]
        errors = []
        for index, entry in enumerate(obj.list_filter):
            factory = entry.func if isinstance(entry, functools.partial) else entry
            if not (isinstance(factory, type) and issubclass(factory, ListFilter)) and not (
                callable(entry) and not isinstance(entry, type)
            ):
                errors.append(
                    _error(
                        f"The value of 'list_filter[{index}]' must be a ListFilter class or a callable making one.",
                        obj,
                        8,
                        hint="For example partial(ChoicesFilter, attribute='status', choices=...).",
                    )
                )
                continue
            attribute = (entry.keywords.get("attribute") if isinstance(entry, functools.partial) else None) or (
                getattr(factory, "attribute", None) if isinstance(factory, type) else None
            )
            if attribute and attribute not in obj.dynamo_model.get_attributes():
                errors.append(
                    _error(
                        f"The value of 'list_filter[{index}]' filters on {attribute!r}, which is not an attribute "
                        f"of {obj.dynamo_model.__name__}.",
                        obj,
                        9,
                    )
                )
        return errors

    def _check_search_fields(self, obj):
        if not _sequence(obj.search_fields):
            return [_error("The value of 'search_fields' must be a list or tuple.", obj, 10)]
        errors = []
        for index, entry in enumerate(obj.search_fields):
            if isinstance(entry, str):
                name = entry
            elif _sequence(entry) and len(entry) == 2 and isinstance(entry[0], str) and callable(entry[1]):
                name = entry[0]
            else:
                errors.append(
                    _error(
                        f"The value of 'search_fields[{index}]' must be an attribute name or an "
                        "(attribute name, function) pair.",
                        obj,
                        11,
                    )
                )
                continue
            if name not in obj.dynamo_model.get_attributes():
                errors.append(
                    _error(
                        f"The value of 'search_fields[{index}]' refers to {name!r}, which is not an attribute of "
                        f"{obj.dynamo_model.__name__}.",
                        obj,
                        12,
                    )
                )
        return errors

    def _check_actions(self, obj):
        if obj.actions is None:
            return []
        if not _sequence(obj.actions):
            return [_error("The value of 'actions' must be a list or tuple (or None).", obj, 13)]
        errors = []
        for index, name in enumerate(obj.actions):
            if not _is_method(obj, name):
                errors.append(
                    _error(
                        f"The value of 'actions[{index}]' refers to {name!r}, which is not a method of "
                        f"{type(obj).__name__}.",
                        obj,
                        14,
                        hint="Actions are named methods of the admin taking (request, keys).",
                    )
                )
        duplicates = sorted({name for name in obj.actions if isinstance(name, str) and obj.actions.count(name) > 1})
        if duplicates:
            errors.append(_error(f"'actions' names {', '.join(duplicates)} more than once.", obj, 15))
        return errors

    # -- the change page ----------------------------------------------------------------

    def _check_form(self, obj):
        form = obj.form
        if form is None:
            return []
        if not (isinstance(form, type) and issubclass(form, DynamoModelForm)):
            return [_error("The value of 'form' must be a DynamoModelForm subclass or None.", obj, 16)]
        meta_model = getattr(getattr(form, "Meta", None), "model", None)
        if meta_model is not obj.dynamo_model:
            return [
                _error(
                    f"The value of 'form' is a form for {getattr(meta_model, '__name__', meta_model)!r}, "
                    f"not for {obj.dynamo_model.__name__}.",
                    obj,
                    17,
                )
            ]
        return []

    def _check_fieldsets(self, obj):
        fieldsets = obj.fieldsets
        if fieldsets is None:
            return []
        if not _sequence(fieldsets) or not all(
            _sequence(entry) and len(entry) == 2 and isinstance(entry[1], dict) and _sequence(entry[1].get("fields"))
            for entry in fieldsets
        ):
            return [
                _error(
                    "The value of 'fieldsets' must be a list of (name, {'fields': [...]}) pairs.",
                    obj,
                    18,
                )
            ]
        form_fields = set(getattr(obj.form, "base_fields", ()))
        errors = []
        for index, (_, options) in enumerate(fieldsets):
            for name in options["fields"]:
                if name not in form_fields:
                    errors.append(
                        _error(
                            f"The value of 'fieldsets[{index}][1]['fields']' refers to {name!r}, which is not a "
                            f"field of the admin's form.",
                            obj,
                            19,
                        )
                    )
        return errors

    def _check_readonly_fields(self, obj):
        if not _sequence(obj.readonly_fields):
            return [_error("The value of 'readonly_fields' must be a list or tuple.", obj, 20)]
        attributes = obj.dynamo_model.get_attributes()
        errors = []
        for index, name in enumerate(obj.readonly_fields):
            if name in attributes or _is_method(obj, name):
                continue
            errors.append(
                _error(
                    f"The value of 'readonly_fields[{index}]' refers to {name!r}, which is not an attribute of "
                    f"{obj.dynamo_model.__name__} or a method of {type(obj).__name__}.",
                    obj,
                    21,
                )
            )
        return errors

    # -- reading ------------------------------------------------------------------------

    def _check_numbers(self, obj):
        errors = []
        for name, highest in (
            ("list_per_page", None),
            ("max_requests_per_page", None),
            ("max_action_items", MAX_BATCH_GET_KEYS),
        ):
            value = getattr(obj, name)
            if (
                not isinstance(value, int)
                or isinstance(value, bool)
                or value < 1
                or (highest is not None and value > highest)
            ):
                bound = f" of at most {highest}" if highest is not None else ""
                errors.append(_error(f"The value of '{name}' must be a positive integer{bound}.", obj, 22))
        return errors

    def _check_list_index(self, obj):
        index = obj.list_index
        if index is None:
            return []
        if not isinstance(index, Index) or index not in obj.dynamo_model._indexes.values():
            return [
                _error(
                    f"The value of 'list_index' must be None or an index of {obj.dynamo_model.__name__}.",
                    obj,
                    23,
                )
            ]
        return []
