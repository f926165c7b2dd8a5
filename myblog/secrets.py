"""Secrets from AWS SSM Parameter Store, copied into the environment at start-up.

Deployed stages keep `zappa_settings.json` free of secrets: they set only
`MYBLOG_SSM_PARAMETERS_PATH` (for example `/myblog/prod/`), and every
parameter directly under that path (`/myblog/prod/DJANGO_SECRET_KEY`,
`/myblog/prod/DATABASE_URL`, ...) becomes an environment variable named
after its last path segment, before the settings read it. A variable that
is already set wins, so a developer can override one locally.

One GetParametersByPath call per cold start (a page per 10 parameters);
nothing at all when the path is unset, as on a developer's machine. A
deployed stage whose path lacks a required secret refuses to start rather
than fall back to the development defaults (an insecure SECRET_KEY, a
SQLite file on Lambda's read-only disk).
"""

import os

from django.core.exceptions import ImproperlyConfigured

LOADED_FLAG = "MYBLOG_SSM_PARAMETERS_LOADED"
REQUIRED = ("DJANGO_SECRET_KEY", "DATABASE_URL")


def load_secrets(environ=os.environ, required=REQUIRED):
    """Copy the parameters under MYBLOG_SSM_PARAMETERS_PATH into `environ`.

    Returns the parameters read (name -> value); an empty dict when there is
    no path or they were already loaded by this process.
    """
    path = environ.get("MYBLOG_SSM_PARAMETERS_PATH")
    if not path or environ.get(LOADED_FLAG):
        return {}
    if not path.startswith("/") or not path.endswith("/"):
        raise ImproperlyConfigured(f"MYBLOG_SSM_PARAMETERS_PATH must start and end with '/': {path!r}")
    # Settings are not configured yet, so the region is passed explicitly.
    from myblog import aws

    region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    client = aws.client("ssm", region_name=region)
    loaded = {}
    # Paged by hand on NextToken: a paginator would load SSM's paginator
    # definitions (and list every service's) on each cold start for one call.
    request = {"Path": path, "WithDecryption": True, "Recursive": False}
    while True:
        page = client.get_parameters_by_path(**request)
        for parameter in page["Parameters"]:
            name = parameter["Name"].rsplit("/", 1)[-1]
            loaded[name] = parameter["Value"]
            environ.setdefault(name, parameter["Value"])
        if not page.get("NextToken"):
            break
        request["NextToken"] = page["NextToken"]
    missing = [name for name in required if not environ.get(name)]
    if missing:
        raise ImproperlyConfigured(f"{', '.join(missing)} missing: add them as SecureString parameters under {path}")
    environ[LOADED_FLAG] = "1"
    return loaded
