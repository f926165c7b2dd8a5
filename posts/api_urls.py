"""The posts API's URLs, included under /api/ by the public URLconf (`myblog.public_urls`)."""

from django.urls import path

from posts import api, search_api

urlpatterns = [
    path("posts", api.post_list, name="api-posts"),
    path("posts/<str:slug>", api.post_detail, name="api-post"),
    path("search", search_api.search_posts, name="api-search"),
]
