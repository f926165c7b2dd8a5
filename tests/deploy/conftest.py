"""The deploy rehearsal's fixtures: a production deploy, offline, against moto server.

In the order of a real first deploy (infra/README.md), each step a fixture
that the checks in test_rehearsal.py ask for:

    deploy_venv          the deploy virtualenv (infra/deployenv.py; reused while requirements.txt is unchanged)
    emulator             moto server on a free loopback port, this process's AWS environment pointing at it
    stacks               infra/myblog.yaml for prod in us-east-1 (home) and eu-west-1 (infra/emulated_stack.py)
    stage_settings_file  a copy of zappa_settings.json with the outputs in `rehearsal` and `prod_eu`
    packages             `zappa package` of both stages, refused if the zip names a stray handler
    deployment           `zappa deploy rehearsal`, infra/event_mappings.py, `zappa update`, event_mappings again
    secondary_deployment `zappa deploy prod_eu` and event_mappings for it
    static_files         collectstatic to the bucket
    invocation           the packaged function run on API Gateway events

Everything is written under a temporary folder outside the repository:
Zappa's scan for WebSocket handlers walks the project folder, so an unpacked
package there would be found by the next `zappa package`. The fixtures are
module-scoped (only test_rehearsal.py uses them), so the environment they
set is put back before other modules run.
"""

import json
import logging
import os
import subprocess
import sys
import types
import zipfile

import boto3
import pytest
from botocore.exceptions import ClientError

from devstack import services, system
from infra import deployenv, emulated_stack, event_mappings, layers, stage_settings
from tests.deploy.stages import HOME_REGION, REPO, SECONDARY_REGION, SECONDARY_STAGE, STACK_PARAMETERS, STAGE

logger = logging.getLogger("infra.rehearsal")


@pytest.fixture(scope="module")
def rehearsal_dir(tmp_path_factory):
    """Where the rehearsal writes: never inside the repository (see the module docstring)."""
    return tmp_path_factory.mktemp("rehearsal")


@pytest.fixture(scope="session")
def deploy_venv():
    return deployenv.ensure(log=logger.info)


@pytest.fixture(scope="module")
def emulator(rehearsal_dir):
    """moto server's endpoint, with AWS_ENDPOINT_URL and fake credentials set for this module."""
    service = services.moto_server(system.free_port(), log_path=rehearsal_dir / "moto.log").start()
    environment = emulated_stack.aws_environment(service.endpoint, HOME_REGION)
    with pytest.MonkeyPatch.context() as patch:
        for name in environment:
            patch.setenv(name, environment[name])
        yield types.SimpleNamespace(endpoint=service.endpoint, environment=environment)
    service.stop()


def session(region):
    return boto3.session.Session(region_name=region)


@pytest.fixture(scope="module")
def home(emulator):
    return session(HOME_REGION)


@pytest.fixture(scope="module")
def secondary(emulator):
    return session(SECONDARY_REGION)


@pytest.fixture(scope="module")
def stacks(home, secondary, rehearsal_dir):
    """The template deployed in both regions: the emulated deployments, by region."""
    home_stack = emulated_stack.InfraDeployment(
        home, {**STACK_PARAMETERS, **emulated_stack.create_network(home)}, rehearsal_dir
    )
    home_stack.deploy()
    secondary_parameters = {
        **STACK_PARAMETERS,
        **emulated_stack.create_network(secondary),
        "DistributionId": home_stack.outputs["DistributionId"],
    }
    secondary_stack = emulated_stack.InfraDeployment(secondary, secondary_parameters, rehearsal_dir)
    secondary_stack.deploy()
    return {HOME_REGION: home_stack, SECONDARY_REGION: secondary_stack}


@pytest.fixture(scope="module")
def layer_zip(deploy_venv, rehearsal_dir):
    """The function's psycopg layer (infra/layers.py), built from the deploy virtualenv."""
    return layers.build(rehearsal_dir / "myblog-psycopg.zip", deploy_venv, log=lambda line: None)


@pytest.fixture(scope="module")
def stage_settings_file(stacks, layer_zip, home, secondary, rehearsal_dir):
    """The stages with the stacks' outputs and their published layer, as infra/stage_settings.py and
    infra/layers.py write them.

    Returns the copy's path, its content and what each stage could not find in the outputs.
    """
    home_outputs = stacks[HOME_REGION].outputs
    settings = stage_settings.load(REPO / "zappa_settings.json")
    missing = {}
    for stage, region, session in ((STAGE, HOME_REGION, home), (SECONDARY_STAGE, SECONDARY_REGION, secondary)):
        config = stage_settings.stage_config(settings, stage)
        updates, missing[stage] = stage_settings.apply_outputs(config, stacks[region].outputs, home_outputs)
        settings[stage].update(updates)
        layers.apply(settings, stage, layers.publish(layer_zip, session))
    # moto cannot run a function, so Zappa's final HTTP request to a new
    # endpoint cannot succeed; the `rehearsal` stage says so itself, and the
    # copy of prod_eu deployed here skips it too.
    settings[SECONDARY_STAGE]["touch"] = False
    path = rehearsal_dir / "zappa_settings.json"
    path.write_text(json.dumps(settings, indent=4))
    return types.SimpleNamespace(path=path, settings=settings, missing=missing)


