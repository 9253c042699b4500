"""The talk's experiment on your machine: count N down, engine by engine.

    python bench.py [--n 50000000] [--repeat 5] [--min-run 0.2] [--json results.json]

Engines: Python with 1 and 2 threads under the GIL (this interpreter), the
same on a free-threaded CPython (3.13t: its threads really run in parallel)
when one is found, Python with 2 processes (multiprocessing, spawn), the loop
in C (one thread, the reference), Go with 1, 2 and runtime.NumCPU()
goroutines; and "gil": how fast a Python thread counts while a Go call runs,
with the GIL released (the default; 1 goroutine, then 2) or held, and how
much CPU time it got meanwhile.

Measured side by side, for a busy machine: `--repeat` rounds, each running
every engine once, each run in a fresh process (one Go runtime per process,
and no engine warms another's caches). The compiled engines count more than
N so that every timed run lasts at least --min-run seconds (a run of a few
milliseconds measures the noise): the count is calibrated in an engine's
first run, and a later run that is still shorter (the machine got faster,
less busy) is redone with a larger count, which later rounds keep.
Everything is compared per decrement. Every run of the right length is
kept; the table shows min, median and max.

The free-threaded interpreter is $EPG_FT_PYTHON if set, else the one
common/free-threaded-python.sh builds (~/.cache/epg/python3.13.*-ft/...);
the benchmark never builds it. Each interpreter runs in its own processes.
"""

from __future__ import annotations

import argparse
import bisect
import json
import math
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import sysconfig
import threading
import time
from pathlib import Path

STEP = Path(__file__).resolve().parent
TALK_N = 50_000_000
# Quoted, not measured: pygoexamples' README on the day of the talk (15 September
# 2018), its author's machine: two Python threads 5.69 s, two goroutines 0.015 s.
TALK_THREADS_SECONDS = 5.69
MIN_RUN = 0.2  # seconds: compiled engines count more until a run lasts this long
MAX_N = 1 << 40

# name -> label, in table order ("{py}": the interpreter that ran it)
ENGINES = {
    "py_sequential": "{py}, 1 thread",
    "py_threads_2": "{py}, 2 threads",
    "ft_sequential": "{py}, 1 thread",
    "ft_threads_2": "{py}, 2 threads",
    "py_processes_2": "{py}, 2 processes (spawn)",
    "c_1": "C loop, 1 thread (reference)",
    "go_1": "Go, 1 goroutine",
    "go_2": "Go, 2 goroutines",
    "go_numcpu": "Go, NumCPU goroutines",
}
FREE_THREADED_ENGINES = ("ft_sequential", "ft_threads_2")
COMPILED_ENGINES = ("c_1", "go_1", "go_2", "go_numcpu")


def py_countdown(n: int) -> None:
    """The talk's loop, in Python."""
    while n > 0:
        n -= 1


def halves(n: int) -> tuple[int, int]:
    return n // 2, n - n // 2


# --------------------------------------------------------------------------
# Interpreters
# --------------------------------------------------------------------------
def is_free_threaded_build(python: str = sys.executable) -> bool:
    if python == sys.executable:
        return bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    out = subprocess.run([python, "-c", "import sysconfig; "
                          "print(bool(sysconfig.get_config_var('Py_GIL_DISABLED')))"],
                         capture_output=True, text=True, timeout=60)
    return out.stdout.strip() == "True"


def free_threaded_python() -> tuple[str | None, str]:
    """(path of a free-threaded CPython or None, where it was looked for)."""
    if os.environ.get("EPG_FT_PYTHON"):
        candidates = [os.environ["EPG_FT_PYTHON"]]
        where = "$EPG_FT_PYTHON"
    else:
        # Where common/free-threaded-python.sh builds (the version is that
        # of the machine's python3.13 source package).
        cache = Path(os.environ.get("EPG_CACHE", Path.home() / ".cache" / "epg"))
        candidates = [str(p) for p in sorted(cache.glob("python3.13.*-ft/bin/python3.13t"))]
        where = str(cache / "python3.13.*-ft" / "bin" / "python3.13t")
    for path in candidates:
        if os.access(path, os.X_OK) and is_free_threaded_build(path):
            return path, where
    return None, where


def interpreter(name: str, ft_python: str | None) -> list[str]:
    """The command that runs an engine: the free-threaded interpreter with the
    GIL off for ft_*, this one for the others (its GIL forced on for the GIL
    engines if this interpreter is itself free-threaded)."""
    if name in FREE_THREADED_ENGINES:
        return [ft_python, "-X", "gil=0"]
    if (name.startswith("py_") or name == "gil") and is_free_threaded_build():
        return [sys.executable, "-X", "gil=1"]
    return [sys.executable]


