"""make bench: the engines, and what a Python user would pick instead, on one job.

    python bench.py [--src build/images/products] [--repeat 3] [--json FILE]
                    [--variants NAME ...] [--no-scaling] [--scaling-sets 9 90 900]
    python bench.py --summarize build/bench-1.json build/bench-2.json ...

Each variant runs in its own process (one Go runtime per process, and no
variant warms another's caches): a warm-up batch, then --repeat timed
batches, every one kept (the JSON has them all; the tables show the median
and the spread). The batches are timed in rounds, one of each variant per
round, so that a change of load on shared cores hits every variant alike.
Reported per variant:

- images/s: files / batch wall time (median, and the range over the batches);
- CPU ms per image: user + system time of the process and of the tool
  processes it waited for (jpegoptim, pngquant), divided by the files: on
  shared cores the robust figure, which wall-clock time is not;
- output size: the bytes of the files written;
- PSNR (dB) against one reference per source: Pillow's LANCZOS resize of the
  full decode (no draft), EXIF-oriented. JPEGs on RGB; PNGs on premultiplied
  RGBA, so that the colour of a transparent pixel (which nobody sees, and
  which quantisers and resizers are free to change) never counts;
- peak RSS of the variant's process (VmHWM; a tool process, pngquant or
  jpegoptim, comes on top of it, one at a time per worker).

Variants: the Python engine (the talk's pipeline: Pillow, then jpegoptim and
pngquant; and in process: Pillow optimize=True plus libimagequant through the
PyPI imagequant binding), pyvips (libvips from pyvips-binary: thumbnail with
shrink-on-load, jpegsave with optimize_coding, pngsave with palette=True;
the same output sizes and the same atomic writes, a benchmark variant only),
and the Go engine (subprocess tools, and in process). Then the scaling runs:
the Go engine and the talk's pipeline on 9, 90 and 900 images.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
WIDTH = HEIGHT = 800
QUALITY = 85
NCPU = os.cpu_count() or 1
W = 2  # the workers of the comparisons (the "2 workers")

# name -> how to run it: kind "piuma" (optimize_dir keyword arguments) or
# "pyvips" (workers). Every variant runs with optimize=False; those in
# OPTIMISED also with optimize=True.
VARIANTS: dict[str, dict] = {
    "python, 1 worker": dict(kind="piuma", engine="python", workers=1, draft=False),
    f"python + draft, {W} threads": dict(kind="piuma", engine="python", workers=W, draft=True),
    # The talk's pipeline with pngquant's OpenMP team cut to one thread (it
    # spins on idle cores, while the thread pool already uses them).
    f"python + draft, {W} threads, OMP_NUM_THREADS=1": dict(
        kind="piuma", engine="python", workers=W, draft=True, env={"OMP_NUM_THREADS": "1"}),
    f"pyvips, {W} threads": dict(kind="pyvips", workers=W),
    "go image/jpeg, 1 worker": dict(kind="piuma", engine="go", go_jpeg="image/jpeg", workers=1),
    f"go image/jpeg, {W} workers": dict(kind="piuma", engine="go", go_jpeg="image/jpeg",
                                        workers=W),
    "go libjpeg-turbo, 1 worker": dict(kind="piuma", engine="go", workers=1),
    f"go libjpeg-turbo, {W} workers": dict(kind="piuma", engine="go", workers=W),
    # pyvips's resize kernel (and the reference's): to compare at equal PSNR
    f"go libjpeg-turbo, {W} workers, lanczos": dict(kind="piuma", engine="go", workers=W,
                                                    resample="lanczos"),
}
TALK = f"python + draft, {W} threads"
TALK_OMP1 = f"python + draft, {W} threads, OMP_NUM_THREADS=1"
GO = f"go libjpeg-turbo, {W} workers"
VIPS = f"pyvips, {W} threads"
GO_LANCZOS = f"go libjpeg-turbo, {W} workers, lanczos"
# (variant, optimiser) pairs run with the optimisers on: "tools" is jpegoptim
# and pngquant as subprocesses, "in-process" the library calls.
OPTIMISED = [(TALK, "tools"), (TALK_OMP1, "tools"), (TALK, "in-process"), (VIPS, "in-process"),
             (GO, "tools"), (GO, "in-process"), (GO_LANCZOS, "in-process")]
# The scaling runs: the Go engine (in process) and the talk's pipeline.
SCALING = [(GO, "in-process"), (TALK, "tools")]


def cpu_seconds() -> float:
    """CPU time of every thread of this process and of its finished children
    (jpegoptim, pngquant), user + system."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


