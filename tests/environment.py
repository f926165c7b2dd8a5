"""A pytest plugin loaded before Django: a clean, offline AWS environment.

Unit tests use moto in-process, which only intercepts *.amazonaws.com: any
AWS_ENDPOINT_URL* from the developer's shell would send calls elsewhere, so
they are removed. Credentials are fixed fakes; nothing can reach AWS.
"""

import os

for name in list(os.environ):
    if (
        name.startswith("AWS_ENDPOINT_URL")
        or name.startswith("MYBLOG_")
        or name
        in (
            "AWS_PROFILE",
            "AWS_SESSION_TOKEN",
            "AWS_SECURITY_TOKEN",
            "DATABASE_URL",
        )
    ):
        del os.environ[name]

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        # botocore 1.44 otherwise sends some calls to account-ID endpoints moto does not know.
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "AWS_EC2_METADATA_DISABLED": "true",
        "MYBLOG_TABLE_PREFIX": "test-",
        "MYBLOG_MEDIA_BUCKET": "test-myblog-media",
        "MYBLOG_SITE_URL": "https://blog.example.com",
        "MYBLOG_CLOUDFRONT_DOMAIN": "d111111abcdef8.cloudfront.net",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_ALLOWED_HOSTS": "testserver,blog.example.com,127.0.0.1,localhost",
    }
)
