"""Benchmark: making renditions with `photos.renditions` vs pyvips, at equal settings.

    .venv/bin/python bench/thumbnails.py [--repeat 5] [--corpus DIR]

Generates its corpus once, in a process of its own (photographic-like
content: octaves of noise over gradients, with camera EXIF including GPS),
then, for each image, times making every rendition (each width in
`photos.renditions.WIDTHS`, JPEG and WebP) both ways in the same run, each
in its own subprocess:

- ours: `photos.renditions.render(data)`. Resizing: JPEG decoded at a
  reduced size by libjpeg's DCT scaling (Pillow's draft mode), then
  Pillow's bicubic filter to the widest width, and each narrower width a
  2x2 box average (`reduce(2)`) of the one before where it halves, bicubic
  otherwise.
- pyvips, single-threaded (VIPS_CONCURRENCY=1, `cache_set_max(0)`):
  `thumbnail_buffer` at the widest width (shrink-on-load, then libvips'
  default lanczos3 kernel; auto-rotate), the result copied to memory, each
  narrower width `resize`d from it (lanczos3), saved with the same JPEG and
  WebP quality settings as ours (metadata stripped, alpha flattened onto
  white for JPEG).

The headline ratio is at equal settings: pyvips' WebP `effort` set to our
WebP `method`, so both engines do the same encoding work. The second ratio
is against pyvips with libvips' default WebP effort (4), which spends more
time for smaller files: it says how our choice of method compares with
libvips' defaults, not how fast the engines are.

The time is CPU time (user + system, all threads: steadier than wall time
on a shared machine), the median of --repeat runs after one warm-up run.
Peak memory is each worker's own high-water mark (VmHWM of
/proc/self/status), not `ru_maxrss`: Linux carries a parent's maximum RSS
into its children across fork and exec, so ru_maxrss would report the
driver's peak for every row. Targets at equal settings: ours <= 0.8x of
pyvips on every image, and a peak under 150 MB. Exits 1 when a target is
missed. The AVIF rows (`--avif-only` for them alone, no pyvips needed)
sweep AVIF speed and quality per width: bytes against our WebP and JPEG
at equal SSIM (`ssim`: 8x8 block SSIM on luma, Pillow only) and encode
CPU time.
pyvips and its binary wheel are installed into this virtualenv from
bench/requirements.txt if missing.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_CORPUS = ROOT / "bench" / "out" / "corpus"
PEAK_LIMIT_MB = 150
RATIO_LIMIT = 0.8

# name, size (stored), format, EXIF orientation
CORPUS = [
    ("photo-12mp.jpg", (4000, 3000), "JPEG", 1),
    ("photo-24mp.jpg", (6000, 4000), "JPEG", 1),
    ("photo-12mp-orientation-6.jpg", (4000, 3000), "JPEG", 6),
    ("alpha-2000.png", (2000, 2000), "PNG", 1),
]
# The images the AVIF settings are measured on (the rotated copy adds nothing).
SWEEP_CORPUS = ("photo-12mp.jpg", "photo-24mp.jpg", "alpha-2000.png")


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
    for index, (name, size, fmt, orientation) in enumerate(CORPUS):
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


def _render_ours(data, formats=None):
    from photos import renditions

    return sum(len(r.data) for r in renditions.render(data, formats=formats or renditions.FORMATS).renditions)


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


def own_peak_mb():
    """This process's own peak resident memory (VmHWM), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def worker(kind, path, repeat):
    data = Path(path).read_bytes()
    if kind in ("vips", "vips-same-effort"):
        import pyvips

        from photos import renditions

        pyvips.cache_set_max(0)
        effort = renditions.WEBP_OPTIONS["method"] if kind == "vips-same-effort" else None
        render = lambda data: _render_vips(data, effort)  # noqa: E731
    elif kind == "ours-jpeg-webp":
        render = lambda data: _render_ours(data, ("jpeg", "webp"))  # noqa: E731
    else:
        render = _render_ours
    render(data)  # warm-up: imports, codec tables
    cpu_times, wall_times = [], []
    for _ in range(repeat):
        cpu, wall = time.process_time(), time.perf_counter()
        size = render(data)
        cpu_times.append((time.process_time() - cpu) * 1000)
        wall_times.append((time.perf_counter() - wall) * 1000)
    peak_mb = own_peak_mb()
    result = {"ms": statistics.median(cpu_times), "wall_ms": statistics.median(wall_times), "peak_mb": peak_mb}
    print(json.dumps({**result, "bytes": size}))