# ------------------------------------------------------------ pyvips variant

def vips_batch(src: str, dst: str, workers: int, optimize: bool) -> list:
    """The job with pyvips, as a Python user would write it: the same walk,
    the same output sizes (piuma's fit rule), the same atomic writes.

    thumbnail() shrinks on load (JPEG DCT scaling, as draft does) and applies
    EXIF orientation. Optimised: jpegsave(optimize_coding=True) and
    pngsave(palette=True) (libimagequant-style quantisation at Q=100,
    effort 7 = libimagequant speed 4, dither 1.0: pngquant's defaults);
    keep="none" is what strip=True is called since libvips 8.15.
    """
    import pyvips
    from piuma._common import FileResult, fit, oriented_size, plan
    from piuma._fsutil import Outputs

    def one(job: tuple[str, str, str]) -> FileResult:
        source, destination, rel_dir = job
        start = time.perf_counter()
        head = pyvips.Image.new_from_file(source)  # header only
        o = head.get("orientation") if head.get_typeof("orientation") else 1
        tw, th = fit(*oriented_size(head.width, head.height, o), WIDTH, HEIGHT)
        im = pyvips.Image.thumbnail(source, tw, height=th, size="force")
        if source.lower().endswith(".png"):
            data = im.pngsave_buffer(palette=optimize, keep="none")
        else:
            data = im.jpegsave_buffer(Q=QUALITY, optimize_coding=optimize, keep="none",
                                      subsample_mode="on")
        outputs.write(rel_dir, destination, data)  # what the engines write with
        return FileResult(source, destination, None, os.path.getsize(source), len(data),
                          im.width, im.height, time.perf_counter() - start)

    jobs, _ = plan(src, dst)
    outputs = Outputs(dst, src)
    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return sorted(pool.map(one, jobs), key=lambda r: r.source)
    finally:
        outputs.close()


# ------------------------------------------------------------ one variant

def serve(src: str, dst: str, spec: dict, warmup_src: str | None) -> None:
    """In the variant's process: warm up, say "ready", then time one batch
    per "run" line on stdin and print its figures as one JSON line; on
    "quit", print the peak RSS and return."""
    sys.path.insert(0, str(HERE))
    spec = dict(spec)
    kind = spec.pop("kind")
    if kind == "pyvips":
        def batch(s: str, d: str):
            return vips_batch(s, d, spec["workers"], spec.get("optimize", False))
    else:
        import piuma

        def batch(s: str, d: str):
            return piuma.optimize_dir(s, d, width=WIDTH, height=HEIGHT, quality=QUALITY,
                                      **spec)
    out = sys.stdout
    sys.stdout = sys.stderr  # nothing else may write on the protocol's channel
    batch(warmup_src or src, dst + "-warmup")  # imports, first calls, caches
    print("ready", file=out, flush=True)
    for line in sys.stdin:
        if line.strip() != "run":
            break
        start, cpu = time.perf_counter(), cpu_seconds()
        results = batch(src, dst)
        wall, cpu = time.perf_counter() - start, cpu_seconds() - cpu
        failed = [r for r in results if not r.ok]
        if failed:
            raise SystemExit(f"{failed[0].source}: {failed[0].error}")
        print(json.dumps({"wall": wall, "cpu": cpu, "files": len(results),
                          "bytes_in": sum(r.bytes_in for r in results),
                          "bytes_out": sum(r.bytes_out for r in results)}), file=out, flush=True)
    print(json.dumps({"peak_rss_mb": peak_rss_mb()}), file=out, flush=True)


def peak_rss_mb() -> float:
    """This process's peak RSS: VmHWM, the high-water mark of its own memory
    map. (getrusage's ru_maxrss is no good here: Linux carries it over an
    exec, so a child started by vfork + exec from a big parent "peaks" at the
    parent's size; the same makes RUSAGE_CHILDREN useless for the tools.)"""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux


