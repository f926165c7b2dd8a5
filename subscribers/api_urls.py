"""The subscribers API's URLs, included under /api/ by the public URLconf (`myblog.public_urls`)."""

from django.urls import path

from subscribers import api

urlpatterns = [
    path("subscribers", api.subscribe, name="api-subscribe"),
    path("subscribers/confirm", api.confirm, name="api-confirm"),
    path("subscribers/unsubscribe", api.unsubscribe, name="api-unsubscribe"),
]