# --- AVIF settings by measurement (run in a subprocess per image) ---------------

AVIF_SPEEDS = (6, 7, 8, 9, 10)
AVIF_QUALITIES = tuple(range(30, 91, 5))


def ssim(reference, image, block=8):
    """Mean SSIM of `image` against `reference`, on luma, over 8x8 blocks (Pillow only, no numpy).

    The classic SSIM of Wang et al. (C1 = (0.01 * 255)^2, C2 = (0.03 * 255)^2)
    with non-overlapping 8x8 windows instead of a sliding Gaussian one: the
    block means come from Pillow's `reduce` on float images. Transparent
    images are compared as a reader sees them on the white page (flattened).
    """
    import array

    from PIL import ImageMath

    from photos.renditions import _flat

    x = _flat(reference).convert("L").convert("F")
    y = _flat(image.convert(reference.mode) if image.mode != reference.mode else image).convert("L").convert("F")
    product = ImageMath.lambda_eval
    xx = product(lambda m: m["a"] * m["a"], a=x)
    yy = product(lambda m: m["a"] * m["a"], a=y)
    xy = product(lambda m: m["a"] * m["b"], a=x, b=y)
    width, height = x.size
    box = (0, 0, width - width % block, height - height % block)
    mx, my, mxx, myy, mxy = (im.reduce(block, box) for im in (x, y, xx, yy, xy))
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    index = product(
        lambda m: (
            ((2 * m["mx"] * m["my"] + c1) * (2 * (m["mxy"] - m["mx"] * m["my"]) + c2))
            / (
                (m["mx"] * m["mx"] + m["my"] * m["my"] + c1)
                * ((m["mxx"] - m["mx"] * m["mx"]) + (m["myy"] - m["my"] * m["my"]) + c2)
            )
        ),
        mx=mx,
        my=my,
        mxx=mxx,
        myy=myy,
        mxy=mxy,
    )
    values = array.array("f", index.tobytes())
    return sum(values) / len(values)


