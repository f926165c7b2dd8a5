"""URL patterns whose views are imported by the first request they answer (`myblog.lazy_views`)."""

import sys
import types

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory
from django.urls import path, resolve, reverse

from myblog.lazy_views import lazy_view

VIEWS = """
from django.http import HttpResponse
from django.views import View
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def hello(request, name):
    return HttpResponse(f"hello {name}")


class Hello(View):
    pass


hello_class = Hello.as_view()
"""
MODULE = "lazy_views_target"


@pytest.fixture
def urlconf(tmp_path, monkeypatch):
    (tmp_path / f"{MODULE}.py").write_text(VIEWS)
    monkeypatch.syspath_prepend(str(tmp_path))
    module = types.ModuleType("lazy_views_urls")
    module.urlpatterns = [
        path("hello/<str:name>/", lazy_view(f"{MODULE}.hello"), name="hello"),
        path("class/", lazy_view(f"{MODULE}.hello_class"), name="class"),
    ]
    yield module
    sys.modules.pop(MODULE, None)


def test_resolving_and_reversing_leave_the_view_module_unimported(urlconf):
    assert reverse("hello", urlconf=urlconf, args=["reader"]) == "/hello/reader/"
    match = resolve("/hello/reader/", urlconf=urlconf)
    assert match.url_name == "hello"
    assert match._func_path == f"{MODULE}.hello"
    assert match.func.__module__ == MODULE
    assert MODULE not in sys.modules


def test_the_answering_request_imports_the_view_and_its_decorators_show(urlconf):
    match = resolve("/hello/reader/", urlconf=urlconf)
    # What CsrfViewMiddleware asks of the view before calling it.
    assert match.func.csrf_exempt is True
    assert MODULE in sys.modules
    response = match.func(RequestFactory().get("/hello/reader/"), *match.args, **match.kwargs)
    assert response.content == b"hello reader"


def test_a_class_based_view_is_refused_when_first_imported(urlconf):
    match = resolve("/class/", urlconf=urlconf)
    with pytest.raises(ImproperlyConfigured, match="class-based view"):
        match.func(RequestFactory().get("/class/"))