# --------------------------------------------------------------------------
# Child side: one engine, timed in this process.
# --------------------------------------------------------------------------
def _engine_call(name: str):
    """Return (a function counting n down, info dict)."""
    if name in ("py_sequential", "ft_sequential"):
        return py_countdown, {}
    if name in ("py_threads_2", "ft_threads_2"):
        def run(n: int) -> None:
            threads = [threading.Thread(target=py_countdown, args=(k,)) for k in halves(n)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        return run, {}
    if name == "py_processes_2":
        ctx = multiprocessing.get_context("spawn")

        def run(n: int) -> None:  # process start-up included: you pay it too
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

        def run(n: int) -> None:
            if cloop.countdown(n) != n:
                raise RuntimeError("C loop miscounted")
        return run, {}
    if name.startswith("go_"):
        import countdown

        workers = countdown.num_cpu() if name == "go_numcpu" else int(name[3:])

        def run(n: int) -> None:
            if countdown.countdown(n, workers) != n:
                raise RuntimeError("Go countdown miscounted")
        info = {"workers": workers, "num_cpu": countdown.num_cpu(),
                "gomaxprocs": countdown.gomaxprocs()}
        return run, info
    raise SystemExit(f"unknown engine {name!r}; choose from {', '.join(ENGINES)}, gil")


def python_info() -> dict:
    gil = getattr(sys, "_is_gil_enabled", lambda: True)()
    version = ".".join(map(str, sys.version_info[:3]))
    if sysconfig.get_config_var("Py_GIL_DISABLED"):
        version += "t"
    return {"python": version, "gil": gil, "executable": sys.executable}


def time_engine(name: str, n: int, min_run: float, calibrate: bool) -> dict:
    """One timed run of n (after a warm-up). With calibrate, a compiled
    engine first grows n until a run lasts min_run (those runs are not kept).
    A compiled engine's timed run that lasts less than min_run anyway (it
    calibrated on a busier machine) is redone with a larger n, until one
    lasts long enough (or n reaches MAX_N): the result reports that n."""
    run, info = _engine_call(name)
    run(1000)  # warm up: imports done, Go runtime threads started
    if calibrate and name in COMPILED_ENGINES:
        while True:
            t0 = time.perf_counter()
            run(n)
            elapsed = time.perf_counter() - t0
            if elapsed >= min_run or n >= MAX_N:
                break
            n = min(MAX_N, n * max(2, math.ceil(1.2 * min_run / max(elapsed, 1e-6))))
    while True:
        cpu0 = cpu_seconds()
        t0 = time.perf_counter()
        run(n)
        elapsed = time.perf_counter() - t0
        cpu = cpu_seconds() - cpu0
        if name not in COMPILED_ENGINES or elapsed >= min_run or n >= MAX_N:
            break
        # shorter than the calibration said: redo, counting more (as 01_c_sum's bench)
        n = min(MAX_N, math.ceil(n * 1.1 * min_run / max(elapsed, 1e-6)))
    return {"engine": name, "n": n, "time": elapsed, "cpu": cpu, **info, **python_info()}


def cpu_seconds() -> float:
    """CPU time used so far by this process (all its threads) and its waited-for
    children. CPU seconds per wall second is how many cores the run really
    had: a second thread only helps if it gets a core of its own. (With the
    Linux scheduler's autogroups, a busy machine shares the CPUs between
    sessions, not threads: more threads then get no more CPU.)"""
    import resource

    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


MARK_EVERY = 1 << 14  # the spinning thread notes the time every 16384 increments

# What the main thread does while a Python thread counts, phase by phase.
GIL_PHASES = {
    "solo": "alone (main thread sleeps)",
    "released": "countdown(), GIL released, 1 goroutine",
    "released_2": "countdown(), GIL released, 2 goroutines",
    "held": "countdown(release_gil=False)",
}


def gil_progress(seconds: float, rounds: int) -> dict:
    """How fast a Python thread counts: alone, then while a Go call runs with
    the GIL released (1 goroutine, then 2), then while a Go call holds it;
    `rounds` times, so that a change of load on the machine hits every phase
    alike (medians reported).

    Each phase also records where the thread's time went: on a CPU, runnable
    but waiting for one (Linux's schedstat; elsewhere only the CPU time, from
    time.thread_time at the marks), or asleep (waiting for the GIL); and the
    cores the whole process used (getrusage). With the GIL released the
    thread never sleeps: it slows down only when it waits for a CPU. One
    goroutine leaves a core for it on an idle 2-core machine; two do not.
    """
    import resource

    import countdown

    def process_cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    # On Linux, a thread's time on a CPU (its CPU clock: exact) and runnable but
    # waiting for one (schedstat, which adds a wait when the wait ends: a phase
    # may count the end of a wait begun just before it). Waiting for the GIL is
    # neither: the thread sleeps. Reading the file releases the GIL, and the
    # spinner may then run until this thread gets it back: so the clock is read
    # on the phase's side of each file read.
    def cpu_clock(thread: threading.Thread) -> float | None:
        try:
            return time.clock_gettime(time.pthread_getcpuclockid(thread.ident))
        except (OSError, AttributeError):  # not on this platform
            return None

    def waited(thread: threading.Thread) -> float | None:
        try:
            with open(f"/proc/self/task/{thread.native_id}/schedstat") as f:
                return int(f.read().split()[1]) / 1e9
        except (OSError, ValueError, IndexError):  # not Linux
            return None

    # Size the Go call so it lasts about `seconds` (1 goroutine).
    countdown.countdown(1000, 1)  # warm up
    probe = 50_000_000
    t0 = time.perf_counter()
    countdown.countdown(probe, 1)
    go_n = max(probe, int(probe * seconds / max(time.perf_counter() - t0, 1e-6)))

    stop = False
    marks: list[float] = []
    cpu_marks: list[float] = []  # the thread's CPU seconds at each mark

    def spin() -> None:
        i = 0
        while not stop:
            i += 1
            if not i % MARK_EVERY:
                marks.append(time.perf_counter())
                cpu_marks.append(time.thread_time())

    spinner = threading.Thread(target=spin)
    spinner.start()
    time.sleep(0.05)  # let it get going
    phases = []
    for _ in range(rounds):
        for phase in GIL_PHASES:
            waited0 = waited(spinner)
            cpu0, on0 = process_cpu(), cpu_clock(spinner)
            a = time.perf_counter()
            if phase == "solo":
                time.sleep(seconds)  # sleeping releases the GIL: the thread runs alone
            elif phase == "released_2":  # each goroutine counts as much as the one above
                countdown.countdown(2 * go_n, 2)
            else:
                countdown.countdown(go_n, 1, release_gil=(phase == "released"))
            b = time.perf_counter()
            on1, cpu1 = cpu_clock(spinner), process_cpu()
            waited1 = waited(spinner)
            phases.append({"phase": phase, "start": a, "end": b,
                           "process_cores": (cpu1 - cpu0) / (b - a)})
            if None not in (on0, on1, waited0, waited1):
                phases[-1]["on_cpu"] = (on1 - on0) / (b - a)
                phases[-1]["waiting_for_cpu"] = (waited1 - waited0) / (b - a)
            time.sleep(0.05)  # a gap between phases, visible on the plot
    stop = True
    spinner.join()

    def thread_cpu_at(t: float) -> float:  # at the last mark before t (within one mark)
        i = bisect.bisect_right(marks, t)
        return cpu_marks[i - 1] if i else 0.0

    for p in phases:
        inside = sum(p["start"] <= m <= p["end"] for m in marks)
        wall = p["end"] - p["start"]
        p["pace"] = inside * MARK_EVERY / wall  # increments / s
        # The share of the phase the thread spent on a CPU (schedstat, or its
        # CPU clock at the marks), and its pace per CPU second: if that stays at
        # its solo value, all it lost was CPU time.
        if "on_cpu" not in p:
            p["on_cpu"] = (thread_cpu_at(p["end"]) - thread_cpu_at(p["start"])) / wall
            p["waiting_for_cpu"] = float("nan")  # unknown outside Linux
        # Neither on a CPU nor waiting for one: asleep (for the GIL, in this loop).
        p["asleep"] = max(0.0, 1 - p["on_cpu"] - p["waiting_for_cpu"])
        p["pace_per_cpu"] = p["pace"] / p["on_cpu"] if p["on_cpu"] > 0.02 else float("nan")

    # Each phase against the solo phase of its own round (the load may change
    # from round to round), then the median over the rounds.
    n = len(GIL_PHASES)
    for i, p in enumerate(phases):
        solo = phases[i - i % n]
        p["of_solo"] = p["pace"] / solo["pace"] if solo["pace"] else float("nan")
        p["per_cpu_of_solo"] = (p["pace_per_cpu"] / solo["pace_per_cpu"]
                                if solo["pace_per_cpu"] else float("nan"))

    def median(phase: str, key: str) -> float:
        values = [p[key] for p in phases if p["phase"] == phase and not math.isnan(p[key])]
        return statistics.median(values) if values else float("nan")

    origin = phases[0]["start"]
    return {
        "engine": "gil",
        "go_n": go_n,
        "mark_every": MARK_EVERY,
        # medians over the rounds: increments / s, then ratios to the round's solo phase
        "pace": {name: median(name, "pace") for name in GIL_PHASES},
        "of_solo": {name: median(name, "of_solo") for name in GIL_PHASES},
        "on_cpu": {name: median(name, "on_cpu") for name in GIL_PHASES},
        "waiting_for_cpu": {name: median(name, "waiting_for_cpu") for name in GIL_PHASES},
        "asleep": {name: median(name, "asleep") for name in GIL_PHASES},
        "per_cpu_of_solo": {name: median(name, "per_cpu_of_solo") for name in GIL_PHASES},
        "process_cores": {name: median(name, "process_cores") for name in GIL_PHASES},
        "phases": [{**p, "start": p["start"] - origin, "end": p["end"] - origin}
                   for p in phases],
        "marks": [m - origin for m in marks],
        **python_info(),
    }


# --------------------------------------------------------------------------
# Parent side: rounds of one child process per engine, then the table.
# --------------------------------------------------------------------------
def run_engine(name: str, n: int, *, ft_python: str | None = None, min_run: float = MIN_RUN,
               calibrate: bool = False, rounds: int = 1, gil_seconds: float = 0.5,
               timeout: float = 3600) -> dict:
    """Run one engine in a fresh interpreter and return its JSON result."""
    cmd = [*interpreter(name, ft_python), str(STEP / "bench.py"), "--engine", name,
           "--n", str(n), "--min-run", str(min_run), "--repeat", str(rounds),
           "--gil-seconds", str(gil_seconds)]
    if calibrate:
        cmd.append("--calibrate")
    proc = subprocess.run(cmd, cwd=STEP, capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, PYTHONPATH=str(STEP)))
    if proc.returncode != 0:
        raise RuntimeError(f"engine {name} failed ({proc.returncode}):\n{proc.stderr}")
    return json.loads(proc.stdout)


