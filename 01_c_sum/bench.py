"""Step 01 benchmark: what one call of sum(5, 4) costs, by calling convention.

    python bench.py            # full run (make bench)
    python bench.py --quick    # a smoke run: short runs, same table
    python bench.py --json     # the figures as JSON (every run kept)

Three functions with one contract, timed in this process: a pure Python
def, the talk's C sum (METH_VARARGS + PyArg_ParseTuple) and sum_fast
(METH_FASTCALL). Each timing run makes enough calls to last at least
--min-time (0.1 s), so the clock's resolution and the timer's own cost do
not matter. The clock is this thread's CPU time (time.thread_time): on a
busy machine a run that long is preempted many times, and wall-clock time
would count the time other processes ran. The runs are interleaved in rounds
(def, sum, sum_fast, then sum, sum_fast, def, ...), so what load still does
(to caches, to a shared core) hits all three alike. Every run is kept; the
table shows min and median (the median shows how disturbed the runs were).
Numbers are this machine's, measured now: nothing is typed in.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
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


def calls_per_run(timer: timeit.Timer, min_time: float) -> int:
    """How many calls make a run last at least min_time: the cost of one
    call estimated from the fastest of three short trials (a trial slowed by
    other processes would make the runs too short, not too long)."""
    trial = 1000
    while timer.timeit(trial) < 0.01:  # a trial long enough to estimate from
        trial *= 10
    per_call = min(timer.timeit(trial) for _ in range(3)) / trial
    return max(1, math.ceil(min_time / per_call))


def measure(repeat: int, min_time: float = 0.1) -> tuple[dict[str, list[float]], dict[str, int],
                                                        dict[str, list[float]]]:
    """(ns per call of f(5, 4) for each engine, `repeat` runs each,
    interleaved; calls per run for each engine; each run's CPU seconds)."""
    timers, number = {}, {}
    for name, (_, f) in ENGINES.items():
        assert f(5, 4) == 9
        timers[name] = timeit.Timer("f(5, 4)", globals={"f": f}, timer=time.thread_time)
        number[name] = calls_per_run(timers[name], min_time)  # also warms up
    times: dict[str, list[float]] = {name: [] for name in ENGINES}
    seconds: dict[str, list[float]] = {name: [] for name in ENGINES}
    names = list(ENGINES)
    for r in range(repeat):
        for name in names[r % len(names):] + names[:r % len(names)]:  # rotate the order
            took = timers[name].timeit(number[name])
            while took < min_time:  # shorter than the calibration said: redo, longer
                number[name] = math.ceil(number[name] * min_time / max(took, 1e-6) * 1.1)
                took = timers[name].timeit(number[name])
            times[name].append(took / number[name] * 1e9)
            seconds[name].append(took)
    return times, number, seconds


def table(times: dict[str, list[float]], number: dict[str, int], seconds: dict[str, list[float]],
          min_time: float) -> str:
    """The figures of a run: min and median ns per call, and ratios to the talk's call."""
    base = times["c-varargs"]
    repeat = len(base)
    shortest = min(min(runs) for runs in seconds.values())
    lines = [f"sum(5, 4), ns per call (CPU time): {repeat} interleaved runs per engine, "
             f"one process, each run >= {min_time:g} s (shortest: {shortest:.3f} s)",
             f"  {'engine':<34} {'calls/run':>10} {'min':>7} {'median':>7}   "
             "x talk's C: min, median"]
    for name, (label, _) in ENGINES.items():
        t, median = times[name], statistics.median(times[name])
        lines.append(f"  {label:<34} {number[name]:>10,} {min(t):>7.1f} {median:>7.1f}   "
                     f"{min(t) / min(base):>9.2f}x {median / statistics.median(base):>6.2f}x")
    varargs, fast = times["c-varargs"], times["c-fastcall"]
    lines.append(f"  argument tuple + format string (sum - sum_fast): "
                 f"{min(varargs) - min(fast):.1f} ns (mins), "
                 f"{statistics.median(varargs) - statistics.median(fast):.1f} ns (medians)")
    return "\n".join(lines)


def compare(x: list[float], y: list[float]) -> str:
    """How runs x did against runs y: faster or slower when the minimum and the
    median agree, else not clearly different (as common/nb.py's compare)."""
    low, mid = min(x) < min(y), statistics.median(x) < statistics.median(y)
    return ("faster than" if low and mid else "slower than" if not (low or mid)
            else "not clearly different from")


def findings(times: dict[str, list[float]], version: tuple = sys.version_info) -> list[str]:
    """What this run shows, in sentences computed from its runs. "Faster" needs
    the minimum and the median to agree; a result only noise can reverse is
    called disturbed."""
    d, v, f = (min(times[name]) for name in ("python", "c-varargs", "c-fastcall"))
    lines = [f"the tuple and the format string: sum - sum_fast = {v - f:.0f} ns per call "
             f"(minimums), {(v - f) / v:.0%} of the talk's call"]
    said = compare(times["c-fastcall"], times["c-varargs"])
    lines.append(f"sum_fast is {said} the talk's sum ({f:.0f} vs {v:.0f} ns)")
    if said != "faster than":  # it does strictly less work: only other processes can reverse it
        lines.append("! this run was disturbed by other processes: run it again, or `make bench`")
    said = compare(times["python"], times["c-varargs"])
    line = f"a pure Python def is {said} the talk's C sum ({d:.0f} vs {v:.0f} ns)"
    if said != "faster than":
        line += ("; expected faster, but this Python has no specialising interpreter (3.11+): "
                 "its def call and a + b cost more" if version < (3, 11) else
                 "; expected faster: other processes disturbed the runs (see the spread of the "
                 "dots): run it again, or `make bench` for more runs")
    lines.append(line)
    lines.append(f"sum_fast is {compare(times['c-fastcall'], times['python'])} the def "
                 f"({f:.0f} vs {d:.0f} ns)")
    return lines


def plot(times: dict[str, list[float]]):
    """Every run of each engine, its fastest and its median (matplotlib figure)."""
    import matplotlib.pyplot as plt  # only the notebook plots: make bench prints
    from nb import runs_plot  # common/ (on the path in the notebooks and the tests)

    fig, ax = plt.subplots(figsize=(9, 3.2))
    runs_plot(ax, {ENGINES[name][0]: runs for name, runs in times.items()}, "ns")
    d, v, f = (min(times[name]) for name in ("python", "c-varargs", "c-fastcall"))
    ax.set_xlabel("ns per call of sum(5, 4)   (diamond: fastest run; dots: every run; "
                  "line: median)")
    ax.set_title(f"sum(5, 4): the fast call costs {f / v:.2f}x the talk's call, "
                 f"a Python def {d / v:.2f}x (fastest runs)")
    fig.tight_layout()
    return fig


def positive(text: str) -> int:
    if int(text) < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return int(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: short runs")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--repeat", type=positive, default=21, help="timing runs per engine")
    parser.add_argument("--min-time", type=float, default=0.1,
                        help="seconds each timing run lasts at least")
    args = parser.parse_args()
    if args.quick:
        args.repeat, args.min_time = 3, 0.002
    times, number, seconds = measure(args.repeat, args.min_time)
    if args.json:
        print(json.dumps({"repeat": args.repeat, "min_time": args.min_time, "number": number,
                          "ns": times, "seconds": seconds,
                          "labels": {name: label for name, (label, _) in ENGINES.items()}},
                         indent=2))
        return

    print(table(times, number, seconds, args.min_time))


if __name__ == "__main__":
    main()
