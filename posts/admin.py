"""The CMS for posts: the stock admin over the PynamoDB `Post`.

Every write goes through `posts.services` (optimistic locking, revisions,
tag listings, the `post_changed` signal); this module only turns requests
into those calls and their errors into form errors and messages.
"""

import logging
from functools import partial

from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import slugify

from dynamo_admin import ChoicesFilter, ContainsFilter, DynamoModelAdmin, SaveRejected, local_datetime
from dynamo_admin.pagination import decode_cursor, query_page
from myblog.numbers import InvalidNumber, parse_whole_number
from photos import uploads as photo_uploads
from photos import views as photo_views
from photos.admin import panel_photos
from photos.keys import is_original_key
from photos.rendering import keys_in_markdown
from posts import (
    admin_desk,
    admin_history,
    admin_list,
    checks,
    editor_zone,
    emails,
    newsletter,
    preview,
    rules,
    services,
    words,
)
from posts.forms import PostForm
from posts.models import Post, Revision
from posts.placeholders import Post as PostPlaceholder
from posts.rules import DRAFT, KIND_POST, PUBLISHED, SCHEDULED, STATUS_CHOICES
from subscribers import newsletter as sends
from subscribers.models import SEND_STATES

log = logging.getLogger(__name__)

SEND_STATE_LABELS = dict(SEND_STATES)

# What each submit button of the post form does.
SAVE, PUBLISH, SCHEDULE, UNPUBLISH = "_save", "_publish", "_schedule", "_unpublish"
STATUS_CHANGES = {PUBLISH, SCHEDULE, UNPUBLISH}
MAX_PREVIEW_CHARS = 500_000
# The form field listing the photos uploaded from the form (see `photos.uploads.attach_to_owner`).
UPLOADED_PHOTOS = "uploaded_photos"


