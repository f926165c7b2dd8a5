from django.urls import path

from dynamo_admin.tests.site import site

urlpatterns = [path("admin/", site.urls)]
