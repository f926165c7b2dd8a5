"""Benchmark: warm requests per second through Zappa's handler, against a bare Django app, with DynamoDB calls.

    .venv/bin/python bench/read_path.py [--seconds 5] [--stage dev]

A warm process imports Zappa's `lambda_handler` (settings generated offline
by `zappa save-python-settings-file`), as a warm Lambda instance would, and
answers API Gateway (REST, v1) proxy events in a loop for each page, against
DynamoDB Local with demo content (posts with a cover and inline photos).
For each page: requests per second (one at a time, as one Lambda instance
serves them), median and 95th-percentile latency, and the DynamoDB
operations each request made (counted where PynamoDB sends them). Every
answer must be a 200 with the page's content.

The machines are noisy, so each page is also given as a ratio against a
reference measured in the same run: the bare Django + PynamoDB + boto3
hello-world of the cold-start benchmark (one GetItem per request), served
the same way through Zappa's handler, in a warm process of its own, against
the same DynamoDB Local. The two processes take turns: the bare app runs
before and after each page, and the page is compared with the mean of those
two runs, so a machine (or DynamoDB Local's JVM) speeding up or slowing
down during the run does not favour one page over another. Every page and
the bare app first run once unmeasured, to warm both processes and the JVM.

- "x bare": the page's requests per second over the bare app's. 0.50x means
  a request for the page costs twice what a request for the hello-world
  does, in time from the handler's call to its response.
- "per call": the same ratio per DynamoDB call (the page's ratio times its
  calls per request; the bare app makes one). 1.00x means the page costs
  what the bare app costs for each DynamoDB call it makes; below that,
  MyBlog's own work (middleware, templates, Markdown, JSON) weighs more.

The figures are the origin's: behind CloudFront most reads never reach it.
DynamoDB Local answers more slowly than DynamoDB (a few ms per call), so the
latencies are upper bounds, and the ratios understate MyBlog's own cost
(DynamoDB's share of every request is larger here than on AWS). Exits 1 if
a page makes more than two DynamoDB calls or any call other than GetItem,
Query and BatchGetItem.
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
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
BARE_PAGE = ("bare app", "/", "hello")
READ_OPERATIONS = {"GetItem", "Query", "BatchGetItem"}
WARM_UP_SECONDS = 1.0

# A warm "Lambda instance": reads one request per line (name, event, expected
# text, seconds), serves the event in a loop for that long, answers one RESULT line.
WORKER = (
    """
import statistics, time
from collections import Counter
"""
    + harness.HANDLER_PROBE
    + """
for line in sys.stdin:
    name, event, expected, seconds = json.loads(line)
    for _ in range(5):  # first use of templates, operations, connections
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
    print("RESULT", json.dumps({
        "name": name,
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(latencies),
        "p95": latencies[max(0, int(len(latencies) * 0.95) - 1)],
        "calls": len(calls) / len(latencies),
        "operations": dict(Counter(calls)),
    }), flush=True)
"""
)


class Worker:
    """One warm process serving one app; `measure()` loops on a page in it."""

    def __init__(self, env, cwd, log_path):
        self.log_path = log_path
        self.log = open(log_path, "w")  # noqa: SIM115 - closed in close()
        self.process = subprocess.Popen(
            [sys.executable, "-c", WORKER],
            env=env,
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )

    def measure(self, page, seconds):
        name, path, expected = page
        self.process.stdin.write(json.dumps([name, harness.api_gateway_event(path), expected, seconds]) + "\n")
        self.process.stdin.flush()
        for line in self.process.stdout:  # Zappa's handler prints to stdout too
            if line.startswith("RESULT "):
                return json.loads(line.removeprefix("RESULT "))
        self.close()
        raise RuntimeError(f"{name}: the benchmark process failed:\n{Path(self.log_path).read_text()[-3000:]}")

    def close(self):
        if self.process.poll() is None:
            self.process.stdin.close()
            self.process.wait(30)
        self.log.close()


def measure(app, bare, seconds):
    """Each page between two runs of the bare app; returns (pages, bare runs), each page with its reference."""
    for page in PAGES:
        app.measure(page, WARM_UP_SECONDS)
    bare.measure(BARE_PAGE, WARM_UP_SECONDS)
    bare_runs = [bare.measure(BARE_PAGE, seconds)]
    pages = []
    for page in PAGES:
        row = app.measure(page, seconds)
        bare_runs.append(bare.measure(BARE_PAGE, seconds))
        row["reference_rps"] = (bare_runs[-2]["rps"] + bare_runs[-1]["rps"]) / 2
        row["reference_calls"] = (bare_runs[-2]["calls"] + bare_runs[-1]["calls"]) / 2
        pages.append(row)
    return pages, bare_runs


def _row(row, ratio, per_call):
    operations = ", ".join(f"{name} x{count / row['requests']:g}" for name, count in row["operations"].items())
    return (
        f"  {row['name']:10} {row['requests']:8d} {row['rps']:8.1f} {row['p50'] * 1000:8.1f}"
        f" {row['p95'] * 1000:8.1f} {ratio:6.2f}x {per_call:7.2f}x  {row['calls']:g} ({operations})"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="how long to loop on each page")
    parser.add_argument("--stage", default="dev")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as work, harness.dynamodb_local() as endpoint:
        work = Path(work)
        env, bare_dir, bare_env = harness.both_apps(work, args.stage, endpoint)
        app = Worker(env, harness.ROOT, work / "app.log")
        bare = Worker(bare_env, bare_dir, work / "bare.log")
        try:
            pages, bare_runs = measure(app, bare, args.seconds)
        finally:
            app.close()
            bare.close()

    print(f"Warm requests through zappa.handler.lambda_handler against DynamoDB Local ({args.seconds:g} s per page)")
    print(
        f"  {'page':10} {'requests':>8} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'x bare':>7} {'per call':>8}"
        "  DynamoDB calls per request"
    )
    ok = True
    for row in pages:
        ratio = row["rps"] / row["reference_rps"]
        print(_row(row, ratio, ratio * row["calls"] / row["reference_calls"]))
        ok = ok and row["calls"] <= 2 and set(row["operations"]) <= READ_OPERATIONS
    bare_rps = [run["rps"] for run in bare_runs]
    print(
        _row(
            {
                "name": "bare app",
                "requests": sum(run["requests"] for run in bare_runs),
                "rps": statistics.mean(bare_rps),
                "p50": statistics.median(run["p50"] for run in bare_runs),
                "p95": statistics.median(run["p95"] for run in bare_runs),
                "calls": statistics.mean(run["calls"] for run in bare_runs),
                "operations": dict(sum((Counter(run["operations"]) for run in bare_runs), Counter())),
            },
            1.0,
            1.0,
        )
    )
    print(
        f"  Reference: bare Django + PynamoDB + boto3 (one GetItem per request), run {len(bare_runs)} times between"
        f" the pages: {min(bare_rps):.0f}-{max(bare_rps):.0f} req/s."
    )
    print("  x bare: the page's req/s over the mean of the bare app's runs before and after it.")
    print("          0.50x: a request takes twice the bare app's time.")
    print("  per call: x bare times the page's DynamoDB calls per request (the bare app makes one).")
    print("          1.00x: the page costs what the bare app costs per DynamoDB call.")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
