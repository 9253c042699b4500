"""make bench: every engine variant on the same images and settings.

    python bench.py [--src build/images/products] [--repeat 3] [--json FILE]

Each variant runs in its own process (one Go runtime per process, and no
variant warms another's caches): a warm-up batch, then --repeat timed
batches. Reported: images per second (files / median batch wall time), the
median time of one image inside its worker, and the output quality as PSNR
against a Pillow LANCZOS reference made from the full-size decode (no draft),
so speed is never bought with uglier pictures, and the CPU time per image
(all threads of the process: robust when other programs share the cores,
which wall-clock figures are not). Then the optimisers
(jpegoptim, pngquant) on vs off for the fastest Python and Go variants.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
WIDTH = HEIGHT = 800
QUALITY = 85
NCPU = os.cpu_count() or 1

# name -> optimize_dir keyword arguments (besides the common ones)
VARIANTS: dict[str, dict] = {
    "python, 1 worker": dict(engine="python", workers=1, draft=False),
    "python + draft, 2 threads": dict(engine="python", workers=2, draft=True),
    "go image/jpeg, 1 worker": dict(engine="go", go_jpeg="image/jpeg", workers=1),
    f"go image/jpeg, {NCPU} workers": dict(engine="go", go_jpeg="image/jpeg", workers=NCPU),
    "go libjpeg-turbo, 1 worker": dict(engine="go", workers=1),
    f"go libjpeg-turbo, {NCPU} workers": dict(engine="go", workers=NCPU),
}
WITH_OPTIMISERS = ["python + draft, 2 threads", f"go libjpeg-turbo, {NCPU} workers"]


def cpu_seconds() -> float:
    """CPU time of every thread of this process and of its finished children
    (jpegoptim, pngquant), user + system."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def run_variant(src: str, dst: str, kwargs: dict, repeat: int) -> dict:
    """In the child process: warm up, then time `repeat` batches."""
    sys.path.insert(0, str(HERE))
    import piuma

    common = dict(width=WIDTH, height=HEIGHT, quality=QUALITY)
    piuma.optimize_dir(src, dst, **common, **kwargs)  # warm-up (and imports)
    walls, cpus, per_image = [], [], []
    for _ in range(repeat):
        start, cpu = time.perf_counter(), cpu_seconds()
        results = piuma.optimize_dir(src, dst, **common, **kwargs)
        walls.append(time.perf_counter() - start)
        cpus.append(cpu_seconds() - cpu)
        per_image += [r.seconds for r in results]
        failed = [r for r in results if not r.ok]
        if failed:
            raise SystemExit(f"{failed[0].source}: {failed[0].error}")
    return {"walls": walls, "cpus": cpus, "per_image": per_image, "files": len(results),
            "bytes_in": sum(r.bytes_in for r in results),
            "bytes_out": sum(r.bytes_out for r in results)}


