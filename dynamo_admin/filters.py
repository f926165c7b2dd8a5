"""Change-list filters that map to DynamoDB Query parameters.

A change list is one Query: a *source* (the table or a global secondary
index, and the hash key value to read) plus optional filter conditions.
Filters either pick a better source (a status filter reads the status
index, so a page costs the same however many items there are) or add a
condition DynamoDB applies to the items it reads (a tag filter). There is
no Scan here.
"""

from dataclasses import dataclass, field
from functools import partial


@dataclass
class ListQuery:
    """What a change-list page reads: `source.query(hash_key, ...)`."""

    model: type
    source: object  # the model class or one of its indexes
    hash_key: object
    conditions: list = field(default_factory=list)
    scan_index_forward: bool = False  # newest first
    default_source: bool = True

    def use_index(self, index, hash_key):
        self.source = index
        self.hash_key = hash_key
        self.default_source = False

    def add_condition(self, condition):
        self.conditions.append(condition)

    @property
    def filtered(self):
        """True when DynamoDB may read items the page will not show."""
        return bool(self.conditions)

    def as_callable(self):
        condition = None
        for part in self.conditions:
            condition = part if condition is None else condition & part
        return partial(
            self.source.query,
            self.hash_key,
            filter_condition=condition,
            scan_index_forward=self.scan_index_forward,
        )


class ListFilter:
    """A filter in the change list's side bar, read from one query parameter."""

    title = ""
    parameter_name = ""
    template = "admin/dynamo_admin/filter.html"

    def __init__(self, request, params):
        raw = params.get(self.parameter_name, "")
        self.raw_value = raw.strip() if isinstance(raw, str) else ""
        self.value = self.clean(self.raw_value) if self.raw_value else None

    def clean(self, value):
        """The usable value of the parameter, or None to ignore it."""
        return value

    def is_active(self):
        return self.value is not None

    def apply(self, query):
        raise NotImplementedError

    def choices(self, changelist):
        yield {
            "selected": self.value is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "All",
        }


class ChoicesFilter(ListFilter):
    """Equality on an attribute with a fixed set of values.

    With `index`, the filter reads that index (hash key = the attribute)
    instead of the default source; otherwise, or when another filter has
    already chosen the source, it adds a condition.
    """

    attribute = ""
    index = None
    choices_list = ()

    def __init__(self, request, params, *, attribute=None, choices=None, index=None, title=None, parameter_name=None):
        self.attribute = attribute or self.attribute
        self.index = index if index is not None else self.index
        self.choices_list = tuple(choices if choices is not None else self.choices_list)
        self.title = title or self.title or self.attribute.replace("_", " ")
        self.parameter_name = parameter_name or self.parameter_name or self.attribute
        super().__init__(request, params)

    def clean(self, value):
        return value if value in {key for key, _ in self.choices_list} else None

    def apply(self, query):
        if self.index is not None and query.default_source:
            query.use_index(self.index, self.value)
        else:
            query.add_condition(getattr(query.model, self.attribute) == self.value)

    def choices(self, changelist):
        yield from super().choices(changelist)
        for key, label in self.choices_list:
            yield {
                "selected": self.value == key,
                "query_string": changelist.get_query_string({self.parameter_name: key}),
                "display": label,
            }


class ContainsFilter(ListFilter):
    """Items whose list (or set) attribute contains a typed value.

    Applied by DynamoDB as a filter expression: the side bar says so, since
    a page may then show fewer items than it read.
    """

    attribute = ""
    template = "admin/dynamo_admin/input_filter.html"
    help_text = ""

    def __init__(self, request, params, *, attribute=None, title=None, parameter_name=None, normalise=None):
        self.attribute = attribute or self.attribute
        self.title = title or self.title or self.attribute.replace("_", " ")
        self.parameter_name = parameter_name or self.parameter_name or self.attribute
        self.normalise = normalise or (lambda value: value)
        super().__init__(request, params)

    def clean(self, value):
        return self.normalise(value) or None

    def apply(self, query):
        query.add_condition(getattr(query.model, self.attribute).contains(self.value))

    def hidden_params(self, changelist):
        """Other query parameters to keep when this filter's form is submitted."""
        return [
            (name, value)
            for name, value in changelist.params.items()
            if name not in (self.parameter_name, "cursor") and value
        ]
