"""newmath.sum through cffi in ABI mode: dlopen the Go core, no compiler."""

from cffi import FFI
from gocore import STEP, checked_sum, claim_go_runtime

CORE = STEP / "libnewmath_core.so"
ffi = FFI()
# Copied from cgo's libnewmath_core.h; in ABI mode nothing checks it.
ffi.cdef("int Sum(long long a, long long b, long long *result);")
claim_go_runtime("newmath_cffi_abi", CORE)
lib = ffi.dlopen(str(CORE))  # starts the Go runtime
_result = ffi.new("long long *")  # C memory, reused: Go only writes to it


def raw_sum(a: int, b: int) -> tuple[int, int]:
    return lib.Sum(a, b, _result), _result[0]


sum = checked_sum(raw_sum)
