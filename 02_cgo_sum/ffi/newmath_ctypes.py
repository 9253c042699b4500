"""newmath.sum through ctypes on the Go core (c-shared), no compiled glue."""

import ctypes

from gocore import STEP, check_fork, checked_sum, go_panic_error, load_go_core
from gocore import go_runtimes as go_runtimes  # m.go_runtimes(), as the C glue has

CORE = STEP / "libnewmath_core.so"


class GoPanic(ctypes.Structure):
    """common/go_panic.h's epg_go_panic. c_void_p, not c_char_p: ctypes would
    copy a c_char_p into bytes and lose the pointer that must be freed."""

    _fields_ = (("value", ctypes.c_void_p), ("stack", ctypes.c_void_p))


lib = load_go_core("newmath_ctypes", CORE, ctypes.CDLL)  # starts the Go runtime
# [excerpt: argtypes]
# Declare the C signature cgo exported (see libnewmath_core.h); without
# argtypes ctypes would guess, and a wrong guess corrupts memory silently.
lib.Sum.argtypes = [ctypes.c_longlong, ctypes.c_longlong, ctypes.POINTER(ctypes.c_longlong),
                    ctypes.POINTER(GoPanic)]
lib.Sum.restype = ctypes.c_int
# [/excerpt: argtypes]
libc = ctypes.CDLL(None)
libc.free.argtypes = [ctypes.c_void_p]
libc.free.restype = None


def raw_sum(a: int, b: int) -> tuple[int, int]:
    check_fork()
    result = ctypes.c_longlong()
    report = GoPanic()
    fits = lib.Sum(a, b, ctypes.byref(result), ctypes.byref(report))
    if report.value:  # Go recovered a panic: its C strings are ours to free
        exc = go_panic_error("sum()", ctypes.string_at(report.value),
                             ctypes.string_at(report.stack))
        libc.free(report.value)
        libc.free(report.stack)
        raise exc
    return fits, result.value


sum = checked_sum(raw_sum)
