"""`DynamoModelAdmin`: a ModelAdmin whose objects are PynamoDB items.

Registered with the stock `admin.site` against an unmanaged placeholder
model (see `dynamo_admin.models`), it keeps everything Django's admin gives a
model (the index entry, login, permissions, messages, the admin log, the
look) and replaces the parts that assume the ORM: URLs, the change list,
the add/change/delete views and actions work on `dynamo_model` instead. The
placeholder is never queried.

Subclasses say what to list and edit with the ModelAdmin options of the
same meaning (`list_display`, `list_filter`, `search_fields`, `actions`,
`fieldsets`, `readonly_fields`, `form`, `list_per_page`,
`search_help_text`, the `*_template` names):

    class ArticleAdmin(DynamoModelAdmin):
        dynamo_model = Article
        form = ArticleForm
        list_display = ("title", "status")
        list_filter = (partial(ChoicesFilter, attribute="status", ...),)
        search_fields = (("slug", slugify), "title")
        actions = ("publish_selected", "delete_selected")

and override `get_list_query`, `apply_search`, `save_item` and
`delete_object` where the model needs more than a plain put/delete. What
differs from Django has its own name: `dynamo_model`, `list_index` and
`list_hash_key` (the Query a change list reads), `save_item` (writes the
item; Django's `save_form` returns an unsaved object). Options that would
mean nothing here, or are misspelt, are refused by the system checks
(`dynamo_admin.checks`).

Keys arrive in URLs, search boxes and posted selections, so every one is
checked with `is_valid_key` before it reaches DynamoDB: a key DynamoDB could
not hold names no item, and is treated as one that does not exist (the
admin's usual "doesn't exist" message, an empty search, an action that
changes nothing) rather than sent to DynamoDB to fail.
"""

import functools
import json
import logging

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.admin.utils import quote, unquote
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.text import Truncator, capfirst
from django.views.decorators.csrf import csrf_protect
from django.views.generic import RedirectView
from pynamodb.exceptions import DeleteError, PutError

from dynamo_admin.changelist import ACTION_CHECKBOX_NAME, ChangeList
from dynamo_admin.checks import DynamoModelAdminChecks
from dynamo_admin.filters import ListQuery
from dynamo_admin.forms import hash_key_name, label_for_attribute, version_attribute
from dynamo_admin.limits import MAX_BATCH_GET_KEYS, fits_hash_key, fits_number

log = logging.getLogger(__name__)

csrf_protect_m = method_decorator(csrf_protect)


