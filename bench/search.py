"""Benchmark: the search index at 1,000 and 10,000 posts: its size, its build, its load, and warm queries.

    .venv/bin/python bench/search.py [--sizes 1000,10000] [--queries 300]

The posts are generated with the size and shape of real ones: a title of
4-9 words, an excerpt of about 25, 1-4 tags out of 60, and a Markdown body
of about 2.5 KB (the size the sitemap's figures use) with headings, links,
lists and a photo, its words drawn from a 30,000-word vocabulary with
Zipf-like frequencies (as English text has: a few words everywhere, most
words rare), so the number of distinct terms and the posting lists' lengths
grow as they would. Everything runs in this process, on the same code a
rebuild and a search run (`posts.search_index`, `posts.search`): S3 and
DynamoDB are not in the figures (the DynamoDB side is given as the Queries
and read capacity a rebuild's reads take, computed from the posts' sizes).

For each size:

- index size, gzipped (what S3 stores and a cold instance downloads) and as
  JSON, against the reference of the posts' own text (title, excerpt,
  tags, body) gzipped: "x text" is the index over the text it indexes;
- build time (terms, postings, JSON, gzip: the CPU a rebuild spends after
  its Queries), against the reference of serialising the same posts as
  JSON and gzipping them, measured in the same run: "x dump" is what
  indexing costs over merely writing the posts out;
- load time (gunzip, JSON, the in-memory index: the first search of an
  instance, after its GetObject);
- warm queries (1 to 3 words, rare to common, the last one a prefix in a
  third of them): p50 and p95 of `posts.search.search`, results and
  highlighting included, against the reference of the naive search a blog
  without an index would do (a case-insensitive substring test of each
  word over every post's text, in memory): "x scan" under 1 means the
  index is faster.

The machines are noisy: each timing is the median of several runs
(`--repeat`), and the ratios are what to compare between runs. Figures,
not assertions: it exits 0 unless the code under test fails.
"""

import argparse
import gzip
import itertools
import json
import math
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from posts.search_text import STOP_WORDS  # noqa: E402 - after the path tweak above

VOCABULARY_SIZE = 30_000
TAGS = [f"topic-{n}" for n in range(60)]
SYLLABLES = "ka lo mi re sa tu ven dor pli stra que nix bar fel gon hal jur kem lin mor nep pod rix sul tav".split()  # noqa: SIM905

PAGE_BYTES = 1024 * 1024  # DynamoDB reads at most 1 MB per Query page
RCU_BYTES = 4096  # one read capacity unit: 4 KB, strongly consistent; half for an eventually consistent read


def _vocabulary(rng):
    words = set()
    while len(words) < VOCABULARY_SIZE:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 4))))
    ordered = sorted(words)
    rng.shuffle(ordered)
    # The commonest words of real text are stop words, which indexing drops.
    ordered[: len(STOP_WORDS)] = sorted(STOP_WORDS)
    weights = [1 / (rank + 1) ** 1.07 for rank in range(len(ordered))]
    return ordered, list(itertools.accumulate(weights))


def _words(rng, vocabulary, count):
    return rng.choices(vocabulary[0], cum_weights=vocabulary[1], k=count)


def _sentence(rng, vocabulary, count):
    words = _words(rng, vocabulary, count)
    return " ".join(words).capitalize() + "."


def _body(rng, vocabulary, target=2500):
    parts = []
    while sum(len(part) for part in parts) < target:
        kind = rng.random()
        if kind < 0.1:
            parts.append(f"## {_sentence(rng, vocabulary, 4)[:-1]}")
        elif kind < 0.2:
            parts.append("\n".join(f"- {_sentence(rng, vocabulary, 6)}" for _ in range(3)))
        elif kind < 0.25:
            photo = f"media/originals/2026/11/{rng.randrange(10**6)}.jpg"
            parts.append(f"![{_sentence(rng, vocabulary, 3)}](photo:{photo})")
        else:
            link = f"[{' '.join(_words(rng, vocabulary, 2))}](https://example.com/{rng.randrange(10**6)})"
            parts.append(" ".join(_sentence(rng, vocabulary, rng.randint(8, 20)) for _ in range(3)) + " " + link)
    return "\n\n".join(parts)


def corpus(size, seed=2026):
    rng = random.Random(seed)
    vocabulary = _vocabulary(rng)
    start = datetime(2026, 11, 30, tzinfo=UTC)
    posts = [
        SimpleNamespace(
            slug=f"post-{n}",
            title=_sentence(rng, vocabulary, rng.randint(4, 9))[:-1],
            excerpt=_sentence(rng, vocabulary, 25),
            tags=rng.sample(TAGS, rng.randint(1, 4)),
            author="Editor",
            publish_at=start - timedelta(hours=n * 7),
            cover_image=f"media/originals/2026/11/cover-{n}.jpg",
            cover_alt="A cover photo",
            body=_body(rng, vocabulary),
        )
        for n in range(size)
    ]
    return posts, vocabulary


