"""make bench: the talk's pipeline, the engines, and the cron job on Dask.

    python bench.py [--src build/images/products] [--repeat 3]

Each variant does the whole job, optimisers on, in its own process (one Go
runtime each, no variant warms another's caches): a warm-up, then --repeat
timed batches in rounds (one batch of each variant per round: a change of load
on shared cores hits all alike), every batch kept. What each figure is: the
README's "Deep dive: measured".
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import math
import multiprocessing
import os
import signal
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
JOB = dict(width=800, height=800, quality=85)
W = 2  # workers: threads, goroutines or Dask worker processes
TALK, GO = "python + tools (the talk)", "go"
VARIANTS: dict[str, dict] = {
    TALK: dict(engine="python", workers=W, optimizer="tools"),  # Pillow, jpegoptim, pngquant
    "python in process": dict(engine="python", workers=W, optimizer="in-process"),
    GO: dict(engine="go", workers=W),
    "go on Dask, 1 worker": dict(engine="go", cluster=1),
    f"go on Dask, {W} workers": dict(engine="go", cluster=W),
}


def clocks(workers: list) -> tuple[float, float, float]:
    """Wall time; CPU time (user + system) of this process and of its finished
    children (the tools); the same plus the live workers' (psutil.Process)."""
    own = sum(os.times()[:4])
    return time.perf_counter(), own, own + sum(sum(w.cpu_times()[:2]) for w in workers)


def peak_rss_mb(pid: int | str = "self") -> float:
    """VmHWM, the high-water mark of a process's resident memory."""
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) / 1024 for line in f if line.startswith("VmHWM:"))


def serve(conn, src: str, dst: str, spec: dict) -> None:
    """In the variant's process: warm up, say "ready", time one batch per "run"
    received; on "quit", send its row (every batch's figures, the peaks)."""
    import piuma

    spec, workers, start_s = {**JOB, **spec}, [], None
    if n := spec.get("cluster"):  # piuma's local cluster, started once: its start apart
        import psutil
        from piuma.cluster import _connect, chunks

        start = time.perf_counter()
        client, cluster = _connect(f"local:{n}")
        spec["cluster"] = cluster.scheduler_address
        workers = psutil.Process().children(recursive=True)
        start_s = time.perf_counter() - start
    results = piuma.optimize_dir(src, dst + "-warmup", **spec)
    row = {"ips": [], "cpu_ms": [], "task_ms": [], "start_s": start_s}
    conn.send("ready")
    while conn.recv() == "run":
        before = clocks(workers)
        results = piuma.optimize_dir(src, dst, **spec)
        wall, own, cpu = (b - a for a, b in zip(before, clocks(workers), strict=True))
        if bad := [r for r in results if not r.ok]:
            raise SystemExit(f"{bad[0].source}: {bad[0].error}")
        row["ips"].append(len(results) / wall)
        row["cpu_ms"].append(1000 * cpu / len(results))
        if n:  # the scheduler and client run in this process: its own CPU, per task
            tasks = chunks(src, [os.path.relpath(r.source, src) for r in results])
            row["task_ms"].append(1000 * own / len(tasks))
        conn.send("done")
    row.update(files=len(results), bytes_out=sum(r.bytes_out for r in results),
               rss_mb=max([peak_rss_mb()] + [peak_rss_mb(w.pid) for w in workers]))
    if n:
        client.close()
        cluster.close()  # (not closed, its semaphores are reported leaked at exit)
    conn.send(row)


def references(src: Path) -> dict:
    """Pillow LANCZOS from the full decode, EXIF-oriented, per image."""
    from PIL import Image, ImageOps
    from piuma._probe import fit

    refs = {}
    for p in sorted(src.rglob("*")):
        if p.suffix.lower() in (".jpg", ".jpeg", ".png"):
            with Image.open(p) as im:
                im = ImageOps.exif_transpose(im).convert("RGBA" if p.suffix == ".png" else "RGB")
                refs[p.relative_to(src)] = im.resize(fit(*im.size, JOB["width"], JOB["height"]),
                                                     Image.Resampling.LANCZOS)
    return refs


