"""Only CloudFront reaches the site: requests without its origin secret are refused.

CloudFront adds a custom origin header, `X-Origin-Verify`, to every request
it forwards to the API (`OriginVerifySecret` in infra/myblog.yaml), and a web
ACL on the API stage blocks requests without it. The app checks the same
value itself, so the guarantee holds even where the web ACL is missing,
detached or misconfigured: what CloudFront alone writes, above all the
reader's address in `CloudFront-Viewer-Address` that the rate limits
count, is believed only on a request that carries the secret.

The secret is `MYBLOG_ORIGIN_VERIFY_SECRET` (SSM, like every secret). To
rotate it without refusing a single request, the previous value stays
accepted as `MYBLOG_ORIGIN_VERIFY_SECRET_PREVIOUS` until CloudFront sends
the new one everywhere (see infra/README.md). Values are compared in
constant time. With no secret configured (a developer's machine, the
tests) every request is let through and none counts as verified; deployed
stages must have one (`myblog.E001` in `check --deploy`).
"""

import hmac

from django.conf import settings
from django.http import HttpResponseForbidden

from myblog import jsonapi

HEADER = "X-Origin-Verify"
META_KEY = "HTTP_X_ORIGIN_VERIFY"
MESSAGE = "This site is only served through its public address."


def accepted_secrets():
    """The values CloudFront may send: the current secret, then the previous one (both optional)."""
    values = (settings.MYBLOG_ORIGIN_VERIFY_SECRET, settings.MYBLOG_ORIGIN_VERIFY_SECRET_PREVIOUS)
    return [value.encode() for value in values if value]


def _matches(sent, secrets):
    sent = sent.encode("utf-8", "surrogatepass")
    # Every accepted value is compared, so the time taken says nothing about which one matched.
    results = [hmac.compare_digest(sent, secret) for secret in secrets]
    return any(results)


def is_verified(request):
    """Whether `request` carries the origin secret, i.e. came through CloudFront.

    False whenever no secret is configured: nothing can then be verified.
    """
    secrets = accepted_secrets()
    return bool(secrets) and _matches(request.META.get(META_KEY, ""), secrets)


def forbidden(request):
    if request.path_info.startswith("/api/"):
        return jsonapi.error_response(403, "forbidden", MESSAGE)
    return HttpResponseForbidden(MESSAGE + "\n", content_type="text/plain; charset=utf-8")


class OriginVerifyMiddleware:
    """Refuse (403) every request without the origin secret once one is configured."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if accepted_secrets() and not is_verified(request):
            return forbidden(request)
        return self.get_response(request)
