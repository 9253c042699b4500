"""Step 02 benchmark: what one call into Go costs, and why batching wins.

    python bench.py            # full run (make bench)
    python bench.py --quick    # a smoke run: small counts, same table
    python bench.py --json     # the figures as JSON (every repeat kept; the notebook)

Every engine runs in its own worker process (one Go runtime per process, and
no engine warms the caches of another). The workers are started together
and timed in rounds: each round asks every worker, one after the other (the
order rotates), for one timing run. So a burst of noise on a busy machine
hits all engines alike, and every engine's figures are side by side, from
the same minutes. Every run is kept; the tables show min and median.
Many short runs rather than a few long ones: on a busy machine a long run
is almost always interrupted, a short one often is not, so the minimum of
many short runs is the steadiest figure (the median shows the noise).
Numbers are this machine's, measured now: nothing is typed in.
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import subprocess
import sys
import sysconfig
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
                     "f = lambda a, b: lib.sum(a, b, r, rep) or r[0]"),
    "cffi-abi-raw": ("cffi ABI, unchecked", "sys.path.insert(0, str(STEP / 'ffi'))\n"
                     "from newmath_cffi_abi import ffi, lib\nr = ffi.new('long long *')\n"
                     "rep = ffi.new('epg_go_panic *')\n"
                     "f = lambda a, b: lib.Sum(a, b, r, rep) or r[0]"),
    "ctypes-raw": ("ctypes, unchecked", "sys.path.insert(0, str(STEP / 'ffi'))\n"
                   "import ctypes\nfrom newmath_ctypes import GoPanic, lib\n"
                   "r = ctypes.c_longlong()\n"
                   "p, rep = ctypes.byref(r), ctypes.byref(GoPanic())\n"
                   "f = lambda a, b: lib.Sum(a, b, p, rep) or r.value"),
}

# name -> (label, code that defines `g(values)` summing the list)
BATCH_ENGINES = {
    "builtin": ("Python builtin sum(values)", "g = sum"),
    "c-pairs": ("C sum, one call per pair",
                "c_sum = c_newmath().sum\ng = lambda v: functools.reduce(c_sum, v)"),
    "go-pairs": ("Go sum, one call per pair",
                 "sys.path.insert(0, str(STEP))\nimport newmath\n"
                 "g = lambda v: functools.reduce(newmath.sum, v)"),
    "go-list": ("Go sum_list, one call per list",
                "sys.path.insert(0, str(STEP))\nimport newmath\ng = newmath.sum_list"),
}


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


def worker(kind: str, engine: str, count: int) -> None:
    """Serve timings: one line on stdin -> one timing run, printed.

    call:  ns per call of f(5, 4), `count` calls per run.
    batch: ms to sum list(range(count)), one call per run.
    """
    scope = {"sys": sys, "ROOT": ROOT, "STEP": STEP, "functools": functools,
             "c_newmath": c_newmath}
    if kind == "call":
        exec(CALL_ENGINES[engine][1], scope)
        f = scope["f"]
        assert f(5, 4) == 9
        timer = timeit.Timer("f(5, 4)", globals={"f": f})
        timer.timeit(count // 10 or 1)  # warm up (first call from a new thread)
        run = lambda: timer.timeit(count) / count * 1e9  # noqa: E731
    else:
        exec(BATCH_ENGINES[engine][1], scope)
        g = scope["g"]
        values = list(range(count))
        assert g(values) == count * (count - 1) // 2
        timer = timeit.Timer("g(values)", globals={"g": g, "values": values})
        run = lambda: timer.timeit(1) * 1e3  # noqa: E731
    print("ready", flush=True)
    for _ in sys.stdin:
        print(repr(run()), flush=True)


def start(kind: str, engine: str, count: int) -> subprocess.Popen:
    if engine == "bare-go":
        cmd = [str(BARE_GO), str(count)]
    else:
        cmd = [sys.executable, __file__, "--worker", kind, engine, str(count)]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    if engine == "bare-go":
        proc.stdin.write("warm-up\n")  # the first call from this thread binds it to Go
        proc.stdin.flush()
    line = proc.stdout.readline()
    if not line:
        raise SystemExit(f"the {engine} worker failed to start (exit {proc.wait()})")
    return proc


def measure(kind: str, engines: list[str], count: int, repeat: int) -> dict[str, list[float]]:
    """Every engine's `repeat` timing runs, taken in rotating rounds."""
    workers = {engine: start(kind, engine, count) for engine in engines}
    times: dict[str, list[float]] = {engine: [] for engine in engines}
    try:
        for r in range(repeat):
            for engine in engines[r % len(engines):] + engines[:r % len(engines)]:
                proc = workers[engine]
                proc.stdin.write("run\n")
                proc.stdin.flush()
                times[engine].append(float(proc.stdout.readline()))
    finally:
        for proc in workers.values():
            proc.stdin.close()
            proc.wait()
    return times


