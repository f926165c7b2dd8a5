"""Benchmark: making renditions with `photos.renditions` vs pyvips' best recipe.

    .venv/bin/python bench/thumbnails.py [--repeat 5] [--corpus DIR]

Generates its corpus once (photographic-like content: octaves of noise over
gradients, with camera EXIF including GPS), then, for each image, times
making every rendition (each width in `photos.renditions.WIDTHS`, JPEG and
WebP) both ways in the same run, each in its own subprocess so that peak
memory (ru_maxrss) is that image's alone:

- ours: `photos.renditions.render(data)`;
- pyvips, single-threaded (VIPS_CONCURRENCY=1, `cache_set_max(0)`):
  `thumbnail_buffer` at the widest width (shrink-on-load, auto-rotate), the
  result copied to memory, each narrower width shrunk from it, saved with
  the same formats and quality settings as ours (metadata stripped, alpha
  flattened onto white for JPEG).

The time is CPU time (user + system, all threads: steadier than wall time
on a shared machine), the median of --repeat runs after one warm-up run.
The pyvips recipe uses the same quality settings and libvips' default WebP
effort; a second pyvips column uses our WebP `method` as its effort, to show
the engines like for like. Targets (against the recipe): ours <= pyvips on
every image, <= 0.8x on the landscape JPEGs, and a peak under 150 MB. Exits
1 when a target is missed. pyvips and its binary wheel
are installed into this virtualenv from bench/requirements.txt if missing.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_CORPUS = ROOT / "bench" / "out" / "corpus"
PEAK_LIMIT_MB = 150
LANDSCAPE_RATIO_LIMIT = 0.8

# name, size (stored), format, EXIF orientation, landscape JPEG target applies
CORPUS = [
    ("photo-12mp.jpg", (4000, 3000), "JPEG", 1, True),
    ("photo-24mp.jpg", (6000, 4000), "JPEG", 1, True),
    ("photo-12mp-orientation-6.jpg", (4000, 3000), "JPEG", 6, False),
    ("alpha-2000.png", (2000, 2000), "PNG", 1, False),
]


# --- corpus -------------------------------------------------------------------


def _channel(size, seed):
    """Photographic-looking 8-bit channel: smooth structure, edges and grain."""
    from PIL import Image, ImageFilter

    width, height = size
    random_state = seed * 7919
    layers = []
    for divisor, sigma in ((400, 90), (120, 70), (30, 45)):
        small = (max(2, width // divisor), max(2, height // divisor))
        noise = Image.effect_noise(small, sigma + random_state % 13)
        layers.append(noise.resize(size, Image.Resampling.BICUBIC))
    gradient = Image.linear_gradient("L").rotate(seed * 37 % 360, resample=Image.Resampling.BICUBIC)
    gradient = gradient.resize(size, Image.Resampling.BICUBIC)
    image = Image.blend(layers[0], layers[1], 0.45)
    image = Image.blend(image, layers[2], 0.3)
    image = Image.blend(image, gradient, 0.35)
    # Some hard edges (objects), then sensor grain.
    edges = layers[2].point(lambda v: 255 if v > 150 else 0).filter(ImageFilter.GaussianBlur(1.2))
    image = Image.blend(image, edges, 0.12)
    grain = Image.effect_noise(size, 18)
    return Image.blend(image, grain, 0.12)


def _exif(orientation):
    from PIL import Image

    exif = Image.Exif()
    exif[0x010F] = "Camera Maker"  # Make
    exif[0x0110] = "Model 1"  # Model
    exif[0x0112] = orientation
    exif[0x0132] = "2026:11:20 10:00:00"  # DateTime
    gps = {1: "N", 2: (51.0, 30.0, 12.5), 3: "W", 4: (0.0, 7.0, 39.9)}
    exif[0x8825] = gps
    return exif


def make_corpus(directory):
    from PIL import Image

    directory.mkdir(parents=True, exist_ok=True)
    for index, (name, size, fmt, orientation, _) in enumerate(CORPUS):
        path = directory / name
        if path.exists():
            continue
        print(f"generating {name} ...", file=sys.stderr)
        bands = [_channel(size, index * 3 + band + 1) for band in range(3)]
        image = Image.merge("RGB", bands)
        if fmt == "PNG":
            alpha = Image.radial_gradient("L").resize(size, Image.Resampling.BICUBIC)
            alpha = alpha.point(lambda v: 255 - v)
            image.putalpha(alpha)
            image.save(path, "PNG")
        else:
            image.save(path, "JPEG", quality=92, exif=_exif(orientation))


# --- workers (run in subprocesses) ----------------------------------------------


def _render_ours(data):
    from photos import renditions

    return sum(len(r.data) for r in renditions.render(data).renditions)


def _render_vips(data, effort=None):
    import pyvips

    from photos import renditions

    jpeg = renditions.JPEG_OPTIONS
    webp = renditions.WEBP_OPTIONS
    webp_effort = {} if effort is None else {"effort": effort}
    total = 0
    widths = renditions.WIDTHS
    big = pyvips.Image.thumbnail_buffer(data, widths[0], size="down").copy_memory()
    for width in widths:
        image = big if width == big.width else big.resize(width / big.width)
        flat = image.flatten(background=[255, 255, 255]) if image.hasalpha() else image
        total += len(
            flat.jpegsave_buffer(
                Q=jpeg["quality"],
                optimize_coding=jpeg["optimize"],
                interlace=jpeg["progressive"],
                subsample_mode="on",
                keep=pyvips.enums.ForeignKeep.NONE,
            )
        )
        total += len(
            image.webpsave_buffer(
                Q=webp["quality"],
                **webp_effort,
                alpha_q=webp["alpha_quality"],
                keep=pyvips.enums.ForeignKeep.NONE,
            )
        )
    return total


def worker(kind, path, repeat):
    data = Path(path).read_bytes()
    if kind in ("vips", "vips-same-effort"):
        import pyvips

        from photos import renditions

        pyvips.cache_set_max(0)
        effort = renditions.WEBP_OPTIONS["method"] if kind == "vips-same-effort" else None
        render = lambda data: _render_vips(data, effort)  # noqa: E731
    else:
        render = _render_ours
    render(data)  # warm-up: imports, codec tables
    cpu_times, wall_times = [], []
    for _ in range(repeat):
        cpu, wall = time.process_time(), time.perf_counter()
        size = render(data)
        cpu_times.append((time.process_time() - cpu) * 1000)
        wall_times.append((time.perf_counter() - wall) * 1000)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {"ms": statistics.median(cpu_times), "wall_ms": statistics.median(wall_times), "peak_mb": peak_mb}
    print(json.dumps({**result, "bytes": size}))


# --- driver ----------------------------------------------------------------------


def ensure_pyvips():
    try:
        import pyvips  # noqa: F401
    except (ImportError, OSError):
        requirements = ROOT / "bench" / "requirements.txt"
        print(f"installing {requirements} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-r", str(requirements)], check=True)


def measure(kind, path, repeat):
    env = {**os.environ, "VIPS_CONCURRENCY": "1", "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, __file__, "--worker", kind, str(path), "--repeat", str(repeat)],
        capture_output=True,
        text=True,
        env=env,
    )
    if result.returncode:
        sys.exit(f"{kind} failed on {path}:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--worker", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker[0], args.worker[1], args.repeat)
        return 0

    ensure_pyvips()
    make_corpus(args.corpus)
    from photos import renditions

    print(f"widths {list(renditions.WIDTHS)}, JPEG {renditions.JPEG_OPTIONS}, WebP {renditions.WEBP_OPTIONS}")
    print(
        f"CPU ms, median of {args.repeat} runs after a warm-up, one subprocess per image and engine; "
        "pyvips single-threaded with libvips' default WebP effort (the recipe), and at our WebP method (like for like)"
    )
    header = (
        f"{'image':30} {'ours ms':>8} {'vips ms':>8} {'ratio':>6} {'vips=m ms':>9} {'ratio':>6}"
        f" {'ours MB':>8} {'vips MB':>8}  target"
    )
    print(header)
    print("-" * len(header))
    failed = False
    for name, _, _, _, landscape in CORPUS:
        path = args.corpus / name
        ours = measure("ours", path, args.repeat)
        vips = measure("vips", path, args.repeat)
        same = measure("vips-same-effort", path, args.repeat)
        ratio = ours["ms"] / vips["ms"]
        limit = LANDSCAPE_RATIO_LIMIT if landscape else 1.0
        ok = ratio <= limit and ours["peak_mb"] < PEAK_LIMIT_MB
        failed = failed or not ok
        print(
            f"{name:30} {ours['ms']:8.0f} {vips['ms']:8.0f} {ratio:6.2f}"
            f" {same['ms']:9.0f} {ours['ms'] / same['ms']:6.2f}"
            f" {ours['peak_mb']:8.0f} {vips['peak_mb']:8.0f}"
            f"  {'ok' if ok else 'MISSED'} (ratio <= {limit}, peak < {PEAK_LIMIT_MB} MB)"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
