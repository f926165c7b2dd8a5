"""The public site's post URLs.

Older pages carry their cursor in the path, not the query string, so the
edge can cache pages while ignoring query strings altogether (a random
`?x=` cannot bypass the cache) and an invalidation of `/page/*` or
`/tags/<tag>/*` reaches every cached page of a listing; `/sitemaps/*`
reaches every child sitemap.
"""

from django.urls import path

from posts import feeds, search_views, sitemaps, views

app_name = "posts"
urlpatterns = [
    path("", views.post_list, name="list"),
    path("page/<str:cursor>/", views.post_list, name="page"),
    path("posts/<slug:slug>/", views.post_detail, name="detail"),
    path("tags/<str:tag>/", views.tag, name="tag"),
    path("tags/<str:tag>/page/<str:cursor>/", views.tag, name="tag-page"),
    path("feeds/rss.xml", feeds.rss, name="rss"),
    path("feeds/atom.xml", feeds.atom, name="atom"),
    path("feed.json", feeds.json_feed, name="json-feed"),
    path("sitemap.xml", sitemaps.index, name="sitemap"),
    path("sitemaps/pages.xml", sitemaps.pages_sitemap, name="sitemap-pages"),
    path("sitemaps/posts.xml", sitemaps.posts_sitemap, name="sitemap-posts"),
    path("sitemaps/posts/<str:cursor>.xml", sitemaps.posts_sitemap, name="sitemap-posts-page"),
    path("search/", search_views.search_page, name="search"),
]