def summarize(result: dict) -> dict:
    """Per-decrement figures of an engine's runs (every run kept; each run's
    count in `counts`, `n` the last, the largest)."""
    ns = [t / k * 1e9 for t, k in zip(result["times"], result["counts"], strict=True)]
    cores = [c / t for c, t in zip(result["cpu"], result["times"], strict=True)]
    return {**result, "ns": ns, "min_ns": min(ns), "median_ns": statistics.median(ns),
            "max_ns": max(ns), "cores": cores, "median_cores": statistics.median(cores),
            "shortest": min(result["times"])}


def run_all(n: int, repeat: int, *, min_run: float = MIN_RUN, gil_seconds: float = 0.5,
            engines=None, progress=None) -> dict:
    """`repeat` rounds; in each, every engine once, in a fresh process; the
    order rotates from round to round so that no engine always runs first."""
    ft_python, ft_where = free_threaded_python()
    names = [e for e in (engines or ENGINES)
             if ft_python is not None or e not in FREE_THREADED_ENGINES]
    results: dict = {}
    for r in range(repeat):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            if progress:
                progress(f"round {r + 1}/{repeat}: {name}")
            first = name not in results
            out = run_engine(name, results[name]["n"] if not first else n,
                             ft_python=ft_python, min_run=min_run, calibrate=first)
            if first:
                results[name] = {k: v for k, v in out.items() if k not in ("time", "cpu")}
                results[name]["times"], results[name]["cpu"] = [], []
                results[name]["counts"] = []
            # A redone run counted more: later rounds start from its count.
            results[name]["n"] = out["n"]
            results[name]["counts"].append(out["n"])
            results[name]["times"].append(out["time"])
            results[name]["cpu"].append(out["cpu"])
    results = {name: summarize(results[name]) for name in names}
    if engines is None or "gil" in engines:
        if progress:
            progress("gil")
        results["gil"] = run_engine("gil", n, rounds=repeat, gil_seconds=gil_seconds)
    return {"n": n, "repeat": repeat, "min_run": min_run, "cpu_count": os.cpu_count(),
            "loadavg": os.getloadavg() if hasattr(os, "getloadavg") else None,
            "free_threaded_python": ft_python, "free_threaded_looked_for": ft_where,
            "engines": results}


def label(name: str, r: dict) -> str:
    version = r.get("python", "?")
    gil = r.get("gil", True)
    py = f"Python {version}" + (" (no GIL)" if not gil else
                                " (-X gil=1)" if version.endswith("t") else "")
    if name == "go_numcpu":
        return f"Go, NumCPU={r['workers']} goroutines"
    return ENGINES[name].format(py=py)


