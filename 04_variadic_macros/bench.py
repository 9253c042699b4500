"""list_sum (one call into Go per list) against newmath.sum (one call per pair).

Both are Go-backed, and Go supports one runtime per process (golang/go#65050),
so each engine is measured in its own child process:
  macro    this step: macro.list_sum(values), and builtin sum(values) for scale
  newmath  step 02:   total = newmath.sum(total, v) for every item (per pair),
           and newmath.sum_list(values) (C copies the list, one call into Go)
The driver alternates the two children over a few rounds. Every timed run
lasts at least MIN_RUN seconds and is kept; the table gives the min (the
steadiest figure on a busy machine) and the median of all of them.

    python bench.py                 # the table `make bench` prints
    python bench.py --engine macro  # one child: JSON on stdout
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

STEP = Path(__file__).resolve().parent
STEP02 = STEP.parent / "02_cgo_sum"
SIZES = (1, 10, 100, 1000, 10_000)
MIN_RUN = 0.1  # seconds: a timed run shorter than this measures the noise

LIST_SUM = "macro.list_sum"
BUILTIN = "builtin sum"
PER_PAIR = "newmath.sum per pair"
SUM_LIST = "newmath.sum_list"
ORDER = (LIST_SUM, PER_PAIR, SUM_LIST, BUILTIN)
GO_C_CALLS_PER_ITEM = 3  # PyTuple_GetItem, the PyLong_Check shim, PyLong_AsLongLong


# ---------------------------------------------------------------- children
def _macro_functions() -> dict:
    sys.path.insert(0, str(STEP))
    import macro

    return {LIST_SUM: macro.list_sum, BUILTIN: sum}


def _newmath_functions() -> dict:
    sys.path.insert(0, str(STEP02))
    import newmath

    assert Path(newmath.__file__).parent == STEP02, newmath.__file__

    def per_pair(values, add=newmath.sum):
        total = 0
        for v in values:
            total = add(total, v)
        return total

    functions = {PER_PAIR: per_pair}
    if hasattr(newmath, "sum_list"):
        functions[SUM_LIST] = newmath.sum_list
    return functions


def _timed(func, values, number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        func(values)
    return time.perf_counter() - start


def _calibrate(func, values, min_run: float) -> int:
    """Calls per timed run, so that one run lasts at least min_run seconds."""
    number = 1
    while (elapsed := _timed(func, values, number)) < min_run / 10:
        number *= 2
    return max(number, int(number * 1.2 * min_run / elapsed) + 1)


def measure(functions: dict, sizes, repeat: int, min_run: float = MIN_RUN) -> dict:
    """{function name: {size: [ns per call, one per timed run]}} in this process,
    the functions interleaved run by run."""
    results: dict[str, dict[int, list[float]]] = {name: {} for name in functions}
    for size in sizes:
        values = list(range(size))
        numbers = {}
        for name, func in functions.items():
            if func(values) != sum(values):
                raise AssertionError(f"{name} gives a wrong sum for {size} items")
            numbers[name] = _calibrate(func, values, min_run)
        for _ in range(repeat):
            for name, func in functions.items():
                # A run the machine made shorter than min_run is repeated with
                # more calls (and not kept): every kept run lasts >= min_run.
                while (elapsed := _timed(func, values, numbers[name])) < min_run:
                    numbers[name] *= 2
                results[name].setdefault(size, []).append(elapsed / numbers[name] * 1e9)
    return results


# ------------------------------------------------------------------ driver
def build_newmath(python: str = sys.executable) -> None:
    """Build step 02's newmath (variant b) only, with this interpreter."""
    target = "newmath" + sysconfig.get_config_var("EXT_SUFFIX")
    proc = subprocess.run(["make", "--no-print-directory", "-C", str(STEP02),
                           f"PYTHON={python}", target], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"building {STEP02.name}/{target} failed:\n"
                           + proc.stdout + proc.stderr)


def run_engine(engine: str, sizes=SIZES, repeat: int = 3, min_run: float = MIN_RUN) -> dict:
    """Measure one engine in a child process of its own."""
    proc = subprocess.run(
        [sys.executable, str(Path(__file__)), "--engine", engine,
         "--sizes", ",".join(map(str, sizes)), "--repeat", str(repeat),
         "--min-time", str(min_run)],
        capture_output=True, text=True, check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"the {engine} child failed ({proc.returncode}):\n{proc.stderr}")
    return {name: {int(k): v for k, v in by_size.items()}
            for name, by_size in json.loads(proc.stdout).items()}


def compare(sizes=SIZES, rounds: int = 3, repeat: int = 3) -> dict:
    """Alternate the two children `rounds` times: {name: {size: [every run's ns]}}."""
    build_newmath()
    runs: dict[str, dict[int, list[float]]] = {}
    for _ in range(rounds):
        for engine in ("macro", "newmath"):
            for name, by_size in run_engine(engine, sizes, repeat).items():
                for size, ns in by_size.items():
                    runs.setdefault(name, {}).setdefault(size, []).extend(ns)
    return {name: runs[name] for name in ORDER if name in runs}


