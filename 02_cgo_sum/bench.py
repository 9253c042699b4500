"""Step 02 benchmark: what one call into Go costs, and why batching wins.

    python bench.py            # full run (make bench)
    python bench.py --quick    # a smoke run: small counts, same table
    python bench.py --json     # the figures as JSON (used by the notebook)

Every engine runs in its own interpreter (a Go runtime per process, and no
engine warms the caches of another); each figure is the median of repeated
timeit runs. Numbers are this machine's, measured now: nothing is typed in.
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import subprocess
import sys
import timeit
from pathlib import Path

STEP = Path(__file__).resolve().parent
ROOT = STEP.parent

# name -> (label, code that defines `f` with newmath.sum's signature)
CALL_ENGINES = {
    "python": ("pure Python def", "def f(a, b):\n    return a + b"),
    "c": ("C (01_c_sum)", "f = c_newmath().sum"),
    "go-glue": ("Go via C glue (02, b)",
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


def c_newmath():
    """Step 01's C newmath, and never step 02's Go one by accident (both are
    named newmath, and this script's folder is on sys.path)."""
    sys.path.insert(0, str(ROOT / "01_c_sum"))
    import newmath

    if Path(newmath.__file__).parent != ROOT / "01_c_sum":
        raise SystemExit(f"the C baseline is not step 01's newmath: {newmath.__file__}")
    return newmath


def measure_call(engine: str, number: int, repeat: int) -> list[float]:
    """ns per call of f(5, 4), one figure per repeat (in this process)."""
    scope = {"sys": sys, "ROOT": ROOT, "STEP": STEP, "c_newmath": c_newmath}
    exec(CALL_ENGINES[engine][1], scope)
    f = scope["f"]
    assert f(5, 4) == 9
    timer = timeit.Timer("f(5, 4)", globals={"f": f})
    timer.timeit(number // 10 or 1)  # warm up (first call from a new thread)
    return [t / number * 1e9 for t in timer.repeat(repeat=repeat, number=number)]


def measure_batch(engine: str, size: int, repeat: int) -> list[float]:
    """ms to sum list(range(size)), one figure per repeat."""
    scope = {"sys": sys, "ROOT": ROOT, "STEP": STEP, "functools": functools,
             "c_newmath": c_newmath}
    exec(BATCH_ENGINES[engine][1], scope)
    g = scope["g"]
    values = list(range(size))
    assert g(values) == size * (size - 1) // 2
    timer = timeit.Timer("g(values)", globals={"g": g, "values": values})
    return [t * 1e3 for t in timer.repeat(repeat=repeat, number=1)]


def run_child(kind: str, engine: str, args: argparse.Namespace) -> list[float]:
    cmd = [sys.executable, __file__, "--child", kind, engine,
           "--number", str(args.number), "--repeat", str(args.repeat),
           "--size", str(args.size)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: small counts")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.add_argument("--number", type=int, default=200_000, help="calls per timing run")
    parser.add_argument("--repeat", type=int, default=7, help="timing runs (median taken)")
    parser.add_argument("--size", type=int, default=1_000_000, help="list size for the batch")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "ENGINE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.number, args.repeat, args.size = 2_000, 3, 10_000

    if args.child:
        kind, engine = args.child
        measure = measure_call if kind == "call" else measure_batch
        arg = args.number if kind == "call" else args.size
        print(json.dumps(measure(engine, arg, args.repeat)))
        return

    # The C baseline is step 01: make sure it is built, with this interpreter.
    subprocess.run(["make", "-s", "-C", str(ROOT / "01_c_sum"), f"PYTHON={sys.executable}"],
                   check=True, stdout=subprocess.DEVNULL)
    calls = {e: statistics.median(run_child("call", e, args)) for e in CALL_ENGINES}
    batch = {e: statistics.median(run_child("batch", e, args)) for e in BATCH_ENGINES}
    result = {"number": args.number, "repeat": args.repeat, "size": args.size,
              "call_ns": calls, "batch_ms": batch,
              "labels": {e: lbl for e, (lbl, _) in {**CALL_ENGINES, **BATCH_ENGINES}.items()}}
    if args.json:
        print(json.dumps(result, indent=2))
        return

    c = calls["c"]
    print(f"Call overhead: sum(5, 4), ns per call, median of {args.repeat} runs "
          f"x {args.number:,} calls, each engine in its own process")
    print(f"  {'engine':<30} {'ns/call':>9} {'vs C':>7}")
    for engine, ns in calls.items():
        print(f"  {CALL_ENGINES[engine][0]:<30} {ns:>9.1f} {ns / c:>6.2f}x")
    ratio = calls["go-glue"] / c
    verdict = "met" if ratio <= 2 else "NOT met"
    print(f"  target: Go via C glue within 2x of C -> {ratio:.2f}x, {verdict}\n")

    one = batch["go-list"]
    print(f"Batch: summing {args.size:,} ints, ms, median of {args.repeat} runs")
    print(f"  {'engine':<30} {'ms':>9} {'vs one Go call':>15}")
    for engine, ms in batch.items():
        print(f"  {BATCH_ENGINES[engine][0]:<30} {ms:>9.2f} {ms / one:>14.1f}x")


if __name__ == "__main__":
    main()