def short_name(name: str) -> str:
    """The engine's name in one word or two, for the table's header."""
    return {"py_sequential": "py 1", "py_threads_2": "py 2", "ft_sequential": "ft 1",
            "ft_threads_2": "ft 2", "py_processes_2": "py 2 proc", "c_1": "C",
            "go_1": "go 1", "go_2": "go 2", "go_numcpu": "go NumCPU"}[name]


def ratios(run: dict, stat: str = "median_ns") -> dict[str, float]:
    """The talk's comparison and the factors it is made of (an exact product).

    For each kind of thread, its parallel speed-up S = (1 thread) / (2 threads):
    about 2 on 2 idle cores if the two really run at once, about 1 (or less)
    under the GIL. Then, per decrement:

      2 threads / 2 goroutines = (1 thread / 1 goroutine)  x  (S_go / S_threads)
                                  compiled vs interpreted      parallelism
    """
    e = {name: r[stat] for name, r in run["engines"].items() if stat in r}
    out: dict[str, float] = {}
    if {"py_sequential", "py_threads_2", "go_1", "go_2"} <= e.keys():
        s_go = e["go_1"] / e["go_2"]
        s_gil = e["py_sequential"] / e["py_threads_2"]
        out["2 GIL threads / 2 goroutines"] = e["py_threads_2"] / e["go_2"]
        out["  compiled vs interpreted (1 thread / 1 goroutine)"] = (
            e["py_sequential"] / e["go_1"])
        out["  parallelism (S_go / S_GIL threads)"] = s_go / s_gil
        out["S_GIL threads (1 thread / 2 threads)"] = s_gil
        out["S_go (1 goroutine / 2 goroutines)"] = s_go
    if {"ft_sequential", "ft_threads_2", "go_1", "go_2"} <= e.keys():
        s_go = e["go_1"] / e["go_2"]
        s_ft = e["ft_sequential"] / e["ft_threads_2"]
        out["2 free-threaded threads / 2 goroutines"] = e["ft_threads_2"] / e["go_2"]
        out["  compiled vs interpreted (free-threaded 1 thread / 1 goroutine)"] = (
            e["ft_sequential"] / e["go_1"])
        out["  parallelism (S_go / S_free-threaded threads)"] = s_go / s_ft
        out["S_free-threaded threads (1 thread / 2 threads)"] = s_ft
    if {"ft_sequential", "py_sequential"} <= e.keys():
        out["free-threaded 1 thread / GIL 1 thread (single-thread cost)"] = (
            e["ft_sequential"] / e["py_sequential"])
    if {"ft_threads_2", "py_threads_2"} <= e.keys():
        out["2 GIL threads / 2 free-threaded threads"] = e["py_threads_2"] / e["ft_threads_2"]
    if {"py_sequential", "py_processes_2"} <= e.keys():
        out["1 thread / 2 processes"] = e["py_sequential"] / e["py_processes_2"]
    if {"py_sequential", "c_1", "go_1"} <= e.keys():
        out["1 Python thread / C loop"] = e["py_sequential"] / e["c_1"]
        out["1 goroutine / C loop"] = e["go_1"] / e["c_1"]
    if {"go_1", "go_numcpu"} <= e.keys():
        out["1 goroutine / NumCPU goroutines"] = e["go_1"] / e["go_numcpu"]
    gil = run["engines"].get("gil")
    if gil:
        out["Python thread pace, GIL released / solo"] = gil["of_solo"]["released"]
        out["Python thread pace, GIL held / solo"] = gil["of_solo"]["held"]
    return out


def fmt_ns(value: float) -> str:
    return f"{value:,.3f}" if value < 10 else f"{value:,.1f}"


