"""Subscriber pages (confirm and unsubscribe links from emails)."""

from django.urls import path

from subscribers import views

app_name = "subscribers"
urlpatterns = [
    path("subscribe/confirm/<str:token>/", views.confirm, name="confirm"),
    path("subscribe/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