def go_call_costs(count: int = 5) -> dict[str, list[float]]:
    """ns per call of cgocall's Go benchmarks, every run: a Go-to-C call
    (GoToC) and a plain Go call (GoToGo)."""
    proc = subprocess.run(
        ["go", "test", f"-count={count}", "-run", "^$", "-bench", ".",
         "-benchtime=200ms", "./cgocall"], cwd=STEP, capture_output=True, text=True, check=True,
    )
    found = re.findall(r"^Benchmark(\w+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op", proc.stdout, re.M)
    if not found:
        raise RuntimeError("no benchmark result in:\n" + proc.stdout + proc.stderr)
    costs: dict[str, list[float]] = {}
    for name, ns in found:
        costs.setdefault(name, []).append(float(ns))
    return costs


# ----------------------------------------------------------------- reading
def per_item(results: dict, name: str, size: int, stat=min) -> float:
    """ns per item of one function at one size (min of the runs by default)."""
    return stat(results[name][size]) / size


def compared(a: float, b: float) -> str:
    """How a time `a` compares with `b`: 'N.NNx faster' or 'N.NNx slower'."""
    return f"{b / a:.2f}x faster" if a <= b else f"{a / b:.2f}x slower"


def table(results: dict) -> str:
    names = list(results)
    head = f"{'items':>7}" + "".join(f" | {n:^22}" for n in names)
    sub = f"{'':>7}" + " | {:>10} {:>11}".format("min", "median") * len(names)
    lines = ["ns per item: min and median of every run", head, sub]
    for size in sorted(results[LIST_SUM]):
        row = f"{size:>7,}"
        for name in names:
            row += (f" | {per_item(results, name, size):>10,.1f} "
                    f"{per_item(results, name, size, statistics.median):>11,.1f}")
        lines.append(row)
    return "\n".join(lines)


def findings(results: dict, costs: dict | None = None) -> list[str]:
    """What this run shows, in sentences computed from its numbers (mins,
    medians in brackets)."""
    sizes = sorted(results[LIST_SUM])
    first, last = sizes[0], sizes[-1]
    lines = []

    def both(a: str, b: str, size: int) -> str:
        by_min = compared(per_item(results, a, size), per_item(results, b, size))
        by_median = compared(per_item(results, a, size, statistics.median),
                             per_item(results, b, size, statistics.median))
        return f"{by_min} (median: {by_median})"

    for size in (first, last):
        lines.append(f"{size:,} item{'s' if size > 1 else ''}: list_sum is "
                     f"{both(LIST_SUM, PER_PAIR, size)} than one newmath.sum call per pair.")
    lines.append(f"{last:,} items: the builtin sum is {both(BUILTIN, LIST_SUM, last)} "
                 "than list_sum.")
    if SUM_LIST in results:
        lines.append(f"{last:,} items: newmath.sum_list (C reads the list, one crossing) is "
                     f"{both(SUM_LIST, LIST_SUM, last)} than list_sum.")
    if costs:
        go_c = min(costs["GoToC"])
        walk = per_item(results, LIST_SUM, last)
        share = GO_C_CALLS_PER_ITEM * go_c / walk
        lines.append(
            f"One Go-to-C call: {go_c:.1f} ns (median {statistics.median(costs['GoToC']):.1f}; "
            f"a Go call {min(costs['GoToGo']):.1f}). list_sum's {GO_C_CALLS_PER_ITEM} per item: "
            f"{GO_C_CALLS_PER_ITEM * go_c:.0f} of its {walk:.0f} ns per item ({share:.0%}).")
    return lines


# ---------------------------------------------------------------------------
# The notebook's view: the plot and the verdicts computed from the runs.
# Tested in test_bench_report.py.
# ---------------------------------------------------------------------------
COLORS = {LIST_SUM: "tab:purple", PER_PAIR: "tab:orange", SUM_LIST: "tab:green",
          BUILTIN: "tab:blue"}