def table(run: dict) -> str:
    n, engines = run["n"], run["engines"]
    go = engines.get("go_numcpu", {})
    load = run.get("loadavg")
    lines = [
        f"countdown on os.cpu_count()={run['cpu_count']} (Go: NumCPU={go.get('num_cpu', '?')}"
        f", GOMAXPROCS={go.get('gomaxprocs', '?')})"
        + (f", load average {load[0]:.1f} at the end" if load else ""),
        f"{run['repeat']} rounds, each engine once per round in a fresh process; "
        f"compiled engines count more than {n:,} so that every run lasts >= "
        f"{run['min_run']:g} s (a shorter one is redone, counting more; the count shown "
        "is the last)",
        "shortest run, s: " + ", ".join(f"{short_name(name)} {engines[name]['shortest']:.3f}"
                                        for name in ENGINES if name in engines),
    ]
    if run.get("free_threaded_python"):
        lines.append(f"free-threaded CPython: {run['free_threaded_python']}")
    else:
        lines.append(f"free-threaded CPython: not found ({run['free_threaded_looked_for']}; "
                     "set EPG_FT_PYTHON, or build one with common/free-threaded-python.sh)")
    lines.append("")
    shown = [name for name in ENGINES if name in engines]
    width = max(len(label(name, engines[name])) for name in shown) + 2
    lines.append(f"{'engine':<{width}}{'decrements/run':>15}{'ns per decrement: min':>23}"
                 f"{'median':>10}{'max':>10}{'cores used':>12}{'2 GIL threads / this':>22}")
    threads = engines.get("py_threads_2", {}).get("median_ns")
    for name in shown:
        r = engines[name]
        speed = f"{threads / r['median_ns']:,.1f}x" if threads else ""
        lines.append(f"{label(name, r):<{width}}{r['n']:>15,}{fmt_ns(r['min_ns']):>23}"
                     f"{fmt_ns(r['median_ns']):>10}{fmt_ns(r['max_ns']):>10}"
                     f"{r['median_cores']:>12.2f}{speed:>22}")
    if threads:
        lines.append(f"(2 GIL threads, median: {threads * TALK_N / 1e9:.2f} s for the talk's "
                     f"{TALK_N:,}; quoted from the talk's README: {TALK_THREADS_SECONDS} s on "
                     "its machine. 2 processes: start-up included.)")
    lines.append("(cores used: CPU seconds per second of the run, median; a second thread "
                 "helps only if it gets a core)")
    gil = engines.get("gil")
    if gil:
        lines.append("")
        rounds = len(gil["phases"]) // len(GIL_PHASES)
        lines.append(f"a Python thread counting while Go counts {gil['go_n']:,} per goroutine "
                     f"(median of {rounds} rounds):")
        lines.append(f"  {'the main thread':<42}{'M increments/s':>15}{'of solo':>9}"
                     f"{'per CPU-s':>11}{'on a CPU':>10}{'waiting for a CPU':>19}{'asleep':>8}"
                     f"{'process cores':>15}")

        def pct(value: float) -> str:
            return "?" if math.isnan(value) else f"{value:.0%}"

        for phase, what in GIL_PHASES.items():
            lines.append(f"  {what:<42}{gil['pace'][phase] / 1e6:>15.2f}"
                         f"{gil['of_solo'][phase]:>9.0%}"
                         f"{pct(gil['per_cpu_of_solo'][phase]):>11}"
                         f"{gil['on_cpu'][phase]:>10.0%}"
                         f"{pct(gil['waiting_for_cpu'][phase]):>19}"
                         f"{pct(gil['asleep'][phase]):>8}"
                         f"{gil['process_cores'][phase]:>15.2f}")
        lines.append("  (of solo: against the same round's solo phase; per CPU-s: the pace per "
                     "second on a CPU, of solo's; on a CPU, waiting for a CPU (runnable: Linux "
                     "schedstat), asleep (for the GIL): the thread's shares of the phase; "
                     "process cores: the process's CPU seconds per second)")
    lines.append("")
    by_median, by_min = ratios(run, "median_ns"), ratios(run, "min_ns")
    lines.append(f"{'ratio (per decrement)':<66}{'medians':>10}{'minimums':>10}")
    for key, value in by_median.items():
        if "pace" in key:
            lines.append(f"{key:<66}{value:>10.0%}")
        else:
            lines.append(f"{key:<66}{value:>9,.2f}x{by_min[key]:>9,.2f}x")
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# The notebook's view of a run: plots, and the sentences that say what this
# run showed, whatever it was. Tested in test_bench_report.py.
# ---------------------------------------------------------------------------
COLOR = {"py": "tab:blue", "ft": "tab:purple", "c_": "tab:gray", "go": "tab:green"}
CVI = "  compiled vs interpreted (1 thread / 1 goroutine)"
S_GO, S_GIL = "S_go (1 goroutine / 2 goroutines)", "S_GIL threads (1 thread / 2 threads)"
S_FT = "S_free-threaded threads (1 thread / 2 threads)"


def per_round(run: dict, a: str, b: str) -> list[float]:
    """a's time per decrement / b's, round by round (runs kept in round order)."""
    eng = run["engines"]
    return [x / y for x, y in zip(eng[a]["ns"], eng[b]["ns"], strict=True)]


def plot_engines(run: dict):
    """ns per decrement of every run of every engine, log scale."""
    import matplotlib.pyplot as plt  # only the notebook plots: make bench prints
    from matplotlib.ticker import FuncFormatter

    eng = run["engines"]
    names = [name for name in ENGINES if name in eng]
    fig, ax = plt.subplots(figsize=(10, 0.45 * len(names) + 1.6))
    for y, name in enumerate(names):
        e, c = eng[name], COLOR[name[:2]]
        ax.hlines(y, e["min_ns"], e["max_ns"], color=c, lw=3, alpha=0.35)
        ax.plot(e["ns"], [y] * len(e["ns"]), "o", color=c, ms=5, alpha=0.8)
        ax.plot(e["median_ns"], y, "|", color="black", ms=16, mew=2)
        ax.annotate(f"median {fmt_ns(e['median_ns'])} ns", (e["max_ns"], y), xytext=(8, -4),
                    textcoords="offset points")
    ax.set_yticks(range(len(names)), [label(n, eng[n]) for n in names])
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlim(min(eng[n]["min_ns"] for n in names) / 2, max(eng[n]["max_ns"] for n in names) * 6)
    ax.set_xlabel("nanoseconds per decrement, log scale (dots: every run; |: median; "
                  "line: min to max)")
    ax.grid(axis="x", which="major", alpha=0.3)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_title(f"One decrement costs {ratios(run)[CVI]:.0f}x more in a Python thread than in "
                 "a goroutine (medians)")
    fig.tight_layout()
    return fig


def plot_speedups(run: dict):
    """Each kind of thread's speed-up from a second thread, round by round, and
    the compiled-vs-interpreted factor."""
    import matplotlib.pyplot as plt

    eng, r = run["engines"], ratios(run)
    py_name = f"Python {eng['py_sequential']['python']}"
    speedups = [("goroutines (Go)", "go_1", "go_2", S_GO, "tab:green"),
                (f"GIL threads ({py_name})", "py_sequential", "py_threads_2", S_GIL, "tab:blue")]
    has_ft = "ft_threads_2" in eng
    if has_ft:
        speedups.append((f"free-threaded threads (Python {eng['ft_threads_2']['python']})",
                         "ft_sequential", "ft_threads_2", S_FT, "tab:purple"))
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4), width_ratios=[3, 2])
    for y, (_what, one, two, key, c) in enumerate(speedups):
        values = per_round(run, one, two)
        left.plot(values, [y] * len(values), "o", color=c, alpha=0.7)
        left.plot(r[key], y, "|", color="black", ms=16, mew=2)
        left.annotate(f"{r[key]:.2f}x", (r[key], y), xytext=(0, 11), textcoords="offset points",
                      ha="center", fontsize=9)
    left.axvline(1, color="gray", ls=":")
    left.axvline(min(2, run["cpu_count"]), color="gray", ls="--")
    left.set_yticks(range(len(speedups)), [x[0] for x in speedups])
    left.invert_yaxis()
    left.set_xlim(0, max(2.6, max(max(per_round(run, x[1], x[2])) for x in speedups) * 1.25))
    left.set_ylim(len(speedups) - 0.5, -0.7)
    left.set_xlabel("S = time with 1 thread / time with 2\n(dots: each round; |: ratio of the "
                    "medians; dotted: no gain; dashed: 2 cores)", fontsize=9)
    left.set_title(f"Speed-up from a second thread: goroutines {r[S_GO]:.2f}x, GIL threads "
                   f"{r[S_GIL]:.2f}x" + (f",\nfree-threaded threads {r[S_FT]:.2f}x" if has_ft
                                        else "") + " (2x: both cores at work)", fontsize=10)
    factors = {f"GIL\n{py_name}": (r[CVI], "tab:blue")}
    if has_ft:
        factors[f"free-threaded\nPython {eng['ft_sequential']['python']}"] = (
            r["  compiled vs interpreted (free-threaded 1 thread / 1 goroutine)"], "tab:purple")
    bars = right.bar(list(factors), [v for v, _ in factors.values()],
                     color=[c for _, c in factors.values()], width=0.5)
    right.bar_label(bars, fmt="%.0fx")
    right.set_ylim(0, max(v for v, _ in factors.values()) * 1.2)
    right.set_ylabel("1 Python thread / 1 goroutine\n(time per decrement)", fontsize=9)
    right.set_title("Compiled vs interpreted: one Python thread\nis "
                    + " and ".join(f"{v:.0f}x" for v, _ in factors.values())
                    + " slower than one goroutine", fontsize=10)
    fig.tight_layout()
    return fig


