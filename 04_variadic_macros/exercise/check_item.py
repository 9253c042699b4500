"""`make exercise` in 04_variadic_macros: do list_sum's reference counts stay put?

Module macro is built with exercise/item.go in place of core/item.go, in
build/exercise/04_variadic_macros/, and refcheck.py runs in a child process
(its Go core is another copy of the Go runtime: one per process): it counts
sys.getrefcount of the lists and items list_sum sees, before and after
20,000 rounds of every path, errors included. Correct code: no change.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

STEP = Path(__file__).resolve().parent.parent
BUILD = Path(os.environ.get("EPG_EXERCISE_BUILD", STEP / "build" / "exercise"))
TREE = BUILD / STEP.name
CALLS = 20_000


@pytest.fixture(scope="module")
def report() -> dict:
    proc = subprocess.run([sys.executable, str(STEP / "refcheck.py"), str(TREE), str(CALLS)],
                          capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        how = (f"was killed by signal {-proc.returncode}" if proc.returncode < 0
               else f"exited with status {proc.returncode}")
        pytest.fail(f"the child {how}: an object released once too often is freed while "
                    f"still in use. Its stderr ends with:\n{proc.stderr[-1500:]}", pytrace=False)
    result = json.loads(proc.stdout)
    assert Path(result["module"]).parent == TREE, result["module"]  # the exercise's build
    return result


def test_list_sum_still_sums():
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import macro\n"
            "print(macro.list_sum(list(range(1000))), macro.list_sum([]))")
    proc = subprocess.run([sys.executable, "-c", code, str(TREE)], capture_output=True,
                          text=True, timeout=120)
    assert proc.stdout.split() == ["499500", "0"], proc.stdout + proc.stderr[-1500:]


def test_no_reference_count_moves(report):
    moved = {name: change for name, change in report["drift"].items() if change}
    if moved:
        pytest.fail(f"after {CALLS:,} rounds of list_sum, reference counts moved:\n  "
                    + "\n  ".join(f"{name}: {change:+,}" for name, change in moved.items())
                    + "\n+N on the items: a reference taken and never released (a NEW "
                    "reference used as BORROWED); -N: one released too often", pytrace=False)
