"""Benchmark: a Lambda cold start of MyBlog against a bare Django + PynamoDB + boto3 hello-world.

    .venv/bin/python bench/coldstart.py [--rounds 15] [--stage dev] [--imports] [--package]

Both are served the same way, in the same run: a fresh Python process
imports Zappa's `lambda_handler` (with settings generated offline by `zappa
save-python-settings-file`) and answers one API Gateway (REST, v1) proxy
event for `GET /`, against DynamoDB Local. The bare app is Django (no apps,
no middleware) whose one view makes one PynamoDB GetItem and returns
"hello"; MyBlog answers its real home page (one Query) with its whole
configuration: the admin installed, every middleware, the stage's settings.

Measured inside each process, from before `from zappa.handler import
lambda_handler` to the response: elapsed time (what a cold Lambda adds
before its first answer) and CPU time (the same work without waiting on
DynamoDB, and steadier on a busy machine). The interpreter's own start is
the same for both and is shown separately as the process's wall time.
Byte-code caches are warmed first, as they are in a deployment package.
Rounds alternate between the two apps; the figures are medians. Target:
MyBlog <= 1.3x the bare app (elapsed). Exits 1 when it is missed.
MyBlog's cold path includes what a deployed stage does first: loading its
secrets from SSM Parameter Store (`myblog.secrets`, one
GetParametersByPath), here from moto server holding the stage's
parameters (`--no-ssm` skips it, as the benchmark did before).
`--imports` lists the heaviest imports of MyBlog's cold start.

`--package` also measures the deployment package (built as a deploy
builds it, devstack/package.py) in the local Lambda runtime
(devstack/lambda_runtime.py: `python -I -S`, only the unzipped package and
the runtime's pinned SDK on sys.path), each round a fresh execution
environment answering the same event: elapsed from starting the process to
its answer, and the handler's own time, as ratios against the bare app.
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402 - after the path tweak above

TARGET_RATIO = 1.3

PROBE = (
    """
import time
started, cpu_started = time.perf_counter(), time.process_time()
"""
    + harness.HANDLER_PROBE
    + """
with open(sys.argv[1]) as handle:
    event = json.load(handle)
response = lambda_handler(event, Context())
elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
print(json.dumps({
    "seconds": elapsed, "cpu": cpu, "calls": calls, "status": response["statusCode"], "body": response["body"][:20000]
}))
"""
)


def run_probe(env, event_path, cwd):
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(event_path)], env=env, cwd=cwd, capture_output=True, text=True
    )
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"probe failed:\n{result.stderr[-3000:]}")
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    measured["wall"] = wall
    return measured


def heaviest_imports(env, event_path, cwd, top=25):
    """(cumulative ms, module) of the slowest top-level-ish imports of a cold start."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", PROBE, str(event_path)],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    rows = []
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = (part.strip() for part in line.split("|"))
        if cumulative.isdigit() and name.count(".") <= 1:
            rows.append((int(cumulative) / 1000, name))
    return sorted(rows, reverse=True)[:top]


