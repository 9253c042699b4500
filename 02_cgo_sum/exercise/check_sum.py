"""`make exercise` in 02_cgo_sum: does newmath.sum raise OverflowError now?

newmath is built with exercise/sum.go in place of sum/sum.go, in
build/exercise/02_cgo_sum/, and called in a child process (its Go core is
another copy of the Go runtime: one per process). The cases are step 01's
contract (common/sum_contract.py), which every sum of steps 01 and 02 meets.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

STEP = Path(__file__).resolve().parent.parent
BUILD = Path(os.environ.get("EPG_EXERCISE_BUILD", STEP / "build" / "exercise"))
TREE = BUILD / STEP.name
MAX, MIN = 2**63 - 1, -(2**63)

# sum_list's cases and what each must give: its total, or the OverflowError
# the glue (newmath.c) raises, which names the item where the total stops
# fitting. An Add off by one on a bound fails one item early.
def overflow_at(item: int) -> str:
    return ("OverflowError: sum_list(): the running total does not fit in a signed 64-bit "
            f"integer at item {item}")


SUM_LIST = [
    ([1, 2, 3], "6"),
    ([MAX, MIN, 5], "4"),  # fits all along
    ([2**62, 2**62], overflow_at(1)),
    ([2**62, 2**62 - 1], repr(MAX)),  # lands exactly on MAX
    ([2**62, 2**62 - 1, 1], overflow_at(2)),
    ([-(2**62), -(2**62)], repr(MIN)),  # lands exactly on MIN
    ([-(2**62), -(2**62), -1], overflow_at(2)),
    ([MIN, MIN], overflow_at(1)),  # wraps to exactly 0
]

CHILD = """
import json, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
import newmath, sum_contract

def outcome(call, *args):
    try:
        return repr(call(*args))
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"

print(json.dumps({
    "module": newmath.__file__,
    "problems": sum_contract.problems(newmath.sum),
    "MAX + 1": outcome(newmath.sum, 2**63 - 1, 1),
    "sum_list": [outcome(newmath.sum_list, v) for v in json.loads(sys.argv[3])],
}))
"""


@pytest.fixture(scope="module")
def run() -> dict:
    proc = subprocess.run([sys.executable, "-c", CHILD, str(TREE), str(STEP.parent / "common"),
                           json.dumps([values for values, _ in SUM_LIST])],
                          capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        pytest.fail(f"newmath crashed or did not import (exit status {proc.returncode}):\n"
                    + proc.stderr[-2000:], pytrace=False)
    result = json.loads(proc.stdout)
    assert Path(result["module"]).parent == TREE, result["module"]  # the exercise's build
    return result


def test_sum_meets_step_01s_contract(run):
    if run["problems"]:
        # A hint per kind of mistake found: an overflow missed, or one seen too soon.
        hint = "; ".join(h for h, seen in [
            ("Add must say ok == false when a + b wraps around",
             any(p.endswith("expected OverflowError") for p in run["problems"])),
            ("Add must say ok == true whenever a + b fits, even exactly MIN or MAX",
             any("raised OverflowError" in p for p in run["problems"]))] if seen)
        pytest.fail("newmath.sum does not meet the contract yet:\n  " + "\n  ".join(run["problems"])
                    + f"\n(newmath.sum(2**63 - 1, 1) -> {run['MAX + 1']}: {hint})", pytrace=False)


def test_sum_list_reports_the_addition_that_overflows(run):
    wrong = [(values, got, expected)
             for (values, expected), got in zip(SUM_LIST, run["sum_list"], strict=True)
             if got != expected]
    if wrong:
        pytest.fail("newmath.sum_list (AddAll uses Add) got wrong results:\n  " + "\n  ".join(
            f"sum_list({values}) -> {got}, expected {expected}"
            for values, got, expected in wrong), pytrace=False)


def test_the_rules_the_results_cannot_show():
    """The exercise's rules, read in the Go file (outside its comments, which
    quote them): a math/big Add or a recovered panic gives the right results."""
    source = Path(os.environ.get("EPG_EXERCISE", STEP / "exercise" / "sum.go")).read_text()
    code = re.sub(r"//[^\n]*|/\*.*?\*/", "", source, flags=re.S)
    for rule, pattern in (("no math/big", r'"math/big"'), ("no recover", r"\brecover\s*\(")):
        if re.search(pattern, code):
            pytest.fail(f"the results are right, but the rules say {rule}: find when a + b "
                        "can overflow from the signs of a and b", pytrace=False)