class Variant:
    """A variant's own process, warmed up, timing a batch on request."""

    def __init__(self, name: str, src: str, dst: str, spec: dict,
                 warmup_src: str | None = None) -> None:
        self.name = name
        spec = dict(spec)
        env = dict(os.environ, **spec.pop("env", {}))
        code = ("import json, sys; sys.path.insert(0, sys.argv[1]); import bench; "
                "bench.serve(sys.argv[2], sys.argv[3], json.loads(sys.argv[4]), "
                "sys.argv[5] or None)")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code, str(HERE), src, dst, json.dumps(spec),
             warmup_src or ""], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            env=env)
        self.batches: list[dict] = []
        self._expect("ready")

    def _expect(self, what: str | None = None) -> str:
        line = self.proc.stdout.readline()
        if not line or (what is not None and line.strip() != what):
            self.proc.kill()
            raise SystemExit(f"variant {self.name!r} failed (status {self.proc.wait()}), "
                             f"said {line!r}: see its messages above")
        return line

    def run(self) -> None:
        self.proc.stdin.write("run\n")
        self.proc.stdin.flush()
        self.batches.append(json.loads(self._expect()))

    def close(self) -> dict:
        """Stop the process; every batch's figures and its peak RSS."""
        self.proc.stdin.write("quit\n")
        self.proc.stdin.flush()
        rss = json.loads(self._expect())["peak_rss_mb"]
        self.proc.wait()
        b = self.batches
        return {"walls": [x["wall"] for x in b], "cpus": [x["cpu"] for x in b],
                "files": b[-1]["files"], "bytes_in": b[-1]["bytes_in"],
                "bytes_out": b[-1]["bytes_out"], "peak_rss_mb": rss}


def interleaved(group: list[tuple[str, str, str, dict]], repeat: int) -> list[dict]:
    """Time `repeat` batches of every variant of a group, in rounds: one batch
    of each, then the next round, starting one variant further each time.
    On shared cores the load changes from minute to minute; interleaving
    spreads that over all the variants instead of penalising some."""
    variants = []
    try:
        for name, src, dst, spec in group:
            variants.append(Variant(name, src, dst, spec))
        for r in range(repeat):
            k = r % len(variants)
            for v in variants[k:] + variants[:k]:
                v.run()
        return [v.close() for v in variants]
    finally:
        for v in variants:
            if v.proc.poll() is None:
                v.proc.kill()
                v.proc.wait()


# ------------------------------------------------------------ quality

def reference(path: Path):
    """Pillow LANCZOS from the full decode (no draft), EXIF-oriented; RGB for
    JPEGs, RGBA for PNGs (Pillow resizes RGBA premultiplied)."""
    from PIL import Image, ImageOps

    sys.path.insert(0, str(HERE))
    from piuma._common import fit

    with Image.open(path) as im:
        im = ImageOps.exif_transpose(im)
        im = im.convert("RGBA" if path.suffix.lower() == ".png" else "RGB")
        return im.resize(fit(im.width, im.height, WIDTH, HEIGHT), Image.Resampling.LANCZOS)


def _premultiplied(im):
    import numpy as np

    a = np.asarray(im.convert("RGBA"), dtype=np.float64)
    a[..., :3] *= a[..., 3:] / 255.0
    return a


def psnr(out_dir: Path, refs: dict) -> dict[str, float]:
    """Mean PSNR (dB) of the outputs against their references, per format."""
    import numpy as np
    from PIL import Image

    values: dict[str, list[float]] = {"jpeg": [], "png": []}
    for rel, ref in refs.items():
        with Image.open(out_dir / rel) as im:
            if ref.mode == "RGBA":
                a, b, kind = _premultiplied(im), _premultiplied(ref), "png"
            else:
                a = np.asarray(im.convert("RGB"), dtype=np.float64)
                b, kind = np.asarray(ref, dtype=np.float64), "jpeg"
        mse = float(np.mean((a - b) ** 2))
        values[kind].append(99.0 if mse == 0 else 10 * np.log10(255.0**2 / mse))
    return {k: float(np.mean(v)) for k, v in values.items() if v}


# ------------------------------------------------------------ report

