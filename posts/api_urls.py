"""The posts API's URLs, included under /api/ by the public URLconf (`myblog.public_urls`)."""

from django.urls import path

from myblog.lazy_views import lazy_view

urlpatterns = [
    path("posts", lazy_view("posts.api.post_list"), name="api-posts"),
    path("posts/<str:slug>", lazy_view("posts.api.post_detail"), name="api-post"),
    path("search", lazy_view("posts.search_api.search_posts"), name="api-search"),
]
