"""The admin's preview: a post exactly as its public page will show it.

The preview *is* the post page: the readers' own template
(`posts/post_detail.html`, with the site's stylesheet, header, article
markup and classes) rendered for the editor's unsaved values, its body
rendered by the same renderer over the same photo renditions. Reusing the
template rather than copying its markup keeps the two from drifting apart.

The admin shows the document in a sandboxed `<iframe srcdoc>`: the admin's
CSS cannot reach it, nothing in it can run a script (the body is sanitised
anyway), and it loads nothing but the site's media.

One difference: a photo still waiting for its renditions, which readers do
not see yet, is shown to the editor from its original through a
short-lived presigned S3 URL (`photos.uploads.original_url`), so a photo just
uploaded appears at once. The frame inherits the admin page's (absent)
Content-Security-Policy, so it may load from the S3 endpoint.
"""

from django.template.loader import render_to_string
from django.utils import timezone

from myblog import public
from photos.uploads import original_url
from posts import pages, rules
from posts.forms import PostForm
from posts.models import Post

TEMPLATE = "posts/post_detail.html"
# What the post page shows of a post.
SHOWN = ("title", "body", "excerpt", "tags", "author", "cover_image", "cover_alt", "publish_at")


def post_for_preview(slug, *, now=None, **values):
    """An unsaved `Post` with `values`; a post not yet published shows today's date."""
    values = {name: value for name, value in values.items() if name in SHOWN and value is not None}
    values.setdefault("title", "")
    values.setdefault("publish_at", now or timezone.now())
    return Post(slug or "preview", **values)


def post_from_item(item, **overrides):
    """The preview `Post` of a saved post or one of its revisions."""
    values = {name: getattr(item, name, None) for name in SHOWN}
    values.update(overrides)
    return post_for_preview(item.slug, **values)


def post_from_form_data(data, *, original=None, author="", now=None):
    """The preview `Post` of the post form's values, as saving them would store them.

    Fields that do not validate yet (a title still empty, a half-typed
    date) are left out rather than refusing the preview. A live post keeps
    its date when edited, so its preview does too.
    """
    form = PostForm(data)
    form.is_valid()
    values = dict(form.cleaned_data)
    slug = values.pop("slug", None)
    values["author"] = values.get("author") or (original.author if original is not None else "") or author
    if original is not None:
        slug = original.slug
        if rules.keeps_date(original):
            values["publish_at"] = original.publish_at
    return post_for_preview(slug, now=now, **values)


def preview_page(post):
    """The `PostPage` of `post`, as `posts.pages` builds the public one (one BatchGetItem for its photos)."""
    return pages.post_page(post, original_url=original_url)


def render_document(request, page):
    """The post page's HTML document for `page` (no canonical link, no social image)."""
    context = {"page": page, "post": page.post, "og_image": None, "canonical_url": None}
    # The public pages' own engine and context, as `posts.views.post_detail` renders it.
    return render_to_string(TEMPLATE, context, request=request, using=public.ENGINE)