def row_of(name: str, optimiser: str | None, r: dict, q: dict[str, float]) -> dict:
    ips = [r["files"] / w for w in r["walls"]]
    cpu = [1000 * c / r["files"] for c in r["cpus"]]
    return {"variant": name, "optimizer": optimiser, "optimize": optimiser is not None,
            "images_per_s": statistics.median(ips), "images_per_s_all": ips,
            "cpu_ms": statistics.median(cpu), "cpu_ms_min": min(cpu), "cpu_ms_all": cpu,
            "psnr_jpeg_db": q.get("jpeg"), "psnr_png_db": q.get("png"),
            "psnr_db": q.get("jpeg"), "files": r["files"], "bytes_in": r["bytes_in"],
            "bytes_out": r["bytes_out"], "peak_rss_mb": r["peak_rss_mb"], "walls": r["walls"],
            "cpus": r["cpus"]}


def label(row: dict) -> str:
    if row["optimizer"] is None:
        return row["variant"]
    if row["variant"].startswith("pyvips"):
        return row["variant"] + " + optimised save"
    return f"{row['variant']} + {row['optimizer']}"


def print_table(rows: list[dict]) -> None:
    print(f"{'variant':50} {'images/s':>16} {'CPU ms/image':>18} {'out KB':>7} "
          f"{'PSNR JPEG/PNG':>14} {'RSS MB':>7}")
    print(f"{'':50} {'median [min-max]':>16} {'median [min-max]':>18}")
    for row in rows:
        ips, cpu = row["images_per_s_all"], row["cpu_ms_all"]
        rss = f"{row['peak_rss_mb']:.0f}"
        print(f"{label(row):50} {row['images_per_s']:5.1f} [{min(ips):4.1f}-{max(ips):4.1f}] "
              f"{row['cpu_ms']:6.0f} [{min(cpu):4.0f}-{max(cpu):4.0f}] "
              f"{row['bytes_out'] / 1024:7.0f} {row['psnr_jpeg_db'] or 0:6.2f}/"
              f"{row['psnr_png_db'] or 0:5.2f} {rss:>7}")


def compare(a: dict, b: dict) -> str:
    """a against b: throughput and CPU ratios, size and PSNR differences."""
    def ddb(key: str) -> str:
        if a[key] is None or b[key] is None:
            return "n/a"
        return f"{a[key] - b[key]:+.2f} dB"
    return (f"{a['images_per_s'] / b['images_per_s']:.2f}x the images/s, "
            f"{b['cpu_ms'] / a['cpu_ms']:.2f}x less CPU per image (min: "
            f"{b['cpu_ms_min'] / a['cpu_ms_min']:.2f}x); size "
            f"{100 * (a['bytes_out'] / b['bytes_out'] - 1):+.1f}%, PSNR JPEG "
            f"{ddb('psnr_jpeg_db')}, PNG {ddb('psnr_png_db')}")