def psnr(out: Path, refs: dict) -> dict[str, float]:
    """Mean PSNR of the outputs against their references: psnr_jpeg, psnr_png."""
    import numpy as np
    from PIL import Image

    def arr(im):  # premultiplied: the colour of an invisible pixel does not count
        a = np.asarray(im.convert("RGBA"), dtype=np.float64)
        a[..., :3] *= a[..., 3:] / 255
        return a

    values: dict[str, list[float]] = {"psnr_jpeg": [], "psnr_png": []}
    for rel, ref in refs.items():
        with Image.open(out / rel) as im:
            mse = float(np.mean((arr(im) - arr(ref)) ** 2))
        values["psnr_png" if ref.mode == "RGBA" else "psnr_jpeg"].append(
            99.0 if mse == 0 else 10 * np.log10(255**2 / mse))
    return {k: float(np.mean(v)) for k, v in values.items() if v}


def table(rows: list[dict]) -> str:
    med = statistics.median

    def db(v: float | None) -> str:  # (none of that format in src: "-")
        return "-" if v is None else f"{v:.2f}"

    lines = [f"{'variant':28} {'images/s':>17} {'CPU ms/image':>17} {'out KB':>7} "
             f"{'PSNR JPEG/PNG':>13} {'RSS MB':>7}",
             f"{'':28} {'median [min-max]':>17} {'median [min-max]':>17}"]
    for r in rows:
        ips, cpu = r["ips"], r["cpu_ms"]
        lines.append(f"{r['variant']:28} {med(ips):5.1f} [{min(ips):4.1f}-{max(ips):4.1f}] "
                     f"{med(cpu):5.0f} [{min(cpu):4.0f}-{max(cpu):4.0f}] "
                     f"{r['bytes_out'] / 1024:7.0f} {db(r.get('psnr_jpeg')):>6}/"
                     f"{db(r.get('psnr_png')):>5} {r['rss_mb']:7.0f}")
    return "\n".join(lines)


def span(values: list[float]) -> str:
    """min-max, the min rounded down: a printed "1.50x" is never a 1.497x
    (a verdict judges the unrounded min)."""
    lo, hi = math.floor(min(values) * 100 + 1e-9) / 100, max(values)
    return f"{lo:.2f}x" if lo == hi else f"{lo:.2f}-{hi:.2f}x"


def cpu_words(ratios: list[float]) -> str:
    """b's CPU per image over a's, round by round, in words: less, more, or
    either way (the rounds disagree)."""
    if min(ratios) >= 1:
        return f"{span(ratios)} less CPU per image"
    if max(ratios) <= 1:
        return f"{span([1 / r for r in ratios])} more CPU per image"
    return f"{span(ratios)} the CPU per image (less in some rounds, more in others)"


def verdict(rows: list[dict]) -> list[str]:
    """The comparisons that answer the step's questions, computed from the
    rows, each round kept: a claim holds when every round agrees."""
    by = {r["variant"]: r for r in rows}
    out = []

    def versus(a: str, b: str, what: str, target: float | None = None) -> None:
        if a not in by or b not in by:
            return
        ra, rb = by[a], by[b]  # round by round: a's images/s over b's, b's CPU over a's
        ips = [x / y for x, y in zip(ra["ips"], rb["ips"], strict=True)]
        cpu = [y / x for x, y in zip(ra["cpu_ms"], rb["cpu_ms"], strict=True)]
        size = 100 * (ra["bytes_out"] / rb["bytes_out"] - 1)
        line = f"{what}: {span(ips)} the images/s, {cpu_words(cpu)}, output {size:+.1f}%"
        if target is not None:
            met = "met in every round" if min(cpu) >= target else "NOT met in every round"
            line += f"; the {target}x target in CPU per image is {met}"
        out.append(line)

    versus(GO, TALK, "Go engine vs the talk's pipeline", target=1.5)
    versus("python in process", TALK, "Python engine in process vs the talk's pipeline")
    versus(GO, "python in process", "Go engine vs the Python engine in process")
    for r in rows:
        if r["start_s"] is not None and GO in by:  # on Dask
            versus(r["variant"], GO, f"{r['variant'].removeprefix('go on ')}, vs goroutines "
                   "in one process")
            out.append(f"  the scheduler and client: {statistics.median(r['task_ms']):.0f} "
                       f"ms of CPU per task (median); starting the cluster: {r['start_s']:.1f} s")
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


