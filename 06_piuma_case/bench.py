"""make bench: the talk's pipeline, the engines, and the cron job on Dask.

    python bench.py [--src build/images/products] [--repeat 3] [--json FILE]
                    [--variants NAME ...]

Each variant runs in its own process (one Go runtime per process, no variant
warms another's caches): a warm-up batch, then --repeat timed batches, in
rounds (one batch of each variant per round, so that a change of load on
shared cores hits all alike), every batch kept. Every variant does the whole
job, optimisers on. Per variant:

- images/s: files / batch wall time;
- CPU ms per image: user + system time of the variant's process, of the
  tools it ran (jpegoptim, pngquant) and of its Dask workers, per file: on
  shared cores the robust figure;
- output size; PSNR (dB) against Pillow's LANCZOS resize of the full decode
  (PNGs compared premultiplied: the colour of an invisible pixel does not
  count); peak RSS of the variant's process (and of its largest worker);
- on Dask: the CPU the scheduler and client spend per task (the variant's
  own process, which runs them), and the time a local cluster takes to start
  (once, before the warm-up: a cron job pays it every run).
"""

from __future__ import annotations

import argparse
import importlib.util
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
W = 2  # workers: threads, goroutines or Dask worker processes

VARIANTS: dict[str, dict] = {
    # The talk's pipeline: Pillow, then jpegoptim and pngquant processes.
    "python + tools (the talk)": dict(engine="python", workers=W, optimizer="tools"),
    "python in process": dict(engine="python", workers=W, optimizer="in-process"),
    "go": dict(engine="go", workers=W),
    "go on Dask, 1 worker": dict(engine="go", cluster=1),
    f"go on Dask, {W} workers": dict(engine="go", cluster=W),
}
TALK, GO = "python + tools (the talk)", "go"


def cpu_seconds(workers: list) -> float:
    """CPU time of this process, of its finished children (the tools) and
    of the live worker processes given (psutil.Process)."""
    t = os.times()
    own = t.user + t.system + t.children_user + t.children_system
    return own + sum(sum(w.cpu_times()[:2]) for w in workers)


def peak_rss_mb(pid: int | str = "self") -> float:
    """VmHWM, the high-water mark of a process's resident memory."""
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) / 1024 for line in f if line.startswith("VmHWM:"))


# ------------------------------------------------------------ one variant

def serve(src: str, dst: str, spec: dict) -> None:
    """In the variant's process: warm up, say "ready", time one batch per
    "run" line, print its figures as a JSON line; on "quit", the peaks."""
    sys.path.insert(0, str(HERE))
    import piuma

    out, sys.stdout = sys.stdout, sys.stderr  # nothing else may write on the protocol
    workers, extra = [], {}
    n = spec.pop("cluster", 0)
    if n:  # a local cluster, started once: its start is reported apart
        import psutil
        from distributed import LocalCluster
        from piuma.cluster import chunks

        start = time.perf_counter()
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                               dashboard_address=":0")
        spec["cluster"] = cluster.scheduler_address
        workers = psutil.Process().children(recursive=True)
        extra["start_s"] = time.perf_counter() - start
    piuma.optimize_dir(src, dst + "-warmup", width=WIDTH, height=HEIGHT, quality=QUALITY, **spec)
    print("ready", file=out, flush=True)
    for line in sys.stdin:
        if line.strip() != "run":
            break
        t, own, cpu = time.perf_counter(), cpu_seconds([]), cpu_seconds(workers)
        results = piuma.optimize_dir(src, dst, width=WIDTH, height=HEIGHT, quality=QUALITY,
                                     **spec)
        wall, own, cpu = time.perf_counter() - t, cpu_seconds([]) - own, cpu_seconds(workers) - cpu
        if bad := [r for r in results if not r.ok]:
            raise SystemExit(f"{bad[0].source}: {bad[0].error}")
        tasks = len(chunks(src, [os.path.relpath(r.source, src) for r in results])) if n else 0
        print(json.dumps({"wall": wall, "cpu": cpu, "files": len(results), "own": own,
                          "tasks": tasks, "bytes_out": sum(r.bytes_out for r in results)}),
              file=out, flush=True)
    extra["rss"] = max([peak_rss_mb()] + [peak_rss_mb(w.pid) for w in workers])
    if n:
        cluster.close()  # (not closed, its semaphores are reported leaked at exit)
    print(json.dumps(extra), file=out, flush=True)


