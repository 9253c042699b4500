"""make demo: sum computed in Go, one Go runtime per process, an FFI's own rules.

Short and deterministic (README's "What you'll see" is this output,
checked by common/readme_demo.py); paths are shown relative to this step.
"""

import ctypes
import importlib.machinery
import importlib.util
import sys
import textwrap
from pathlib import Path

STEP = Path(__file__).resolve().parent
sys.path[:0] = [str(STEP), str(STEP / "ffi"), str(STEP.parent / "common")]
import newmath  # noqa: E402  (this step's module: variant b, loads libnewmath_core.so)
from go_runtimes import go_runtimes  # noqa: E402


def here(text: object) -> str:
    """text with paths relative to the repository."""
    return str(text).replace(f"{STEP.parent}/", "")


def show(call: str, scope: dict, label: str = "") -> None:
    try:
        print(f"{label or call} = {eval(call, scope)!r}")
    except (TypeError, OverflowError, ImportError) as exc:
        print(textwrap.fill(f"{label or call} -> {type(exc).__name__}: {here(exc)}", 92,
                            subsequent_indent="    "))


scope = {"newmath": newmath}
for call in ("newmath.sum(5, 4)", "newmath.sum(2**63 - 1, 1)", "newmath.sum(1.5, 2)",
             "newmath.sum_list(list(range(1_000_001)))"):
    show(call, scope)
print("Go runtimes in this process:", [here(path) for path in go_runtimes()])

# Variant (a) carries another copy of the Go runtime: refused before it is loaded.
spec = importlib.machinery.PathFinder.find_spec("newmath", [str(STEP / "variant_a")])
scope["load"] = lambda: spec.loader.exec_module(importlib.util.module_from_spec(spec))
show("load()", scope, "import variant_a/newmath too")
print("Go runtimes in this process:", [here(path) for path in go_runtimes()])

# No C glue: ctypes converts by its own rules, so the loader checks first.
import newmath_ctypes  # noqa: E402  (the same core: no second runtime)

scope.update(ctypes=ctypes, newmath_ctypes=newmath_ctypes)
for call in ("ctypes.c_longlong(2**64).value", "newmath_ctypes.sum(2**64, 0)"):
    show(call, scope)
