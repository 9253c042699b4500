"""newmath.sum through cffi in ABI mode: dlopen the Go core, no compiler."""

from cffi import FFI
from gocore import STEP, checked_sum, go_panic_error, load_go_core

CORE = STEP / "libnewmath_core.so"
ffi = FFI()
# Copied from cgo's libnewmath_core.h; in ABI mode nothing checks it.
ffi.cdef("""
    typedef struct { char *value; char *stack; } epg_go_panic;
    int Sum(long long a, long long b, long long *result, epg_go_panic *report);
    void free(void *);
""")
lib = load_go_core("newmath_cffi_abi", CORE, ffi.dlopen)  # starts the Go runtime
libc = ffi.dlopen(None)  # free() for the panic report's C strings


def raw_sum(a: int, b: int) -> tuple[int, int]:
    # A result buffer per call: cffi releases the GIL during the call, so a
    # buffer shared by all calls would be overwritten by other threads.
    result = ffi.new("long long *")
    report = ffi.new("epg_go_panic *")
    status = lib.Sum(a, b, result, report)
    if report.value != ffi.NULL:  # Go recovered a panic: its C strings are ours
        exc = go_panic_error("sum()", ffi.string(report.value), ffi.string(report.stack))
        libc.free(report.value)
        libc.free(report.stack)
        raise exc
    return status, result[0]


sum = checked_sum(raw_sum)
