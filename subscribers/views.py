"""Subscriber pages: the sign-up form, and the pages behind the links in emails.

None of these is ever cached (`never_cache`): the form carries the reader's
CSRF token (a cookie, never a session: no SQL), and the email links carry a
token that names one address.

- Sign-up answers the same whether or not the address was known, and is
  rate-limited per client (`subscribers.ratelimit`; only valid addresses
  count). A hidden field that
  people never see catches form-filling bots, which get the same answer.
- Confirm links open a page with a button rather than confirming on GET:
  mail scanners that fetch every link must not confirm on a reader's behalf.
- Unsubscribe links take RFC 8058 one-click POSTs from mail clients (no
  CSRF token: the signed token in the URL is the proof), and show a button
  to people who open them in a browser.
"""

from django import forms
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from myblog import public
from subscribers import ratelimit, services, tokens

# A field people never see or fill; bots that fill every field do.
HONEYPOT_FIELD = "website"

SUBSCRIBED_MESSAGE = (
    "Thanks! If this address is not subscribed yet, a confirmation link is on its way to it. "
    "Open it to start receiving new posts; it is valid for seven days."
)


class SubscribeForm(forms.Form):
    # One message for every invalid address, whichever check finds it.
    email = forms.CharField(
        max_length=services.MAX_EMAIL_LENGTH,
        strip=True,
        error_messages={
            "max_length": services.INVALID_EMAIL_MESSAGE,
            "null_characters_not_allowed": services.INVALID_EMAIL_MESSAGE,
        },
    )

    def clean_email(self):
        try:
            return services.normalise_email(self.cleaned_data["email"])
        except services.InvalidEmail as error:
            raise forms.ValidationError(str(error), code="invalid") from error


def _message(request, title, message, status=200, form_action=None, button=None):
    context = {
        "title": title,
        "message": message,
        "form_action": form_action,
        "button": button,
        "problem": status >= 400,
    }
    return render(request, "subscribers/message.html", context, status=status, using=public.ENGINE)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def subscribe(request):
    if request.method != "POST":
        return render(request, "subscribers/subscribe.html", {"form": SubscribeForm()}, using=public.ENGINE)
    if request.POST.get(HONEYPOT_FIELD):
        return _message(request, "Check your inbox", SUBSCRIBED_MESSAGE)
    form = SubscribeForm(request.POST)
    if not form.is_valid():
        return render(request, "subscribers/subscribe.html", {"form": form}, status=400, using=public.ENGINE)
    # Counted once the address is valid: a typo does not use up a reader's attempts.
    try:
        ratelimit.check_subscribe(request)
    except ratelimit.RateLimited as limited:
        minutes = max(1, round(limited.retry_after / 60))
        response = _message(
            request,
            "Too many attempts",
            f"Too many sign-up attempts from your network. Please try again in about {minutes} minutes.",
            status=429,
        )
        response.headers["Retry-After"] = str(limited.retry_after)
        return response
    services.subscribe(form.cleaned_data["email"])
    return _message(request, "Check your inbox", SUBSCRIBED_MESSAGE)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request, token):
    try:
        email = tokens.email_from_confirm_token(token)
    except tokens.InvalidToken:
        return _message(
            request,
            "Link expired or invalid",
            "This confirmation link is invalid or has expired. Subscribe again to get a new one.",
            status=400,
        )
    if request.method != "POST":
        return _message(
            request,
            "Confirm your subscription",
            "Press the button to start receiving new posts by email.",
            form_action=request.path,
            button="Confirm subscription",
        )
    if services.confirm(email):
        return _message(
            request,
            "Subscription confirmed",
            "Thanks: you will get one email for each new post, from the next one on. "
            "Every email has a link to unsubscribe at any time.",
        )
    return _message(
        request,
        "Nothing to confirm",
        "This subscription was cancelled, so it cannot be confirmed. Contact us if this is a mistake.",
        status=409,
    )


@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request, token):
    try:
        email = tokens.email_from_unsubscribe_token(token)
    except tokens.InvalidToken:
        return _message(request, "Invalid link", "This unsubscribe link is invalid.", status=400)
    if request.method != "POST":
        return _message(
            request,
            "Unsubscribe",
            "Press the button to stop all emails from us to this address.",
            form_action=request.path,
            button="Unsubscribe",
        )
    services.unsubscribe(email)
    return _message(request, "You are unsubscribed", "You will not get any more emails from us.")
