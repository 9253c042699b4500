"""newmath.sum through cffi in ABI mode: dlopen the Go core, no compiler."""

from cffi import FFI
from gocore import STEP, checked_sum, load_go_core

CORE = STEP / "libnewmath_core.so"
ffi = FFI()
# Copied from cgo's libnewmath_core.h; in ABI mode nothing checks it.
ffi.cdef("int Sum(long long a, long long b, long long *result);")
lib = load_go_core("newmath_cffi_abi", CORE, ffi.dlopen)  # starts the Go runtime


def raw_sum(a: int, b: int) -> tuple[int, int]:
    # A result buffer per call: cffi releases the GIL during the call, so a
    # buffer shared by all calls would be overwritten by other threads.
    result = ffi.new("long long *")
    return lib.Sum(a, b, result), result[0]


sum = checked_sum(raw_sum)
