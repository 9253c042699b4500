"""`make demo`: what module macro does, bad input included."""

import sys
from pathlib import Path

import macro

print("is_a_list([1, 2])  =", macro.is_a_list([1, 2]))
print("is_a_list((1, 2))  =", macro.is_a_list((1, 2)))
print("is_a_long(2**100)  =", macro.is_a_long(2**100))
print("is_a_long(True)    =", macro.is_a_long(True))
print("is_a_long(1.5)     =", macro.is_a_long(1.5))
print("list_sum([5, 4])   =", macro.list_sum([5, 4]))
print("list_sum(list(range(1_000_000))) =", macro.list_sum(list(range(1_000_000))))
for bad in ((5, 4), [1, "2", 3], [1, 2**63], [2**62, 2**62]):
    try:
        macro.list_sum(bad)
    except (TypeError, OverflowError) as exc:
        print(f"list_sum({bad!r}) -> {type(exc).__name__}: {exc}")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "common"))
from go_runtimes import go_runtimes  # noqa: E402

print("Go runtimes mapped in this process:", *go_runtimes())
