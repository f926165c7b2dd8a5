"""Pages behind the links in subscriber emails."""

from django.http import HttpResponse, HttpResponseBadRequest
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from subscribers import services, tokens


@require_http_methods(["GET"])
def confirm(request, token):
    try:
        email = tokens.email_from_confirm_token(token)
    except tokens.InvalidToken:
        return HttpResponseBadRequest("This confirmation link is invalid or has expired.")
    services.confirm(email)
    return HttpResponse("Thanks: your subscription is confirmed.")


# RFC 8058: mail clients POST "List-Unsubscribe=One-Click" without a CSRF
# token; the signed token in the URL is the proof of intent.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    try:
        email = tokens.email_from_unsubscribe_token(token)
    except tokens.InvalidToken:
        return HttpResponseBadRequest("This unsubscribe link is invalid.")
    if request.method == "POST":
        services.unsubscribe(email)
        return HttpResponse("You are unsubscribed.")
    return HttpResponse("Unsubscribe: confirm with the button in the email or POST this link.")