def interleaved(specs: dict[str, tuple[str, str, dict]], repeat: int) -> dict[str, dict]:
    """repeat batches of every variant, in rounds, each in its own process."""
    procs = {}
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); import bench; "
            "bench.serve(sys.argv[2], sys.argv[3], json.loads(sys.argv[4]))")
    try:
        for name, (src, dst, spec) in specs.items():
            procs[name] = subprocess.Popen([sys.executable, "-c", code, str(HERE), src, dst,
                                            json.dumps(spec)], stdin=subprocess.PIPE,
                                           stdout=subprocess.PIPE, text=True)

        def say(name: str, what: str) -> dict | None:
            p = procs[name]
            p.stdin.write(what + "\n")
            p.stdin.flush()
            line = p.stdout.readline()
            if not line:
                raise SystemExit(f"variant {name!r} failed (status {p.wait()}): see above")
            return json.loads(line)

        for name, p in procs.items():
            if p.stdout.readline().strip() != "ready":
                raise SystemExit(f"variant {name!r} did not start (status {p.wait()})")
        batches: dict[str, list] = {name: [] for name in procs}
        names = list(procs)
        for r in range(repeat):
            for name in names[r % len(names):] + names[:r % len(names)]:
                batches[name].append(say(name, "run"))
        return {name: {"batches": batches[name], **say(name, "quit")} for name in procs}
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.kill()
            p.wait()


# ------------------------------------------------------------ quality

def references(src: Path) -> dict:
    """Pillow LANCZOS from the full decode, EXIF-oriented, per image."""
    sys.path.insert(0, str(HERE))
    from PIL import Image, ImageOps
    from piuma._probe import fit

    refs = {}
    for p in sorted(src.rglob("*")):
        if p.suffix.lower() in (".jpg", ".jpeg", ".png"):
            with Image.open(p) as im:
                im = ImageOps.exif_transpose(im).convert("RGBA" if p.suffix == ".png" else "RGB")
                refs[p.relative_to(src)] = im.resize(fit(*im.size, WIDTH, HEIGHT),
                                                     Image.Resampling.LANCZOS)
    return refs


def psnr(out: Path, refs: dict) -> dict[str, float]:
    """Mean PSNR of the outputs against their references, per format."""
    import numpy as np
    from PIL import Image

    def arr(im):
        a = np.asarray(im.convert("RGBA"), dtype=np.float64)
        a[..., :3] *= a[..., 3:] / 255
        return a

    values: dict[str, list[float]] = {"jpeg": [], "png": []}
    for rel, ref in refs.items():
        with Image.open(out / rel) as im:
            mse = float(np.mean((arr(im) - arr(ref)) ** 2))
        values["png" if ref.mode == "RGBA" else "jpeg"].append(
            99.0 if mse == 0 else 10 * np.log10(255**2 / mse))
    return {k: float(np.mean(v)) for k, v in values.items() if v}


# ------------------------------------------------------------ report

def row_of(name: str, r: dict, q: dict[str, float]) -> dict:
    b = r["batches"]
    return {"variant": name, "files": b[0]["files"], "bytes_out": b[-1]["bytes_out"],
            "ips": [x["files"] / x["wall"] for x in b],
            "cpu_ms": [1000 * x["cpu"] / x["files"] for x in b],
            "task_ms": [1000 * x["own"] / x["tasks"] for x in b if x["tasks"]],
            "start_s": r.get("start_s"), "rss_mb": r["rss"],
            "psnr_jpeg": q.get("jpeg"), "psnr_png": q.get("png")}


def table(rows: list[dict]) -> str:
    med = statistics.median
    lines = [f"{'variant':28} {'images/s':>17} {'CPU ms/image':>17} {'out KB':>7} "
             f"{'PSNR JPEG/PNG':>13} {'RSS MB':>7}",
             f"{'':28} {'median [min-max]':>17} {'median [min-max]':>17}"]
    for r in rows:
        ips, cpu = r["ips"], r["cpu_ms"]
        lines.append(f"{r['variant']:28} {med(ips):5.1f} [{min(ips):4.1f}-{max(ips):4.1f}] "
                     f"{med(cpu):5.0f} [{min(cpu):4.0f}-{max(cpu):4.0f}] "
                     f"{r['bytes_out'] / 1024:7.0f} {r['psnr_jpeg'] or 0:6.2f}/"
                     f"{r['psnr_png'] or 0:5.2f} {r['rss_mb']:7.0f}")
    return "\n".join(lines)


def ratio(a: dict, b: dict) -> tuple[list[float], list[float]]:
    """Round by round: a's images/s over b's, and b's CPU per image over a's."""
    return ([x / y for x, y in zip(a["ips"], b["ips"], strict=True)],
            [y / x for x, y in zip(a["cpu_ms"], b["cpu_ms"], strict=True)])


def span(values: list[float]) -> str:
    return f"{min(values):.2f}x" if len(set(values)) == 1 else \
        f"{min(values):.2f}-{max(values):.2f}x"


def cpu_words(ratios: list[float]) -> str:
    """b's CPU per image over a's, round by round, in words: less, more, or
    either way (the rounds disagree)."""
    if min(ratios) >= 1:
        return f"{span(ratios)} less CPU per image"
    if max(ratios) <= 1:
        return f"{span([1 / r for r in ratios][::-1])} more CPU per image"
    return f"{span(ratios)} the CPU per image (less in some rounds, more in others)"


