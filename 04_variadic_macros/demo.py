"""`make demo`: what module macro does, bad input included, and whether its
reference counts stay put (refcheck.py: every path, errors included)."""

import macro
import refcheck

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

ROUNDS = 20_000
drift = refcheck.drift(macro.list_sum, ROUNDS)
moved = {name: change for name, change in drift.items() if change}
print(f"reference counts of {len(drift)} lists and items after {ROUNDS:,} rounds of every path:",
      moved or "all unchanged")