def _autogroups() -> bool:
    flag = Path("/proc/sys/kernel/sched_autogroup_enabled")
    return flag.is_file() and flag.read_text().strip() == "1"


def findings(run: dict, load: float, autogroups: bool | None = None) -> list[str]:
    """What this run showed about the talk's ratio, computed from its runs: each
    kind of thread's speed-up, whether the run could show parallelism at all,
    and the gap split into its two factors. `load`: the load average (the
    larger of before and after the run)."""
    eng, r = run["engines"], ratios(run)
    cpus = run["cpu_count"]
    cores = {name: eng[name]["median_cores"] for name in ("go_2", "ft_threads_2") if name in eng}
    s_go, s_gil, cvi = r[S_GO], r[S_GIL], r[CVI]

    def round_range(one: str, two: str) -> str:
        values = per_round(run, one, two)
        return f"rounds: {min(values):.2f}-{max(values):.2f}x"

    def speedup_words(s: float, who: str, one: str, two: str) -> str:
        if s >= 1.5:
            return (f"{who} ran **{s:.2f}x** as fast as one ({round_range(one, two)}): two "
                    "cores at work" + ("" if min(per_round(run, one, two)) >= 1.5 else
                                       ", though not in every round"))
        if s >= 1.15:
            return (f"{who} ran {s:.2f}x as fast as one ({round_range(one, two)}): some overlap,"
                    " well short of 2x")
        if s < 0.9:
            return f"{who} ran **slower** than one ({s:.2f}x; {round_range(one, two)})"
        return (f"{who} gained **nothing** from the second thread ({s:.2f}x; "
                f"{round_range(one, two)})")

    def spread(name: str) -> str:
        return f"{fmt_ns(eng[name]['min_ns'])}-{fmt_ns(eng[name]['max_ns'])} ns"

    lines = [f"{speedup_words(s_go, 'Two goroutines', 'go_1', 'go_2')}."]
    if s_gil < 1.15:
        lines.append(f"{speedup_words(s_gil, 'Two GIL threads', 'py_sequential', 'py_threads_2')}"
                     ": the GIL lets one run at a time.")
    else:
        lines.append(f"Two GIL threads: {s_gil:.2f}x, more than the GIL allows (one thread at a "
                     f"time): noise, in a run where one thread took {spread('py_sequential')} per "
                     "decrement.")
    has_ft = "ft_threads_2" in eng
    if has_ft:
        s_ft, cost = r[S_FT], r["free-threaded 1 thread / GIL 1 thread (single-thread cost)"]
        ft, py = eng["ft_sequential"]["python"], eng["py_sequential"]["python"]
        ft_words = speedup_words(s_ft, "Two free-threaded threads", "ft_sequential",
                                 "ft_threads_2")
        lines.append(f"{ft_words}; the process used {cores['ft_threads_2']:.2f} cores"
                     + ("." if s_ft >= 1.15 or s_go < 1.5 else
                        ", while goroutines did scale: this run does not show free-threaded "
                        "Python running in parallel."))
        worst = max(e["max_ns"] / e["min_ns"] for e in eng.values() if "ns" in e)
        lines.append(f"On one thread, free-threaded {ft} took **{cost:.2f}x** the time of {py} "
                     "per decrement" + (
                         ": the single-thread cost of free-threading (in 3.13t, thread-safe "
                         "reference counting, and no specializing interpreter); part of it may "
                         f"be the version, {py} vs {ft}." if cost > 1.05 else
                         f" ({py} vs {ft}): no single-thread cost visible in this run, whose "
                         f"runs of one engine differ by up to {worst:.1f}x (see the plot)."))
    else:
        lines.append(f"No free-threaded CPython here ({run['free_threaded_looked_for']}): set "
                     "`EPG_FT_PYTHON`, or build one with `common/free-threaded-python.sh`.")
    load_words = f"load average {load:.1f} on {cpus} CPUs"
    if s_go < 1.5:
        groups = _autogroups() if autogroups is None else autogroups
        # Only when the second goroutine got no second core: then autogroups may be why.
        shared = (" Linux shares a busy machine's CPUs between sessions (autogroups), not "
                  "threads, so a second thread gets no more CPU." if groups and cores["go_2"] < 1.5
                  else "")
        lines.append(
            "**This run cannot show parallelism**: while two goroutines counted, the process "
            f"used {cores['go_2']:.2f} cores (CPU seconds per second), "
            + ("not 2" if cores["go_2"] < 1.5 else f"yet ran only {s_go:.2f}x as fast as one")
            + (f". The machine was busy ({load_words}).{shared}" if load >= cpus / 2 else
               f" ({load_words}).")
            + " The compiled-vs-interpreted factor (one thread each) is still meaningful; rerun "
            "`make bench` on an idle machine for the parallelism.")
    total, par = r["2 GIL threads / 2 goroutines"], r["  parallelism (S_go / S_GIL threads)"]
    lines.append(f"So 2 GIL threads → 2 goroutines: **{total:.0f}x** = {cvi:.0f}x (compiled vs "
                 f"interpreted) x {par:.2f}x (parallelism).")
    if has_ft:
        total_ft = r["2 free-threaded threads / 2 goroutines"]
        cvi_ft = r["  compiled vs interpreted (free-threaded 1 thread / 1 goroutine)"]
        par_ft = r["  parallelism (S_go / S_free-threaded threads)"]
        line = (f"2 free-threaded threads → 2 goroutines: **{total_ft:.0f}x** = {cvi_ft:.0f}x x "
                f"{par_ft:.2f}x")
        # Round by round (each round's runs were close in time): S_go / S_free-threaded.
        rounds = [g / f for g, f in zip(per_round(run, "go_1", "go_2"),
                                        per_round(run, "ft_sequential", "ft_threads_2"),
                                        strict=True)]
        span = f"S_go / S_free-threaded, round by round: {min(rounds):.2f}-{max(rounds):.2f}x"
        if s_go < 1.5:
            line += (": " + ("there was no spare core in this run" if cores["go_2"] < 1.5 else
                             f"two goroutines gained only {s_go:.2f}x in this run")
                     + ", so that parallelism factor says nothing about free-threading.")
        elif all(abs(p - 1) <= 0.1 for p in rounds):
            line += (": both gained about as much from the second core, within 10% in every "
                     f"round ({span}), so what is left of the gap is compiled vs interpreted.")
        elif min(rounds) > 1:
            line += (": goroutines gained more from the second core than free-threaded threads, "
                     f"in every round ({span}).")
        elif max(rounds) < 1:
            line += (": free-threaded threads gained more from the second core than goroutines, "
                     f"in every round ({span}).")
        else:
            line += f": this run does not separate them ({span}: some rounds favour one, some " \
                    "the other)."
        lines.append(line)
    lines.append(f"The C loop, one thread, was {r['1 Python thread / C loop']:.0f}x faster than a "
                 f"Python thread per decrement (a goroutine took {r['1 goroutine / C loop']:.2f}x"
                 " the C loop's time): compiled vs interpreted is not Go's merit.")
    return lines


