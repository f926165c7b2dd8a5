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
a page makes more DynamoDB calls than it may (two; the post page three, the
third for its related posts) or any call other than GetItem,
Query and BatchGetItem.

Then the sitemap at scale: --sitemap-posts live posts of realistic size
(2.5 KB bodies) are added, and the sitemap index and every child sitemap
are fetched through the handler, each Query asked for its consumed
capacity (ReturnConsumedCapacity): the read cost of each page, beside what
one Query of the published index (what the sitemap read before) costs and
lists. DynamoDB Local applies its 1 MB cap per Query to whole items even on
the lean sitemap index (AWS applies it to what the index holds, about 150
bytes a post), so its child sitemaps are shorter than AWS's; the consumed
capacity it reports is the index's.
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
    ("RSS feed", "/feeds/rss.xml", "<rss"),
    ("Atom feed", "/feeds/atom.xml", "<feed"),
    ("JSON Feed", "/feed.json", '"content_html"'),
    ("sitemap", "/sitemap.xml", "<sitemapindex"),
    ("sitemap 1", "/sitemaps/posts.xml", "/posts/post-1/"),
]
BARE_PAGE = ("bare app", "/", "hello")
READ_OPERATIONS = {"GetItem", "Query", "BatchGetItem"}
# The most DynamoDB calls a page may make (2 unless named).
MAX_CALLS = {"post page": 3}
WARM_UP_SECONDS = 1.0
# Targets: every page at least this "per call" ratio; the feeds' median under this many ms.
MIN_PER_CALL = 0.35
MAX_FEED_P50_MS = 30
FEEDS = {"RSS feed", "Atom feed", "JSON Feed"}