def package_function(endpoint):
    """A fresh-process factory for the built package, with the benchmark's stage settings."""
    sys.path.insert(0, str(harness.ROOT))
    from devstack import package
    from devstack.lambda_runtime import LambdaFunction, lambda_environment, runtime_sdk

    built = package.build(log=lambda line: print(line, file=sys.stderr))
    configuration = {
        "DJANGO_ALLOWED_HOSTS": harness.HOST,
        "MYBLOG_SITE_URL": f"https://{harness.HOST}",
        "MYBLOG_CLOUDFRONT_DOMAIN": harness.HOST,
        "MYBLOG_SSM_PARAMETERS_LOADED": "1",
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    credentials = {"AccessKeyId": "bench", "SecretAccessKey": "bench"}
    env = lambda_environment("myblog-dev", "us-east-1", 1024, 60, built.task_dir, configuration, credentials)
    sdk = runtime_sdk()
    log = Path(tempfile.gettempdir()) / "myblog-bench-package.log"
    return built, lambda: LambdaFunction(
        "myblog-dev", built.task_dir, env, sdk, timeout=60, log_path=log, opt_dir=built.opt_dir
    )


def run_package(make_function, event_path):
    event = json.loads(Path(event_path).read_text())
    function = make_function()
    started = time.perf_counter()
    try:
        result = function.invoke(event)
    finally:
        wall = time.perf_counter() - started
        function.stop()
    if result.failed:
        raise RuntimeError(f"package failed: {result.error}")
    return {
        "seconds": wall,
        "cpu": result.duration,
        "wall": wall,
        "status": result.payload["statusCode"],
        "body": result.payload.get("body", ""),
    }


def _summary(runs):
    return {key: statistics.median(run[key] for run in runs) for key in ("seconds", "cpu", "wall")}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--imports", action="store_true", help="list the heaviest imports of the cold start")
    parser.add_argument("--package", action="store_true", help="also measure the deployment package, isolated")
    parser.add_argument("--no-ssm", action="store_true", help="skip the SSM parameter load of the cold path")
    args = parser.parse_args()

    parameters = {"DJANGO_SECRET_KEY": "bench-" + "s" * 50, "DATABASE_URL": "sqlite:////tmp/myblog-bench.sqlite3"}
    with (
        tempfile.TemporaryDirectory() as work,
        harness.dynamodb_local() as endpoint,
        harness.ssm_parameters(f"/myblog/{args.stage}/", parameters) as ssm_endpoint,
    ):
        work = Path(work)
        app_env, bare_dir, bare_env = harness.both_apps(work, args.stage, endpoint)
        if not args.no_ssm:
            app_env = harness.with_ssm(app_env, ssm_endpoint)
        event = harness.write_event(work, "/")

        # Warm the byte-code caches (a deployment package ships them) and check the answers.
        app_first = run_probe(app_env, event, harness.ROOT)
        bare_first = run_probe(bare_env, event, bare_dir)
        assert app_first["status"] == 200 and "Post number 0" in app_first["body"], app_first
        assert bare_first["status"] == 200 and bare_first["body"] == "hello", bare_first

        if args.package:
            built, make_function = package_function(app_env["AWS_ENDPOINT_URL_DYNAMODB"])
            package_first = run_package(make_function, event)
            assert package_first["status"] == 200 and "Post number 0" in package_first["body"], package_first

        app_runs, bare_runs, package_runs = [], [], []
        for _ in range(args.rounds):
            app_runs.append(run_probe(app_env, event, harness.ROOT))
            bare_runs.append(run_probe(bare_env, event, bare_dir))
            if args.package:
                package_runs.append(run_package(make_function, event))

        if args.imports:
            print("Heaviest imports of MyBlog's cold start (cumulative ms):")
            for ms, name in heaviest_imports(app_env, event, harness.ROOT):
                print(f"  {ms:8.1f}  {name}")

    app, bare = _summary(app_runs), _summary(bare_runs)
    ratio = app["seconds"] / bare["seconds"]
    cpu_ratio = app["cpu"] / bare["cpu"]
    print(f"Cold start: GET / through zappa.handler.lambda_handler, median of {args.rounds} fresh processes")
    print("                                  import+first response    CPU     process wall")
    for label, figures in (("bare Django + PynamoDB + boto3", bare), ("MyBlog home page", app)):
        print(
            f"  {label:31} {figures['seconds'] * 1000:8.0f} ms {figures['cpu'] * 1000:10.0f} ms"
            f" {figures['wall'] * 1000:10.0f} ms"
        )
    print(f"  {'ratio':31} {ratio:8.2f} x  {cpu_ratio:9.2f} x   (target <= {TARGET_RATIO}x)")
    print(f"  DynamoDB calls on MyBlog's first request: {app_first['calls']}")
    print(f"  MyBlog's secrets: {'preset (--no-ssm)' if args.no_ssm else 'loaded from SSM (moto server) at start-up'}")
    if package_runs:
        package_wall = statistics.median(run["wall"] for run in package_runs)
        package_handler = statistics.median(run["cpu"] for run in package_runs)
        print(f"Deployment package {built.zip_path.name} ({built.size / 1e6:.1f} MB) in the isolated local runtime:")
        print(
            f"  process start to first answer {package_wall * 1000:8.0f} ms = {package_wall / bare['wall']:.2f} x "
            f"the bare app's process wall; first invocation's handler time {package_handler * 1000:.0f} ms = "
            f"{package_handler / bare['seconds']:.2f} x the bare app's import+first response"
        )
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
