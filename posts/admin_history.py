"""The post admin's comparing views: a refused save's diff, two revisions compared, restore and rename.

Kept out of `posts.admin` so the shared change form only wires them in:
the views are plain functions taking the `PostAdmin` (see `urls`), and the
diffs are `posts.diffs` over a few fields turned into text.
"""

from django import forms
from django.contrib import messages
from django.contrib.admin.models import CHANGE
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from dynamo_admin.forms import VERSION_FIELD, VersionField
from posts import diffs, editor_zone, rules, services
from posts.models import Post, Revision

# What an editor types: compared when their save is refused because someone saved first.
FORM_FIELDS = (
    ("title", "Title"),
    ("body", "Text"),
    ("excerpt", "Excerpt"),
    ("tags", "Tags"),
    ("cover_alt", "Cover image description"),
)
# What a revision holds: compared between two revisions, and before restoring one.
REVISION_FIELDS = (
    *FORM_FIELDS[:4],
    ("status", "Status"),
    ("publish_at", "Go live at"),
    ("cover_image", "Cover photo"),
    ("cover_alt", "Cover image description"),
)
STALE_DIFFS = "_post_stale_diffs"
STALE_MESSAGE = (
    "Someone else saved this post after you opened it, so your save was refused. Your text is kept "
    "below, with what differs from the saved version: merge what you need, then save again."
)


def as_text(name, value):
    """One field's value as the text the diff compares (tags joined as typed, times in the editor's zone)."""
    if value is None:
        return ""
    if name == "tags":
        return ", ".join(value)
    if name == "publish_at":
        return editor_zone.when(value)
    return str(value)


def texts(item, fields):
    return {name: as_text(name, getattr(item, name, None)) for name, _ in fields}


def changed_diffs(old, new, fields):
    return [diff for diff in diffs.field_diffs(old, new, fields) if diff.changed]


# -- a save refused because someone else saved first ------------------------------------------


def note_stale(request, form, slug):
    """Called when the save of `form` was refused as stale: remember the diffs, take the current version.

    The editor's text stays in the form; its version becomes the saved
    one, so saving again (after merging by hand) goes through, and the
    page shows, field by field, what differs from the saved version.
    Returns the message for the form.
    """
    try:
        current = Post.get(slug, consistent_read=True)
    except Post.DoesNotExist:
        # Deleted meanwhile: nothing to compare with, nothing to save onto.
        return str(services.StaleVersion(slug))
    yours = {name: as_text(name, form.cleaned_data.get(name)) for name, _ in FORM_FIELDS}
    setattr(request, STALE_DIFFS, changed_diffs(texts(current, FORM_FIELDS), yours, FORM_FIELDS))
    data = form.data.copy()
    data[VERSION_FIELD] = str(current.version)
    form.data = data
    return STALE_MESSAGE


def add_stale_context(request, response):
    """Put the remembered diffs (if any) into the change form's context."""
    stale = getattr(request, STALE_DIFFS, None)
    if stale is not None and getattr(response, "context_data", None) is not None:
        response.context_data.update(stale_shown=True, stale_diffs=stale)
    return response


# -- the history: two revisions compared -----------------------------------------------------------


def history_key(post, slug):
    return rules.history_key(post) if post is not None else slug


def comparison(request, key):
    """{"compare_from", "compare_to", "comparison"} for `?from=N&to=M` (two GetItems), or an error."""
    chosen = request.GET.get("from"), request.GET.get("to")
    if not all(chosen):
        return {}
    try:
        older, newer = sorted(int(number) for number in chosen)
    except ValueError:
        return {"comparison_error": "Choose two revisions to compare."}
    try:
        old, new = services.get_revision(key, older), services.get_revision(key, newer)
    except Revision.DoesNotExist:
        return {"comparison_error": "One of these revisions does not exist."}
    return {
        "compare_from": old,
        "compare_to": new,
        "comparison": diffs.field_diffs(texts(old, REVISION_FIELDS), texts(new, REVISION_FIELDS), REVISION_FIELDS),
    }


