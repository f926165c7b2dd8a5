"""The change list of a PynamoDB model: one bounded Query per page.

Plays the part of `django.contrib.admin.views.main.ChangeList` for the
templates: it reads the request's parameters (filters, search, cursor),
builds the `ListQuery`, fetches one page and turns the items into rows.
"""

from django.contrib.admin.utils import display_for_value
from django.core.exceptions import ImproperlyConfigured
from django.utils.html import format_html
from django.utils.http import urlencode

from dynamo_admin.pagination import decode_cursor, query_page

SEARCH_VAR = "q"
CURSOR_VAR = "cursor"
ACTION_CHECKBOX_NAME = "_selected_action"


class ChangeList:
    def __init__(self, request, model_admin):
        self.request = request
        self.model_admin = model_admin
        self.model = model_admin.dynamo_model
        self.opts = model_admin.opts
        self.params = {key: request.GET.get(key, "") for key in request.GET}
        self.search_term = self.params.get(SEARCH_VAR, "").strip()
        self.cursor = self.params.get(CURSOR_VAR, "")
        self.start_key = decode_cursor(self.cursor)
        self.page_size = model_admin.list_per_page
        self.list_display = list(model_admin.get_list_display(request))

        self.filters = [factory(request, self.params) for factory in model_admin.get_list_filter(request)]
        self.query = model_admin.get_list_query(request)
        for list_filter in self.filters:
            if list_filter.is_active():
                list_filter.apply(self.query)
        self.exact_match = None
        if self.search_term:
            self.exact_match = model_admin.apply_search(request, self.query, self.search_term)
            if self.exact_match is not None and self.start_key is None and not self._matches_filters(self.exact_match):
                self.exact_match = None

        self.page = query_page(
            self.model,
            self.query.as_callable(),
            page_size=self.page_size,
            start_key=self.start_key,
            max_requests=model_admin.max_requests_per_page if self.query.filtered else 1,
        )
        items = list(self.page.items)
        if self.exact_match is not None:
            exact_key = self._key(self.exact_match)
            items = [self.exact_match] + [item for item in items if self._key(item) != exact_key]
        self.result_list = items

    # -- state for the templates ------------------------------------------------

    @property
    def has_filters(self):
        return bool(self.filters)

    @property
    def filter_panels(self):
        """What the side bar shows for each filter."""
        for list_filter in self.filters:
            panel = {"spec": list_filter, "choices": list(list_filter.choices(self))}
            panel["clear_url"] = self.get_query_string(remove=[list_filter.parameter_name, CURSOR_VAR])
            if hasattr(list_filter, "hidden_params"):
                panel["hidden_params"] = list_filter.hidden_params(self)
            yield panel

    @property
    def has_active_filters(self):
        return any(f.is_active() for f in self.filters)

    @property
    def is_first_page(self):
        return self.start_key is None

    @property
    def next_page_url(self):
        if not self.page.has_next:
            return ""
        return self.get_query_string({CURSOR_VAR: self.page.next_cursor})

    @property
    def first_page_url(self):
        return self.get_query_string(remove=[CURSOR_VAR])

    @property
    def clear_all_filters_qs(self):
        return self.get_query_string(remove=[f.parameter_name for f in self.filters] + [CURSOR_VAR])

    def get_query_string(self, new_params=None, remove=None):
        """`?...` for the current parameters changed as asked.

        Any change of filter or search starts again from the first page.
        """
        params = dict(self.params)
        if new_params and CURSOR_VAR not in new_params:
            params.pop(CURSOR_VAR, None)
        for name in remove or ():
            params.pop(name, None)
        for name, value in (new_params or {}).items():
            if value in (None, ""):
                params.pop(name, None)
            else:
                params[name] = value
        return "?" + urlencode(sorted(params.items())) if params else "?"

    def headers(self):
        for name in self.list_display:
            yield {"text": self._label(name), "name": name}

    def rows(self):
        for item in self.result_list:
            key = self._key(item)
            cells = []
            for index, name in enumerate(self.list_display):
                value = self._cell(item, name)
                if index == 0:
                    value = format_html('<a href="{}">{}</a>', self.model_admin.change_url(key), value)
                cells.append({"name": name, "value": value})
            yield {"key": key, "cells": cells, "exact": item is self.exact_match}

    # -- helpers ------------------------------------------------------------------

    def _key(self, item):
        return getattr(item, self.model_admin.key_attribute)

    def _matches_filters(self, item):
        """Whether a GetItem hit also passes the active filters (checked in Python)."""
        return all(self.model_admin.item_passes_filter(item, f) for f in self.filters if f.is_active())

    def _label(self, name):
        if name == "__str__":
            return self.opts.verbose_name
        attr = getattr(self.model_admin, name, None)
        if attr is not None and callable(attr):
            return getattr(attr, "short_description", name.replace("_", " "))
        if name in self.model.get_attributes():
            return name.replace("_", " ")
        raise ImproperlyConfigured(f"{type(self.model_admin).__name__}.list_display: unknown column {name!r}")

    def _cell(self, item, name):
        if name == "__str__":
            return str(item)
        attr = getattr(self.model_admin, name, None)
        if attr is not None and callable(attr):
            value = attr(item)
            return value if value is not None else self.model_admin.get_empty_value_display()
        return display_for_value(getattr(item, name), self.model_admin.get_empty_value_display())
