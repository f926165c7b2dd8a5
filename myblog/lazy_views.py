"""URL patterns whose view modules are imported by the first request they answer.

A cold start answers one URL, but a URLconf that imports its views makes
it import every view module it names first: the API's, the feeds', the
sitemaps', the sign-up's and the search's, with what they import in turn.
`lazy_view("posts.feeds.rss")` stands in for the function in a pattern
instead; resolving and reversing URLs never import it (the pattern's
name and the path are all they read), and a request the pattern answers
imports it, with whatever its decorators set (`csrf_exempt`, ...) read
by the middleware from the view itself.

For function views only: a class-based view's `as_view()` is refused
when it is first imported.
"""

from django.core.exceptions import ImproperlyConfigured
from django.utils.functional import cached_property
from django.utils.module_loading import import_string


class LazyView:
    """A function view, imported from its dotted path when first called or inspected."""

    def __init__(self, dotted_path):
        module, _, name = dotted_path.rpartition(".")
        # What Django reads of a callback without calling it (URLPattern.lookup_str, ResolverMatch).
        self.__module__ = module
        self.__name__ = self.__qualname__ = name
        self.dotted_path = dotted_path

    def __repr__(self):
        return f"<LazyView {self.dotted_path}>"

    @cached_property
    def view(self):
        view = import_string(self.dotted_path)
        if hasattr(view, "view_class"):
            raise ImproperlyConfigured(f"{self.dotted_path} is a class-based view: LazyView takes function views")
        return view

    def __call__(self, request, *args, **kwargs):
        return self.view(request, *args, **kwargs)

    def __getattr__(self, name):
        # Only what the instance does not have itself: the attributes the view's decorators set.
        # A function view has no `view_class`, and Django asks for it of every pattern when it
        # reverses a URL: answer without importing.
        if name == "view_class" or name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.view, name)


def lazy_view(dotted_path):
    return LazyView(dotted_path)
