"""The public site's post URLs.

Older pages carry their cursor in the path, not the query string, so the
edge can cache pages while ignoring query strings altogether (a random
`?x=` cannot bypass the cache) and an invalidation of `/page/*` or
`/tags/<tag>/*` reaches every cached page of a listing; `/sitemaps/*`
reaches every child sitemap.
"""

from django.urls import path

from myblog.lazy_views import lazy_view

app_name = "posts"
urlpatterns = [
    path("", lazy_view("posts.views.post_list"), name="list"),
    path("page/<str:cursor>/", lazy_view("posts.views.post_list"), name="page"),
    path("posts/<slug:slug>/", lazy_view("posts.views.post_detail"), name="detail"),
    path("tags/<str:tag>/", lazy_view("posts.views.tag"), name="tag"),
    path("tags/<str:tag>/page/<str:cursor>/", lazy_view("posts.views.tag"), name="tag-page"),
    path("feeds/rss.xml", lazy_view("posts.feeds.rss"), name="rss"),
    path("feeds/atom.xml", lazy_view("posts.feeds.atom"), name="atom"),
    path("feed.json", lazy_view("posts.feeds.json_feed"), name="json-feed"),
    path("sitemap.xml", lazy_view("posts.sitemaps.index"), name="sitemap"),
    path("sitemaps/pages.xml", lazy_view("posts.sitemaps.pages_sitemap"), name="sitemap-pages"),
    path("sitemaps/posts.xml", lazy_view("posts.sitemaps.posts_sitemap"), name="sitemap-posts"),
    path("sitemaps/posts/<str:cursor>.xml", lazy_view("posts.sitemaps.posts_sitemap"), name="sitemap-posts-page"),
    path("search/", lazy_view("posts.search_views.search_page"), name="search"),
]