def summarize(paths: list[str]) -> None:
    """The figures of several runs (--json files) pooled: every batch of every
    run, the median and range; the comparisons per run and pooled."""
    runs = [json.loads(Path(p).read_text()) for p in paths]
    pool: dict[tuple, dict] = {}
    for run in runs:
        for row in run["rows"]:
            p = pool.setdefault((row["variant"], row["optimizer"]),
                                {"ips": [], "cpu": [], "rows": []})
            p["ips"] += row["images_per_s_all"]
            p["cpu"] += row["cpu_ms_all"]
            p["rows"].append(row)
    print(f"{len(runs)} runs pooled, {sum(len(r['rows'][0]['walls']) for r in runs)} batches "
          "per variant\n")
    print(f"{'variant':52} {'images/s':>16} {'CPU ms/image':>18} {'out KB':>7} "
          f"{'PSNR JPEG/PNG':>14} {'RSS MB':>9}")
    print(f"{'':52} {'median [min-max]':>16} {'median [min-max]':>18}")
    for p in pool.values():
        row, ips, cpu = p["rows"][0], p["ips"], p["cpu"]
        rss = [r["peak_rss_mb"] for r in p["rows"]]
        print(f"{label(row):52} {statistics.median(ips):5.1f} [{min(ips):4.1f}-{max(ips):4.1f}] "
              f"{statistics.median(cpu):6.0f} [{min(cpu):4.0f}-{max(cpu):4.0f}] "
              f"{row['bytes_out'] / 1024:7.0f} {row['psnr_jpeg_db'] or 0:6.2f}/"
              f"{row['psnr_png_db'] or 0:5.2f} {min(rss):4.0f}-{max(rss):<4.0f}")
    pairs = [((GO, "in-process"), (TALK, "tools"), "Go in process vs the talk's pipeline"),
             ((GO, "in-process"), (TALK_OMP1, "tools"), "... with OMP_NUM_THREADS=1 for pngquant"),
             ((TALK, "in-process"), (TALK, "tools"), "Python in process vs the talk's pipeline"),
             ((GO, "in-process"), (TALK, "in-process"), "Go in process vs Python in process"),
             ((GO, "in-process"), (VIPS, "in-process"), "Go in process vs pyvips"),
             ((GO_LANCZOS, "in-process"), (VIPS, "in-process"), "... with Lanczos")]
    print()
    for a, b, what in pairs:
        if a not in pool or b not in pool:
            continue
        pa, pb = pool[a], pool[b]
        per_run = [(x["images_per_s"] / y["images_per_s"], y["cpu_ms"] / x["cpu_ms"])
                   for x, y in zip(pa["rows"], pb["rows"], strict=True)]
        ra, rb = pa["rows"][0], pb["rows"][0]
        print(f"{what}: {statistics.median(pa['ips']) / statistics.median(pb['ips']):.2f}x the "
              f"images/s, {statistics.median(pb['cpu']) / statistics.median(pa['cpu']):.2f}x less "
              "CPU per image (medians of all batches; per run: "
              + ", ".join(f"{s:.2f}x/{c:.2f}x" for s, c in per_run)
              + f"); size {100 * (ra['bytes_out'] / rb['bytes_out'] - 1):+.1f}%, PSNR JPEG "
              f"{ra['psnr_jpeg_db'] - rb['psnr_jpeg_db']:+.2f} dB, PNG "
              f"{ra['psnr_png_db'] - rb['psnr_png_db']:+.2f} dB")
    scaling = [s for run in runs for s in run.get("scaling", [])]
    if scaling:
        print(f"\n{'variant':44} {'images':>6} {'images/s':>14} {'CPU ms/image':>14} "
              f"{'peak RSS MB':>12}")
        groups: dict[tuple, list] = {}
        for s in scaling:
            groups.setdefault((label(s), s["images"]), []).append(s)
        for (name, n), ss in groups.items():
            ips = [s["images_per_s"] for s in ss]
            cpu = [s["cpu_ms"] for s in ss]
            rss = [s["peak_rss_mb"] for s in ss]
            print(f"{name:44} {n:6} {min(ips):6.1f}-{max(ips):<7.1f} {min(cpu):6.0f}-"
                  f"{max(cpu):<7.0f} {min(rss):5.0f}-{max(rss):<6.0f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", default=str(HERE / "build" / "images" / "products"))
    ap.add_argument("--repeat", type=int, default=3, help="timed batches per variant (3)")
    ap.add_argument("--variants", nargs="*", help="only these variants (default: all)")
    ap.add_argument("--no-optimisers", action="store_true", help="skip the optimised runs")
    ap.add_argument("--no-scaling", action="store_true", help="skip the 9/90/900 runs")
    ap.add_argument("--scaling-sets", nargs="*", type=int, default=[9, 90, 900])
    ap.add_argument("--json", help="also write every figure to this file")
    ap.add_argument("--summarize", nargs="+", metavar="JSON",
                    help="print the figures of earlier runs (--json files), pooled")
    args = ap.parse_args(argv)
    if args.summarize:
        summarize(args.summarize)
        return 0
    src = Path(args.src).resolve()
    names = args.variants or list(VARIANTS)
    unknown = set(names) - set(VARIANTS)
    if unknown:
        ap.error(f"unknown variants: {sorted(unknown)}; known: {list(VARIANTS)}")
    images = sorted(str(p.relative_to(src)) for p in src.rglob("*")
                    if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    refs = {rel: reference(src / rel) for rel in images}
    shown = src.relative_to(HERE) if src.is_relative_to(HERE) else src
    print(f"{len(images)} images from {shown}, fit in {WIDTH}x{HEIGHT}, JPEG quality {QUALITY}; "
          f"{NCPU} CPUs; {args.repeat} timed batches after a warm-up, each variant in its "
          "own process")
    rows: list[dict] = []
    work = Path(tempfile.mkdtemp(prefix="piuma-bench-"))
    runs = [(n, None) for n in names if "env" not in VARIANTS[n]]  # env: tools only
    if not args.no_optimisers:
        runs += [(n, o) for n, o in OPTIMISED if n in names]
    try:
        # Two groups, each timed in interleaved rounds: the encoders' output,
        # then the job with the optimisers.
        for group in ([r for r in runs if r[1] is None], [r for r in runs if r[1] is not None]):
            specs = []
            for i, (name, optimiser) in enumerate(group):
                spec = dict(VARIANTS[name], optimize=optimiser is not None)
                if optimiser is not None and spec["kind"] == "piuma":
                    spec["optimizer"] = optimiser
                specs.append((name, str(src), str(work / f"v{len(rows) + i}"), spec))
            print(f"  timing {len(group)} variants, {args.repeat} rounds", file=sys.stderr,
                  flush=True)
            for (name, optimiser), (_, _, dst, _), r in zip(
                    group, specs, interleaved(specs, args.repeat), strict=True):
                rows.append(row_of(name, optimiser, r, psnr(Path(dst), refs)))
                shutil.rmtree(dst, ignore_errors=True)
            shutil.rmtree(dst, ignore_errors=True)
        print("\nThe job (optimisers off: the encoders' output; on: in process or with "
              "the tools):\n")
        print_table(rows)
        find = {(r["variant"], r["optimizer"]): r for r in rows}
        talk, vips = find.get((TALK, "tools")), find.get((VIPS, "in-process"))
        go, py_in = find.get((GO, "in-process")), find.get((TALK, "in-process"))
        go_tools = find.get((GO, "tools"))
        if go and talk:
            print(f"\nGo engine in process vs the talk's pipeline (target: >= 1.5x, size "
                  f"within 2%, PSNR within 0.3 dB):\n  {compare(go, talk)}")
        go_lz = find.get((GO_LANCZOS, "in-process"))
        talk1 = find.get((TALK_OMP1, "tools"))
        if go and talk1:
            print(f"... vs the talk's pipeline with OMP_NUM_THREADS=1 for pngquant:\n"
                  f"  {compare(go, talk1)}")
        if go and vips:
            print(f"Go engine in process vs pyvips (target: at or ahead, equal size and PSNR):"
                  f"\n  {compare(go, vips)}")
        if go_lz and vips:
            print(f"... with pyvips's kernel (resample='lanczos'):\n  {compare(go_lz, vips)}")
        if go and py_in:
            print(f"Go engine in process vs the Python engine in process:\n  {compare(go, py_in)}")
        if go and go_tools:
            print(f"Go engine in process vs the same engine with the tools:\n  "
                  f"{compare(go, go_tools)}")

        scaling = []
        if not args.no_scaling:
            print(f"\nHow cost grows (optimisers on, {W} workers; sets of copies of the "
                  "product images, one timed batch after a warm-up on the 9):\n")
            print(f"{'variant':44} {'images':>6} {'images/s':>9} {'CPU ms/image':>13} "
                  f"{'peak RSS MB':>12}")
            for name, optimiser in SCALING:
                spec = dict(VARIANTS[name], optimize=True, optimizer=optimiser)
                for n in args.scaling_sets:
                    scale_src = scaling_set(n)
                    dst = work / f"s{len(scaling)}"
                    v = Variant(name, str(scale_src), str(dst), spec, warmup_src=str(src))
                    v.run()
                    r = v.close()
                    row = row_of(name, optimiser, r, {})
                    row["images"] = n
                    scaling.append(row)
                    rss = f"{row['peak_rss_mb']:.0f}"
                    print(f"{label(row):44} {n:6} {row['images_per_s']:9.1f} "
                          f"{row['cpu_ms']:13.0f} {rss:>12}")
                    shutil.rmtree(dst, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"cpus": NCPU, "repeat": args.repeat,
                                               "rows": rows, "scaling": scaling}, indent=2))
    return 0


def scaling_set(n: int) -> Path:
    """build/images/scale-<n> (make_images.py makes it on first use)."""
    sys.path.insert(0, str(HERE))
    import make_images

    return make_images.scaling_set(HERE / "build" / "images", n)


if __name__ == "__main__":
    sys.exit(main())
