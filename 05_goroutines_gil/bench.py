"""The talk's experiment on your machine: count N down, engine by engine.

    python bench.py [--n 50000000] [--repeat 5] [--json results.json]

Every engine runs in a process of its own (a fresh interpreter: one Go
runtime per process, and no engine warms another's caches), repeats the count
and reports the median. Fast engines repeat until they have run for at least
a second, so their medians are not made of one noisy run.

Engines: Python sequential, Python with 2 threads, Python with 2 processes
(multiprocessing, spawn), the loop in C (one thread, the reference), Go with
1, 2 and runtime.NumCPU() goroutines, and "gil": how fast a Python thread
counts while a Go call runs, with the GIL released (the default) or held.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

STEP = Path(__file__).resolve().parent
TALK_N = 50_000_000
TALK_THREADS_SECONDS = 6.18  # the talk's two Python threads (its machine, not yours)
MIN_SECONDS = 1.0  # fast engines repeat until they have run this long...
MAX_RUNS = 200  # ...or this many times

# name -> label, in table order
ENGINES = {
    "py_sequential": "Python, sequential",
    "py_threads_2": "Python, 2 threads",
    "py_processes_2": "Python, 2 processes (spawn)",
    "c_1": "C loop, 1 thread (reference)",
    "go_1": "Go, 1 goroutine",
    "go_2": "Go, 2 goroutines",
    "go_numcpu": "Go, NumCPU goroutines",
}


def py_countdown(n: int) -> None:
    """The talk's loop, in Python."""
    while n > 0:
        n -= 1


def halves(n: int) -> tuple[int, int]:
    return n // 2, n - n // 2


