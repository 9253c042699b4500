"""newmath.sum through cffi in ABI mode: dlopen the Go core, no compiler."""

from cffi import FFI
from gocore import STEP, cffi_raw_sum, checked_sum, load_go_core, refuse_subinterpreter
from gocore import go_runtimes as go_runtimes  # m.go_runtimes(), as the C glue has

CORE = STEP / "libnewmath_core.so"
refuse_subinterpreter("newmath_cffi_abi")  # before cffi starts (see newmath_cffi_api.py)
ffi = FFI()
# Copied from cgo's libnewmath_core.h; in ABI mode nothing checks it.
ffi.cdef("""
    typedef struct { char *value; char *stack; } epg_go_panic;
    int Sum(long long a, long long b, long long *result, epg_go_panic *report);
    void free(void *);
""")
lib = load_go_core("newmath_cffi_abi", CORE, ffi.dlopen)  # starts the Go runtime
libc = ffi.dlopen(None)  # free() for the panic report's C strings


raw_sum = cffi_raw_sum(ffi, lib.Sum, libc.free)
sum = checked_sum(raw_sum)