# -- restoring onto a live post asks first -------------------------------------------------------


def needs_confirmation(request, post):
    """A live post's restore is confirmed on a page showing what changes; a draft restores at once.

    Only a restore that could go through is confirmed: one from a page
    older than the post's last save is refused straight away, as it would
    be after confirming.
    """
    current = request.POST.get("expected_version", "") == str(post.version) if post is not None else False
    return current and rules.is_live(post) and not request.POST.get("confirmed")


def restore_confirmation(model_admin, request, post, revision, slug):
    restored = {name: getattr(revision, name) for name in services.REVISION_FIELDS}
    fields = [(name, label) for name, label in REVISION_FIELDS if name in restored]
    context = model_admin.base_context(
        request,
        title=f"Restore revision {revision.version}?",
        subtitle=None,
        original=post,
        object_key=slug,
        revision=revision,
        changes=changed_diffs(texts(post, fields), {n: as_text(n, restored[n]) for n, _ in fields}, fields),
        history_url=reverse(model_admin._url_name("history"), args=(quote(slug),)),
    )
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, "admin/posts/post/restore_confirmation.html", context)


# -- rename ------------------------------------------------------------------------------------------------


class RenameForm(forms.Form):
    new_slug = forms.CharField(
        label="New slug",
        max_length=rules.MAX_SLUG_LENGTH,
        help_text="Lowercase letters, numbers and hyphens. The old address will redirect to the new one.",
        widget=forms.TextInput(attrs={"class": "vTextField", "autocomplete": "off"}),
    )
    expected_version = VersionField()


def rename_view(model_admin, request, object_id):
    """GET: the rename form for a saved post; POST: rename it (`services.rename_post`)."""
    slug = unquote(object_id)
    post = model_admin.get_object(request, object_id)
    if post is None:
        return model_admin._get_obj_does_not_exist_redirect(request, model_admin.opts, object_id)
    if not model_admin.has_change_permission(request, post):
        raise PermissionDenied
    if request.method == "POST":
        form = RenameForm(request.POST)
        if form.is_valid():
            new_slug = form.cleaned_data["new_slug"].strip()
            try:
                renamed = services.rename_post(
                    slug,
                    new_slug,
                    expected_version=form.cleaned_data["expected_version"],
                    user=request.user.get_username(),
                )
            except services.SlugTaken as error:
                form.add_error("new_slug", f"A post with the slug “{error.slug}” already exists. Choose another.")
            except services.InvalidPost as error:
                form.add_error("new_slug" if error.field == "slug" else None, str(error))
            except services.StaleVersion:
                form.add_error(
                    None,
                    "Someone else saved this post after you opened this page. "
                    "Check the post, then rename it from this page again.",
                )
                form.data = form.data.copy()
                form.data["expected_version"] = str(post.version)
            except services.PostError as error:
                form.add_error(None, str(error))
            else:
                model_admin.log_dynamo_action(request, renamed.slug, renamed, CHANGE, f"Renamed from {slug}.")
                if rules.is_live(renamed):
                    where = f"its old address /posts/{slug}/ redirects there."
                else:
                    where = f"its old address /posts/{slug}/ will redirect there once it is published."
                model_admin.message_user(
                    request, f"The post is now at /posts/{renamed.slug}/; {where}", messages.SUCCESS
                )
                return HttpResponseRedirect(model_admin.change_url(renamed.slug))
    else:
        form = RenameForm(initial={"new_slug": slug, "expected_version": post.version})
    context = model_admin.base_context(
        request,
        title=f"Rename: {post.title}",
        subtitle=None,
        original=post,
        object_key=slug,
        form=form,
    )
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, "admin/posts/post/rename.html", context)


def urls(model_admin):
    """This module's URL patterns, for `get_extra_urls`."""
    prefix = model_admin.url_name_prefix

    def bound(request, object_id):
        return rename_view(model_admin, request, object_id)

    bound.__name__ = rename_view.__name__
    return [path("<path:object_id>/rename/", model_admin.wrap_view(bound), name=f"{prefix}_rename")]