def _encoded(image, fmt, options):
    """(bytes, CPU ms, SSIM against `image`) of `image` saved as `fmt` with `options`."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    source = image
    if fmt == "JPEG":
        from photos.renditions import _flat

        source = _flat(image)
    started = time.process_time()
    source.save(buffer, fmt, **options)
    ms = (time.process_time() - started) * 1000
    decoded = Image.open(io.BytesIO(buffer.getvalue()))
    decoded.load()
    return {"bytes": len(buffer.getvalue()), "ms": ms, "ssim": ssim(image, decoded)}


def sweep_worker(path):
    """Every width of one photo: our JPEG and WebP, and AVIF at each speed and quality."""
    from photos import renditions

    _, _, images = renditions.resized(Path(path).read_bytes())
    rows = []
    for image in images:
        image.info = {}
        row = {
            "width": image.width,
            "height": image.height,
            "jpeg": _encoded(image, "JPEG", renditions.JPEG_OPTIONS),
            "webp": _encoded(image, "WEBP", renditions.WEBP_OPTIONS),
            "avif": {},
        }
        for speed in AVIF_SPEEDS:
            for quality in AVIF_QUALITIES:
                options = {**renditions.AVIF_OPTIONS, "speed": speed, "quality": quality}
                row["avif"][f"{speed}/{quality}"] = _encoded(image, "AVIF", options)
        rows.append(row)
    print(json.dumps(rows))


def bytes_at(points, target):
    """Bytes where the (ssim, bytes) curve of one speed reaches SSIM `target` (linear between qualities)."""
    points = sorted(points)
    for (s0, b0), (s1, b1) in zip(points, points[1:], strict=False):
        if s0 <= target <= s1:
            return b0 + (b1 - b0) * ((target - s0) / (s1 - s0) if s1 > s0 else 0)
    return None  # out of the swept range


def avif_report(corpus, names):
    """The AVIF rows: bytes against WebP and JPEG at equal SSIM, and encode time, per width."""
    from photos import renditions

    results = {}
    for name in names:
        completed = subprocess.run(
            [sys.executable, __file__, "--sweep-worker", str(corpus / name)],
            capture_output=True,
            text=True,
            env={**os.environ, "OMP_NUM_THREADS": "1"},
        )
        if completed.returncode:
            sys.exit(f"AVIF sweep failed on {name}:\n{completed.stderr}")
        results[name] = json.loads(completed.stdout.strip().splitlines()[-1])
    print()
    print(
        "AVIF by speed. '=WebP' and '=JPEG': AVIF bytes at equal SSIM, width by width (interpolated over "
        "qualities), summed over every width of every image, against our WebP's and JPEG's. 'q>=WebP' and "
        "'q>=JPEG': the lowest single quality whose SSIM reaches theirs at every width of every image (the "
        "strictest reading: one rendition a hair below decides it), with its bytes ratio. CPU ms over all the "
        "renditions at the 'q>=WebP' quality (single-threaded encoder)"
    )
    header = f"{'speed':>5} {'=WebP':>6} {'=JPEG':>6} {'q>=WebP':>7} {'ratio':>6} {'q>=JPEG':>7} {'ratio':>6}"
    header += f" {'AVIF ms':>8} {'WebP ms':>8}"
    print(header)
    print("-" * len(header))
    rows = [row for name in names for row in results[name]]
    for speed in AVIF_SPEEDS:
        equal = []
        for against in ("webp", "jpeg"):
            curves = [
                [(v["ssim"], v["bytes"]) for k, v in row["avif"].items() if k.startswith(f"{speed}/")] for row in rows
            ]
            at = [bytes_at(curve, row[against]["ssim"]) for curve, row in zip(curves, rows, strict=True)]
            reference = sum(row[against]["bytes"] for row in rows)
            equal.append("-" if None in at else f"{sum(at) / reference:.2f}")
        summary = []
        for against in ("webp", "jpeg"):
            fits = [
                q
                for q in AVIF_QUALITIES
                if all(row["avif"][f"{speed}/{q}"]["ssim"] >= row[against]["ssim"] for row in rows)
            ]
            if not fits:
                summary += ["-", "-"]
                continue
            q = fits[0]
            made = sum(row["avif"][f"{speed}/{q}"]["bytes"] for row in rows)
            ratio = made / sum(row[against]["bytes"] for row in rows)
            summary += [str(q), f"{ratio:.2f}"]
        q = int(summary[0]) if summary[0] != "-" else renditions.AVIF_OPTIONS["quality"]
        avif_ms = sum(row["avif"][f"{speed}/{q}"]["ms"] for row in rows)
        webp_ms = sum(row["webp"]["ms"] for row in rows)
        columns = (
            f"{speed:5} {equal[0]:>6} {equal[1]:>6} {summary[0]:>7} {summary[1]:>6} {summary[2]:>7} {summary[3]:>6}"
        )
        print(f"{columns} {avif_ms:8.0f} {webp_ms:8.0f}")
    shipped = f"{renditions.AVIF_OPTIONS['speed']}/{renditions.AVIF_OPTIONS['quality']}"
    print()
    print(
        f"AVIF as shipped ({renditions.AVIF_OPTIONS}), per width: its bytes and SSIM; AVIF bytes at equal SSIM "
        "(interpolated over qualities at the shipped speed) against our WebP and JPEG; encode CPU ms"
    )
    header = (
        f"{'image':30} {'width':>5} {'JPEG B':>8} {'SSIM':>6} {'WebP B':>8} {'SSIM':>6} {'AVIF B':>8} {'SSIM':>6}"
        f" {'=WebP':>6} {'=JPEG':>6} {'JPEG ms':>7} {'WebP ms':>7} {'AVIF ms':>7}"
    )
    print(header)
    print("-" * len(header))
    speed = renditions.AVIF_OPTIONS["speed"]
    for name in names:
        for row in results[name]:
            curve = [(v["ssim"], v["bytes"]) for k, v in row["avif"].items() if k.startswith(f"{speed}/")]
            ratios = []
            for against in ("webp", "jpeg"):
                at = bytes_at(curve, row[against]["ssim"])
                ratios.append(f"{at / row[against]['bytes']:.2f}" if at else "-")
            avif = row["avif"].get(shipped, {"bytes": 0, "ssim": 0, "ms": 0})
            print(
                f"{name:30} {row['width']:5} {row['jpeg']['bytes']:8} {row['jpeg']['ssim']:6.4f}"
                f" {row['webp']['bytes']:8} {row['webp']['ssim']:6.4f} {avif['bytes']:8} {avif['ssim']:6.4f}"
                f" {ratios[0]:>6} {ratios[1]:>6} {row['jpeg']['ms']:7.0f} {row['webp']['ms']:7.0f} {avif['ms']:7.0f}"
            )


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
    parser.add_argument("--make-corpus", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--sweep-worker", metavar="PATH", help=argparse.SUPPRESS)
    parser.add_argument("--avif-only", action="store_true", help="only the AVIF settings rows (no pyvips needed)")
    args = parser.parse_args()
    if args.sweep_worker:
        sweep_worker(args.sweep_worker)
        return 0
    if args.worker:
        worker(args.worker[0], args.worker[1], args.repeat)
        return 0
    if args.make_corpus:
        make_corpus(args.corpus)
        return 0

    # In a process of its own, so the driver stays small (its memory is not the workers').
    subprocess.run([sys.executable, __file__, "--make-corpus", "--corpus", str(args.corpus)], check=True)
    from photos import renditions

    if args.avif_only:
        avif_report(args.corpus, SWEEP_CORPUS)
        return 0
    ensure_pyvips()
    print(
        f"widths {list(renditions.WIDTHS)}, JPEG {renditions.JPEG_OPTIONS}, WebP {renditions.WEBP_OPTIONS}, "
        f"AVIF {renditions.AVIF_OPTIONS}"
    )
    print(
        f"CPU ms, median of {args.repeat} runs after a warm-up, one subprocess per image and engine; "
        f"pyvips single-threaded. 'ours' = JPEG + WebP, the same files pyvips makes; 'equal' = pyvips WebP "
        f"effort {renditions.WEBP_OPTIONS['method']} (our method, the headline); 'default' = libvips' default "
        "WebP effort 4; '+AVIF' = ours making AVIF too, as shipped (its peak is the one held to the target)"
    )
    header = (
        f"{'image':30} {'ours ms':>8} {'equal ms':>8} {'ratio':>6} {'default ms':>10} {'ratio':>6}"
        f" {'+AVIF ms':>8} {'ours MB':>8} {'+AVIF MB':>8} {'vips MB':>8}  target (equal settings)"
    )
    print(header)
    print("-" * len(header))
    failed = False
    for name, *_ in CORPUS:
        path = args.corpus / name
        ours = measure("ours-jpeg-webp", path, args.repeat)
        shipped = measure("ours", path, args.repeat)
        same = measure("vips-same-effort", path, args.repeat)
        default = measure("vips", path, args.repeat)
        ratio = ours["ms"] / same["ms"]
        ok = ratio <= RATIO_LIMIT and shipped["peak_mb"] < PEAK_LIMIT_MB
        failed = failed or not ok
        print(
            f"{name:30} {ours['ms']:8.0f} {same['ms']:8.0f} {ratio:6.2f}"
            f" {default['ms']:10.0f} {ours['ms'] / default['ms']:6.2f}"
            f" {shipped['ms']:8.0f} {ours['peak_mb']:8.0f} {shipped['peak_mb']:8.0f} {same['peak_mb']:8.0f}"
            f"  {'ok' if ok else 'MISSED'} (ratio <= {RATIO_LIMIT}, +AVIF peak < {PEAK_LIMIT_MB} MB)"
        )
    avif_report(args.corpus, SWEEP_CORPUS)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
