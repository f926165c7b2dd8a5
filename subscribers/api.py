"""The subscribers API: subscribe, confirm, unsubscribe.

- `POST /api/subscribers` answers 202 with the same body whether the address
  is new, pending, confirmed or suppressed: the API cannot be used to learn
  who subscribes. Rate-limited per client (429 with Retry-After); only
  valid addresses count.
- `POST /api/subscribers/confirm` takes the token from the confirmation link.
- `POST /api/subscribers/unsubscribe` takes the token as JSON, or RFC 8058's
  one-click form (`?token=...` with the body `List-Unsubscribe=One-Click`),
  so it can be the target of a List-Unsubscribe header. Unsubscribing is not
  rate-limited: mail providers send one-click requests for many readers
  from a few addresses, and a signed token cannot be guessed.
"""

from myblog.jsonapi import ApiError, check_length, endpoint, media_type, read_json
from subscribers import ratelimit, services, tokens

ACCEPTED_MESSAGE = (
    "If this address is not subscribed yet, a confirmation link has been sent to it. "
    "The subscription starts when the link is opened."
)
FORM_MEDIA_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _token(data):
    token = data.get("token")
    if not isinstance(token, str) or not token or len(token) > tokens.MAX_TOKEN_LENGTH:
        raise ApiError(400, "invalid_token", "A token from an email link is required.")
    return token


@endpoint("POST")
def subscribe(request):
    data = read_json(request)
    try:
        email = services.normalise_email(data.get("email"))
    except services.InvalidEmail as error:
        raise ApiError(400, "invalid_email", services.INVALID_EMAIL_MESSAGE) from error
    # Counted once the address is valid: a typo does not use up a reader's attempts.
    try:
        ratelimit.check_subscribe(request)
    except ratelimit.RateLimited as limited:
        raise ApiError(
            429,
            "rate_limited",
            "Too many sign-up attempts from your network; try again later.",
            headers={"Retry-After": str(limited.retry_after)},
        ) from limited
    services.subscribe(email)
    return {"status": "accepted", "message": ACCEPTED_MESSAGE}, 202


@endpoint("POST")
def confirm(request):
    token = _token(read_json(request))
    try:
        email = tokens.email_from_confirm_token(token)
    except tokens.InvalidToken as error:
        raise ApiError(400, "invalid_token", "This confirmation token is invalid or has expired.") from error
    if not services.confirm(email):
        raise ApiError(409, "not_pending", "This subscription was cancelled, so it cannot be confirmed.")
    return {"status": "confirmed"}, 200


@endpoint("POST")
def unsubscribe(request):
    if media_type(request) in FORM_MEDIA_TYPES:
        # RFC 8058: POST <List-Unsubscribe URL> with "List-Unsubscribe=One-Click".
        check_length(request)
        form = request.POST
        if form.get("List-Unsubscribe") != "One-Click":
            raise ApiError(400, "bad_request", "A one-click unsubscribe must send List-Unsubscribe=One-Click.")
        token = _token({"token": request.GET.get("token") or form.get("token")})
    else:
        token = _token(read_json(request))
    try:
        email = tokens.email_from_unsubscribe_token(token)
    except tokens.InvalidToken as error:
        raise ApiError(400, "invalid_token", "This unsubscribe token is invalid.") from error
    services.unsubscribe(email)
    return {"status": "unsubscribed"}, 200
