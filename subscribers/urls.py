"""Subscriber pages: the sign-up form and the confirm/unsubscribe links from emails.

The names `subscribers:confirm` and `subscribers:unsubscribe` (one token
argument) are used by the emails: keep them.
"""

from django.urls import path

from myblog.lazy_views import lazy_view

app_name = "subscribers"
urlpatterns = [
    path("subscribe/", lazy_view("subscribers.views.subscribe"), name="subscribe"),
    path("subscribe/confirm/<str:token>/", lazy_view("subscribers.views.confirm"), name="confirm"),
    path("subscribe/unsubscribe/<str:token>/", lazy_view("subscribers.views.unsubscribe"), name="unsubscribe"),
]
