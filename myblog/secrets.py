"""Secrets from AWS SSM Parameter Store, copied into the environment at start-up.

Deployed stages keep `zappa_settings.json` free of secrets: they set only
`MYBLOG_SSM_PARAMETERS_PATH` (for example `/myblog/prod/`), and every
SecureString under that path (`DJANGO_SECRET_KEY`, `DATABASE_URL`, ...) becomes
an environment variable before the settings read it. A variable that is
already set wins, so a developer can override one locally. One
GetParametersByPath call per cold start; nothing when the path is unset.
"""

import os

LOADED_FLAG = "MYBLOG_SSM_PARAMETERS_LOADED"


def load_secrets(environ=os.environ):
    path = environ.get("MYBLOG_SSM_PARAMETERS_PATH")
    if not path or environ.get(LOADED_FLAG):
        return {}
    import boto3

    client = boto3.client("ssm", region_name=environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION"))
    loaded = {}
    for page in client.get_paginator("get_parameters_by_path").paginate(
        Path=path, WithDecryption=True, Recursive=False
    ):
        for parameter in page["Parameters"]:
            name = parameter["Name"].rsplit("/", 1)[-1]
            loaded[name] = parameter["Value"]
            environ.setdefault(name, parameter["Value"])
    environ[LOADED_FLAG] = "1"
    return loaded