def queries(vocabulary, count, seed=7):
    """Reader-like queries: 1-3 topical words (ranks 50 to 20,000, evenly on a log scale), a third ending in a
    word still being typed."""
    rng = random.Random(seed)
    ordered = vocabulary[0]
    found = []
    for _ in range(count):
        ranks = [int(math.exp(rng.uniform(math.log(50), math.log(20_000)))) for _ in range(rng.randint(1, 3))]
        words = [ordered[rank] for rank in ranks]
        text = " ".join(words)
        if rng.random() < 1 / 3 and len(words[-1]) > 4:
            text = text[: -rng.randint(1, 2)]
        found.append(text)
    return found


def _timed(function, repeat):
    times = []
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def _percentile(values, fraction):
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * fraction) - 1)]


def _raw(post):
    return {
        "slug": post.slug,
        "title": post.title,
        "excerpt": post.excerpt,
        "tags": post.tags,
        "author": post.author,
        "publish_at": post.publish_at.isoformat(),
        "cover_image": post.cover_image,
        "cover_alt": post.cover_alt,
        "body": post.body,
    }


def measure(size, query_count, repeat):
    from posts import search, search_index

    posts, vocabulary = corpus(size)
    texts = [f"{p.title}\n{p.excerpt}\n{' '.join(p.tags)}\n{p.body}".casefold() for p in posts]
    text_gz = len(gzip.compress("\n".join(texts).encode(), 6))
    raw_items = [json.dumps(_raw(post)).encode() for post in posts]
    dump_time, _ = _timed(lambda: gzip.compress(json.dumps([_raw(p) for p in posts]).encode(), 6), repeat)
    build_time, body = _timed(lambda: search_index.encode(search_index.build(posts)), repeat)
    json_bytes = len(gzip.decompress(body))
    load_time, loaded = _timed(lambda: search.SearchIndex(search_index.decode(body)), repeat)

    search._cache = SimpleNamespace(get=lambda: loaded)  # the warm instance's copy
    texts_queries = queries(vocabulary, query_count)
    index_times, scan_times, hits = [], [], []
    for text in texts_queries:
        query = search.parse_query(text)
        started = time.perf_counter()
        results = search.search(query)
        index_times.append(time.perf_counter() - started)
        hits.append(results.total)
        words = [word.casefold() for word in text.split()]
        started = time.perf_counter()
        [number for number, blob in enumerate(texts) if any(word in blob for word in words)][:10]
        scan_times.append(time.perf_counter() - started)
    search.forget_index()

    item_bytes = sum(len(item) for item in raw_items)
    return {
        "size": size,
        "terms": len(loaded.postings),
        "gz": len(body),
        "json": json_bytes,
        "text_gz": text_gz,
        "build": build_time,
        "dump": dump_time,
        "load": load_time,
        "p50": statistics.median(index_times),
        "p95": _percentile(index_times, 0.95),
        "scan_p50": statistics.median(scan_times),
        "scan_p95": _percentile(scan_times, 0.95),
        "hits": statistics.median(hits),
        "queries": -(-item_bytes // PAGE_BYTES),
        "rcu": sum(-(-len(item) // RCU_BYTES) for item in raw_items) / 2,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="numbers of posts, comma-separated")
    parser.add_argument("--queries", type=int, default=300, help="warm queries per size")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each build and load timing (median)")
    args = parser.parse_args()

    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "myblog.settings")
    django.setup()

    rows = [measure(int(size), args.queries, args.repeat) for size in args.sizes.split(",")]
    mb = 1024 * 1024
    print("Search index (posts.search_index) and warm queries (posts.search), in process")
    print(
        f"  {'posts':>6} {'terms':>8} {'gz MB':>7} {'JSON MB':>8} {'x text':>7} {'build s':>8} {'x dump':>7}"
        f" {'load s':>7} {'p50 ms':>7} {'p95 ms':>7} {'x scan':>13} {'rebuild reads':>22}"
    )
    for row in rows:
        print(
            f"  {row['size']:>6} {row['terms']:>8} {row['gz'] / mb:>7.2f} {row['json'] / mb:>8.2f}"
            f" {row['gz'] / row['text_gz']:>6.2f}x {row['build']:>8.2f} {row['build'] / row['dump']:>6.1f}x"
            f" {row['load']:>7.2f} {row['p50'] * 1000:>7.2f} {row['p95'] * 1000:>7.2f}"
            f" {row['p50'] / row['scan_p50']:>5.2f}/{row['p95'] / row['scan_p95']:.2f}x"
            f" {row['queries']:>5} Queries {row['rcu']:>7.0f} RCU"
        )
    print("  x text: gzipped index over the gzipped text it indexes (title, excerpt, tags, body).")
    print("  x dump: build time over serialising the same posts as JSON + gzip, measured in the same run.")
    print("  load: gunzip + JSON + the in-memory index, the first search of an instance after its GetObject.")
    print("  p50/p95: warm `search()` (ranking, cards, highlighting), 1-3 words, a third ending in a prefix.")
    print("  x scan: p50/p95 over a naive substring scan of every post's text in memory (below 1: faster).")
    print("  rebuild reads: the Query pages (1 MB each) and read capacity (eventually consistent) of its reads.")
    medians = ", ".join(f"{row['size']} posts: {row['hits']:g}" for row in rows)
    print(f"  median results per query: {medians}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