@pytest.fixture(scope="module")
def stage_config(stage_settings_file):
    return stage_settings.stage_config(stage_settings_file.settings, STAGE)


@pytest.fixture(scope="module")
def secondary_config(stage_settings_file):
    return stage_settings.stage_config(stage_settings_file.settings, SECONDARY_STAGE)


@pytest.fixture(scope="module")
def zappa_env(deploy_venv, emulator, rehearsal_dir):
    """The environment Zappa runs in: the deploy venv active, moto's endpoint, its calls recorded."""
    return deployenv.environ(
        deploy_venv, {**os.environ, **emulator.environment, "MYBLOG_ZAPPA_CALLS": str(rehearsal_dir / "calls.jsonl")}
    )


@pytest.fixture(scope="module")
def packages(deploy_venv, stage_settings_file, zappa_env, rehearsal_dir):
    """Stage -> its zip, built by `zappa package` and checked by infra/deployenv.py."""
    built = {}
    for stage in (STAGE, SECONDARY_STAGE):
        zip_path = rehearsal_dir / f"myblog-{stage}.zip"
        output = deployenv.package(stage, zip_path, stage_settings_file.path, deploy_venv, zappa_env)
        log(rehearsal_dir, f"package {stage}", output)
        built[stage] = zip_path
    return built


def log(rehearsal_dir, what, output):
    with open(rehearsal_dir / "zappa.log", "a") as file:
        file.write(f"$ zappa {what}\n{output}\n")


def zappa(deploy_venv, zappa_env, rehearsal_dir, *arguments):
    """A Zappa command through infra/zappa_driver.py; returns (exit code, output)."""
    command = [str(deploy_venv / "bin" / "python"), str(REPO / "infra" / "zappa_driver.py"), *arguments]
    result = subprocess.run(command, cwd=REPO, env=zappa_env, capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    log(rehearsal_dir, " ".join(arguments), output)
    return result.returncode, output


def recorded_calls(rehearsal_dir):
    path = rehearsal_dir / "calls.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def ensure_mappings(zappa_result, stage, settings_path, session):
    """infra/event_mappings.py after a Zappa command that succeeded (None after one that failed)."""
    code, _ = zappa_result
    return event_mappings.ensure_stage(stage, settings_path, session=session) if code == 0 else None


@pytest.fixture(scope="module")
def deployment(deploy_venv, zappa_env, stage_settings_file, packages, home, rehearsal_dir):
    """The home stage deployed and updated, with what Zappa sent and what event_mappings did."""
    settings_path = str(stage_settings_file.path)
    zip_path = str(packages[STAGE])
    before = len(recorded_calls(rehearsal_dir))
    deploy = zappa(deploy_venv, zappa_env, rehearsal_dir, "deploy", STAGE, "-s", settings_path, "-z", zip_path)
    deploy_calls = recorded_calls(rehearsal_dir)[before:]
    # A failed deploy fails test_zappa_deploy_completes with Zappa's output, not this fixture.
    after_deploy = ensure_mappings(deploy, STAGE, stage_settings_file.path, home)
    update = zappa(deploy_venv, zappa_env, rehearsal_dir, "update", STAGE, "-s", settings_path, "-z", zip_path)
    after_update = ensure_mappings(update, STAGE, stage_settings_file.path, home)
    return types.SimpleNamespace(
        deploy=deploy,
        update=update,
        deploy_calls=deploy_calls,
        event_mappings_after_deploy=after_deploy,
        event_mappings_after_update=after_update,
    )


@pytest.fixture(scope="module")
def secondary_deployment(deploy_venv, zappa_env, stage_settings_file, packages, secondary, deployment, rehearsal_dir):
    """prod_eu deployed after the home stage, as in a real first deploy."""
    before = len(recorded_calls(rehearsal_dir))
    deploy = zappa(
        deploy_venv,
        zappa_env,
        rehearsal_dir,
        *("deploy", SECONDARY_STAGE, "-s", str(stage_settings_file.path), "-z", str(packages[SECONDARY_STAGE])),
    )
    try:
        mappings = ensure_mappings(deploy, SECONDARY_STAGE, stage_settings_file.path, secondary)
    except ClientError as error:
        # A stream binding in this region: test_secondary_stage_has_no_stream_mapping shows the refusal.
        mappings = [f"event_mappings failed: {error}"]
    return types.SimpleNamespace(deploy=deploy, calls=recorded_calls(rehearsal_dir)[before:], event_mappings=mappings)


# --- the packaged function, run offline ----------------------------------------
# moto cannot run a function, so the rehearsal runs the packaged one itself:
# the zip extracted, on a Python with no site-packages, plus only what
# Lambda's runtime provides (the AWS SDK), answering real-shaped API Gateway
# events against the emulated tables, bucket and SSM parameters.
RUNTIME_SDK = ("boto3", "botocore", "s3transfer")

INVOKE_DRIVER = r"""
import json, sys, time
task, sdk, opt = sys.argv[1], sys.argv[2], sys.argv[4]
sys.path[:0] = [task, opt + "/python", sdk]  # Lambda's order: the code, its layers (/opt/python), the SDK
started = time.perf_counter()
import zappa_settings
# moto has no DAX data plane: this invocation reads DynamoDB directly.
zappa_settings.ENVIRONMENT_VARIABLES.pop("MYBLOG_DAX_ENDPOINT", None)
from handler import lambda_handler
responses = []
for event in json.loads(sys.argv[3]):
    response = lambda_handler(event, None)
    responses.append({"statusCode": response["statusCode"], "body": response.get("body", "")[:20000],
                      "seconds": round(time.perf_counter() - started, 2)})
    started = time.perf_counter()
import psycopg, PIL.features
outside = sorted(
    {m.__name__.split(".")[0] for m in list(sys.modules.values())
     if getattr(m, "__file__", None) and "site-packages" in m.__file__ and not m.__file__.startswith((task, sdk, opt))}
)
print(json.dumps({
    "responses": responses,
    "libpq": psycopg.pq.version(),
    "jpeg": PIL.features.check("jpg"),
    "webp": PIL.features.check("webp"),
    "avif": PIL.features.check("avif"),
    "outside": outside,
}))
"""
INVOKED_PATHS = ("/", "/admin/login/")
# The origin secret CloudFront would send; the function refuses requests without it.
ORIGIN_SECRET = "rehearsal-origin-" + "o" * 32


def api_gateway_event(path, host, stage, origin_secret=ORIGIN_SECRET):
    headers = {
        "Accept": "text/html",
        "Host": host,
        "User-Agent": "Amazon CloudFront",
        "X-Forwarded-For": "203.0.113.7, 130.176.0.1",
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
    }
    if origin_secret:
        headers["X-Origin-Verify"] = origin_secret
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": "GET",
        "headers": headers,
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": "GET",
            "path": f"/{stage}{path}",
            "stage": stage,
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "identity": {"sourceIp": "203.0.113.7", "userAgent": "Amazon CloudFront"},
            "accountId": emulated_stack.ACCOUNT,
            "apiId": "rehearsal",
            "domainName": host,
        },
        "body": None,
        "isBase64Encoded": False,
    }