GIL_COLORS = {"solo": "tab:gray", "released": "tab:green", "released_2": "tab:olive",
              "held": "tab:red"}


def plot_gil(gil: dict):
    """The Python thread's count over time, the phases shaded; and where its
    time went in each phase (on a CPU, waiting for one, asleep)."""
    import matplotlib.pyplot as plt

    phases = list(GIL_PHASES)
    rounds = len(gil["phases"]) // len(phases)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 8), height_ratios=[3, 2.4],
                                      layout="constrained")
    marks = gil["marks"]
    top.plot(marks, [(i + 1) * gil["mark_every"] / 1e6 for i in range(len(marks))],
             color="black", lw=1.5, label="the thread's count")
    seen = set()
    for p in gil["phases"]:
        top.axvspan(p["start"], p["end"], color=GIL_COLORS[p["phase"]], alpha=0.25,
                    label=None if p["phase"] in seen else GIL_PHASES[p["phase"]])
        seen.add(p["phase"])
    top.set_xlabel("seconds")
    top.set_ylabel("millions of increments")
    top.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3, fontsize=8,
               title="the main thread:", title_fontsize=8)
    rel, rel2, held = (gil["of_solo"][p] for p in ("released", "released_2", "held"))
    top.set_title("A Python thread's count: flat only while a Go call holds the GIL"
                  if held < 0.15 and min(rel, rel2) > 0.3 else
                  "A Python thread's count while the main thread sleeps or calls Go")
    on, wait, asleep = (gil[k] for k in ("on_cpu", "waiting_for_cpu", "asleep"))
    split = not any(math.isnan(wait[p]) for p in phases)  # schedstat: Linux only
    parts = ([("on a CPU", on, "tab:blue"), ("waiting for a CPU", wait, "tab:orange"),
              ("asleep (for the GIL)", asleep, "lightgray")] if split else
             [("on a CPU", on, "tab:blue")])
    y = range(len(phases))
    left = [0.0] * len(phases)
    for what, share, c in parts:
        values = [share[p] * 100 for p in phases]
        bars = bottom.barh(y, values, left=left, color=c, label=what, height=0.6)
        bottom.bar_label(bars, labels=[f"{v:.0f}%" if v >= 6 else "" for v in values],
                         label_type="center", fontsize=9)
        left = [a + b for a, b in zip(left, values, strict=True)]
    bottom.set_yticks(list(y), [f"{GIL_PHASES[p]}\n(pace: {gil['of_solo'][p]:.0%} of solo)"
                                for p in phases], fontsize=9)
    bottom.invert_yaxis()
    bottom.set_xlim(0, max(100, max(left)))
    bottom.set_xlabel(f"the thread's time, % of the phase (median of {rounds} rounds)")
    bottom.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=3, fontsize=9)
    cpu_bound = (split and all(asleep[p] < 0.1 for p in ("released", "released_2"))
                 and asleep["held"] > 0.5)
    bottom.set_title("Released, the thread waits for a CPU, never for the GIL; held, it sleeps"
                     if cpu_bound else "Where the thread's time went, phase by phase")
    return fig


