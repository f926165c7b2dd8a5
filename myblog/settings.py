"""MyBlog settings: one module, every value from the environment.

Defaults are safe for a developer's machine (the local stack and the tests);
deployed stages set their values in `zappa_settings.json` (non-secret) and
AWS SSM Parameter Store (secrets, loaded by `myblog.secrets` at start-up).
"""

from importlib.util import find_spec
from pathlib import Path

import dj_database_url

from myblog.env import env_bool, env_float, env_int, env_list, env_str
from myblog.secrets import load_secrets

BASE_DIR = Path(__file__).resolve().parent.parent

# Secrets (DJANGO_SECRET_KEY, DATABASE_URL, ...) may live in SSM Parameter
# Store; they are copied into the environment before anything reads it.
load_secrets()

DEBUG = env_bool("DJANGO_DEBUG", False)
# The fallback key is only good for a developer's machine; `check --deploy`
# flags it, and deployed stages read DJANGO_SECRET_KEY from SSM.
SECRET_KEY = env_str("DJANGO_SECRET_KEY", "django-insecure-local-development-key-not-for-deployment")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # Without autodiscovery at start-up: readers never load the admin (see myblog.public).
    "myblog.apps.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "dynamo_admin",
    "myblog",
    "photos",
    "posts",
    "subscribers",
]
# The development tools (runlocal, runtests, createtables) are never in the
# Lambda package: the app is installed wherever its code is present.
if find_spec("devstack") is not None:
    INSTALLED_APPS.append("devstack")

MIDDLEWARE = [
    # First, so it sees every response last: private unless a view made it public.
    "myblog.caching.PrivateByDefaultMiddleware",
    # Before anything else reads the request: only CloudFront's requests get in (see myblog.origin).
    "myblog.origin.OriginVerifyMiddleware",
    "myblog.public.PublicSiteMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The admin in the editor's own time zone (the browser's; see posts.editor_zone).
    "posts.editor_zone.EditorZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "myblog.urls"
WSGI_APPLICATION = "myblog.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "myblog.context_processors.site",
            ],
            "builtins": ["myblog.templatetags.public_urls"],
        },
    },
    # The public pages' engine: built-in tags only, no user or messages (see myblog.public).
    {
        "NAME": "public",
        "BACKEND": "myblog.public.PublicTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": False,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "myblog.context_processors.site",
            ],
            "builtins": ["myblog.templatetags.public_urls"],
        },
    },
]

