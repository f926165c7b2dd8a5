"""URLs: the CMS under /admin/, the public site and the API from the apps."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("subscribers.urls")),
    path("", include("posts.urls")),
]
