"""`make demo`: what module macro does, bad input included."""

import os
import sys
from pathlib import Path

import macro

STEP = Path(__file__).resolve().parent
CALLS = [
    ("is_a_list([1, 2])", macro.is_a_list, [1, 2]),
    ("is_a_list((1, 2))", macro.is_a_list, (1, 2)),
    ("is_a_long(2**100)", macro.is_a_long, 2**100),
    ("is_a_long(True)", macro.is_a_long, True),
    ("is_a_long(1.5)", macro.is_a_long, 1.5),
    ("list_sum([5, 4])", macro.list_sum, [5, 4]),
    ("list_sum(list(range(10**6)))", macro.list_sum, list(range(10**6))),
    ("list_sum((5, 4))", macro.list_sum, (5, 4)),
    ("list_sum([1, '2', 3])", macro.list_sum, [1, "2", 3]),
    ("list_sum([1, 2**63])", macro.list_sum, [1, 2**63]),
    ("list_sum([2**62, 2**62])", macro.list_sum, [2**62, 2**62]),
]
for text, func, arg in CALLS:
    try:
        outcome = repr(func(arg))
    except (TypeError, OverflowError) as exc:
        outcome = f"{type(exc).__name__}: {exc}"
    print(f"{text:<29} -> {outcome}")

sys.path.insert(0, str(STEP.parent / "common"))
from go_runtimes import go_runtimes  # noqa: E402

print("Go runtimes mapped in this process:",
      *(os.path.relpath(path, STEP.parent) for path in go_runtimes()))
