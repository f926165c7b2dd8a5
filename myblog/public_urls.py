"""The public site and the REST API: every URL a reader or an API client uses.

Requests outside /admin/ are resolved with this URLconf (see `myblog.public`),
so serving them never imports the admin. Every path under /api/ answers
JSON, including unknown ones (a JSON 404) and server faults (a JSON 500).
Views are named by their dotted paths (`myblog.lazy_views`): a request
imports the view module it needs, not every one of them.
"""

from django.urls import include, path, re_path

from myblog.lazy_views import lazy_view

# Each app's API URLs (its `api_urls`), then the document describing them
# all (see `myblog.openapi`).
api_patterns = [
    path("", include("posts.api_urls")),
    path("", include("subscribers.api_urls")),
    path("openapi.json", lazy_view("myblog.views.openapi_json"), name="api-schema"),
    path("docs/", lazy_view("myblog.views.api_docs"), name="api-docs"),
    re_path(r"^(?P<path>.*)$", lazy_view("myblog.jsonapi.not_found")),
]

urlpatterns = [
    path("api/", include(api_patterns)),
    path("robots.txt", lazy_view("myblog.views.robots_txt"), name="robots"),
    path("favicon.ico", lazy_view("myblog.views.favicon_ico"), name="favicon"),
    path("", include("subscribers.urls")),
    path("", include("posts.urls")),
]

handler400 = "myblog.views.request_error"
handler403 = "myblog.views.permission_denied"
handler404 = "myblog.views.not_found"
handler500 = "myblog.views.server_error"
