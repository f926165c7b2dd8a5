"""Run the unzipped deployment package as Lambda's python3.11 runtime runs it.

    python -I -S tests/lambda_runtime.py TASK_DIR SDK_DIR REQUEST_JSON

Started by the package tests with `-I -S`, so `sys.path` holds the standard
library and nothing else; this script then puts the unzipped package
(`/var/task` on Lambda) and the AWS SDK the runtime ships in front of it,
exactly the two places Lambda's runtime imports from. Nothing from the
development virtualenv or the repository can be imported.

REQUEST_JSON names a file holding `{"environment": {...}, "seed": [...],
"events": [...], "imports": [...]}`: `environment` overrides variables of
the stage's runtime settings (the package's `zappa_settings.py`), `seed`
lists posts to create through the package's own code before serving, each
event goes to Zappa's `handler.lambda_handler` (API Gateway proxy events,
and the events Zappa routes to the functions bound in `zappa_settings.json`:
S3 notifications, queue batches), then each module of `imports` is
imported. Prints one JSON line: the responses (a proxy event's HTTP answer,
or `{"result": ...}`, what a bound function returned), how each import
went, every module loaded, and the top-level modules imported from anywhere
but the package, the SDK and the standard library.
"""

import importlib
import json
import os
import sys
import sysconfig

task, sdk, request_path = sys.argv[1:4]
opt = sys.argv[4] if len(sys.argv) > 4 else ""  # the function's layers, unpacked as Lambda does under /opt
layer_path = [os.path.join(opt, "python")] if opt else []
sys.path[:0] = [task, *layer_path, sdk]
with open(request_path, encoding="utf-8") as request_file:
    request = json.load(request_file)

import zappa_settings  # noqa: E402  (the package's runtime settings, written by `zappa package`)

for name, value in request.get("environment", {}).items():
    if value is None:
        zappa_settings.ENVIRONMENT_VARIABLES.pop(name, None)
    else:
        zappa_settings.ENVIRONMENT_VARIABLES[name] = value

if request.get("seed"):
    # Zappa's handler copies the stage's variables into the environment
    # before Django starts; the seeding does the same.
    os.environ.update(zappa_settings.ENVIRONMENT_VARIABLES)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", zappa_settings.DJANGO_SETTINGS)
    import django

    django.setup()
    from myblog import aws
    from posts import services

    # The tables, as infra/ creates them in AWS (devstack's ensure_tables is not in the package).
    for model in aws.all_models():
        model.create_table(wait=True, billing_mode="PAY_PER_REQUEST")
    for post in request["seed"]:
        services.create_post(**post)

from handler import lambda_handler  # noqa: E402

responses = []
for event in request.get("events", []):
    answer = lambda_handler(event, None)
    if not (isinstance(answer, dict) and "statusCode" in answer):
        responses.append({"result": answer})  # a bound function's own return value
        continue
    responses.append(
        {
            "statusCode": answer["statusCode"],
            "headers": answer.get("headers") or {},
            "multiValueHeaders": answer.get("multiValueHeaders") or {},
            "body": answer.get("body", ""),
            "isBase64Encoded": answer.get("isBase64Encoded", False),
        }
    )

# Modules the requests above did not need, imported as the code that needs
# them would (the editors' PostgreSQL backend, for one).
imports = {}
for name in request.get("imports", []):
    try:
        importlib.import_module(name)
    except Exception as error:  # reported, not raised: the test names the module that failed
        imports[name] = f"{type(error).__name__}: {error}"
    else:
        imports[name] = "ok"

paths = sysconfig.get_paths()
allowed = tuple(
    os.path.abspath(path) + os.sep for path in (task, *layer_path, sdk, paths["stdlib"], paths["platstdlib"])
)
outside = sorted(
    {
        name.split(".")[0]
        for name, module in list(sys.modules.items())
        if name not in ("__main__", "__mp_main__")  # this script
        and getattr(module, "__file__", None)
        and not os.path.abspath(module.__file__).startswith(allowed)
    }
)
print(json.dumps({"responses": responses, "imports": imports, "outside": outside, "modules": sorted(sys.modules)}))
