"""list_sum (one call into Go per list) against newmath.sum (one call per pair).

Both are Go-backed, and Go supports one runtime per process (golang/go#65050),
so each engine is measured in its own child process:
  macro    this step: macro.list_sum(values), and builtin sum(values) for scale
  newmath  step 02:   total = newmath.sum(total, v) for every item (per pair),
           and newmath.sum_list(values) (C copies the list, one call into Go)
The driver alternates the children over a few rounds and reports medians.

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
import timeit
from pathlib import Path

STEP = Path(__file__).resolve().parent
STEP02 = STEP.parent / "02_cgo_sum"
SIZES = (1, 10, 100, 1000, 10_000)
ITEMS_PER_SAMPLE = 50_000  # each timing sample adds about this many items

LIST_SUM = "macro.list_sum"
BUILTIN = "builtin sum"
PER_PAIR = "newmath.sum per pair"
SUM_LIST = "newmath.sum_list"


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


def measure(functions: dict, sizes, repeat: int) -> dict:
    """{function name: {size: median ns per call}} in this process."""
    results: dict[str, dict[int, float]] = {name: {} for name in functions}
    for size in sizes:
        values = list(range(size))
        number = max(1, ITEMS_PER_SAMPLE // size)
        for name, func in functions.items():
            if func(values) != sum(values):
                raise AssertionError(f"{name} gives a wrong sum for {size} items")
            timer = timeit.Timer("f(v)", globals={"f": func, "v": values})
            samples = timer.repeat(repeat=repeat, number=number)
            results[name][size] = statistics.median(samples) / number * 1e9
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


def run_engine(engine: str, sizes=SIZES, repeat: int = 5) -> dict:
    """Measure one engine in a child process of its own."""
    proc = subprocess.run(
        [sys.executable, str(Path(__file__)), "--engine", engine,
         "--sizes", ",".join(map(str, sizes)), "--repeat", str(repeat)],
        capture_output=True, text=True, check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"the {engine} child failed ({proc.returncode}):\n{proc.stderr}")
    return {name: {int(k): v for k, v in by_size.items()}
            for name, by_size in json.loads(proc.stdout).items()}


def compare(sizes=SIZES, rounds: int = 3, repeat: int = 5) -> dict:
    """Alternate the two children `rounds` times; median ns per call."""
    build_newmath()
    runs: dict[str, dict[int, list[float]]] = {}
    for _ in range(rounds):
        for engine in ("macro", "newmath"):
            for name, by_size in run_engine(engine, sizes, repeat).items():
                for size, ns in by_size.items():
                    runs.setdefault(name, {}).setdefault(size, []).append(ns)
    return {name: {size: statistics.median(v) for size, v in by_size.items()}
            for name, by_size in runs.items()}


def go_call_costs() -> dict[str, float]:
    """ns per call of cgocall's Go benchmarks: a Go-to-C call vs a Go call."""
    proc = subprocess.run(
        ["go", "test", "-count=1", "-run", "^$", "-bench", ".", "-benchtime=200ms",
         "./cgocall"], cwd=STEP, capture_output=True, text=True, check=True,
    )
    found = re.findall(r"^Benchmark(\w+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op", proc.stdout, re.M)
    if not found:
        raise RuntimeError("no benchmark result in:\n" + proc.stdout + proc.stderr)
    return {name: float(ns) for name, ns in found}


def table(results: dict) -> str:
    names = [n for n in (LIST_SUM, PER_PAIR, SUM_LIST, BUILTIN) if n in results]
    head = f"{'items':>7}" + "".join(f"{n + ' ns':>24}" for n in names)
    head += f"{'per pair / list_sum':>22}"
    if SUM_LIST in results:
        head += f"{'list_sum / sum_list':>22}"
    lines = [head]
    for size in sorted(results[LIST_SUM]):
        row = f"{size:>7}" + "".join(f"{results[n][size]:>24,.0f}" for n in names)
        row += f"{results[PER_PAIR][size] / results[LIST_SUM][size]:>21.2f}x"
        if SUM_LIST in results:
            row += f"{results[LIST_SUM][size] / results[SUM_LIST][size]:>21.2f}x"
        lines.append(row)
    last = max(results[LIST_SUM])
    lines.append("")
    lines.append(f"ns per item at {last:,} items: " + ", ".join(
        f"{n} {results[n][last] / last:.1f}" for n in names))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("macro", "newmath"))
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.engine:
        functions = _macro_functions() if args.engine == "macro" else _newmath_functions()
        print(json.dumps(measure(functions, sizes, args.repeat)))
        return
    print(f"median ns per call over {args.rounds} rounds, each engine in its own process")
    print(table(compare(sizes, args.rounds, args.repeat)))
    costs = go_call_costs()
    print(f"\none Go-to-C call (cgocall, go test -bench): {costs['GoToC']:.1f} ns; "
          f"a Go-to-Go call: {costs['GoToGo']:.1f} ns")


if __name__ == "__main__":
    main()
