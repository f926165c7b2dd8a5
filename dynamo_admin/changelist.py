"""The change list of a PynamoDB model: one bounded Query per page.

Plays the part of `django.contrib.admin.views.main.ChangeList` for the
templates: it reads the request's parameters (filters, search, cursor),
builds the `ListQuery`, fetches one page and turns the items into rows.
"""

from django.contrib.admin.utils import display_for_value
from django.core.exceptions import ImproperlyConfigured
from django.utils.html import format_html
from django.utils.http import urlencode

from dynamo_admin.pagination import Page, decode_cursor, query_page

SEARCH_VAR = "q"
CURSOR_VAR = "cursor"
ORDER_VAR = "o"
# The cursor of an indexed search's pages: how many matches the earlier pages showed.
OFFSET_KEY = "search_offset"
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
        self.sort_column, self.descending = self._order(model_admin.get_sortable_columns(request))
        self.search_result = None
        self.match_count = None
        self.exact_match = None
        if self.search_term:
            self.search_result = model_admin.get_search_matches(request, self.search_term)
        if self.search_result is not None:
            self._search_page()
            return
        self.query = model_admin.get_list_query(request)
        self.query.scan_index_forward = not self.descending
        for list_filter in self.filters:
            if list_filter.is_active():
                list_filter.apply(self.query)
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
        model_admin.prepare_page(request, self.result_list)

    def _order(self, sortable):
        """(column, descending) the `o` parameter asks for, among the sortable columns (newest first by default)."""
        if not sortable:
            return None, True
        wanted = self.params.get(ORDER_VAR, "")
        name = wanted.lstrip("-")
        if name in sortable:
            return name, wanted.startswith("-")
        return sortable[0], True

    def _search_page(self):
        """One page of an indexed search's matches (`get_search_matches`): filtered, ordered, then fetched by key.

        The matches carry what the filters and the order need, so only the
        page's items are read (one BatchGetItem); the cursor is an offset
        into the matches, which the search finds again for every page.
        """
        result = self.search_result
        matches = [match for match in result.matches if self._matches_filters(match)]
        if not self.descending:
            matches.reverse()
        exact = self.model_admin.search_exact_key(self.request, self.search_term)
        if exact is not None:
            first = [m for m in matches if self._key(m) == exact]
            matches = first + [m for m in matches if self._key(m) != exact]
        self.match_count = len(matches)
        offset = self.start_key.get(OFFSET_KEY, 0) if self.start_key else 0
        offset = offset if isinstance(offset, int) and 0 <= offset <= len(matches) else 0
        shown = matches[offset : offset + self.page_size]
        end = offset + len(shown)
        self.page = Page(
            items=self.model_admin.get_objects([self._key(m) for m in shown]),
            last_evaluated_key={OFFSET_KEY: end} if end < len(matches) else None,
            scanned=len(matches),
            partial=not result.complete,
        )
        self.page_start = offset
        self.result_list = list(self.page.items)
        if exact is not None and self.result_list and self._key(self.result_list[0]) == exact:
            self.exact_match = self.result_list[0]
        self.model_admin.prepare_page(self.request, self.result_list)

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

    @property
    def total_count(self):
        """(count, approximate) of the whole list when it is neither searched nor filtered, else None."""
        if self.search_term or self.has_active_filters:
            return None
        total = self.model_admin.get_total_count(self.request)
        # An approximate count behind what the list already shows says nothing.
        if total is None or (total[1] and total[0] < len(self.result_list)):
            return None
        return total

    def headers(self):
        for name in self.list_display:
            header = {"text": self._label(name), "name": name, "sortable": False}
            if name == self.sort_column:
                header.update(
                    sortable=True,
                    sorted="descending" if self.descending else "ascending",
                    # Clicking flips the order; back to the first page.
                    url=self.get_query_string({ORDER_VAR: name if self.descending else f"-{name}"}),
                )
            yield header

    @property
    def link_column(self):
        """The column linking to the change page: the first of `list_display_links` shown, else the first."""
        links = [name for name in (self.model_admin.list_display_links or ()) if name in self.list_display]
        return links[0] if links else self.list_display[0]

    def rows(self):
        link_column = self.link_column
        for item in self.result_list:
            key = self._key(item)
            cells = []
            for name in self.list_display:
                value = self._cell(item, name)
                if name == link_column:
                    value = format_html('<a href="{}">{}</a>', self.model_admin.change_url(key), value)
                cells.append({"name": name, "value": value})
            yield {"key": key, "cells": cells, "exact": item is self.exact_match}

    # -- helpers ------------------------------------------------------------------

    def _key(self, item):
        return getattr(item, self.model_admin.key_attribute)

    def _matches_filters(self, item):
        """Whether a GetItem hit or a search match also passes the active filters (checked in Python)."""
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
