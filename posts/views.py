"""Public pages for posts."""

from django.http import Http404
from django.shortcuts import render

from posts import queries
from posts.rendering import render_markdown


def post_list(request):
    posts, _ = queries.latest_posts(limit=10)
    return render(request, "posts/post_list.html", {"posts": posts})


def post_detail(request, slug):
    post = queries.get_live_post(slug)
    if post is None:
        raise Http404("No such post")
    return render(request, "posts/post_detail.html", {"post": post, "body_html": render_markdown(post.body)})