def summary(times: list[float]) -> dict:
    return {"runs": times, "min": min(times), "median": statistics.median(times)}


def table(title: str, unit: str, labels: dict, results: dict, base: str, digits: int) -> None:
    print(title)
    print(f"  {'engine':<30} {'min':>9} {'median':>9}   x {labels[base]}: min, median")
    for engine, r in results.items():
        if "skipped" in r:
            print(f"  {labels[engine]:<30} skipped: {r['skipped']}")
            continue
        b = results[base]
        print(f"  {labels[engine]:<30} {r['min']:>9.{digits}f} {r['median']:>9.{digits}f}   "
              f"{r['min'] / b['min']:>6.2f}x {r['median'] / b['median']:>6.2f}x")
    print(f"  ({unit})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: small counts")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.add_argument("--number", type=int, default=20_000, help="calls per timing run")
    parser.add_argument("--repeat", type=int, default=31, help="timing runs per engine")
    parser.add_argument("--size", type=int, default=1_000_000, help="list size for the batch")
    parser.add_argument("--worker", nargs=3, metavar=("KIND", "ENGINE", "COUNT"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        kind, engine, count = args.worker
        worker(kind, engine, int(count))
        return
    if args.quick:
        args.number, args.repeat, args.size = 2_000, 3, 10_000

    # The C baseline is step 01, the bare loop is built by `make`: both with
    # this interpreter.
    for folder in (ROOT / "01_c_sum", STEP):
        subprocess.run(["make", "-s", "-C", str(folder), f"PYTHON={sys.executable}"],
                       check=True, stdout=subprocess.DEVNULL)
    labels = {e: lbl for e, (lbl, _) in {**CALL_ENGINES, **BATCH_ENGINES}.items()}
    results = {}
    for kind, engines, count in (("call", CALL_ENGINES, args.number),
                                 ("batch", BATCH_ENGINES, args.size)):
        runnable = [e for e in engines if not skipped(e)]
        times = measure(kind, runnable, count, args.repeat)
        results[kind] = {e: summary(times[e]) if e in times else {"skipped": skipped(e)}
                         for e in engines}
    calls, batch = results["call"], results["batch"]
    # The target: Go through the fast glue costs no more than the talk's C
    # sum, both measured in this run; judged on the minimums, the steadiest
    # figures (the medians' ratio is shown too).
    ratio = calls["go-glue"]["min"] / calls["c-varargs"]["min"]
    result = {"number": args.number, "repeat": args.repeat, "size": args.size,
              "call_ns": calls, "batch_ms": batch, "labels": labels,
              "target_ratio": ratio, "target_met": ratio <= 1}
    if args.json:
        print(json.dumps(result, indent=2))
        return

    table(f"Call overhead: sum(5, 4), ns per call; {args.repeat} rounds x "
          f"{args.number:,} calls, every engine in its own process",
          "ns per call", labels, calls, "c-varargs", 1)
    verdict = "met" if result["target_met"] else "NOT met"
    medians = calls["go-glue"]["median"] / calls["c-varargs"]["median"]
    print(f"  target: Go via the fast glue costs no more than the talk's C sum -> "
          f"{ratio:.2f}x (mins; medians {medians:.2f}x), {verdict}")

    def diff(a: str, b: str) -> str:
        return (f"{calls[a]['min'] - calls[b]['min']:.1f} ns (mins), "
                f"{calls[a]['median'] - calls[b]['median']:.1f} ns (medians)")

    print(f"  argument tuple + format string (C varargs - C fastcall): "
          f"{diff('c-varargs', 'c-fastcall')}")
    print(f"  the crossing into Go, seen from Python (fast glue - C fastcall): "
          f"{diff('go-glue', 'c-fastcall')}\n")

    table(f"Batch: summing {args.size:,} ints, ms; {args.repeat} rounds", "ms per sum",
          labels, batch, "go-list", 3)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # Ctrl-C reaches every worker too: one line, not 13 tracebacks
        if "--worker" not in sys.argv:
            print("interrupted", file=sys.stderr)
        sys.exit(130)
