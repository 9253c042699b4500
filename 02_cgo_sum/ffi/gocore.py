"""What the cffi and ctypes loaders of step 02 share.

1. The one-runtime rule, Python side: the same record as common/go_core.h
   (sys._go_runtime_owner), checked BEFORE the library that carries a Go
   runtime is loaded, since loading it starts that runtime.
2. The newmath.sum contract: with no C glue, the FFI converts the arguments
   by its own rules. ctypes (with argtypes) refuses a float with its own
   ArgumentError but silently wraps 2**64 to 0; cffi checks types and range
   with its own messages. So check in Python, with newmath.sum's messages.
"""

from __future__ import annotations

import operator
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

HERE = Path(__file__).resolve().parent
STEP = HERE.parent
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def load_go_core(module: str, library: Path, load: Callable[[str], T]) -> T:
    """Claim this process's Go runtime for `library`, then `load(path)` it.

    Raises ImportError, before loading anything, when another Go core owns
    the process. If load() itself fails, the claim is withdrawn: nothing
    started, and another core may still be loaded later.
    """
    library_path = str(Path(library).resolve())
    owner = getattr(sys, "_go_runtime_owner", None)
    if owner is not None and owner[1] != library_path:
        owner_module, owner_path = owner
        raise ImportError(
            f"cannot import {module}: this process already runs the Go runtime "
            f"of module '{owner_module}' ({owner_path}). Go supports one runtime "
            "per process (golang/go#65050), so two Go-backed extension modules "
            f"cannot share an interpreter; import {module} in a separate Python "
            "process instead (a new interpreter, subprocess, or multiprocessing "
            "with the 'spawn' start method)."
        )
    if owner is None:
        sys._go_runtime_owner = (module, library_path)
    # (the same library again: loading it again starts nothing new)
    try:
        return load(library_path)
    except BaseException:
        if owner is None:
            del sys._go_runtime_owner
        raise


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
