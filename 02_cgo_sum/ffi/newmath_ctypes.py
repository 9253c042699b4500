"""newmath.sum through ctypes on the Go core (c-shared), no compiled glue."""

import ctypes

from gocore import STEP, checked_sum, load_go_core

CORE = STEP / "libnewmath_core.so"
lib = load_go_core("newmath_ctypes", CORE, ctypes.CDLL)  # starts the Go runtime
# Declare the C signature cgo exported (see libnewmath_core.h); without
# argtypes ctypes would guess, and a wrong guess corrupts memory silently.
lib.Sum.argtypes = [ctypes.c_longlong, ctypes.c_longlong, ctypes.POINTER(ctypes.c_longlong)]
lib.Sum.restype = ctypes.c_int


def raw_sum(a: int, b: int) -> tuple[int, int]:
    result = ctypes.c_longlong()
    return lib.Sum(a, b, ctypes.byref(result)), result.value


sum = checked_sum(raw_sum)