# Django's own tables only (editor accounts, sessions, admin log). Content
# lives in DynamoDB. SQLite locally, PostgreSQL in AWS.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Editors sign in at the admin's login page; with no `next` (or one Django refuses as
# off-site) they land on the admin's index, not on Django's /accounts/profile/.
LOGIN_REDIRECT_URL = "admin:index"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("DJANGO_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- AWS -------------------------------------------------------------------
# Endpoints are never set here: boto3 and PynamoDB read the standard
# AWS_ENDPOINT_URL_<SERVICE> variables, which only the local stack sets.
AWS_REGION = env_str("AWS_REGION", env_str("AWS_DEFAULT_REGION", "us-east-1"))

MYBLOG_TABLE_PREFIX = env_str("MYBLOG_TABLE_PREFIX", "myblog-local-")
MYBLOG_TABLES = {
    name: env_str(f"MYBLOG_{name.upper().replace('-', '_')}_TABLE", MYBLOG_TABLE_PREFIX + name)
    for name in (
        "posts",
        "post-tags",
        "post-revisions",
        "photo-uses",
        "post-words",
        "post-redirects",
        "photos",
        "subscribers",
        "rate-limits",
        "newsletter-sends",
        "newsletter-deliveries",
        "jobs",
        "post-autosaves",
        "post-presence",
    )
}
# Queues of the batch jobs (see myblog.queues): named prefix + job queue.
MYBLOG_QUEUE_PREFIX = env_str("MYBLOG_QUEUE_PREFIX", "myblog-local-")
# Cluster discovery endpoint (daxs://...); empty means talk to DynamoDB directly.
MYBLOG_DAX_ENDPOINT = env_str("MYBLOG_DAX_ENDPOINT", "")

MYBLOG_MEDIA_BUCKET = env_str("MYBLOG_MEDIA_BUCKET", "myblog-local-media")
MYBLOG_ORIGINALS_PREFIX = "media/originals/"
MYBLOG_RENDITIONS_PREFIX = "media/renditions/"
# Largest photo editors may upload (browser to S3 by presigned POST; S3 enforces it).
MYBLOG_MAX_UPLOAD_BYTES = env_int("MYBLOG_MAX_UPLOAD_BYTES", 25 * 1024 * 1024)
# Search (posts.search_index, posts.search): the index object in the media
# bucket, under a prefix CloudFront cannot read; how often a function
# instance rechecks its ETag; whether saving a post rebuilds it.
MYBLOG_SEARCH_INDEX_KEY = env_str("MYBLOG_SEARCH_INDEX_KEY", "search/index.json.gz")
MYBLOG_SEARCH_INDEX_CHECK_SECONDS = env_float("MYBLOG_SEARCH_INDEX_CHECK_SECONDS", 30.0)
MYBLOG_SEARCH_AUTO_UPDATE = env_bool("MYBLOG_SEARCH_AUTO_UPDATE", True)
MYBLOG_CLOUDFRONT_DOMAIN = env_str("MYBLOG_CLOUDFRONT_DOMAIN", "")
MYBLOG_CLOUDFRONT_PROTOCOL = env_str("MYBLOG_CLOUDFRONT_PROTOCOL", "https:")
MYBLOG_CLOUDFRONT_DISTRIBUTION_ID = env_str("MYBLOG_CLOUDFRONT_DISTRIBUTION_ID", "")

MYBLOG_SES_SENDER = env_str("MYBLOG_SES_SENDER", "MyBlog <hello@myblog.example>")
MYBLOG_SES_CONFIGURATION_SET = env_str("MYBLOG_SES_CONFIGURATION_SET", "")
# Newsletter sends (subscribers.newsletter): SES's sending rate in emails
# per second (0: ask SES GetAccount, falling back to 1), shared by at most
# MYBLOG_NEWSLETTER_SENDERS concurrent senders (the send queue mapping's
# maximum concurrency), and the rates at which a send pauses itself.
MYBLOG_SES_MAX_SEND_RATE = env_float("MYBLOG_SES_MAX_SEND_RATE", 0.0)
MYBLOG_NEWSLETTER_SENDERS = env_int("MYBLOG_NEWSLETTER_SENDERS", 2)
MYBLOG_NEWSLETTER_MAX_COMPLAINT_RATE = env_float("MYBLOG_NEWSLETTER_MAX_COMPLAINT_RATE", 0.001)
MYBLOG_NEWSLETTER_MAX_BOUNCE_RATE = env_float("MYBLOG_NEWSLETTER_MAX_BOUNCE_RATE", 0.05)
MYBLOG_BLOG_NAME = env_str("MYBLOG_BLOG_NAME", "MyBlog")
MYBLOG_BLOG_DESCRIPTION = env_str("MYBLOG_BLOG_DESCRIPTION", "Notes on building things, served from the edge.")
# Absolute base URL readers see (used in emails, feeds and canonical links).
MYBLOG_SITE_URL = env_str("MYBLOG_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# Posts per child sitemap (each is one DynamoDB Query; see posts.sitemaps).
# 5,000 entries of typical size fit in the 1 MB one Query reads.
MYBLOG_SITEMAP_PAGE_SIZE = env_int("MYBLOG_SITEMAP_PAGE_SIZE", 5000)

# Sign-up requests allowed per client (IP address; IPv6 per /64) and window.
MYBLOG_SUBSCRIBE_RATE_LIMIT = env_int("MYBLOG_SUBSCRIBE_RATE_LIMIT", 10)
MYBLOG_SUBSCRIBE_RATE_WINDOW = env_int("MYBLOG_SUBSCRIBE_RATE_WINDOW", 3600)
# The header that carries the reader's address, set by CloudFront (its
# origin request policy must include it) and believed only on requests that
# carry the origin secret below; empty to use the connection's address
# (REMOTE_ADDR: API Gateway's sourceIp).
MYBLOG_CLIENT_IP_HEADER = env_str("MYBLOG_CLIENT_IP_HEADER", "CloudFront-Viewer-Address")
# The value CloudFront sends in X-Origin-Verify (the stack's
# OriginVerifySecret), from SSM. When set, requests without it are refused;
# during a rotation the previous value is accepted too. Deployed stages must
# set it (`check --deploy`: myblog.E001).
MYBLOG_ORIGIN_VERIFY_SECRET = env_str("MYBLOG_ORIGIN_VERIFY_SECRET", "")
MYBLOG_ORIGIN_VERIFY_SECRET_PREVIOUS = env_str("MYBLOG_ORIGIN_VERIFY_SECRET_PREVIOUS", "")

# --- Static and media files -------------------------------------------------
# Both live in one private bucket, read only through CloudFront:
# static/ (hashed names, immutable) and media/ (originals and renditions).
_edge = f"{MYBLOG_CLOUDFRONT_PROTOCOL}//{MYBLOG_CLOUDFRONT_DOMAIN}" if MYBLOG_CLOUDFRONT_DOMAIN else ""
MYBLOG_STATIC_ON_S3 = env_bool("MYBLOG_STATIC_ON_S3", False)
STATIC_URL = f"{_edge}/static/" if MYBLOG_STATIC_ON_S3 else "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
# The site's icons, published as myblog/<name>: kept outside any static/ folder because the
# package ships them too (the pages compute their hashed names from them, see myblog.icons).
STATICFILES_DIRS = [("myblog", BASE_DIR / "myblog" / "icons")]
MEDIA_URL = f"{_edge}/media/" if _edge else "/media/"

_s3_options = {
    "bucket_name": MYBLOG_MEDIA_BUCKET,
    "region_name": AWS_REGION,
    "custom_domain": MYBLOG_CLOUDFRONT_DOMAIN or None,
    "url_protocol": MYBLOG_CLOUDFRONT_PROTOCOL,
    "querystring_auth": False,
    "default_acl": None,
    "file_overwrite": False,
}
STORAGES = {
    "default": {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {**_s3_options, "location": "media"},
    },
    "staticfiles": (
        {
            "BACKEND": "storages.backends.s3.S3ManifestStaticStorage",
            "OPTIONS": {
                **_s3_options,
                "location": "static",
                "file_overwrite": True,
                "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
            },
        }
        if MYBLOG_STATIC_ON_S3
        else {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    ),
}

# --- Security ----------------------------------------------------------------
# Behind CloudFront and API Gateway the original scheme arrives in
# X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", False)
SESSION_COOKIE_SECURE = env_bool("DJANGO_SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("DJANGO_CSRF_COOKIE_SECURE", not DEBUG)
# The site's own page (JSON under /api/), not Django's, whose inline style the CSP blocks.
CSRF_FAILURE_VIEW = "myblog.views.csrf_failure"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("MYBLOG_LOG_LEVEL", "INFO")},
    "loggers": {
        "botocore": {"level": "WARNING"},
        "pynamodb": {"level": "WARNING"},
    },
}