@admin.register(PostPlaceholder)
class PostAdmin(DynamoModelAdmin):
    dynamo_model = Post
    form = PostForm
    list_index = Post.all_index
    list_hash_key = KIND_POST
    list_display = ("cover_column", "title", "status_column", "tags_column", "updated_column")
    list_display_links = ("title",)
    sortable_by = ("updated_column",)
    list_filter = (
        partial(ChoicesFilter, attribute="status", choices=STATUS_CHOICES, index=Post.status_index),
        partial(ContainsFilter, attribute="tags", title="tag", parameter_name="tag", normalise=slugify),
    )
    search_fields = (("slug", slugify), ("title", str.strip))
    search_help_text = (
        "Finds posts having every word you type in their title, tags or slug (a word also "
        "matches the start of a longer one: “scal” finds “Scale”; capitals and accents do not "
        "matter), most recently updated first; a full slug comes first. It does not search "
        "inside the text."
    )
    actions = ("publish_selected", "unpublish_selected", "delete_selected")
    fieldsets = [
        (None, {"fields": ["title", "slug", "body", "excerpt", "tags"]}),
        (
            "Cover photo",
            {"fields": ["cover_image", "cover_alt", "cover_decorative", "cover_focus"], "classes": ["post-cover"]},
        ),
        ("Publishing", {"fields": ["author", "publish_at", "email_subscribers"]}),
    ]
    change_form_template = "admin/posts/post/change_form.html"
    delete_confirmation_template = "admin/posts/post/delete_confirmation.html"
    object_history_template = "admin/posts/post/revisions.html"
    revision_template = "admin/posts/post/revision.html"

    # -- permissions ------------------------------------------------------------------

    def has_publish_permission(self, request, obj=None):
        return request.user.has_perm(f"{self.opts.app_label}.publish_post")

    # -- change list --------------------------------------------------------------------

    @admin.display(description="title")
    def title(self, post):
        return post.title

    # -- change list: count, covers, word search (posts.admin_list, posts.words) ------------

    def get_total_count(self, request):
        count = admin_list.approximate_post_count()
        return None if count is None else (count, True)

    def get_search_matches(self, request, term):
        return words.search(term)

    def prepare_page(self, request, items):
        thumbnails = admin_list.cover_thumbnails(items)
        for post in items:
            post.admin_thumbnail = thumbnails.get(post.cover_image)

    @admin.display(description="cover")
    def cover_column(self, post):
        url = getattr(post, "admin_thumbnail", None)
        if not url:
            return ""
        return format_html(
            '<img src="{}" alt="{}" width="{}" class="post-list-cover" loading="lazy">',
            url,
            post.cover_alt,
            admin_list.THUMBNAIL_WIDTH,
        )

    @admin.display(description="status")
    def status_column(self, post):
        # In the editor's zone (posts.editor_zone), named.
        if post.status == PUBLISHED:
            return format_html("Published {}", editor_zone.when(post.publish_at))
        if post.status == SCHEDULED:
            return format_html("Scheduled for {}", editor_zone.when(post.publish_at))
        return "Draft"

    @admin.display(description="tags")
    def tags_column(self, post):
        changelist = self.changelist_url()
        return format_html_join(", ", '<a href="{}?tag={}">{}</a>', ((changelist, t, t) for t in post.tags)) or "—"

    @admin.display(description="updated")
    def updated_column(self, post):
        return format_html("{} by {}", local_datetime(post.updated_at), post.updated_by or "—")

    # -- actions --------------------------------------------------------------------------

    def _bulk(self, request, keys, change, done_message):
        done, failed = [], []
        user = request.user.get_username()
        for slug in keys:
            try:
                post = change(slug, user=user)
            except (services.PostError, Post.DoesNotExist) as error:
                failed.append(f"{slug}: {error}")
                continue
            done.append(post)
            self.log_dynamo_action(request, slug, post, CHANGE, done_message)
        if done:
            self.message_user(request, f"{done_message} {len(done)} {self._plural(len(done))}.", messages.SUCCESS)
        for failure in failed:
            self.message_user(request, f"Not changed: {failure}", messages.ERROR)

    @admin.action(permissions=["publish"], description="Publish selected posts now")
    def publish_selected(self, request, keys):
        now = timezone.now()

        def publish(slug, user):
            post = Post.get(slug)
            return services.publish_post(
                slug, expected_version=post.version, user=user, publish_at=rules.publish_date(post, now), now=now
            )

        self._bulk(request, keys, publish, "Published")

    @admin.action(permissions=["publish"], description="Unpublish selected posts (back to draft)")
    def unpublish_selected(self, request, keys):
        self._bulk(request, keys, lambda slug, user: services.unpublish_post(slug, user=user), "Unpublished")

    def delete_object(self, request, obj):
        try:
            services.delete_post(obj.slug, expected_version=obj.version, user=request.user.get_username())
        except services.StaleVersion as error:
            raise SaveRejected(f"“{obj}” was changed by someone else; reload and try again.") from error
        except services.SaveFailed as error:
            raise SaveRejected(str(error)) from error

    # -- the form ---------------------------------------------------------------------------

    def view_on_site_url(self, obj):
        """Readers find only live posts: no “View on site” link to a draft's or a scheduled post's 404."""
        return super().view_on_site_url(obj) if rules.is_live(obj) else None

    def get_initial(self, request, obj):
        return {"author": request.user.get_username()} if obj is None else {}

    def get_submit_buttons(self, request, obj):
        status = obj.status if obj is not None else None
        labels = {
            None: "Save draft",
            DRAFT: "Save draft",
            SCHEDULED: "Save",
            PUBLISHED: "Save and update the live post",
        }
        buttons = [(SAVE, labels[status], True)]
        if self.has_publish_permission(request):
            # One button for each status change the post may make (see `rules.TRANSITIONS`).
            allowed = rules.TRANSITIONS[status]
            if PUBLISHED in allowed:
                buttons.append((PUBLISH, "Publish now", False))
            if SCHEDULED in allowed:
                buttons.append((SCHEDULE, "Schedule" if status in (None, DRAFT) else "Reschedule", False))
            if DRAFT in allowed and status is not None:
                buttons.append((UNPUBLISH, "Unpublish", False))
        return buttons

    def _intent(self, request):
        for name in (PUBLISH, SCHEDULE, UNPUBLISH):
            if name in request.POST:
                return name
        return SAVE

    def _status_change(self, intent, obj, publish_at, now):
        """(status, publish_at) to pass to the services, or SaveRejected."""
        if intent == PUBLISH:
            return PUBLISHED, rules.publish_date(obj, now)
        if intent == UNPUBLISH:
            return DRAFT, None
        if intent == SCHEDULE or (intent == SAVE and obj is not None and obj.status == SCHEDULED):
            if publish_at is None:
                raise SaveRejected("Choose when the post should go live.", field="publish_at")
            if publish_at <= now:
                raise SaveRejected("Choose a time in the future, or use “Publish now”.", field="publish_at")
            return SCHEDULED, publish_at
        return None, None  # a plain save keeps the status

    def save_item(self, request, form, obj):
        intent = self._intent(request)
        if intent in STATUS_CHANGES and not self.has_publish_permission(request):
            raise PermissionDenied
        if obj is not None and form.expected_version is None:
            # No version, no blind overwrite.
            raise SaveRejected(admin_history.note_stale(request, form, obj.slug))
        now = timezone.now()
        user = request.user.get_username()
        values = form.attribute_values()
        slug = values.pop("slug")
        status, publish_at = self._status_change(intent, obj, values.pop("publish_at", None), now)
        values["author"] = values.get("author") or (obj.author if obj is not None else "") or user
        try:
            if obj is None:
                saved = services.create_post(
                    slug=slug, user=user, status=status or DRAFT, publish_at=publish_at, now=now, **values
                )
            else:
                saved = services.update_post(
                    obj.slug,
                    expected_version=form.expected_version,
                    user=user,
                    status=status,
                    publish_at=publish_at,
                    now=now,
                    note={PUBLISH: "Published", SCHEDULE: "Scheduled", UNPUBLISH: "Unpublished"}.get(intent, ""),
                    **values,
                )
        except services.SlugTaken as error:
            raise SaveRejected(
                f"A post with the slug “{error.slug}” already exists. Choose another slug, "
                f"for example “{error.slug}-2”.",
                field="slug",
            ) from error
        except services.StaleVersion as error:
            # The form shows what differs from the saved version, and takes its version (posts.admin_history).
            raise SaveRejected(admin_history.note_stale(request, form, obj.slug)) from error
        except services.PostError as error:  # InvalidPost, SaveFailed
            raise SaveRejected(str(error)) from error
        # Photos uploaded before the post existed (from the add form) now belong to it.
        photo_uploads.attach_to_owner(request.POST.getlist(UPLOADED_PHOTOS), saved.slug)
        return saved

    def response_after_save(self, request, post, adding):
        what = {
            DRAFT: "saved as a draft",
            # The editor's zone named, and no second full stop after the time.
            SCHEDULED: f"scheduled to go live on {editor_zone.when(post.publish_at)}",
            PUBLISHED: "published",
        }[post.status]
        if post.status == PUBLISHED:
            message = format_html(
                'The post “{}” was {}. <a href="{}" target="_blank" rel="noopener">View on site</a>',
                post.title,
                what,
                post.get_absolute_url(),
            )
        else:
            message = f"The post “{post.title}” was {what}."
        self.message_user(request, message, messages.SUCCESS)
        admin_desk.after_save(request, post, adding)
        if "_addanother" in request.POST:
            return HttpResponseRedirect(reverse(self._url_name("add")))
        return HttpResponseRedirect(self.change_url(post.slug))

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra = dict(extra_context or {})
        obj = self.get_object(request, object_id) if object_id else None
        body = request.POST.get("body", "") if request.method == "POST" else (obj.body if obj else "")
        cover = request.POST.get("cover_image") if request.method == "POST" else (obj.cover_image if obj else None)
        # Uploads of this form not yet attached to the post: kept when the form is shown again.
        uploaded = [key for key in request.POST.getlist(UPLOADED_PHOTOS) if is_original_key(key)]
        user = request.user.get_username()
        if request.method == "POST":
            shown = preview.post_from_form_data(request.POST, original=obj, author=user)
        elif obj is not None:
            shown = preview.post_from_item(obj)
        else:
            shown = preview.post_for_preview(None, author=user)
        extra.update(
            photo_list=panel_photos(
                obj.slug if obj else None, shown_keys=[cover, *keys_in_markdown(body)], other_keys=uploaded
            ),
            uploaded_photos=uploaded[: photo_uploads.MAX_ATTACHED],
            upload_max_bytes=photo_uploads.max_upload_bytes(),
            upload_content_types=sorted(photo_uploads.CONTENT_TYPES),
            preview_url=reverse(self._url_name("preview")),
            upload_url=reverse(self._url_name("photo_upload")),
            photo_status_url=reverse(self._url_name("photo_status")),
            preview_document=preview.render_document(request, preview.preview_page(shown)),
            post_status=obj.status if obj else None,
            can_publish=self.has_publish_permission(request),
        )
        extra.update(admin_desk.form_context(self, request, obj))
        # The content checks of what the form shows (posts.checks); checks.js keeps them current.
        if request.method == "POST":
            cover_alt, decorative = request.POST.get("cover_alt", ""), bool(request.POST.get("cover_decorative"))
        else:
            cover_alt, decorative = (obj.cover_alt, bool(obj.cover_decorative)) if obj else ("", False)
        extra.update(
            content_checks=checks.check_post(body, cover, cover_alt, decorative),
            checks_url=reverse(self._url_name("checks")),
        )
        extra.update(
            email_preview_url=reverse(self._url_name("email_preview")),
            email_test_url=reverse(self._url_name("email_test")),
            editor_email=request.user.email,
        )
        if obj is not None:
            extra["current_url"] = self.change_url(obj.slug)
            extra["send_panel"] = self.send_panel(request, obj)
            if self.has_change_permission(request, obj):
                extra["rename_url"] = reverse(self._url_name("rename"), args=(quote(obj.slug),))
        response = super().changeform_view(request, object_id, form_url, extra)
        return admin_history.add_stale_context(request, response)

    # -- the newsletter: the post's send, its controls, test and preview --------------------

    def has_send_control_permission(self, request):
        """Starting, pausing, resuming and cancelling sends: the sends' own change permission."""
        return request.user.has_perm("subscribers.change_send")

    def send_panel(self, request, post):
        """What the change page shows of the post's send (one GetItem), or None when there is nothing to say."""
        panel = {
            "status_url": reverse(self._url_name("send_status"), args=(quote(post.slug),)),
            "control_url": reverse(self._url_name("send_control"), args=(quote(post.slug),)),
            "can_control": self.has_send_control_permission(request),
        }
        try:
            send = panel["send"] = sends.get_send(post.slug)
        except Exception:
            # The post's page still opens; the panel says what it could not read.
            log.exception("The newsletter send of %s could not be read", post.slug)
            return {**panel, "unreadable": True, "can_control": False}
        if send is not None:
            panel["progress"] = sends.progress(send)
            panel["state_label"] = SEND_STATE_LABELS.get(send.state, send.state)
            return panel
        if not post.email_subscribers:
            return None
        if not newsletter.was_published(post):
            return {**panel, "pending": True}
        if rules.is_live(post):
            # Live with the box ticked, yet no send: starting it failed (logged), and can be retried.
            return {**panel, "not_started": True}
        return None

    def send_status_view(self, request, object_id):
        """GET -> the send's progress as JSON (`subscribers.newsletter.progress`); the change page polls it."""
        if not self.has_view_or_change_permission(request):
            return JsonResponse({"error": "You may not see posts."}, status=403)
        try:
            send = sends.get_send(unquote(object_id))
        except Exception:
            log.exception("The newsletter send of %s could not be read", unquote(object_id))
            return JsonResponse({"error": "The send could not be read right now."}, status=503)
        if send is None:
            return JsonResponse({"error": "This post has no newsletter send."}, status=404)
        return JsonResponse({**sends.progress(send), "state_label": SEND_STATE_LABELS.get(send.state, send.state)})

    def send_control_view(self, request, object_id):
        """POST action=start|pause|resume|cancel: control the post's send, then back to the change page."""
        if request.method != "POST":
            return JsonResponse({"error": "Use POST."}, status=405)
        if not self.has_send_control_permission(request):
            raise PermissionDenied
        post = self.get_object(request, object_id)
        if post is None:
            raise Http404("No such post.")
        action = request.POST.get("action", "")
        user = request.user.get_username()
        done = {
            "pause": "The email to subscribers is paused; resume it to send the rest.",
            "resume": "The email to subscribers is sending again.",
            "cancel": "The email to subscribers is cancelled; what was sent stays sent.",
            "start": "The email to subscribers is started.",
        }
        try:
            if action == "pause":
                sends.pause_send(post.slug, f"Paused by {user}.")
            elif action == "resume":
                sends.resume_send(post.slug)
            elif action == "cancel":
                sends.cancel_send(post.slug)
            elif action == "start":
                newsletter.start_again(post, user=user)
            else:
                self.message_user(request, "Choose what to do with the send.", messages.WARNING)
                return HttpResponseRedirect(self.change_url(post.slug))
        except (sends.SendError, newsletter.StartRefused) as error:
            self.message_user(request, str(error), messages.ERROR)
        except Exception:
            log.exception("The send of %s could not be changed (%s)", post.slug, action)
            self.message_user(
                request, "The send could not be changed right now; nothing was changed. Try again.", messages.ERROR
            )
        else:
            self.log_dynamo_action(request, post.slug, post, CHANGE, f"Newsletter send: {action}.")
            self.message_user(request, done[action], messages.SUCCESS)
        return HttpResponseRedirect(self.change_url(post.slug))

    def _form_post(self, request):
        """The post the form's current (unsaved) values make, or a JSON error response."""
        if request.method != "POST":
            return None, JsonResponse({"error": "Use POST."}, status=405)
        if not self._can_edit(request):
            return None, JsonResponse({"error": "You may not edit posts."}, status=403)
        if len(request.POST.get("body", "")) > MAX_PREVIEW_CHARS:
            return None, JsonResponse({"error": "The text is too long to email."}, status=400)
        slug = request.POST.get("post", "")
        original = self.get_object(request, quote(slug)) if slug else None
        post = preview.post_from_form_data(request.POST, original=original, author=request.user.get_username())
        if not post.title.strip():
            return None, JsonResponse({"error": "Give the post a title first: it is the email's subject."}, status=400)
        return post, None

    def email_preview_view(self, request):
        """POST the post form's fields -> the email subscribers would get: {"subject", "html", "text"}."""
        post, refused = self._form_post(request)
        if refused:
            return refused
        content = emails.render(post)
        # The preview's unsubscribe link goes nowhere: the editor is no subscriber.
        return JsonResponse(
            {
                "subject": content.subject,
                "html": content.html.replace(sends.UNSUBSCRIBE_PLACEHOLDER, "#unsubscribe"),
                "text": content.text.replace(sends.UNSUBSCRIBE_PLACEHOLDER, "(your unsubscribe link)"),
            }
        )

    def email_test_view(self, request):
        """POST the post form's fields -> that email, marked [Test], sent to the editor's own address."""
        post, refused = self._form_post(request)
        if refused:
            return refused
        to = (request.user.email or "").strip()
        if not to:
            return JsonResponse(
                {
                    "error": "Your account has no email address, so there is nowhere to send the test. "
                    "Ask an administrator to add one to your user."
                },
                status=400,
            )
        try:
            newsletter.send_test(post, to)
        except Exception:
            log.exception("The test email of %s to %s could not be sent", post.slug, to)
            return JsonResponse({"error": "The test email could not be sent right now. Try again."}, status=502)
        return JsonResponse({"message": f"A test email was sent to {to}."})

    # -- extra views: preview, photos, revisions -------------------------------------------

    def get_extra_urls(self):
        prefix = self.url_name_prefix
        wrap = self.wrap_view
        return [
            *admin_desk.urls(self),
            *admin_history.urls(self),
            path("preview/", wrap(self.preview_view), name=f"{prefix}_preview"),
            path("checks/", wrap(self.checks_view), name=f"{prefix}_checks"),
            path("email/preview/", wrap(self.email_preview_view), name=f"{prefix}_email_preview"),
            path("email/test/", wrap(self.email_test_view), name=f"{prefix}_email_test"),
            path("<path:object_id>/send/status/", wrap(self.send_status_view), name=f"{prefix}_send_status"),
            path("<path:object_id>/send/", wrap(self.send_control_view), name=f"{prefix}_send_control"),
            path("photos/upload/", wrap(self.photo_upload_view), name=f"{prefix}_photo_upload"),
            path("photos/status/", wrap(self.photo_status_view), name=f"{prefix}_photo_status"),
            path(
                "<path:object_id>/revisions/<int:version>/",
                wrap(self.revision_view),
                name=f"{prefix}_revision",
            ),
        ]

    def _can_edit(self, request):
        return self.has_add_permission(request) or self.has_change_permission(request)

    def preview_view(self, request):
        """POST the post form's fields -> the post page exactly as readers will see it.

        `post` names the post being changed (absent when adding): its saved
        date and author stand in where the form leaves them to the save.
        Answers {"html": the rendered body, "document": the whole post page};
        the form shows the document in its preview frame.
        """
        if request.method != "POST":
            return JsonResponse({"error": "Use POST."}, status=405)
        if not self._can_edit(request):
            return JsonResponse({"error": "You may not edit posts."}, status=403)
        if len(request.POST.get("body", "")) > MAX_PREVIEW_CHARS:
            return JsonResponse({"error": "The text is too long to preview."}, status=400)
        slug = request.POST.get("post", "")
        original = self.get_object(request, quote(slug)) if slug else None
        post = preview.post_from_form_data(request.POST, original=original, author=request.user.get_username())
        page = preview.preview_page(post)
        return JsonResponse({"html": page.body_html, "document": preview.render_document(request, page)})

    def checks_view(self, request):
        """POST the form's body, cover_image, cover_alt, cover_decorative -> {"findings": [...]} (`posts.checks`)."""
        if request.method != "POST":
            return JsonResponse({"error": "Use POST."}, status=405)
        if not self._can_edit(request):
            return JsonResponse({"error": "You may not edit posts."}, status=403)
        if len(request.POST.get("body", "")) > MAX_PREVIEW_CHARS:
            return JsonResponse({"error": "The text is too long to check."}, status=400)
        findings = checks.check_post(
            request.POST.get("body", ""),
            request.POST.get("cover_image") or None,
            request.POST.get("cover_alt", ""),
            bool(request.POST.get("cover_decorative")),
        )
        return JsonResponse({"findings": [finding.as_json() for finding in findings]})

    def photo_upload_view(self, request):
        """POST JSON {content_type, size, post} -> a presigned POST for S3 (see `photos.views.upload`)."""
        return photo_views.upload(
            request,
            permitted=self._can_edit(request),
            owner_field="post",
            resolve_owner=self._photo_owner,
            user=request.user.get_username(),
        )

    @staticmethod
    def _photo_owner(slug):
        """The owner key of a photo uploaded for the post `slug` (None: uploaded from the add form)."""
        if not slug:
            return None
        if not rules.is_valid_slug(slug):
            raise photo_uploads.UploadRejected("There is no post with this address to upload the photo for.")
        return slug

    def photo_status_view(self, request):
        """GET ?key=<original key> -> the photo's status, thumbnail and Markdown (see `photos.views.status`)."""
        return photo_views.status(request, permitted=self.has_view_or_change_permission(request))

    def history_view(self, request, object_id, extra_context=None):
        """The post's revisions, newest first (one Query per page)."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        slug = unquote(object_id)
        post = self.get_object(request, object_id)
        key = admin_history.history_key(post, slug)
        page = query_page(
            Revision,
            partial(Revision.query, key, scan_index_forward=False),
            page_size=self.list_per_page,
            start_key=decode_cursor(request.GET.get("cursor")),
        )
        context = self.base_context(
            request,
            title=f"History: {post.title if post else slug}",
            subtitle=None,
            original=post,
            object_key=slug,
            revisions=page.items,
            page=page,
            next_url=f"?cursor={page.next_cursor}" if page.has_next else "",
            **admin_history.comparison(request, key),
            **(extra_context or {}),
        )
        for revision in page.items:
            revision.admin_url = reverse(self._url_name("revision"), args=(quote(slug), int(revision.version)))
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.object_history_template, context)

    def revision_view(self, request, object_id, version):
        """Show one revision; POST restores its content (a new revision)."""
        slug = unquote(object_id)
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        post = self.get_object(request, object_id)
        try:
            revision = services.get_revision(admin_history.history_key(post, slug), version)
        except Revision.DoesNotExist:
            self.message_user(request, f"This post has no revision {version}.", messages.WARNING)
            return HttpResponseRedirect(reverse(self._url_name("history"), args=(quote(slug),)))
        if request.method == "POST":
            if post is None:
                return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
            if not self.has_change_permission(request, post):
                raise PermissionDenied
            if admin_history.needs_confirmation(request, post):
                return admin_history.restore_confirmation(self, request, post, revision, slug)
            try:
                expected = parse_whole_number(request.POST.get("expected_version", ""))
                restored = services.restore_revision(
                    slug, version, expected_version=expected, user=request.user.get_username()
                )
            except InvalidNumber:
                self.message_user(request, "Reload the page and try again.", messages.ERROR)
            except services.PostError as error:
                self.message_user(request, str(error), messages.ERROR)
            else:
                self.log_dynamo_action(request, slug, restored, CHANGE, f"Restored revision {version}.")
                self.message_user(request, f"Revision {version} of “{restored.title}” was restored.", messages.SUCCESS)
                return HttpResponseRedirect(self.change_url(slug))
        context = self.base_context(
            request,
            title=f"Revision {version}: {revision.title}",
            subtitle=None,
            original=post,
            object_key=slug,
            revision=revision,
            preview_document=preview.render_document(
                request, preview.preview_page(preview.post_from_item(revision, author=post.author if post else ""))
            ),
            # Restoring the current revision would change nothing.
            can_restore=post is not None
            and post.version != revision.version
            and self.has_change_permission(request, post),
            history_url=reverse(self._url_name("history"), args=(quote(slug),)),
        )
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.revision_template, context)
