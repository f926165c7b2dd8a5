"""The editor's desk of the post form: autosave, presence, the editor's time zone.

The JSON endpoints here live under the post admin (`PostAdmin.get_extra_urls`
includes `urls`), each a CSRF-protected POST of form fields (so that the
page's `sendBeacon` on leaving can send its token as a field too) by staff
who may change the post (or add one, for the add form's slot). Refusals are
JSON with an "error": 405 for another method, 403 without permission, 400 for
bad input, 404 for a post that does not exist. None of them touches the post,
its version or its revisions: autosave slots and heartbeats are scratch
items in tables of their own (`posts.autosaves`, `posts.presence`).
"""

import logging

from django.contrib.admin.utils import quote
from django.http import JsonResponse
from django.urls import path, reverse

from myblog.numbers import InvalidNumber, parse_whole_number
from posts import autosaves, editor_zone, presence, rules

log = logging.getLogger(__name__)


def urls(model_admin):
    """The desk's URL patterns, for `get_extra_urls` (before the `<path:object_id>/` ones)."""
    prefix = model_admin.url_name_prefix
    wrap = model_admin.wrap_view

    def bind(view):
        def bound(request):
            return view(model_admin, request)

        bound.__name__ = view.__name__
        bound.__doc__ = view.__doc__
        return bound

    return [
        path("desk/autosave/", wrap(bind(autosave_view)), name=f"{prefix}_autosave"),
        path("desk/autosave/discard/", wrap(bind(discard_view)), name=f"{prefix}_autosave_discard"),
        path("desk/presence/", wrap(bind(presence_view)), name=f"{prefix}_presence"),
        path("desk/presence/leave/", wrap(bind(leave_view)), name=f"{prefix}_presence_leave"),
    ]


def _error(message, status):
    return JsonResponse({"error": message}, status=status)


def _post_of(model_admin, request, *, new_allowed):
    """(post or None for the add form, None) or (None, a JSON refusal) for the request's `post` field."""
    if request.method != "POST":
        return None, _error("Use POST.", 405)
    slug = request.POST.get("post", "")
    if not slug:
        if new_allowed and model_admin.has_add_permission(request):
            return None, None
        return None, _error("You may not edit posts.", 403) if new_allowed else _error("Name the post.", 400)
    if not rules.is_valid_slug(slug):
        return None, _error("There is no post with this address.", 400)
    if not model_admin.has_change_permission(request):
        return None, _error("You may not edit posts.", 403)
    post = model_admin.get_object(request, quote(slug))
    if post is None:
        return None, _error("There is no post with this address.", 404)
    if not model_admin.has_change_permission(request, post):
        return None, _error("You may not edit this post.", 403)
    return post, None


def _user(request):
    return request.user.get_username()


def _name(request):
    return request.user.get_full_name().strip() or request.user.get_username()


def autosave_view(model_admin, request):
    """POST post=<slug or empty>, base_version, and the form's fields -> {"saved_at"}: the editor's slot."""
    post, refused = _post_of(model_admin, request, new_allowed=True)
    if refused:
        return refused
    base = request.POST.get("base_version", "")
    try:
        base_version = parse_whole_number(base) if base else None
    except InvalidNumber:
        return _error("The version must be a whole number.", 400)
    try:
        slug = post.slug if post else None
        slot = autosaves.save_slot(slug, _user(request), request.POST, base_version=base_version)
    except autosaves.BadSlot as error:
        return _error(str(error), 400)
    return JsonResponse({"saved_at": slot.saved_at.isoformat()})


def discard_view(model_admin, request):
    """POST post=<slug or empty> -> the editor's slot of that post is deleted."""
    post, refused = _post_of(model_admin, request, new_allowed=True)
    if refused:
        return refused
    autosaves.delete_slot(post.slug if post else None, _user(request))
    return JsonResponse({"discarded": True})


def presence_view(model_admin, request):
    """POST post=<slug> -> a heartbeat; answers {"others": [{"user", "name", "since"}], "heartbeat": seconds}."""
    post, refused = _post_of(model_admin, request, new_allowed=False)
    if refused:
        return refused
    user = _user(request)
    presence.heartbeat(post.slug, user, _name(request))
    others = [presence.describe(item) for item in presence.others(post.slug, user)]
    return JsonResponse({"others": others, "heartbeat": presence.HEARTBEAT})


def leave_view(model_admin, request):
    """POST post=<slug> (a beacon, as the page goes) -> the editor's heartbeat is deleted."""
    post, refused = _post_of(model_admin, request, new_allowed=False)
    if refused:
        return refused
    presence.leave(post.slug, _user(request))
    return JsonResponse({"left": True})


# -- the form page ----------------------------------------------------------------------------


def form_context(model_admin, request, obj):
    """What the desk's include needs: its URLs, the editor's zone, and the autosave slot to offer."""
    name = model_admin._url_name
    context = {
        "desk_urls": {
            "autosave": reverse(name("autosave")),
            "discard": reverse(name("autosave_discard")),
            "presence": reverse(name("presence")),
            "leave": reverse(name("presence_leave")),
        },
        "desk_zone": editor_zone.zone_name(),
        "desk_publish_at_utc": obj.publish_at.isoformat() if obj is not None and obj.publish_at else "",
        "desk_publish_at_text": editor_zone.when(obj.publish_at) if obj is not None and obj.publish_at else "",
        "desk_autosave": None,
    }
    if request.method == "GET":
        context["desk_autosave"] = offered_slot(request, obj)
    return context


def offered_slot(request, obj):
    """The editor's slot of the post to offer, as `autosaves.describe` gives it, or None.

    A slot written before the editor's own last save of the post is a late
    autosave that raced that save: what it holds was saved, so it is dropped.
    """
    user = _user(request)
    slug = obj.slug if obj is not None else None
    try:
        slot = autosaves.get_slot(slug, user)
    except Exception:
        # The form still opens; only the offer is missing.
        log.exception("The autosave of %s by %s could not be read", slug or "a new post", user)
        return None
    if slot is None:
        return None
    if obj is not None and obj.updated_by == user and obj.updated_at and slot.saved_at <= obj.updated_at:
        autosaves.delete_slot(slug, user)
        return None
    return autosaves.describe(slot)


def after_save(request, post, adding):
    """A save succeeded: the editor's slot of the post (the add form's, when adding) has served."""
    user = _user(request)
    try:
        autosaves.delete_slot(None if adding else post.slug, user)
    except Exception:
        # The post is saved; the slot expires on its own.
        log.exception("The autosave of %s by %s could not be deleted", post.slug, user)
