"""Benchmark: warm requests per second through Zappa's handler, with DynamoDB calls per request.

    .venv/bin/python bench/read_path.py [--seconds 5] [--stage dev]

One process imports Zappa's `lambda_handler` (settings generated offline by
`zappa save-python-settings-file`), as a warm Lambda instance would, and
answers API Gateway (REST, v1) proxy events in a loop for each page, against
DynamoDB Local with demo content (posts with a cover and inline photos).
For each page: requests per second (one at a time, as one Lambda instance
serves them), median and 95th-percentile latency, and the DynamoDB
operations each request made (counted where PynamoDB sends them). Every
answer must be a 200 with the page's content.

The figures are the origin's: behind CloudFront most reads never reach it.
DynamoDB Local answers more slowly than DynamoDB (a few ms per call), so
the latencies are upper bounds. Exits 1 if a page makes more than two
DynamoDB calls or any call other than GetItem, Query and BatchGetItem.
"""

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402 - after the path tweak above

PAGES = [
    ("home page", "/", "Post number 0"),
    ("post page", "/posts/post-1/", "<picture>"),
    ("tag page", "/tags/aws/", "Post number 1"),
    ("API list", "/api/posts", '"next_cursor"'),
    ("API post", "/api/posts/post-1", '"body_html"'),
]
READ_OPERATIONS = {"GetItem", "Query", "BatchGetItem"}

LOOP = (
    """
import statistics, time
from collections import Counter
"""
    + harness.HANDLER_PROBE
    + """
pages, seconds = json.loads(sys.argv[1]), float(sys.argv[2])
results = []
for name, event, expected in pages:
    for _ in range(5):  # warm: first use of templates, operations, connections
        lambda_handler(event, Context())
    calls.clear()
    latencies = []
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        begin = time.perf_counter()
        response = lambda_handler(event, Context())
        latencies.append(time.perf_counter() - begin)
        if response["statusCode"] != 200 or expected not in response["body"]:
            raise SystemExit(f"{name}: unexpected answer {response['statusCode']}")
    elapsed = time.perf_counter() - started
    latencies.sort()
    results.append({
        "name": name,
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(latencies),
        "p95": latencies[int(len(latencies) * 0.95) - 1],
        "calls": len(calls) / len(latencies),
        "operations": dict(Counter(calls)),
    })
print(json.dumps(results))
"""
)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="how long to loop on each page")
    parser.add_argument("--stage", default="dev")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as work, harness.dynamodb_local() as endpoint:
        work = Path(work)
        settings = harness.zappa_settings(args.stage, work)
        env = harness.environment(settings["ENVIRONMENT_VARIABLES"], endpoint, [work, harness.ROOT])
        harness.seed(env)
        pages = [(name, harness.api_gateway_event(path), expected) for name, path, expected in PAGES]
        result = subprocess.run(
            [sys.executable, "-c", LOOP, json.dumps(pages), str(args.seconds)],
            env=env,
            cwd=harness.ROOT,
            capture_output=True,
            text=True,
        )
    if result.returncode != 0:
        print(result.stderr[-3000:], file=sys.stderr)
        return 1
    results = json.loads(result.stdout.strip().splitlines()[-1])

    print(f"Warm requests through zappa.handler.lambda_handler against DynamoDB Local ({args.seconds:g} s per page)")
    print(f"  {'page':10} {'requests':>8} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8}  DynamoDB calls per request")
    ok = True
    for row in results:
        operations = ", ".join(f"{name} x{count / row['requests']:g}" for name, count in row["operations"].items())
        print(
            f"  {row['name']:10} {row['requests']:8d} {row['rps']:8.1f} {row['p50'] * 1000:8.1f}"
            f" {row['p95'] * 1000:8.1f}  {row['calls']:g} ({operations})"
        )
        ok = ok and row["calls"] <= 2 and set(row["operations"]) <= READ_OPERATIONS
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