# --------------------------------------------------------------------------
# Child side: one engine, timed in this process.
# --------------------------------------------------------------------------
def _engine_call(name: str, n: int):
    """Return (a function doing one full count of n, info dict)."""
    if name == "py_sequential":
        return (lambda: py_countdown(n)), {}
    if name == "py_threads_2":
        def run() -> None:
            threads = [threading.Thread(target=py_countdown, args=(k,)) for k in halves(n)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        return run, {}
    if name == "py_processes_2":
        ctx = multiprocessing.get_context("spawn")

        def run() -> None:  # process start-up included: you pay it too
            procs = [ctx.Process(target=py_countdown, args=(k,)) for k in halves(n)]
            for p in procs:
                p.start()
            for p in procs:
                p.join()
                if p.exitcode != 0:
                    raise RuntimeError(f"worker exited with {p.exitcode}")
        return run, {}
    if name == "c_1":
        import cloop

        def run() -> None:
            if cloop.countdown(n) != n:
                raise RuntimeError("C loop miscounted")
        return run, {}
    if name.startswith("go_"):
        import countdown

        workers = countdown.num_cpu() if name == "go_numcpu" else int(name[3:])

        def run() -> None:
            if countdown.countdown(n, workers) != n:
                raise RuntimeError("Go countdown miscounted")
        info = {"workers": workers, "num_cpu": countdown.num_cpu(),
                "gomaxprocs": countdown.gomaxprocs()}
        return run, info
    raise SystemExit(f"unknown engine {name!r}; choose from {', '.join(ENGINES)}, gil")


def time_engine(name: str, n: int, repeat: int, min_seconds: float = MIN_SECONDS) -> dict:
    run, info = _engine_call(name, n)
    run_small, _ = _engine_call(name, 1000)
    run_small()  # warm up: imports done, Go runtime threads started
    times: list[float] = []
    started = time.perf_counter()
    while len(times) < repeat or (
        time.perf_counter() - started < min_seconds and len(times) < MAX_RUNS
    ):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    return {"engine": name, "n": n, "times": times, "median": statistics.median(times), **info}


MARK_EVERY = 1 << 14  # the spinning thread notes the time every 16384 increments


def gil_progress(seconds: float, rounds: int) -> dict:
    """How fast a Python thread counts: alone, then while a Go call runs with
    the GIL released, then while a Go call holds it; `rounds` times, so that
    a change of load on the machine hits all three alike (medians reported).

    The Go calls use ONE goroutine, so on a machine with 2+ cores Go and the
    Python thread each have a core: what is measured is the GIL, not two
    loops fighting over one CPU.
    """
    import countdown

    # Size the Go call so it lasts about `seconds`.
    countdown.countdown(1000, 1)  # warm up
    probe = 50_000_000
    t0 = time.perf_counter()
    countdown.countdown(probe, 1)
    go_n = max(probe, int(probe * seconds / max(time.perf_counter() - t0, 1e-6)))

    stop = False
    marks: list[float] = []

    def spin() -> None:
        i = 0
        while not stop:
            i += 1
            if not i % MARK_EVERY:
                marks.append(time.perf_counter())

    spinner = threading.Thread(target=spin)
    spinner.start()
    time.sleep(0.05)  # let it get going
    phases = []
    for _ in range(rounds):
        for phase in ("solo", "released", "held"):
            a = time.perf_counter()
            if phase == "solo":
                time.sleep(seconds)  # sleeping releases the GIL: the thread runs alone
            else:
                countdown.countdown(go_n, 1, release_gil=(phase == "released"))
            b = time.perf_counter()
            phases.append({"phase": phase, "start": a, "end": b})
            time.sleep(0.05)  # a gap between phases, visible on the plot
    stop = True
    spinner.join()
    for p in phases:
        inside = sum(p["start"] <= m <= p["end"] for m in marks)
        p["pace"] = inside * MARK_EVERY / (p["end"] - p["start"])  # increments / s
    pace = {name: statistics.median(p["pace"] for p in phases if p["phase"] == name)
            for name in ("solo", "released", "held")}
    origin = phases[0]["start"]
    return {
        "engine": "gil",
        "go_n": go_n,
        "mark_every": MARK_EVERY,
        "pace": pace,  # medians over the rounds, increments / s
        "of_solo": {k: v / pace["solo"] if pace["solo"] else float("nan")
                    for k, v in pace.items()},
        "phases": [{**p, "start": p["start"] - origin, "end": p["end"] - origin}
                   for p in phases],
        "marks": [m - origin for m in marks],
    }


# --------------------------------------------------------------------------
# Parent side: one child process per engine, then the table.
# --------------------------------------------------------------------------
def run_engine(name: str, n: int, repeat: int, gil_seconds: float = 0.5,
               min_seconds: float = MIN_SECONDS, timeout: float = 3600) -> dict:
    """Run one engine in a fresh interpreter and return its JSON result."""
    cmd = [sys.executable, str(STEP / "bench.py"), "--engine", name, "--n", str(n),
           "--repeat", str(repeat), "--gil-seconds", str(gil_seconds),
           "--min-seconds", str(min_seconds)]
    proc = subprocess.run(cmd, cwd=STEP, capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, PYTHONPATH=str(STEP)))
    if proc.returncode != 0:
        raise RuntimeError(f"engine {name} failed ({proc.returncode}):\n{proc.stderr}")
    return json.loads(proc.stdout)


def run_all(n: int, repeat: int, gil_seconds: float = 0.5,
            min_seconds: float = MIN_SECONDS, engines=None, progress=None) -> dict:
    results = {}
    for name in [*(engines or ENGINES), "gil"]:
        if progress:
            progress(name)
        results[name] = run_engine(name, n, repeat, gil_seconds, min_seconds)
    return results