@pytest.fixture(scope="module")
def static_files(stage_config, emulator):
    """`manage.py collectstatic` with the stage's settings, into the emulated bucket."""
    env = {**os.environ, **emulator.environment, **stage_config["environment_variables"]}
    env.pop("MYBLOG_SSM_PARAMETERS_PATH")  # collectstatic needs no secrets
    return subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def invocation(deploy_venv, packages, layer_zip, stage_config, static_files, emulator, home, rehearsal_dir):
    """The packaged function's run: its answers to GET /, GET /admin/login/ and a GET / without the origin
    secret, and what it loaded."""
    path = stage_config["environment_variables"]["MYBLOG_SSM_PARAMETERS_PATH"]
    ssm = home.client("ssm")
    secrets = {
        "DJANGO_SECRET_KEY": "rehearsal-" + "k" * 50,
        "DATABASE_URL": f"sqlite:///{rehearsal_dir / 'editors.sqlite3'}",
        "MYBLOG_ORIGIN_VERIFY_SECRET": ORIGIN_SECRET,
    }
    for name, value in secrets.items():
        ssm.put_parameter(Name=path + name, Value=value, Type="SecureString", Overwrite=True)

    task, sdk = rehearsal_dir / "task", rehearsal_dir / "runtime-sdk"
    with zipfile.ZipFile(packages[STAGE]) as archive:
        archive.extractall(task)
    sdk.mkdir()
    for name in RUNTIME_SDK:
        (sdk / name).symlink_to(deployenv.site_packages(deploy_venv) / name)
    opt = rehearsal_dir / "opt"
    with zipfile.ZipFile(layer_zip) as archive:
        archive.extractall(opt)
    host = stage_config["environment_variables"]["DJANGO_ALLOWED_HOSTS"].split(",")[0]
    lambda_env = {
        **emulator.environment,
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",  # Lambda's code directory is read-only
        "AWS_LAMBDA_FUNCTION_NAME": stage_settings.lambda_name(stage_config, STAGE),
        "LAMBDA_TASK_ROOT": str(task),
    }
    events = [api_gateway_event(path, host, STAGE) for path in INVOKED_PATHS]
    events.append(api_gateway_event("/", host, STAGE, origin_secret=None))  # straight to API Gateway
    result = subprocess.run(
        [
            *(str(deploy_venv / "bin" / "python"), "-S", "-c", INVOKE_DRIVER),
            *(str(task), str(sdk), json.dumps(events), str(opt)),
        ],
        cwd=task,
        env=lambda_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # A crashed run fails test_packaged_function_runs with its traceback; the other checks then fail too.
    answer = json.loads(result.stdout.strip().splitlines()[-1]) if result.returncode == 0 else {}
    return types.SimpleNamespace(returncode=result.returncode, stderr=result.stderr, answer=answer)
