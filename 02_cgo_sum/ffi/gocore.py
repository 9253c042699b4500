"""What the cffi and ctypes loaders of step 02 share.

1. The one-runtime rule, Python side: the same record as common/go_core.h
   (sys._go_runtime_owner), checked BEFORE the library that carries a Go
   runtime is loaded, since loading it starts that runtime.
2. The newmath.sum contract: with no C glue, nothing converts or checks the
   arguments for us. ctypes would silently truncate 2**64 to 0 and pass a
   float as garbage; cffi raises, with its own messages. So check in Python.
"""

from __future__ import annotations

import operator
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
STEP = HERE.parent
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def claim_go_runtime(module: str, library: Path) -> None:
    """Record that `library` carries this process's Go runtime, or refuse."""
    library_path = str(Path(library).resolve())
    owner = getattr(sys, "_go_runtime_owner", None)
    if owner is not None:
        owner_module, owner_path = owner
        if owner_path == library_path:
            return  # the same library: loading it again starts nothing new
        raise ImportError(
            f"cannot import {module}: this process already runs the Go runtime "
            f"of module '{owner_module}' ({owner_path}). Go supports one runtime "
            "per process (golang/go#65050), so two Go-backed extension modules "
            f"cannot share an interpreter; import {module} in a separate Python "
            "process instead (a new interpreter, subprocess, or multiprocessing "
            "with the 'spawn' start method)."
        )
    sys._go_runtime_owner = (module, library_path)


def _int64(value: object) -> int:
    value = operator.index(value)  # TypeError: '...' object cannot be interpreted...
    if not INT64_MIN <= value <= INT64_MAX:
        raise OverflowError("int too big to convert")
    return value


def checked_sum(raw_sum: Callable[[int, int], tuple[int, int]]) -> Callable[[int, int], int]:
    """Wrap raw_sum(a, b) -> (status, result) in newmath.sum's contract."""

    def sum(a, b, /):
        a, b = _int64(a), _int64(b)
        status, result = raw_sum(a, b)
        if status != 0:
            raise OverflowError(f"sum({a}, {b}) does not fit in a signed 64-bit integer")
        return result

    sum.__qualname__ = "sum"  # so errors read "sum() ..." as with the C glue
    sum.__doc__ = "Return a + b, computed in Go (see gocore.checked_sum)."
    return sum