def ratios(results: dict) -> dict[str, float]:
    """The comparisons the talk makes, and the two factors behind them."""
    m = {name: r["median"] for name, r in results.items() if "median" in r}
    out = {
        "2 Python threads / 2 goroutines": m["py_threads_2"] / m["go_2"],
        "  compiled vs interpreted (2 Python threads / 1 goroutine)":
            m["py_threads_2"] / m["go_1"],
        "  parallelism (1 goroutine / 2 goroutines)": m["go_1"] / m["go_2"],
        "2 Python threads / sequential Python": m["py_threads_2"] / m["py_sequential"],
        "sequential Python / 2 processes": m["py_sequential"] / m["py_processes_2"],
        "sequential Python / C loop": m["py_sequential"] / m["c_1"],
        "1 goroutine / C loop": m["go_1"] / m["c_1"],
        "1 goroutine / NumCPU goroutines": m["go_1"] / m["go_numcpu"],
    }
    gil = results.get("gil")
    if gil:
        out["Python thread pace, GIL released / solo"] = gil["of_solo"]["released"]
        out["Python thread pace, GIL held / solo"] = gil["of_solo"]["held"]
    return out


def table(results: dict) -> str:
    some = next(r for r in results.values() if "median" in r)
    n = some["n"]
    go = results.get("go_numcpu", {})
    lines = [
        f"countdown of {n:,} on os.cpu_count()={os.cpu_count()} "
        f"(Go: NumCPU={go.get('num_cpu', '?')}, GOMAXPROCS={go.get('gomaxprocs', '?')}); "
        "median of repeated runs, one process per engine",
        f"{'engine':<34}{'runs':>6}{'median s':>12}{'2 threads / this':>18}",
    ]
    threads = results.get("py_threads_2", {}).get("median")
    for name, label in ENGINES.items():
        r = results.get(name)
        if not r:
            continue
        if name == "go_numcpu":
            label = f"Go, NumCPU={r['workers']} goroutines"
        speedup = f"{threads / r['median']:,.1f}x" if threads else ""
        lines.append(f"{label:<34}{len(r['times']):>6}{r['median']:>12.4f}{speedup:>18}")
    if n == TALK_N and threads:
        lines.append(f"(the talk's 2 Python threads: {TALK_THREADS_SECONDS} s on its machine)")
    gil = results.get("gil")
    if gil:
        lines.append("")
        rounds = len(gil["phases"]) // 3
        lines.append(f"a Python thread counting while Go counts {gil['go_n']:,} "
                     f"with 1 goroutine (median of {rounds} rounds):")
        for phase, what in (("solo", "alone (main thread sleeps)"),
                            ("released", "during countdown() (GIL released)"),
                            ("held", "during countdown(release_gil=False)")):
            lines.append(f"  {what:<40}{gil['pace'][phase] / 1e6:>8.2f} M increments/s"
                         f"{gil['of_solo'][phase]:>8.0%} of solo")
    lines.append("")
    try:
        for key, value in ratios(results).items():
            fmt = f"{value:.0%}" if "pace" in key else f"{value:,.2f}x"
            lines.append(f"{key:<62}{fmt:>10}")
    except KeyError:  # a partial run: no ratios
        pass
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=int(os.environ.get("N", TALK_N)),
                    help="how far to count (default: the talk's 50,000,000, or $N)")
    ap.add_argument("--repeat", type=int, default=5,
                    help="runs per engine, at least (rounds of the GIL measurement)")
    ap.add_argument("--gil-seconds", type=float, default=0.5,
                    help="length of each phase of the GIL measurement")
    ap.add_argument("--min-seconds", type=float, default=MIN_SECONDS,
                    help="fast engines repeat until they have run this long")
    ap.add_argument("--json", type=Path, help="also write the raw results here")
    ap.add_argument("--engine", help=argparse.SUPPRESS)  # child mode
    args = ap.parse_args(argv)
    if args.n < 2 or args.repeat < 1:
        ap.error("need --n >= 2 and --repeat >= 1")

    if args.engine:
        if args.engine == "gil":
            result = gil_progress(args.gil_seconds, args.repeat)
        else:
            result = time_engine(args.engine, args.n, args.repeat, args.min_seconds)
        json.dump(result, sys.stdout)
        return 0

    results = run_all(args.n, args.repeat, args.gil_seconds, args.min_seconds,
                      progress=lambda e: print(f"running {e}...", file=sys.stderr,
                                               flush=True))
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
