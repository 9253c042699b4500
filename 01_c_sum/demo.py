"""make demo: the talk's call and the fast call, good input and bad.

Short and deterministic (README's "What you'll see" is this output,
checked by common/readme_demo.py).
"""

import inspect
import sys
from pathlib import Path

STEP = Path(__file__).resolve().parent
sys.path.insert(0, str(STEP))
import newmath  # noqa: E402  (this step's module)

CALLS = ["sum(5, 4)", "sum_fast(5, 4)", "sum(2**63 - 1, 1)", "sum_fast(2**63, 0)",
         "sum(1.5, 2)", "sum(1, 2, 3)", "sum_fast(1, 2, 3)"]
FUNCTIONS = {"sum": newmath.sum, "sum_fast": newmath.sum_fast}

for call in CALLS:
    try:
        print(f"{call:<19} = {eval(call, FUNCTIONS)!r}")
    except (TypeError, OverflowError) as exc:
        print(f"{call:<19} -> {type(exc).__name__}: {exc}")
print(f"inspect.signature(sum) = {inspect.signature(newmath.sum)}")
built = Path(newmath.__file__).name
print(f"built as {built}: " + ("the limited API, one file for every CPython >= 3.10"
                               if ".abi3." in built else "for this interpreter only"))
