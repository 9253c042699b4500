"""Step 01 benchmark: what one call of sum(5, 4) costs, by calling convention.

    python bench.py            # full run (make bench)
    python bench.py --quick    # a smoke run: small counts, same table
    python bench.py --json     # the figures as JSON (every repeat kept)

Three functions with one contract, timed in this process: a pure Python
def, the talk's C sum (METH_VARARGS + PyArg_ParseTuple) and sum_fast
(METH_FASTCALL). Their repeats are interleaved (def, sum, sum_fast, sum,
sum_fast, def, ...) so that a burst of noise on a busy machine hits all
three alike; every repeat is kept, the table shows min and median. Many
short runs rather than a few long ones: on a busy machine the minimum of
many short runs is the steadiest figure (the median shows the noise).
Numbers are this machine's, measured now: nothing is typed in.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import timeit
from pathlib import Path

STEP = Path(__file__).resolve().parent
sys.path.insert(0, str(STEP))
import newmath  # noqa: E402  (this step's module, whatever the working folder)


def py_sum(a, b):
    return a + b


ENGINES = {
    "python": ("pure Python def", py_sum),
    "c-varargs": ("C METH_VARARGS (sum, the talk's)", newmath.sum),
    "c-fastcall": ("C METH_FASTCALL (sum_fast)", newmath.sum_fast),
}


def measure(number: int, repeat: int) -> dict[str, list[float]]:
    """ns per call of f(5, 4) for every engine, `repeat` rounds, interleaved."""
    timers = {}
    for name, (_, f) in ENGINES.items():
        assert f(5, 4) == 9
        timers[name] = timeit.Timer("f(5, 4)", globals={"f": f})
        timers[name].timeit(number // 10 or 1)  # warm up
    times: dict[str, list[float]] = {name: [] for name in ENGINES}
    names = list(ENGINES)
    for r in range(repeat):
        for name in names[r % len(names):] + names[:r % len(names)]:  # rotate the order
            times[name].append(timers[name].timeit(number) / number * 1e9)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: small counts")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--number", type=int, default=20_000, help="calls per timing run")
    parser.add_argument("--repeat", type=int, default=51, help="timing runs per engine")
    args = parser.parse_args()
    if args.quick:
        args.number, args.repeat = 5_000, 3
    times = measure(args.number, args.repeat)
    if args.json:
        print(json.dumps({"number": args.number, "repeat": args.repeat, "ns": times,
                          "labels": {name: label for name, (label, _) in ENGINES.items()}},
                         indent=2))
        return

    base = times["c-varargs"]
    print(f"sum(5, 4), ns per call: {args.repeat} interleaved runs x {args.number:,} calls, "
          "one process")
    print(f"  {'engine':<34} {'min':>7} {'median':>7}   x talk's C: min, median")
    for name, (label, _) in ENGINES.items():
        t, median = times[name], statistics.median(times[name])
        print(f"  {label:<34} {min(t):>7.1f} {median:>7.1f}   "
              f"{min(t) / min(base):>9.2f}x {median / statistics.median(base):>6.2f}x")
    varargs, fast = times["c-varargs"], times["c-fastcall"]
    print(f"  argument tuple + format string (sum - sum_fast): {min(varargs) - min(fast):.1f} "
          f"ns (mins), {statistics.median(varargs) - statistics.median(fast):.1f} ns (medians)")


if __name__ == "__main__":
    main()