class SaveRejected(Exception):
    """A save the editor can fix: shown as an error on the form (or a field)."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.message = message
        self.field = field


STALE_MESSAGE = (
    "Someone else saved this item after you opened it. Your changes are kept below; "
    "open the current version in another tab, then apply them again."
)


def _conditional_failure(error):
    return getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException"


class DynamoModelAdmin(admin.ModelAdmin):
    dynamo_model = None  # the PynamoDB model shown
    form = None  # a DynamoModelForm; None makes the change page read-only
    fieldsets = None  # Django's fieldsets, over the form's fields
    readonly_fields = ()  # attributes or admin methods shown on the change page, never edited
    # Columns: attributes of the item, admin methods taking the item, or "__str__".
    list_display = ("__str__",)
    # ListFilter classes, or callables (a functools.partial) making one from (request, params).
    list_filter = ()
    list_per_page = 25
    # Upper bound on DynamoDB requests for one page of a filtered list.
    max_requests_per_page = 4
    # Search: attribute names, or (attribute, function normalising the typed term) pairs.
    # Each is a prefix match (DynamoDB's begins_with), as "^name" is in Django.
    search_fields = ()
    search_help_text = ""
    # Names of admin methods taking (request, keys): the selected items' hash keys.
    actions = ("delete_selected",)
    # The most items one action works on (one BatchGetItem reads them).
    max_action_items = MAX_BATCH_GET_KEYS
    # The list when no filter picks another source: (index or None, hash key).
    list_index = None
    list_hash_key = None
    # Columns showing the range key of the list's Query (of every source its filters pick):
    # the one the list can be sorted by, in both directions, without reading more than a page.
    sortable_by = ()

    change_list_template = "admin/dynamo_admin/change_list.html"
    change_form_template = "admin/dynamo_admin/change_form.html"
    delete_confirmation_template = "admin/dynamo_admin/delete_confirmation.html"
    delete_selected_confirmation_template = "admin/dynamo_admin/delete_selected_confirmation.html"
    object_history_template = "admin/dynamo_admin/object_history.html"

    checks_class = DynamoModelAdminChecks

    # -- the placeholder model is never queried -----------------------------------

    def get_queryset(self, request):
        return self.model._default_manager.none()

    # -- keys and URLs ---------------------------------------------------------------

    @property
    def key_attribute(self):
        return hash_key_name(self.dynamo_model)

    @property
    def url_name_prefix(self):
        """`<app>_<model>`: URL names follow the stock admin's, so its links work."""
        return f"{self.opts.app_label}_{self.opts.model_name}"

    def _url_name(self, view):
        return f"{self.admin_site.name}:{self.url_name_prefix}_{view}"

    def changelist_url(self):
        return reverse(self._url_name("changelist"), current_app=self.admin_site.name)

    def change_url(self, key):
        return reverse(self._url_name("change"), args=(quote(key),), current_app=self.admin_site.name)

    def is_valid_key(self, key):
        """Whether `key` could be an item's hash key (what DynamoDB accepts in a request).

        Anything else names no item; it is never sent to DynamoDB, which
        would refuse it with an error. Subclasses may narrow this to the
        keys their model really uses.
        """
        return fits_hash_key(key)

    def get_extra_urls(self):
        """URL patterns of a subclass's own views, under the model's prefix."""
        return []

    def wrap_view(self, view):
        @functools.wraps(view)
        def checked(request, *args, object_id=None, **kwargs):
            # Every view of one item (change, delete, history, ...) gets a key it can look up.
            if object_id is None:
                return view(request, *args, **kwargs)
            if not self.is_valid_key(unquote(object_id)):
                return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
            return view(request, *args, object_id=object_id, **kwargs)

        def wrapper(*args, **kwargs):
            return self.admin_site.admin_view(checked)(*args, **kwargs)

        wrapper.model_admin = self
        return functools.update_wrapper(wrapper, view)

    def get_urls(self):
        prefix = self.url_name_prefix
        wrap = self.wrap_view
        return [
            path("", wrap(self.changelist_view), name=f"{prefix}_changelist"),
            path("add/", wrap(self.add_view), name=f"{prefix}_add"),
            *self.get_extra_urls(),
            path("<path:object_id>/history/", wrap(self.history_view), name=f"{prefix}_history"),
            path("<path:object_id>/delete/", wrap(self.delete_view), name=f"{prefix}_delete"),
            path("<path:object_id>/change/", wrap(self.change_view), name=f"{prefix}_change"),
            path(
                "<path:object_id>/",
                wrap(RedirectView.as_view(pattern_name=f"{self.admin_site.name}:{prefix}_change")),
            ),
        ]

    # -- reading -------------------------------------------------------------------------

    def get_object(self, request, object_id, from_field=None):
        key = unquote(object_id)
        if not self.is_valid_key(key):
            return None
        try:
            return self.dynamo_model.get(key, consistent_read=True)
        except self.dynamo_model.DoesNotExist:
            return None

    def get_objects(self, keys):
        """The items for `keys` that exist (one BatchGetItem per 100 keys), in the given order."""
        keys = [key for key in dict.fromkeys(keys) if self.is_valid_key(key)]  # BatchGetItem refuses duplicates
        if not keys:
            return []
        found = {getattr(item, self.key_attribute): item for item in self.dynamo_model.batch_get(keys)}
        return [found[key] for key in keys if key in found]

    def get_list_query(self, request):
        """The unfiltered change list: `list_index` (or the table) at `list_hash_key`."""
        source = self.list_index if self.list_index is not None else self.dynamo_model
        return ListQuery(model=self.dynamo_model, source=source, hash_key=self.list_hash_key)

    def get_list_display(self, request):
        return self.list_display

    def get_list_filter(self, request):
        return list(self.list_filter)

    def get_search_fields(self, request):
        """(attribute, normalise) for each of `search_fields`."""
        return [(field, str.strip) if isinstance(field, str) else tuple(field) for field in self.search_fields]

    def item_passes_filter(self, item, list_filter):
        """Whether an item fetched by key passes an active filter (for exact search hits)."""
        attribute = getattr(list_filter, "attribute", None)
        value = getattr(item, attribute, None) if attribute else None
        if isinstance(value, list | set | tuple):
            return list_filter.value in value
        return value == list_filter.value

    def get_sortable_columns(self, request):
        """The columns the list sorts by: those of `sortable_by` it shows (the range key's column)."""
        return [name for name in self.sortable_by if name in self.get_list_display(request)]

    def get_total_count(self, request):
        """(count, approximate) of the whole list, or None when it costs more than nothing (the default)."""
        return None

    def get_search_matches(self, request, term):
        """An indexed search's answer, or None to search with `search_fields` (the default).

        Override to search an index of your own: return an object with
        `matches` (every match, most recent first, each with the key
        attribute and the attributes the filters test) and `complete`
        (False when the index answered in part); the change list filters and
        pages them, and reads only the page's items by key.
        """
        return None

    def search_exact_key(self, request, term):
        """The key an indexed search puts first when it matches (the term as a key), or None."""
        for attribute_name, normalise in self.get_search_fields(request):
            if attribute_name == self.key_attribute:
                value = normalise(term)
                return value if value and self.is_valid_key(value) else None
        return None

    def prepare_page(self, request, items):
        """Called with a page's items before its rows are made: load what the columns show, all at once."""

    def apply_search(self, request, query, term):
        """Add the search to `query`; return the item whose key is the term, if any.

        Search is a prefix match on `search_fields` (a filter expression on
        the page's bounded Query) plus a GetItem on the exact key, so typing a
        full slug or address always finds it at once.
        """
        condition = None
        exact_key = None
        for attribute_name, normalise in self.get_search_fields(request):
            value = normalise(term)
            if not value:
                continue
            part = getattr(self.dynamo_model, attribute_name).startswith(value)
            condition = part if condition is None else condition | part
            if attribute_name == self.key_attribute:
                exact_key = value
        if condition is not None:
            query.add_condition(condition)
        if exact_key and self.is_valid_key(exact_key):
            try:
                return self.dynamo_model.get(exact_key)
            except self.dynamo_model.DoesNotExist:
                return None
        return None

    # -- writing ---------------------------------------------------------------------------

    def get_form(self, request, obj=None, **kwargs):
        """The form class for the change page (None: the item is shown read-only)."""
        return self.form

    def get_fields(self, request, obj=None):
        """The form's shown fields (the fieldsets when `fieldsets` is unset)."""
        form = self.get_form(request, obj)
        if form is None:
            return []
        return [name for name, field in form.base_fields.items() if not field.widget.is_hidden]

    def get_fieldsets(self, request, obj=None):
        if self.fieldsets:
            return self.fieldsets
        return [(None, {"fields": self.get_fields(request, obj)})]

    def save_item(self, request, form, obj):
        """Write the form's values; returns the saved item or raises SaveRejected.

        A new item is put only if its key is free; a changed one only if its
        version is still the one the editor loaded.
        """
        values = form.attribute_values()
        key_name = self.key_attribute
        if obj is None and not self.is_valid_key(values.get(key_name)):
            raise SaveRejected(f"This {key_name} is too long.", field=key_name)
        try:
            if obj is None:
                obj = self.dynamo_model(**values)
                obj.save(condition=getattr(self.dynamo_model, key_name).does_not_exist())
            else:
                for name, value in values.items():
                    if name != key_name:
                        setattr(obj, name, value)
                version_name = version_attribute(self.dynamo_model)
                if version_name:
                    if not fits_number(form.expected_version):
                        raise SaveRejected(STALE_MESSAGE)  # no version, no blind overwrite
                    setattr(obj, version_name, form.expected_version)
                obj.save()
        except PutError as error:
            if not _conditional_failure(error):
                raise
            if form.adding:
                raise SaveRejected(f"This {key_name} is already in use.", field=key_name) from error
            raise SaveRejected(STALE_MESSAGE) from error
        return obj

    def delete_object(self, request, obj):
        """Delete one item; raises SaveRejected when it cannot be deleted."""
        try:
            obj.delete()
        except DeleteError as error:
            if _conditional_failure(error):
                raise SaveRejected(f"“{obj}” was changed by someone else; reload and try again.") from error
            raise

    def change_message(self, form):
        changed = [form.fields[name].label for name in form.changed_data if name in form.fields]
        return [{"changed": {"fields": [str(capfirst(label)) for label in changed]}}] if changed else []

    def log_dynamo_action(self, request, key, obj_repr, action_flag, message=""):
        """Record the change in Django's admin log ("Recent actions", history)."""
        LogEntry.objects.create(
            user_id=request.user.pk,
            content_type_id=ContentType.objects.get_for_model(self.model, for_concrete_model=False).pk,
            object_id=str(key),
            object_repr=str(obj_repr)[:200],
            action_flag=action_flag,
            change_message=json.dumps(message) if isinstance(message, list) else message,
        )

    # -- actions --------------------------------------------------------------------------

    def get_actions(self, request):
        """{name: (function, name, description)} of the actions this user may run, as in Django.

        Each function is a bound method taking (request, keys).
        """
        result = {}
        for name in self.actions or ():
            function = getattr(self, name)
            permissions = getattr(function, "allowed_permissions", ())
            if all(getattr(self, f"has_{perm}_permission")(request) for perm in permissions):
                description = getattr(function, "short_description", name.replace("_", " "))
                result[name] = (function, name, description % {"verbose_name_plural": self.opts.verbose_name_plural})
        return result

    def run_action(self, request):
        """Run the chosen action on the selected keys (each once; keys no item can have left out)."""
        actions = {name: function for name, (function, _, _) in self.get_actions(request).items()}
        name = request.POST.get("action", "")
        selected = [key for key in dict.fromkeys(request.POST.getlist(ACTION_CHECKBOX_NAME)) if key]
        if name not in actions:
            self.message_user(request, "No action selected.", messages.WARNING)
            return None
        if not selected:
            self.message_user(request, "Items must be selected in order to perform actions on them.", messages.WARNING)
            return None
        if len(selected) > self.max_action_items:
            self.message_user(request, f"Select at most {self.max_action_items} items at a time.", messages.WARNING)
            return None
        keys = [key for key in selected if self.is_valid_key(key)]
        if not keys:
            self.message_user(request, "The selected items do not exist.", messages.WARNING)
            return None
        return actions[name](request, keys)

    @admin.action(permissions=["delete"], description="Delete selected %(verbose_name_plural)s")
    def delete_selected(self, request, keys):
        """Bulk delete, after a confirmation page listing what will go."""
        objects = self.get_objects(keys)
        if request.POST.get("post") == "yes":
            deleted = 0
            for obj in objects:
                try:
                    self.delete_object(request, obj)
                except SaveRejected as error:
                    self.message_user(request, error.message, messages.ERROR)
                    continue
                self.log_dynamo_action(request, getattr(obj, self.key_attribute), obj, DELETION)
                deleted += 1
            if deleted:
                self.message_user(request, f"Deleted {deleted} {self._plural(deleted)}.", messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Are you sure?",
            "opts": self.opts,
            "objects": objects,
            "keys": [getattr(obj, self.key_attribute) for obj in objects],
            "action_name": "delete_selected",
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "verbose_name_plural": self._plural(len(objects)),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.delete_selected_confirmation_template, context)

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        # A key from a URL can be of any length: the message quotes its start.
        return super()._get_obj_does_not_exist_redirect(request, opts, Truncator(object_id).chars(100))

    def _plural(self, count):
        return self.opts.verbose_name if count == 1 else self.opts.verbose_name_plural

    # -- views ------------------------------------------------------------------------------

    def base_context(self, request, **extra):
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "app_label": self.opts.app_label,
            "has_view_permission": self.has_view_permission(request),
            "has_add_permission": self.has_add_permission(request),
            "has_change_permission": self.has_change_permission(request),
            "has_delete_permission": self.has_delete_permission(request),
            "media": self.media,
            **extra,
        }

    @csrf_protect_m
    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        if request.method == "POST" and "action" in request.POST:
            response = self.run_action(request)
            return response or HttpResponseRedirect(request.get_full_path())
        changelist = ChangeList(request, self)
        actions = self.get_actions(request)
        context = self.base_context(
            request,
            title=capfirst(self.opts.verbose_name_plural),
            subtitle=None,
            cl=changelist,
            actions=[(name, description) for _, name, description in actions.values()],
            action_checkbox_name=ACTION_CHECKBOX_NAME,
            search_help_text=self.search_help_text,
            has_search=bool(self.get_search_fields(request)),
            **(extra_context or {}),
        )
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.change_list_template, context)

    def add_view(self, request, form_url="", extra_context=None):
        return self.changeform_view(request, None, form_url, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return self.changeform_view(request, object_id, form_url, extra_context)

    @csrf_protect_m
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        adding = object_id is None
        obj = None
        if adding:
            if not self.has_add_permission(request):
                raise PermissionDenied
        else:
            obj = self.get_object(request, object_id)
            if obj is None:
                return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
            if request.method == "POST" and not self.has_change_permission(request, obj):
                raise PermissionDenied
            if not self.has_view_or_change_permission(request, obj):
                raise PermissionDenied
        form_class = self.get_form(request, obj)
        editable = form_class is not None and (adding or self.has_change_permission(request, obj))
        form = None
        if form_class is not None:
            if request.method == "POST":
                form = form_class(request.POST, instance=obj)
                if editable and form.is_valid():
                    try:
                        saved = self.save_item(request, form, obj)
                    except SaveRejected as error:
                        form.add_error(error.field, error.message)
                    else:
                        key = getattr(saved, self.key_attribute)
                        if adding:
                            self.log_dynamo_action(request, key, saved, ADDITION, [{"added": {}}])
                        else:
                            self.log_dynamo_action(request, key, saved, CHANGE, self.change_message(form))
                        return self.response_after_save(request, saved, adding)
            else:
                form = form_class(instance=obj, initial=self.get_initial(request, obj))
            if not editable:
                for field in form.fields.values():
                    field.disabled = True
        context = self.base_context(
            request,
            title=(f"Add {self.opts.verbose_name}" if adding else f"Change {self.opts.verbose_name}")
            if editable
            else f"View {self.opts.verbose_name}",
            subtitle=str(obj) if obj is not None else None,
            adding=adding,
            add=adding,
            change=not adding,
            editable=editable,
            original=obj,
            object_key=getattr(obj, self.key_attribute) if obj is not None else None,
            object_id=object_id,
            form=form,
            adminform=helpers.AdminForm(form, self.get_fieldsets(request, obj), {}, model_admin=self)
            if form is not None
            else None,
            errors=form.errors if form is not None and form.is_bound else None,
            readonly_rows=self.readonly_rows(request, obj),
            submit_buttons=self.get_submit_buttons(request, obj) if editable else [],
            view_on_site_url=self.view_on_site_url(obj),
            media=self.media + form.media if form is not None else self.media,
            **(extra_context or {}),
        )
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.change_form_template, context)

    def get_initial(self, request, obj):
        return {}

    def readonly_rows(self, request, obj):
        """(label, value) of each of the item's `readonly_fields`."""
        if obj is None:
            return []
        rows = []
        for name in self.get_readonly_fields(request, obj):
            attr = getattr(self, name, None)
            if callable(attr):
                rows.append((getattr(attr, "short_description", label_for_attribute(name)), attr(obj)))
            else:
                value = getattr(obj, name)
                rows.append((label_for_attribute(name), value if value not in (None, "") else "—"))
        return rows

    def view_on_site_url(self, obj):
        """The public URL of the item, linked directly (Django's shortcut would query SQL)."""
        if obj is None or not self.view_on_site or not hasattr(obj, "get_absolute_url"):
            return None
        return obj.get_absolute_url()

    def get_submit_buttons(self, request, obj):
        """(name, label, is_default) of the form's submit buttons."""
        return [("_save", "Save", True)]

    def response_after_save(self, request, obj, adding):
        verb = "added" if adding else "changed"
        self.message_user(request, f"The {self.opts.verbose_name} “{obj}” was {verb} successfully.", messages.SUCCESS)
        if "_continue" in request.POST:
            return HttpResponseRedirect(self.change_url(getattr(obj, self.key_attribute)))
        return HttpResponseRedirect(self.changelist_url())

    @csrf_protect_m
    def delete_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, object_id)
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_delete_permission(request, obj):
            raise PermissionDenied
        if request.method == "POST":
            try:
                self.delete_object(request, obj)
            except SaveRejected as error:
                self.message_user(request, error.message, messages.ERROR)
                return HttpResponseRedirect(self.change_url(getattr(obj, self.key_attribute)))
            self.log_dynamo_action(request, getattr(obj, self.key_attribute), obj, DELETION)
            self.message_user(
                request, f"The {self.opts.verbose_name} “{obj}” was deleted successfully.", messages.SUCCESS
            )
            return HttpResponseRedirect(self.changelist_url())
        context = self.base_context(
            request,
            title="Are you sure?",
            subtitle=str(obj),
            object=obj,
            object_key=getattr(obj, self.key_attribute),
            **(extra_context or {}),
        )
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.delete_confirmation_template, context)

    def history_view(self, request, object_id, extra_context=None):
        """The admin log of one item (who changed it, when)."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        key = unquote(object_id)
        entries = (
            LogEntry.objects.filter(
                object_id=key,
                content_type=ContentType.objects.get_for_model(self.model, for_concrete_model=False),
            )
            .select_related()
            .order_by("-action_time")[:100]
        )
        context = self.base_context(
            request,
            title=f"Change history: {key}",
            subtitle=None,
            action_list=entries,
            object_key=key,
            **(extra_context or {}),
        )
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.object_history_template, context)
