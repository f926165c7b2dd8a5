"""System checks for deployed stages (`manage.py check --deploy`)."""

from django.conf import settings
from django.core import checks

# Long enough that it cannot be guessed (secrets.token_urlsafe(32) gives 43 characters).
MIN_ORIGIN_SECRET_LENGTH = 32


@checks.register(checks.Tags.security, deploy=True)
def check_origin_secret(app_configs, **kwargs):
    """A deployed stage must refuse requests that did not come through CloudFront."""
    secret = settings.MYBLOG_ORIGIN_VERIFY_SECRET
    if not secret:
        return [
            checks.Error(
                "MYBLOG_ORIGIN_VERIFY_SECRET is not set, so the site can be reached without CloudFront and "
                "the rate limits cannot trust CloudFront-Viewer-Address.",
                hint="Put the stack's OriginVerifySecret in SSM as <MYBLOG_SSM_PARAMETERS_PATH>"
                "MYBLOG_ORIGIN_VERIFY_SECRET (see infra/README.md).",
                id="myblog.E001",
            )
        ]
    errors = []
    for name in ("MYBLOG_ORIGIN_VERIFY_SECRET", "MYBLOG_ORIGIN_VERIFY_SECRET_PREVIOUS"):
        value = getattr(settings, name)
        if value and len(value) < MIN_ORIGIN_SECRET_LENGTH:
            errors.append(
                checks.Error(
                    f"{name} is shorter than {MIN_ORIGIN_SECRET_LENGTH} characters.",
                    hint="Generate one with: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'",
                    id="myblog.E002",
                )
            )
    return errors
