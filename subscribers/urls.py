"""Subscriber pages: the sign-up form and the confirm/unsubscribe links from emails.

The names `subscribers:confirm` and `subscribers:unsubscribe` (one token
argument) are used by the emails: keep them.
"""

from django.urls import path

from subscribers import views

app_name = "subscribers"
urlpatterns = [
    path("subscribe/", views.subscribe, name="subscribe"),
    path("subscribe/confirm/<str:token>/", views.confirm, name="confirm"),
    path("subscribe/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