def spawn(name: str, src: str, dst: str, kwargs: dict, repeat: int) -> dict:
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); import bench; "
            "print(json.dumps(bench.run_variant(sys.argv[2], sys.argv[3], "
            "json.loads(sys.argv[4]), int(sys.argv[5]))))")
    p = subprocess.run([sys.executable, "-c", code, str(HERE), src, dst, json.dumps(kwargs),
                        str(repeat)], capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"variant {name!r} failed:\n{p.stdout}{p.stderr}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def reference(path: Path):
    """Pillow LANCZOS from the full decode (no draft), EXIF-oriented."""
    from PIL import Image, ImageOps

    sys.path.insert(0, str(HERE))
    from piuma._common import fit

    with Image.open(path) as im:
        im = ImageOps.exif_transpose(im).convert("RGB")
        return im.resize(fit(im.width, im.height, WIDTH, HEIGHT), Image.Resampling.LANCZOS)


def psnr(out_dir: Path, src: Path, refs: dict) -> float:
    """Mean PSNR (dB) of the JPEG outputs against their references."""
    import numpy as np
    from PIL import Image

    values = []
    for rel, ref in refs.items():
        with Image.open(out_dir / rel) as im:
            a = np.asarray(im.convert("RGB"), dtype=np.float64)
        b = np.asarray(ref, dtype=np.float64)
        mse = float(np.mean((a - b) ** 2))
        values.append(99.0 if mse == 0 else 10 * np.log10(255.0**2 / mse))
    return float(np.mean(values))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", default=str(HERE / "build" / "images" / "products"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--variants", nargs="*", help="only these variants (default: all)")
    ap.add_argument("--no-optimisers", action="store_true", help="skip the optimiser runs")
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args(argv)
    src = Path(args.src).resolve()
    jpegs = sorted(str(p.relative_to(src)) for p in src.rglob("*")
                   if p.suffix.lower() in (".jpg", ".jpeg"))
    refs = {rel: reference(src / rel) for rel in jpegs}
    files = sum(1 for p in src.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    print(f"{files} images from {src.relative_to(HERE) if src.is_relative_to(HERE) else src}, "
          f"fit in {WIDTH}x{HEIGHT}, JPEG quality {QUALITY}, optimisers off; "
          f"{NCPU} CPUs; median of {args.repeat} batches after a warm-up, "
          "each variant in its own process")
    rows = []
    names = args.variants or list(VARIANTS)
    work = Path(tempfile.mkdtemp(prefix="piuma-bench-"))
    try:
        for name in names:
            dst = work / name.replace(" ", "_").replace("/", "_").replace(",", "")
            r = spawn(name, str(src), str(dst), dict(VARIANTS[name], optimize=False),
                      args.repeat)
            wall = statistics.median(r["walls"])
            rows.append({"variant": name, "images_per_s": r["files"] / wall,
                         "median_ms": 1000 * statistics.median(r["per_image"]),
                         "cpu_ms": 1000 * statistics.median(r["cpus"]) / r["files"],
                         "psnr_db": psnr(dst, src, refs), "bytes_out": r["bytes_out"],
                         "bytes_in": r["bytes_in"], "optimize": False})
        print(f"\n{'variant':34} {'images/s':>9} {'ms/image':>9} {'CPU ms/image':>13} "
              f"{'PSNR dB':>8}")
        for row in rows:
            print(f"{row['variant']:34} {row['images_per_s']:9.1f} {row['median_ms']:9.1f} "
                  f"{row['cpu_ms']:13.1f} {row['psnr_db']:8.2f}")
        py = [r for r in rows if r["variant"].startswith("python")]
        go = [r for r in rows if r["variant"].startswith("go")]
        if py and go:
            best_py = max(py, key=lambda r: r["images_per_s"])
            best_go = max(go, key=lambda r: r["images_per_s"])
            print(f"\nbest Go ({best_go['variant']}) vs best Python ({best_py['variant']}): "
                  f"{best_go['images_per_s'] / best_py['images_per_s']:.2f}x the images/s, "
                  f"PSNR {best_go['psnr_db']:.2f} vs {best_py['psnr_db']:.2f} dB")
        if not args.no_optimisers:
            print("\noptimisers (jpegoptim --strip-all, pngquant) on vs off:")
            for name in [n for n in WITH_OPTIMISERS if n in names]:
                dst = work / "opt"
                r = spawn(name, str(src), str(dst), dict(VARIANTS[name], optimize=True),
                          args.repeat)
                off = next(row for row in rows if row["variant"] == name)
                wall = statistics.median(r["walls"])
                row = {"variant": name + " + optimisers", "images_per_s": r["files"] / wall,
                       "median_ms": 1000 * statistics.median(r["per_image"]),
                       "cpu_ms": 1000 * statistics.median(r["cpus"]) / r["files"],
                       "psnr_db": psnr(dst, src, refs), "bytes_out": r["bytes_out"],
                       "bytes_in": r["bytes_in"], "optimize": True}
                rows.append(row)
                saved = off["bytes_out"] - row["bytes_out"]
                print(f"  {name:32} {row['images_per_s']:6.1f} images/s, "
                      f"{row['cpu_ms']:.0f} CPU ms/image (off: {off['images_per_s']:.1f}, "
                      f"{off['cpu_ms']:.0f}); output {off['bytes_out'] / 1024:.0f} KB -> "
                      f"{row['bytes_out'] / 1024:.0f} KB: the optimisers save "
                      f"{saved / 1024:.0f} KB "
                      f"({100 * saved / off['bytes_out']:.0f}%); sources "
                      f"{row['bytes_in'] / 2**20:.1f} MB")
                shutil.rmtree(dst, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"cpus": NCPU, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