def gil_findings(gil: dict, load_words: str) -> list[str]:
    """What this run showed about a Python thread during a Go call, released or
    held, computed from its phases."""
    on, wait, asleep = (gil[k] for k in ("on_cpu", "waiting_for_cpu", "asleep"))
    rel, rel2, held = (gil["of_solo"][p] for p in ("released", "released_2", "held"))
    split = not any(math.isnan(wait[p]) for p in GIL_PHASES)
    cpu_bound = (split and all(asleep[p] < 0.1 for p in ("released", "released_2"))
                 and asleep["held"] > 0.5)
    per_cpu = gil["per_cpu_of_solo"]["released"]
    cores1, cores2 = gil["process_cores"]["released"], gil["process_cores"]["released_2"]
    words = [f"Held, the thread kept {held:.0%} of its solo pace"
             + (f" and slept {asleep['held']:.0%} of the call, waiting for the GIL (it runs only "
                "at the edges of the call)." if split and asleep["held"] > 0.5 else ".")]
    words.append(f"Released, with one goroutine, it kept {rel:.0%} of its solo pace: on a CPU "
                 f"{on['released']:.0%} of the time"
                 + (f", waiting for one {wait['released']:.0%}, asleep {asleep['released']:.0%}"
                    if split else "") + ".")
    if not cpu_bound:
        words.append(f"With two goroutines: {rel2:.0%} of its pace, {on['released_2']:.0%} on a "
                     "CPU. " + ("This run does not separate waiting for a CPU from waiting for "
                                "the GIL (Linux's schedstat is not available here)." if not split
                                else "In this run the thread also slept during a released "
                                "call, or barely slept during the held one: see the plot."))
        return words
    words.append("The GIL was free: whatever pace the thread lost, it lost waiting for a CPU, and "
                 "on one it counted "
                 + (f"as fast as alone ({per_cpu:.0%} of its solo rate per CPU second)."
                    if abs(per_cpu - 1) <= 0.2 else
                    f"at {per_cpu:.0%} of its solo rate per CPU second."))
    words.append(f"The whole process got only {cores1:.2f} cores during that call ({load_words}),"
                 " and the goroutine and this thread shared them." if cores1 < 1.7 else
                 f"The process used {cores1:.2f} cores: the goroutine and this thread had about "
                 "one each.")
    if wait["solo"] > 0.1:
        words.append(f"Even alone, the thread waited for a CPU {wait['solo']:.0%} of the time: "
                     "other programs had the cores.")
    # One goroutine vs two, relative changes: a 5-point drop from 25% is a fifth.
    cpu_change = on["released_2"] / max(on["released"], 1e-9)
    pace_change = rel2 / max(rel, 1e-9)
    more = ("less CPU than" if cpu_change < 0.85 else "more CPU than" if cpu_change > 1.18
            else "about as much CPU as")
    pace_words = ("fell" if pace_change < 0.85 else "rose" if pace_change > 1.18 else
                  "stayed about the same")
    two = (f"With two goroutines it got {more} with one ({on['released_2']:.0%} of the phase on "
           f"a CPU vs {on['released']:.0%}), and its pace {pace_words}: {rel2:.0%} of solo vs "
           f"{rel:.0%}")
    if abs(pace_change / max(cpu_change, 1e-9) - 1) > 0.2:  # not all from the CPU it got
        two += (f"; per CPU second it counted at {gil['per_cpu_of_solo']['released_2']:.0%} of "
                f"its solo rate (vs {per_cpu:.0%} with one goroutine)")
    two += f". The process used {cores2:.2f} cores"
    words.append(two + (": each busy goroutine is one more busy thread for the same cores."
                        if cpu_change < 0.85 else "."))
    return words


# The helper announces the call once the main thread's frame is at count()'s
# call instruction: past the last point where a pending signal is handled
# before the call, with or without a GIL (test_goroutines_gil's SIGINT_CHILD).
CTRL_C_CHILD = """
import dis, signal, sys, threading, time
signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal
import countdown
def count():
    countdown.countdown({n}, {workers}, interruptible={interruptible})
CALL = [i.offset for i in dis.get_instructions(count) if i.opname.startswith("CALL")]
def announce():
    main = threading.main_thread().ident
    while True:
        frame = sys._current_frames().get(main)
        if frame is not None and frame.f_code is count.__code__ and frame.f_lasti in CALL:
            break
        time.sleep(0.001)
    print("in the Go call", flush=True)
threading.Thread(target=announce, daemon=True).start()
count()
"""


def ctrl_c(n: int, workers: int, interruptible: bool = True, timeout: float = 120) -> str:
    """Ctrl-C (SIGINT) sent to a child inside countdown(n, workers): how long it
    took to stop, and the last lines it printed (the KeyboardInterrupt and
    its note)."""
    child = subprocess.Popen(
        [sys.executable, "-c", CTRL_C_CHILD.format(n=n, workers=workers,
                                                   interruptible=interruptible)],
        cwd=STEP, env=dict(os.environ, PYTHONPATH=str(STEP)), text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if child.stdout.readline() != "in the Go call\n":
        child.kill()
        return f"the child did not start: {child.communicate()[1][-500:]}"
    t0 = time.perf_counter()
    child.send_signal(signal.SIGINT)
    try:
        _, err = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        child.kill()
        _, err = child.communicate()
    tail = "\n    ".join(err.strip().splitlines()[-2:])
    return (f"workers={workers:<6,} interruptible={interruptible!s:<5}: "
            f"{time.perf_counter() - t0:6.2f} s after SIGINT:\n    {tail}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=int(os.environ.get("N", TALK_N)),
                    help="how far to count (default: the talk's 50,000,000, or $N)")
    ap.add_argument("--repeat", type=int, default=5,
                    help="rounds: runs per engine (and rounds of the GIL measurement)")
    ap.add_argument("--min-run", type=float, default=MIN_RUN,
                    help="compiled engines count more until a run lasts this long (s)")
    ap.add_argument("--gil-seconds", type=float, default=0.5,
                    help="length of each phase of the GIL measurement")
    ap.add_argument("--json", type=Path, help="also write the raw results here")
    ap.add_argument("--engine", help=argparse.SUPPRESS)  # child mode
    ap.add_argument("--calibrate", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.n < 2 or args.repeat < 1 or args.min_run < 0:
        ap.error("need --n >= 2, --repeat >= 1 and --min-run >= 0")

    if args.engine:
        if args.engine == "gil":
            result = gil_progress(args.gil_seconds, args.repeat)
        else:
            result = time_engine(args.engine, args.n, args.min_run, args.calibrate)
        json.dump(result, sys.stdout)
        return 0

    run = run_all(args.n, args.repeat, min_run=args.min_run, gil_seconds=args.gil_seconds,
                  progress=lambda what: print(f"running {what}...", file=sys.stderr,
                                              flush=True))
    print(table(run))
    if args.json:
        args.json.write_text(json.dumps(run))
    return 0


if __name__ == "__main__":
    sys.exit(main())