# A warm "Lambda instance": reads one request per line (name, event, expected
# text, seconds), serves the event in a loop for that long, answers one RESULT line.
WORKER = (
    """
import base64, statistics, time
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
        body = response["body"]
        if response.get("isBase64Encoded"):  # a type Zappa does not treat as text (application/feed+json)
            body = base64.b64decode(body).decode()
        if response["statusCode"] != 200 or expected not in body:
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


# The sitemap at scale, in a warm process of its own: seeds posts of realistic
# size, then reads the sitemap index and each child sitemap through the
# handler, recording each Query's consumed capacity; answers one RESULT line.
SITEMAP_AT_SCALE = (
    """
import re
"""
    + harness.HANDLER_PROBE
    + """
consumed = []
measured_call = base.Connection._make_api_call

def measuring(self, operation, kwargs):
    if operation == "Query":
        kwargs = {**kwargs, "ReturnConsumedCapacity": "TOTAL"}
    response = measured_call(self, operation, kwargs)
    if operation == "Query":
        consumed.append((kwargs.get("IndexName"), response["ConsumedCapacity"]["CapacityUnits"], response["Count"]))
    return response

base.Connection._make_api_call = measuring
POSTS = int(sys.argv[1])
sys.path.insert(0, sys.argv[2])
from harness import api_gateway_event

def get(path):
    consumed.clear()
    response = lambda_handler(api_gateway_event(path), Context())
    if response["statusCode"] != 200:
        raise SystemExit(f"{path}: unexpected answer {response['statusCode']}")
    return response["body"], list(consumed)

get("/robots.txt")  # sets Django up
from datetime import timedelta
from django.utils import timezone
from posts.models import Post

now = timezone.now()
body = ("A paragraph of an ordinary post, with a [link](https://example.com) and some *emphasis*. " * 28)[:2500]
with Post.batch_write() as batch:
    for number in range(POSTS):
        batch.save(Post(
            f"scale-{number:05d}", title=f"Post at scale {number}", body=body, excerpt="An excerpt of the post.",
            tags=["aws", "python"] if number % 2 else ["django"], status="published", feed="published",
            publish_at=now - timedelta(days=30, minutes=number), author="Ada", created_at=now,
            updated_at=now, version=1,
        ))
# What the sitemap read before: one Query of the published index (whole posts), 1,000 asked for.
consumed.clear()
next(Post.published_index.query("published", scan_index_forward=False, limit=1000, page_size=1000,
     attributes_to_get=["slug", "publish_at", "updated_at", "tags"]).page_iter)
[(_, before_rcu, before_count)] = consumed
index, index_queries = get("/sitemap.xml")
pages = []
for path in re.findall(r"<loc>https?://[^/<]+(/sitemaps/posts[^<]*)</loc>", index):
    text, queries = get(path)
    pages.append({"posts": text.count("<url>"), "queries": len(queries), "rcu": sum(q[1] for q in queries)})
live = sum(1 for _ in Post.sitemap_index.query("published"))
print("RESULT", json.dumps({
    "live": live,
    "before": {"posts": before_count, "rcu": before_rcu},
    "index": {"queries": len(index_queries), "rcu": sum(q[1] for q in index_queries)},
    "pages": pages,
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


def sitemap_at_scale(env, posts, log_path):
    """Seed `posts` posts of realistic size and read the whole sitemap: its cost per page."""
    with open(log_path, "w") as log:
        result = subprocess.run(
            [sys.executable, "-c", SITEMAP_AT_SCALE, str(posts), str(Path(__file__).resolve().parent)],
            env=env,
            cwd=harness.ROOT,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    for line in result.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line.removeprefix("RESULT "))
    raise RuntimeError(f"the sitemap benchmark failed:\n{Path(log_path).read_text()[-3000:]}")


def print_sitemap(result):
    pages = result["pages"]
    listed = sum(page["posts"] for page in pages)
    before = result["before"]
    print()
    print(f"Sitemap at scale: {result['live']} live posts (2.5 KB bodies), read through the handler")
    print(
        f"  before: one Query of the published index (whole posts) listed {before['posts']} posts"
        f" for {before['rcu']:g} RCU"
    )
    print(
        f"  index /sitemap.xml: {result['index']['queries']} Query (one per child sitemap),"
        f" {result['index']['rcu']:g} RCU"
    )
    print(f"  {len(pages)} child sitemaps listing {listed} posts; per child sitemap:")
    print(f"  {'child':>7} {'posts':>7} {'queries':>8} {'RCU':>7}")
    for number, page in enumerate(pages, 1):
        print(f"  {number:7d} {page['posts']:7d} {page['queries']:8d} {page['rcu']:7g}")
    ok = listed == result["live"] and all(page["queries"] == 1 for page in pages)
    print(f"  every live post listed, one Query per child sitemap: {'yes' if ok else 'NO'}")
    print("  DynamoDB Local stops each Query at 1 MB of whole items, even on the lean index; AWS stops at 1 MB")
    print("  of what the index holds (about 150 B a post), so there a child lists up to MYBLOG_SITEMAP_PAGE_SIZE.")
    return ok


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
    parser.add_argument("--sitemap-posts", type=int, default=3000, help="posts added for the sitemap at scale")
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
        sitemap = sitemap_at_scale(env, args.sitemap_posts, work / "sitemap.log")

    print(f"Warm requests through zappa.handler.lambda_handler against DynamoDB Local ({args.seconds:g} s per page)")
    print(
        f"  {'page':10} {'requests':>8} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'x bare':>7} {'per call':>8}"
        "  DynamoDB calls per request"
    )
    ok = True
    missed = []
    for row in pages:
        ratio = row["rps"] / row["reference_rps"]
        per_call = ratio * row["calls"] / row["reference_calls"]
        print(_row(row, ratio, per_call))
        ok = ok and row["calls"] <= MAX_CALLS.get(row["name"], 2) and set(row["operations"]) <= READ_OPERATIONS
        if per_call < MIN_PER_CALL:
            missed.append(f"{row['name']}: {per_call:.2f}x per call (target >= {MIN_PER_CALL}x)")
        if row["name"] in FEEDS and row["p50"] * 1000 >= MAX_FEED_P50_MS:
            missed.append(f"{row['name']}: p50 {row['p50'] * 1000:.1f} ms (target < {MAX_FEED_P50_MS} ms)")
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
    print(
        f"  Targets: every page >= {MIN_PER_CALL}x per call, feeds p50 < {MAX_FEED_P50_MS} ms:"
        f" {'met' if not missed else 'missed: ' + '; '.join(missed)}"
    )
    ok = print_sitemap(sitemap) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
