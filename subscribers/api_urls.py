"""The subscribers API's URLs, included under /api/ by the public URLconf (`myblog.public_urls`)."""

from django.urls import path

from myblog.lazy_views import lazy_view

urlpatterns = [
    path("subscribers", lazy_view("subscribers.api.subscribe"), name="api-subscribe"),
    path("subscribers/confirm", lazy_view("subscribers.api.confirm"), name="api-confirm"),
    path("subscribers/unsubscribe", lazy_view("subscribers.api.unsubscribe"), name="api-unsubscribe"),
]