def plot(results: dict, costs: dict):
    """ns per item by list size (every run a dot), and at the largest size each
    engine's fastest and slowest run beside list_sum's Go-to-C calls."""
    import matplotlib.pyplot as plt  # only the notebook plots: make bench prints
    from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullFormatter

    last = max(results[LIST_SUM])
    go_c = min(costs["GoToC"])
    fig, (lines, bars) = plt.subplots(1, 2, figsize=(13, 5), width_ratios=(1.1, 1))
    for name, by_size in results.items():
        sizes = sorted(by_size)
        for size in sizes:  # every run, as a dot
            lines.scatter([size] * len(by_size[size]), [ns / size for ns in by_size[size]],
                          s=10, alpha=0.4, color=COLORS[name])
        lines.plot(sizes, [statistics.median(by_size[x]) / x for x in sizes], marker="o",
                   label=name, color=COLORS[name])
    lines.set_xscale("log")
    lines.set_yscale("log")
    lines.xaxis.set_major_locator(FixedLocator(sorted(results[LIST_SUM])))
    lines.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    lines.xaxis.set_minor_formatter(NullFormatter())
    lines.yaxis.set_major_locator(LogLocator(base=10))
    lines.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,g}"))
    lines.set_xlabel("items in the list (log scale)")
    lines.set_ylabel("ns per item (log scale)")
    lines.set_title("Cost per item: lines = medians, dots = every run")
    lines.grid(True, which="major", alpha=0.3)
    lines.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=4, fontsize=9)
    labels = [*results, f"{GO_C_CALLS_PER_ITEM} Go-to-C calls (cgocall)"]
    fastest = [per_item(results, n, last) for n in results] + [GO_C_CALLS_PER_ITEM * go_c]
    slowest = ([max(results[n][last]) / last for n in results]
               + [GO_C_CALLS_PER_ITEM * max(costs["GoToC"])])
    y = range(len(labels))
    bars.barh(y, fastest, xerr=[[0] * len(y), [b - a for a, b in zip(fastest, slowest,
                                                                     strict=True)]],
              color=[*(COLORS[n] for n in results), "tab:red"], capsize=3)
    for row, (a, b) in enumerate(zip(fastest, slowest, strict=True)):
        bars.text(b, row, f"  {a:,.1f} (slowest {b:,.0f})", va="center", fontsize=9)
    bars.set_yticks(list(y), labels)
    bars.invert_yaxis()
    bars.set_xlabel(f"ns per item at {last:,} items: bar = fastest run, whisker = slowest")
    ratio = per_item(results, LIST_SUM, last) / per_item(results, BUILTIN, last)
    bars.set_title(f"At {last:,} items, list_sum costs x{ratio:.1f} the builtin sum per item")
    bars.set_xlim(0, max(slowest) * 1.45)
    fig.tight_layout()
    return fig


def verdict(results: dict, a: str, b: str, size: int) -> int:
    """1 if a is faster than b by the fastest and the median run, -1 if slower
    by both, 0 if they disagree."""
    fast = per_item(results, a, size) < per_item(results, b, size)
    med = (per_item(results, a, size, statistics.median)
           < per_item(results, b, size, statistics.median))
    return 1 if fast and med else -1 if not (fast or med) else 0


def verdicts(results: dict, costs: dict) -> list[str]:
    """Whether one crossing per list beat one call per pair, size by size, and
    whether the expected story held at the largest size on this run."""
    def at(sizes: list[int]) -> str:
        return ", ".join(f"{x:,}" for x in sizes) + " items" if sizes else "no size"

    sizes = sorted(results[LIST_SUM])
    last = sizes[-1]
    per_pair = {x: verdict(results, LIST_SUM, PER_PAIR, x) for x in sizes}
    lines = [f"One crossing per list beat one call per pair (by both measures) at "
             f"{at([x for x, v in per_pair.items() if v == 1])}, lost at "
             f"{at([x for x, v in per_pair.items() if v == -1])}; min and median disagreed at "
             f"{at([x for x, v in per_pair.items() if v == 0])}."]
    three = (f"Go's three Go-to-C calls per item ({GO_C_CALLS_PER_ITEM * min(costs['GoToC']):.0f}"
             " ns by cgocall)")
    step = "a Python loop step, a METH_FASTCALL call and one C-to-Go crossing"
    lines.append({
        1: f"At {last:,} items the expected story holds on this run: {three} cost less than "
           f"{step}.",
        -1: f"At {last:,} items the expected story does not hold on this run: one call per pair "
            f"was faster by both measures. {three} cost more than {step}.",
        0: f"At {last:,} items this run cannot tell them apart, so the expected win of one "
           f"crossing per list did not show: {three} cost about as much as {step}.",
    }[per_pair[last]])
    ratio = per_item(results, LIST_SUM, last) / per_item(results, BUILTIN, last)
    lines.append(("The builtin sum beat list_sum by both measures"
                  if verdict(results, BUILTIN, LIST_SUM, last) == 1 else
                  "The builtin sum did not beat list_sum by both measures on this run")
                 + f" (x{ratio:.1f} by the fastest runs at {last:,} items).")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("macro", "newmath"))
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--min-time", type=float, default=MIN_RUN,
                        help="seconds a timed run lasts at least")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.engine:
        functions = _macro_functions() if args.engine == "macro" else _newmath_functions()
        print(json.dumps(measure(functions, sizes, args.repeat, args.min_time)))
        return
    results = compare(sizes, args.rounds, args.repeat)
    print(f"{args.rounds} rounds x {args.repeat} runs of >= {MIN_RUN * 1000:.0f} ms per "
          "function and size, each engine in its own process")
    print(table(results))
    print()
    print("\n".join(findings(results, go_call_costs())))


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # Ctrl-C reaches the children too: one line, no tracebacks
        if "--engine" not in sys.argv:
            print("interrupted", file=sys.stderr)
        sys.exit(130)
