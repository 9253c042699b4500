"""Step 02 benchmark: what one call into Go costs, and why batching wins.

    python bench.py            # full run (make bench)
    python bench.py --quick    # a smoke run: short runs, same tables
    python bench.py --json     # the figures as JSON (every run kept; the notebook)

Every engine runs in its own worker process (one Go runtime per process, and
no engine warms the caches of another). Each timing run makes enough calls
to last at least --min-time (0.1 s): the parent calibrates every worker
first, from the fastest of three short trials. The clock is the calling
thread's CPU time (time.thread_time; CLOCK_THREAD_CPUTIME_ID in the C loop),
where every call runs, Go included: on a busy machine a run that long is
preempted many times, and wall-clock time would count the time other
processes ran. The workers are timed in rounds: each round asks every
worker, one after the other (the order rotates), for one timing run, so what
load still does (to caches, to a shared core) hits all engines alike, and
every engine's figures come from the same minutes. Every run is kept; the
tables show min and median (the median shows how disturbed the runs were).
Numbers are this machine's, measured now: nothing is typed in.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import math
import resource
import statistics
import subprocess
import sys
import sysconfig
import time
import timeit
from pathlib import Path

STEP = Path(__file__).resolve().parent
ROOT = STEP.parent
BARE_GO = STEP / "build" / "bench_go_call"  # a C loop calling Go's Sum (bench_go_call.c)

# The cffi engines, where CFFI cannot run: None, or why.
NO_CFFI = ("CFFI supports free-threaded CPython only from 3.14 (cffi 2.0)"
           if sysconfig.get_config_var("Py_GIL_DISABLED") and sys.version_info < (3, 14)
           else None)

# name -> (label, code that defines `f` with newmath.sum's signature)
CALL_ENGINES = {
    "python": ("pure Python def", "def f(a, b):\n    return a + b"),
    "c-varargs": ("C METH_VARARGS (01, talk's)", "f = c_newmath().sum"),
    "c-fastcall": ("C METH_FASTCALL (01)", "f = c_newmath().sum_fast"),
    "bare-go": ("C loop -> Go, no Python", None),  # build/bench_go_call
    "go-glue": ("Go via fast C glue (02, b)",
                "sys.path.insert(0, str(STEP))\nfrom newmath import sum as f"),
    "go-variant-a": ("Go parses PyObject* (02, a)",
                     "sys.path.insert(0, str(STEP / 'variant_a'))\nfrom newmath import sum as f"),
    "cffi-api": ("cffi API mode",
                 "sys.path.insert(0, str(STEP / 'ffi'))\nfrom newmath_cffi_api import sum as f"),
    "cffi-abi": ("cffi ABI mode",
                 "sys.path.insert(0, str(STEP / 'ffi'))\nfrom newmath_cffi_abi import sum as f"),
    "ctypes": ("ctypes",
               "sys.path.insert(0, str(STEP / 'ffi'))\nfrom newmath_ctypes import sum as f"),
    # The same three without the argument checks: the FFI's own cost (plus a
    # lambda). Unsafe to ship: ctypes would wrap 2**64 to 0 silently, and the
    # one result buffer `r` is fine only because this benchmark has one thread.
    "cffi-api-raw": ("cffi API, unchecked", "sys.path.insert(0, str(STEP / 'ffi'))\n"
                     "from newmath_cffi_api import ffi, lib\nr = ffi.new('long long *')\n"
                     "rep = ffi.new('epg_go_panic *')\n"
                     "f = lambda a, b: lib.sum(a, b, r, rep) and r[0]"),
    "cffi-abi-raw": ("cffi ABI, unchecked", "sys.path.insert(0, str(STEP / 'ffi'))\n"
                     "from newmath_cffi_abi import ffi, lib\nr = ffi.new('long long *')\n"
                     "rep = ffi.new('epg_go_panic *')\n"
                     "f = lambda a, b: lib.Sum(a, b, r, rep) and r[0]"),
    "ctypes-raw": ("ctypes, unchecked", "sys.path.insert(0, str(STEP / 'ffi'))\n"
                   "import ctypes\nfrom newmath_ctypes import GoPanic, lib\n"
                   "r = ctypes.c_longlong()\n"
                   "p, rep = ctypes.byref(r), ctypes.byref(GoPanic())\n"
                   "f = lambda a, b: lib.Sum(a, b, p, rep) and r.value"),
}

# name -> (label, code that defines `g(data)` returning the sum of data, and
# `prepare(values) -> data` when g does not take the list itself)
BATCH_ENGINES = {
    "builtin": ("Python builtin sum(values)", "g = sum"),
    "c-pairs": ("C sum, one call per pair",
                "c_sum = c_newmath().sum\ng = lambda v: functools.reduce(c_sum, v)"),
    "go-pairs": ("Go sum, one call per pair",
                 "sys.path.insert(0, str(STEP))\nimport newmath\n"
                 "g = lambda v: functools.reduce(newmath.sum, v)"),
    "go-list": ("Go sum_list, one call per list",
                "sys.path.insert(0, str(STEP))\nimport newmath\ng = newmath.sum_list"),
    # Where sum_list's time goes: on a tuple it needs no snapshot of its own
    # (a list may change while its items are converted); Go's additions
    # alone, over C memory nothing converts.
    "go-tuple": ("  sum_list(a tuple): no snapshot", "sys.path.insert(0, str(STEP))\n"
                 "import newmath\ng, prepare = newmath.sum_list, tuple"),
    "go-array": ("  Go's additions alone (array('q'))", "g, prepare = go_sum_array()"),
}


def go_sum_array():
    """(g, prepare): the core's SumArray called through ctypes on an
    array('q'), whose buffer Go reads as it is: no item is converted."""
    from array import array

    sys.path.insert(0, str(STEP / "ffi"))
    import ctypes

    from newmath_ctypes import GoPanic, lib

    lib.SumArray.argtypes = [ctypes.c_void_p, ctypes.c_size_t,
                             ctypes.POINTER(ctypes.c_longlong), ctypes.POINTER(GoPanic)]
    lib.SumArray.restype = ctypes.c_longlong

    def g(values: array) -> int:
        total, report = ctypes.c_longlong(), GoPanic()
        address, n = values.buffer_info()
        at = lib.SumArray(address, n, ctypes.byref(total), ctypes.byref(report))
        if report.value or at != -1:
            raise RuntimeError("SumArray failed")  # no overflow, no panic in this benchmark
        return total.value

    return g, lambda values: array("q", values)


def skipped(engine: str) -> str | None:
    """Why this engine cannot run with this interpreter, or None."""
    return NO_CFFI if engine.startswith("cffi") else None


def c_newmath():
    """Step 01's C newmath, and never step 02's Go one by accident (both are
    named newmath, and this script's folder is on sys.path)."""
    sys.path.insert(0, str(ROOT / "01_c_sum"))
    import newmath

    if Path(newmath.__file__).parent != ROOT / "01_c_sum":
        raise SystemExit(f"the C baseline is not step 01's newmath: {newmath.__file__}")
    return newmath


def worker(kind: str, engine: str, size: int) -> None:
    """Serve timings: a number N on stdin -> the CPU seconds N calls took, and
    the page faults they caused (fresh memory the kernel had to map in).

    call:  N calls of f(5, 4).
    batch: N sums of list(range(size)).
    """
    scope = {"sys": sys, "ROOT": ROOT, "STEP": STEP, "functools": functools,
             "c_newmath": c_newmath, "go_sum_array": go_sum_array}
    if kind == "call":
        exec(CALL_ENGINES[engine][1], scope)
        f = scope["f"]
        assert f(5, 4) == 9
        timer = timeit.Timer("f(5, 4)", globals={"f": f}, timer=time.thread_time)
    else:
        exec(BATCH_ENGINES[engine][1], scope)
        g, data = scope["g"], scope.get("prepare", lambda v: v)(list(range(size)))
        assert g(data) == size * (size - 1) // 2
        timer = timeit.Timer("g(data)", globals={"g": g, "data": data}, timer=time.thread_time)
    print("ready", flush=True)
    for line in sys.stdin:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        seconds = timer.timeit(int(line))
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
        print(repr(seconds), faults, flush=True)


def start(kind: str, engine: str, size: int) -> subprocess.Popen:
    if engine == "bare-go":
        cmd = [str(BARE_GO)]
    else:
        cmd = [sys.executable, __file__, "--worker", kind, engine, str(size)]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    if engine == "bare-go":
        proc.stdin.write("1\n")  # the first call from this thread binds it to Go
        proc.stdin.flush()
    if not proc.stdout.readline():
        raise SystemExit(f"the {engine} worker failed to start (exit {proc.wait()})")
    return proc


def timed(proc: subprocess.Popen, number: int) -> tuple[float, int]:
    """(seconds, page faults) of `number` calls in that worker (the C loop
    reports no faults: 0)."""
    try:
        proc.stdin.write(f"{number}\n")
        proc.stdin.flush()
        reply = proc.stdout.readline().split()
    except BrokenPipeError:
        reply = []
    if not reply:
        raise SystemExit(f"a worker ({' '.join(map(str, proc.args))}) died "
                         f"(exit status {proc.wait()})")
    return float(reply[0]), int(reply[1]) if len(reply) > 1 else 0


def calls_per_run(proc: subprocess.Popen, min_time: float) -> int:
    """How many calls make a run last at least min_time: the cost of one
    call estimated from the fastest of three short trials (a trial slowed by
    other processes would make the runs too short, not too long)."""
    trial = 1
    while timed(proc, trial)[0] < 0.01:  # a trial long enough to estimate from
        trial *= 10
    per_call = min(timed(proc, trial)[0] for _ in range(3)) / trial
    return max(1, math.ceil(min_time / per_call))


def measure(kind: str, engines: list[str], size: int, repeat: int, min_time: float,
            scale: float) -> dict[str, dict]:
    """Every engine's `repeat` timing runs, taken in rotating rounds: seconds
    per call times `scale`, each run's CPU seconds (at least min_time),
    page faults per call, calls per run."""
    workers = {engine: start(kind, engine, size) for engine in engines}
    runs: dict[str, list[float]] = {engine: [] for engine in engines}
    took: dict[str, list[float]] = {engine: [] for engine in engines}
    faults: dict[str, list[float]] = {engine: [] for engine in engines}
    try:
        number = {engine: calls_per_run(workers[engine], min_time) for engine in engines}
        for r in range(repeat):
            for engine in engines[r % len(engines):] + engines[:r % len(engines)]:
                seconds, faulted = timed(workers[engine], number[engine])
                while seconds < min_time:  # shorter than the calibration said: redo, longer
                    number[engine] = math.ceil(number[engine] * min_time / max(seconds, 1e-6)
                                               * 1.1)
                    seconds, faulted = timed(workers[engine], number[engine])
                runs[engine].append(seconds / number[engine] * scale)
                took[engine].append(seconds)
                faults[engine].append(faulted / number[engine])
    finally:
        for proc in workers.values():
            with contextlib.suppress(BrokenPipeError):  # a worker that died
                proc.stdin.close()
            proc.wait()
    return {engine: {"runs": runs[engine], "min": min(runs[engine]),
                     "median": statistics.median(runs[engine]), "per_run": number[engine],
                     "seconds": took[engine], "faults": statistics.median(faults[engine])}
            for engine in engines}


def table(title: str, unit: str, labels: dict, results: dict, base: str, digits: int,
          faults: bool = False) -> None:
    print(title)
    print(f"  {'engine':<36} {'per run':>9} {'min':>9} {'median':>9}"
          + (f" {'faults':>7}" if faults else "")
          + f"   x {labels[base].strip()}: min, median")
    for engine, r in results.items():
        if "skipped" in r:
            print(f"  {labels[engine]:<36} skipped: {r['skipped']}")
            continue
        b = results[base]
        print(f"  {labels[engine]:<36} {r['per_run']:>9,} {r['min']:>9.{digits}f} "
              f"{r['median']:>9.{digits}f}" + (f" {r['faults']:>7,.0f}" if faults else "")
              + f"   {r['min'] / b['min']:>6.2f}x {r['median'] / b['median']:>6.2f}x")
    shortest = min(min(r["seconds"]) for r in results.values() if "seconds" in r)
    print(f"  ({unit}; per run: calls or sums in each timing run, the shortest {shortest:.3f} s"
          + ("; faults: page faults per sum, median" if faults else "") + ")")


def positive(text: str) -> int:
    if int(text) < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return int(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: short runs")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.add_argument("--repeat", type=positive, default=15, help="timing runs per engine")
    parser.add_argument("--min-time", type=float, default=0.1,
                        help="seconds each timing run lasts at least")
    parser.add_argument("--size", type=int, default=1_000_000, help="list size for the batch")
    parser.add_argument("--worker", nargs=3, metavar=("KIND", "ENGINE", "SIZE"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        kind, engine, size = args.worker
        worker(kind, engine, int(size))
        return
    if args.quick:
        args.repeat, args.min_time, args.size = 3, 0.002, 10_000

    # The C baseline is step 01, the bare loop is built by `make`: both with
    # this interpreter.
    for folder in (ROOT / "01_c_sum", STEP):
        subprocess.run(["make", "-s", "-C", str(folder), f"PYTHON={sys.executable}"],
                       check=True, stdout=subprocess.DEVNULL)
    labels = {e: lbl for e, (lbl, _) in {**CALL_ENGINES, **BATCH_ENGINES}.items()}
    results = {}
    for kind, engines, scale in (("call", CALL_ENGINES, 1e9), ("batch", BATCH_ENGINES, 1e3)):
        runnable = [e for e in engines if not skipped(e)]
        measured = measure(kind, runnable, args.size, args.repeat, args.min_time, scale)
        results[kind] = {e: measured.get(e) or {"skipped": skipped(e)} for e in engines}
    calls, batch = results["call"], results["batch"]
    # The target: Go through the fast glue costs no more than the talk's C
    # sum, both measured in this run; judged on the minimums, the least
    # disturbed runs (the medians' ratio is shown too).
    ratio = calls["go-glue"]["min"] / calls["c-varargs"]["min"]
    result = {"repeat": args.repeat, "min_time": args.min_time, "size": args.size,
              "call_ns": calls, "batch_ms": batch, "labels": labels,
              "target_ratio": ratio, "target_met": ratio <= 1}
    if args.json:
        print(json.dumps(result, indent=2))
        return

    table(f"Call overhead: sum(5, 4), ns per call (CPU time); {args.repeat} rounds, each run >= "
          f"{args.min_time:g} s, every engine in its own process",
          "ns per call", labels, calls, "c-varargs", 1)
    verdict = "met" if result["target_met"] else "NOT met"
    medians = calls["go-glue"]["median"] / calls["c-varargs"]["median"]
    print(f"  target: Go via the fast glue costs no more than the talk's C sum -> "
          f"{ratio:.2f}x (mins; medians {medians:.2f}x), {verdict}")

    def diff(table: dict, a: str, b: str, unit: str, minus: str = "") -> str:
        def value(key: str) -> float:
            return table[a][key] - table[b][key] - (table[minus][key] if minus else 0)
        digits = 1 if unit == "ns" else 3
        return (f"{value('min'):.{digits}f} {unit} (mins), "
                f"{value('median'):.{digits}f} {unit} (medians)")

    print(f"  argument tuple + format string (C varargs - C fastcall): "
          f"{diff(calls, 'c-varargs', 'c-fastcall', 'ns')}")
    print(f"  the crossing into Go, seen from Python (fast glue - C fastcall): "
          f"{diff(calls, 'go-glue', 'c-fastcall', 'ns')}\n")

    table(f"Batch: summing {args.size:,} ints, ms per sum (CPU time); {args.repeat} rounds, "
          f"each run >= {args.min_time:g} s", "ms per sum", labels, batch, "go-list", 3,
          faults=True)
    print(f"  where sum_list(list)'s time goes: its snapshot of the list (sum_list of a list - "
          f"of a tuple) {diff(batch, 'go-list', 'go-tuple', 'ms')};\n"
          f"    converting every item into a C array (sum_list of a tuple - Go alone) "
          f"{diff(batch, 'go-tuple', 'go-array', 'ms')};\n"
          f"    Go's additions {batch['go-array']['min']:.3f} ms (min), "
          f"{batch['go-array']['median']:.3f} ms (median)")


# ---------------------------------------------------------------------------
# The notebook's view of a run (python bench.py --json): tables, plots and the
# sentences computed from the runs. Tested in test_bench_report.py.
# ---------------------------------------------------------------------------
def run_json(repeat: int = 5, min_time: float = 0.1) -> dict:
    """A whole run in another process (every engine in a worker of its own):
    the --json figures."""
    out = subprocess.run([sys.executable, str(Path(__file__)), "--json", "--repeat",
                          str(repeat), "--min-time", str(min_time)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def calls_summary(result: dict) -> str:
    """ns per call of every engine: min, median, ratio to the talk's C call."""
    calls, labels = result["call_ns"], result["labels"]
    shortest = min(min(r["seconds"]) for r in [*calls.values(), *result["batch_ms"].values()]
                   if "seconds" in r)
    lines = [f"{result['repeat']} runs per engine, the shortest {shortest:.3f} s of CPU time"]
    for engine, r in calls.items():
        if "skipped" in r:
            lines.append(f"{labels[engine]:<30} skipped: {r['skipped']}")
        else:
            lines.append(f"{labels[engine]:<30} min {r['min']:7.1f}   median {r['median']:7.1f} "
                         f"ns/call   {r['min'] / calls['c-varargs']['min']:5.2f}x the talk's C "
                         "(mins)")
    return "\n".join(lines)


def _runs(table: dict, labels: dict, engines) -> dict[str, list[float]]:
    return {labels[e].strip(): table[e]["runs"] for e in engines if "runs" in table[e]}


def plot_calls(result: dict):
    """Every run of every engine, log scale, the talk's C call marked."""
    import matplotlib.pyplot as plt  # only the notebook plots: make bench prints
    from nb import runs_plot  # common/ (on the path in the notebooks and the tests)

    calls = result["call_ns"]
    runs = _runs(calls, result["labels"], calls)
    fig, ax = plt.subplots(figsize=(10, 0.42 * len(runs) + 1.4))
    runs_plot(ax, runs, "ns", log=True)
    ax.axvline(calls["c-varargs"]["min"], color="C3", linestyle="--", linewidth=1)
    ax.set_xlabel("ns per call of sum(5, 4), log scale   (diamond: fastest run; dots: every "
                  "run; black line: median; red: the talk's C sum)")
    ax.set_title(f"Go behind the fast glue costs {result['target_ratio']:.2f}x the talk's C "
                 "call (fastest runs; target: at most 1x)")
    fig.tight_layout()
    return fig


def _compare(table: dict, x: str, y: str) -> str:
    low = table[x]["min"] < table[y]["min"]
    mid = table[x]["median"] < table[y]["median"]
    return ("faster than" if low and mid else "slower than" if not (low or mid)
            else "not clearly different from")


def calls_findings(result: dict, version: tuple = sys.version_info) -> list[str]:
    """What this run says about a call into Go, computed from its runs."""
    calls, labels = result["call_ns"], result["labels"]
    m = {e: r["min"] for e, r in calls.items() if "runs" in r}
    med = {e: r["median"] for e, r in calls.items() if "runs" in r}
    lines = []
    # Two results only noise can reverse: a C loop calling Go does less than
    # Python calling it through the glue; the fast call does less than the talk's.
    impossible = [f"{labels[x]} was not faster than {labels[y]}"
                  for x, y in (("bare-go", "go-glue"), ("c-fastcall", "c-varargs"))
                  if _compare(calls, x, y) != "faster than"]
    if impossible:
        lines.append("**This run was disturbed by other processes**: " + "; ".join(impossible)
                     + ". The sentences below describe it, but only more runs (make bench) "
                     "can decide.")
    said = _compare(calls, "python", "c-varargs")
    line = (f"a pure Python def is {said} the talk's C sum ({m['python']:.0f} vs "
            f"{m['c-varargs']:.0f} ns); the fast call, METH_FASTCALL, takes "
            f"{m['c-fastcall']:.0f} ns: the tuple and the format string cost "
            f"{m['c-varargs'] - m['c-fastcall']:.0f} ns")
    if said != "faster than":
        line += ("; expected faster, but this Python has no specialising interpreter (3.11+)"
                 if version < (3, 11) else
                 "; expected faster: other processes disturbed the runs (see the dots)")
    lines.append(line)
    lines.append(f"the crossing into Go: {m['bare-go']:.0f} ns from a C loop, no Python; seen "
                 f"from Python (fast glue - C METH_FASTCALL) {m['go-glue'] - m['c-fastcall']:.0f}"
                 " ns")
    saved = {k: v["c-varargs"] - v["c-fastcall"] for k, v in (("min", m), ("median", med))}
    crossing = {k: v["go-glue"] - v["c-fastcall"] for k, v in (("min", m), ("median", med))}
    ratio, medians = result["target_ratio"], med["go-glue"] / med["c-varargs"]
    verdict = ("NOT met" if ratio > 1 and medians > 1 else "met" if ratio <= 1 and medians <= 1
               else "undecided (the minimum and the median disagree)")
    more = [crossing[k] > saved[k] for k in ("min", "median")]
    than = ("costs more than" if all(more) else "costs less than" if not any(more)
            else "is not clearly more or less than (the minimum and the median disagree)")
    lines.append(f"Go behind the fast glue costs {ratio:.2f}x the talk's C sum (medians "
                 f"{medians:.2f}x): the crossing {than} what the fast call saves (minimums "
                 f"{crossing['min']:.0f} vs {saved['min']:.0f} ns, medians "
                 f"{crossing['median']:.0f} vs {saved['median']:.0f} ns); the target is "
                 f"{verdict}")
    lines.append(f"variant (a), Go parsing the tuple through C shims: {m['go-variant-a']:.0f} ns, "
                 f"{m['go-variant-a'] / m['go-glue']:.1f}x variant (b)")
    for name in ("cffi-api", "cffi-abi", "ctypes"):
        if name in m:
            lines.append(f"{labels[name]}: {m[name]:.0f} ns with the argument checks, "
                         f"{m[name + '-raw']:.0f} ns without; {m[name] / m['go-glue']:.0f}x "
                         "the C glue")
    return lines


BATCH_PARTS = ("builtin", "go-list", "go-tuple", "go-array")


def batch_summary(result: dict) -> str:
    batch, labels = result["batch_ms"], result["labels"]
    return "\n".join(f"{labels[e]:<36} min {r['min']:8.2f}   median {r['median']:8.2f} ms per "
                     f"sum   {r['faults']:6,.0f} page faults per sum"
                     for e, r in batch.items() if "runs" in r)


def plot_batch(result: dict):
    """sum_list's parts beside the builtin sum, every run."""
    import matplotlib.pyplot as plt
    from nb import runs_plot

    batch = result["batch_ms"]
    fig, ax = plt.subplots(figsize=(10, 2.8))
    runs_plot(ax, _runs(batch, result["labels"], BATCH_PARTS), "ms")
    ax.set_xlabel(f"ms to sum {result['size']:,} ints   (diamond: fastest run; dots: every run;"
                  " line: median)")
    b = {e: batch[e]["min"] for e in BATCH_PARTS}
    ax.set_title(f"sum_list takes {b['go-list'] / b['builtin']:.1f}x the builtin's time; "
                 f"Go's additions are {b['go-array'] / b['go-list']:.0%} of it")
    fig.tight_layout()
    return fig


def batch_findings(result: dict) -> list[str]:
    """Where sum_list's time goes, and how it compares, computed from the runs."""
    batch = result["batch_ms"]
    b = {e: r["min"] for e, r in batch.items()}
    snapshot, convert = b["go-list"] - b["go-tuple"], b["go-tuple"] - b["go-array"]
    faults = batch["go-list"]["faults"]
    lines = [
        f"one Go call per pair takes {b['go-pairs'] / b['go-list']:.0f}x as long as sum_list "
        f"(one call for the list); one C call per pair {b['c-pairs'] / b['go-list']:.0f}x",
        f"the builtin sum is {_compare(batch, 'builtin', 'go-list')} sum_list "
        f"({b['builtin']:.1f} vs {b['go-list']:.1f} ms)",
        f"sum_list's {b['go-list']:.1f} ms (minimums): the snapshot of the list {snapshot:.1f} ms,"
        f" converting the items into a C array {convert:.1f} ms, Go's additions "
        f"{b['go-array']:.1f} ms",
        f"each sum_list call on a list faults {faults:,.0f} pages in "
        f"(~{faults * 4096 / 1e6:.0f} MB at 4 KiB a page); on a tuple "
        f"{batch['go-tuple']['faults']:,.0f}; the builtin {batch['builtin']['faults']:,.0f}"
        + ("; where from: the snapshot and the C array (8 bytes per item each) are freed "
           "together at the end of the call, the allocator (glibc's malloc) hands that much "
           "free memory back to the kernel, and the next call gets fresh pages, each a fault"
           if faults > 1000 else ""),
        f"on a tuple, sum_list is {_compare(batch, 'go-tuple', 'builtin')} the builtin "
        f"({b['go-tuple']:.1f} vs {b['builtin']:.1f} ms)",
    ]
    return lines


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # Ctrl-C reaches every worker too: one line, not 13 tracebacks
        if "--worker" not in sys.argv:
            print("interrupted", file=sys.stderr)
        sys.exit(130)