def verdict(rows: list[dict]) -> list[str]:
    """The comparisons that answer the step's questions, computed from the
    rows, each round kept: a claim holds when every round agrees."""
    by = {r["variant"]: r for r in rows}
    out = []

    def versus(a: str, b: str, what: str, target: float | None = None) -> None:
        if a not in by or b not in by:
            return
        ips, cpu = ratio(by[a], by[b])
        size = 100 * (by[a]["bytes_out"] / by[b]["bytes_out"] - 1)
        line = f"{what}: {span(ips)} the images/s, {cpu_words(cpu)}, output {size:+.1f}%"
        if target is not None:
            met = "met in every round" if min(cpu) >= target else "NOT met in every round"
            line += f"; the {target}x target in CPU per image is {met}"
        out.append(line)

    versus(GO, TALK, "Go engine vs the talk's pipeline", target=1.5)
    versus("python in process", TALK, "Python engine in process vs the talk's pipeline")
    versus(GO, "python in process", "Go engine vs the Python engine in process")
    for n in (1, W):
        name = f"go on Dask, {n} worker{'s' if n > 1 else ''}"
        if name in by and GO in by:
            versus(name, GO, f"Dask, {n} worker{'s' if n > 1 else ''}, vs goroutines in one "
                   "process")
            r = by[name]
            out.append(f"  the scheduler and client: {statistics.median(r['task_ms']):.0f} ms "
                       f"of CPU per task (median); starting the cluster: {r['start_s']:.1f} s")
    return out


def plot(rows: list[dict]):
    """CPU per image of every batch, per variant (common/nb.py's runs plot)."""
    import matplotlib.pyplot as plt
    import nb

    fig, ax = plt.subplots(figsize=(9, 0.45 * len(rows) + 1))
    nb.runs_plot(ax, {r["variant"]: r["cpu_ms"] for r in rows}, "ms")
    ax.set_xlabel("CPU ms per image (every batch a dot, its median a bar; lower is better)")
    fig.tight_layout()
    return fig


KILL = """
import json, os, signal, sys, threading, time
sys.path.insert(0, sys.argv[1])
import piuma, psutil
src, dst = sys.argv[2:4]
killed = []
def kill_one():  # once outputs appear, the workers are converting
    while not any(f for _, _, f in os.walk(dst)):
        time.sleep(0.01)
    worker = psutil.Process().children(recursive=True)[0]
    os.kill(worker.pid, signal.SIGKILL)
    killed.append(worker.pid)
threading.Thread(target=kill_one, daemon=True).start()
rs = piuma.optimize_dir(src, dst, width=800, height=800, cluster="local:2")
print(json.dumps({"killed": killed, "ok": sum(r.ok for r in rs), "files": len(rs)}))
"""


def kill_a_worker(src: Path, dst: Path) -> dict:
    """The batch on a local cluster of 2 workers, one SIGKILLed mid-batch
    (in a child process): what came back, and what is on disk after."""
    p = subprocess.run([sys.executable, "-c", KILL, str(HERE), str(src), str(dst)],
                       capture_output=True, text=True, timeout=600, check=True)
    out = json.loads(p.stdout.splitlines()[-1])
    files = [f for f in Path(dst).rglob("*") if f.is_file()]
    out["outputs"] = len(files)
    out["temp_files"] = sum(f.name.endswith(".tmp") for f in files)
    return out


def run(src: Path, names: list[str], repeat: int) -> list[dict]:
    """Time the variants; the rows of the table (with PSNR)."""
    refs = references(src)
    work = Path(tempfile.mkdtemp(prefix="piuma-bench-"))
    try:
        specs = {n: (str(src), str(work / f"v{i}"), VARIANTS[n]) for i, n in enumerate(names)}
        timed = interleaved(specs, repeat)
        return [row_of(n, timed[n], psnr(Path(specs[n][1]), refs)) for n in names]
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", default=str(HERE / "build" / "images" / "products"))
    ap.add_argument("--repeat", type=int, default=3, help="timed batches per variant (3)")
    ap.add_argument("--variants", nargs="*", choices=list(VARIANTS), metavar="NAME",
                    help=f"only these (default: all): {', '.join(VARIANTS)}")
    ap.add_argument("--json", help="also write every figure to this file")
    args = ap.parse_args(argv)
    names = args.variants or list(VARIANTS)
    if importlib.util.find_spec("distributed") is None:
        names = [n for n in names if "cluster" not in VARIANTS[n]]
        print("(no dask[distributed]: the Dask variants are left out)")
    src = Path(args.src).resolve()
    print(f"{src.name}: fit in {WIDTH}x{HEIGHT}, quality {QUALITY}, optimisers on; "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; {args.repeat} timed batches "
          "after a warm-up, each variant in its own process\n")
    rows = run(src, names, args.repeat)
    print(table(rows) + "\n")
    print("\n".join(verdict(rows)))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
