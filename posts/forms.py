"""The post form editors use in the admin.

Generated from the `Post` attributes (`DynamoModelForm`); this module only
adds what the attributes cannot say: which widget (the cover's is the
photos app's), the slug rules, and that the slug is filled from the title
when left empty.
"""

import logging

from django import forms
from django.core.validators import MaxLengthValidator
from django.utils.text import slugify

from dynamo_admin import DynamoModelForm
from photos.admin import CoverPhotoInput
from photos.keys import is_original_key
from posts import editor_zone, focus, newsletter, rules, services
from posts.models import Post
from subscribers import newsletter as sends

log = logging.getLogger(__name__)


class PostForm(DynamoModelForm):
    class Meta:
        model = Post
        fields = [
            "title",
            "slug",
            "excerpt",
            "body",
            "tags",
            "cover_image",
            "cover_alt",
            "cover_focus",
            "cover_decorative",
            "author",
            "publish_at",
            "email_subscribers",
        ]
        widgets = {
            "title": forms.TextInput(attrs={"class": "vTextField", "autocomplete": "off"}),
            "slug": forms.TextInput(attrs={"class": "vTextField", "autocomplete": "off"}),
            "excerpt": forms.Textarea(attrs={"rows": 2, "class": "vLargeTextField"}),
            "body": forms.Textarea(attrs={"rows": 24, "class": "vLargeTextField markdown-body-input"}),
            "tags": forms.TextInput(attrs={"class": "vTextField"}),
            "cover_image": CoverPhotoInput,
            "cover_alt": forms.TextInput(attrs={"class": "vTextField"}),
            "cover_focus": forms.TextInput(attrs={"class": "vTextField cover-focus-input", "autocomplete": "off"}),
            "author": forms.TextInput(attrs={"class": "vTextField"}),
        }
        labels = {
            "cover_alt": "Cover image description",
            "cover_focus": "Cover focal point",
            "cover_decorative": "The cover is decorative",
            "publish_at": "Go live at",
            "email_subscribers": "Email to subscribers",
        }
        help_texts = {
            "slug": "The post's address: /posts/your-slug/. Lowercase letters, numbers and hyphens; "
            "filled from the title if left empty. Once the post exists, change it with “Rename”: "
            "the old address then redirects.",
            "excerpt": "One or two sentences for listings, feeds and link previews.",
            "body": "Markdown. The preview shows exactly what readers will see.",
            "tags": "Comma-separated, e.g. “python, aws”. Each is saved as it appears in its address: "
            "lower-case, accents dropped, spaces and symbols as hyphens (“AWS Lambda” is aws-lambda).",
            "cover_alt": "Describes the cover photo for readers who cannot see it.",
            "cover_focus": "Click the cover where its subject is: listings crop the cover around that point. "
            "Stored as “x,y” fractions of its width and height, e.g. “0.30,0.60”; empty for the centre.",
            "cover_decorative": "It adds nothing to the text, so it needs no description "
            "(the checks do not ask for one).",
            "author": "Defaults to your user name.",
            "publish_at": "Only for “Schedule”: when the post goes live, in your time zone "
            "(the UTC time is shown beside it).",
            "email_subscribers": "Sends the post to every confirmed subscriber when it goes live "
            "(for a scheduled post, at its time). Only a post's first publication is emailed.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Never chosen (None, posts saved before the choice existed) shows as not decorative.
        self.initial["cover_decorative"] = bool(self.initial.get("cover_decorative"))
        self.fields["slug"].required = False
        self.fields["slug"].max_length = rules.MAX_SLUG_LENGTH
        for name, limit in rules.MAX_LENGTHS.items():
            # The same limits as the services', shown as field errors (and kept by the browser).
            self.fields[name].validators.append(MaxLengthValidator(limit))
            self.fields[name].widget.attrs["maxlength"] = str(limit)
        if not self.adding:
            self.fields["slug"].help_text = (
                f"The post's address: /posts/{self.instance.slug}/. "
                "To change it, use “Rename” above the form; the old address then redirects."
            )
        if rules.keeps_date(self.instance):
            # A live post keeps its date when saved: an editable date would be ignored.
            self.fields["publish_at"].disabled = True
            self.fields["publish_at"].help_text = (
                "The post is live and keeps this date when you save it. "
                "To give it another, unpublish it, then schedule it."
            )

        # A post without a focal point shows an empty field (never "None").
        self.initial["cover_focus"] = self.initial.get("cover_focus") or ""
        # Shown and read in the editor's zone (posts.editor_zone), which the field names.
        self.fields["publish_at"].help_text += f" Time zone: {editor_zone.zone_name()}."
        self._offer_email()

    def _offer_email(self):
        """The newsletter box: ticked for a post never published, refused (disabled, saying why) after that.

        A disabled field keeps its initial value whatever is posted, so a
        tampered form cannot tick it either.
        """
        field = self.fields["email_subscribers"]
        post = self.instance
        send = None
        if post is not None and not newsletter.was_published(post):
            try:
                send = sends.get_send(post.slug)
            except Exception:
                # Offered all the same: the send's conditional put still lets a post go out once.
                log.exception("The newsletter send of %s could not be read", post.slug)
        refusal = newsletter.email_refusal(post, send)
        if refusal:
            field.disabled = True
            field.help_text = refusal
            self.initial["email_subscribers"] = False
        elif post is None or post.email_subscribers is None:
            self.initial["email_subscribers"] = True

    def attribute_values(self):
        values = super().attribute_values()
        if self.fields["email_subscribers"].disabled:
            # Shown off because it is not offered; what the post stored stays as it was.
            values.pop("email_subscribers", None)
        return values

    def clean_slug(self):
        if not self.adding:
            return self.instance.slug
        slug = self.cleaned_data.get("slug")
        if not slug:
            slug = slugify(self.cleaned_data.get("title", ""))[: rules.MAX_SLUG_LENGTH].strip("-")
        try:
            return services.validate_slug(slug)
        except services.InvalidPost as error:
            raise forms.ValidationError(str(error), code="invalid") from error

    def clean(self):
        cleaned = super().clean()
        # As the edit path stores them (see `rules.strip_bidi_controls`), so the preview shows the same.
        for name in rules.TEXT_FIELDS:
            if isinstance(cleaned.get(name), str):
                cleaned[name] = rules.strip_bidi_controls(cleaned[name])
        return cleaned

    def clean_cover_image(self):
        key = self.cleaned_data.get("cover_image") or None
        if key and not is_original_key(key):
            raise forms.ValidationError("Choose the cover from the post's uploaded photos.", code="invalid")
        return key

    def clean_cover_focus(self):
        try:
            return focus.normalise_focus(self.cleaned_data.get("cover_focus"))
        except focus.InvalidFocus as error:
            raise forms.ValidationError(str(error), code="invalid") from error

    def clean_tags(self):
        return self._checked(services.normalise_tags, self.cleaned_data.get("tags"))

    def clean_body(self):
        return self._checked(services.validate_body, self.cleaned_data.get("body"))

    def _checked(self, check, value):
        try:
            return check(value)
        except services.InvalidPost as error:
            raise forms.ValidationError(str(error), code="invalid") from error