@contextlib.contextmanager
def spawned(target, *arglists: tuple):
    """target(conn, *args) for each args in a spawned process (a fork of one that
    runs a Go runtime is not safe; the Go core never loads in this one): their
    conns. On the way out (a failure, a timeout, Ctrl-C too), any alive is killed."""
    ctx, conns, procs = multiprocessing.get_context("spawn"), [], []
    try:
        for args in arglists:
            conn, theirs = ctx.Pipe()
            procs.append(ctx.Process(target=target, args=(theirs, *args)))
            procs[-1].start()
            theirs.close()  # (so that its death is an EOFError here)
            conns.append(conn)
        yield conns
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
            p.join()


def ask(conn, who: str, what: str | None = None, timeout: float | None = None):
    """Send what (if any), then the answer; a child that died ends the run."""
    try:
        if what:
            conn.send(what)
        if not conn.poll(timeout):
            raise TimeoutError(f"{who} took over {timeout} s")
        return conn.recv()
    except (EOFError, BrokenPipeError):
        raise SystemExit(f"{who} failed: see above") from None


def _kill_one_worker(conn, src: str, dst: str) -> None:
    """The batch on a local cluster of 2 workers, one SIGKILLed as soon as
    outputs appear (the workers are converting then); sends what came back."""
    import piuma
    import psutil

    killed = []

    def kill_one() -> None:
        while not any(f for _, _, f in os.walk(dst)):
            time.sleep(0.01)
        worker = psutil.Process().children(recursive=True)[0]
        os.kill(worker.pid, signal.SIGKILL)
        killed.append(worker.pid)

    threading.Thread(target=kill_one, daemon=True).start()
    rs = piuma.optimize_dir(src, dst, **JOB, cluster="local:2")
    conn.send({"killed": killed, "ok": sum(r.ok for r in rs), "files": len(rs)})


def kill_a_worker(src: Path, dst: Path, timeout: float = 600) -> dict:
    """_kill_one_worker in a spawned process: what came back, and what is on
    disk after: outputs, and the temp file the killed worker may have left
    (one, if it was killed while writing)."""
    with spawned(_kill_one_worker, (str(src), str(dst))) as [conn]:
        out = ask(conn, "the batch with a killed worker", timeout=timeout)
    temps = sum(f.is_file() and f.name.endswith(".tmp") for f in Path(dst).rglob("*"))
    return {**out, "outputs": sum(f.is_file() for f in Path(dst).rglob("*")) - temps,
            "temp_files": temps}


def run(src: Path, names: list[str], repeat: int) -> list[dict]:
    """Time the variants, each in its own process, repeat batches of each in
    rounds; the rows of the table (with PSNR)."""
    refs = references(src)
    with tempfile.TemporaryDirectory(prefix="piuma-bench-") as work:
        dst = {name: f"{work}/{i}" for i, name in enumerate(names)}
        with spawned(serve, *[(str(src), dst[n], VARIANTS[n]) for n in names]) as conns:
            conn = dict(zip(names, conns, strict=True))
            for name in names:  # "ready": every warm-up is over before the first timed batch
                ask(conn[name], f"variant {name!r}")
            for r in range(repeat):  # each round starts with the next variant
                for name in names[r % len(names):] + names[:r % len(names)]:
                    ask(conn[name], f"variant {name!r}", "run")
            return [{"variant": n, **ask(conn[n], f"variant {n!r}", "quit"),
                     **psnr(Path(dst[n]), refs)} for n in names]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", default=str(HERE / "build" / "images" / "products"))
    ap.add_argument("--repeat", type=int, default=3, help="timed batches per variant (3)")
    args = ap.parse_args(argv)
    names = list(VARIANTS)
    if importlib.util.find_spec("distributed") is None:
        names = [n for n in names if "cluster" not in VARIANTS[n]]
        print("(no dask[distributed]: the Dask variants are left out)")
    src = Path(args.src).resolve()
    print(f"{src.name}: fit in {JOB['width']}x{JOB['height']}, quality {JOB['quality']}, "
          f"optimisers on; {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; {args.repeat} "
          "timed batches after a warm-up, each variant in its own process\n")
    rows = run(src, names, args.repeat)
    print(table(rows) + "\n")
    print("\n".join(verdict(rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
