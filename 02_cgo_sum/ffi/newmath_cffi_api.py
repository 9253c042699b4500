"""newmath.sum through cffi in API mode: cffi generated and compiled the
glue (build_cffi.py); its load_core() loads the Go core through the guard."""

import os

from gocore import (
    ERROR_SIZE,
    STEP,
    cffi_raw_sum,
    checked_sum,
    guard_error,
    refuse_subinterpreter,
)
from gocore import go_runtimes as go_runtimes  # m.go_runtimes(), as the C glue has

# Refused before cffi starts: CPython 3.12 runs a single-phase module's init
# in an isolated subinterpreter before refusing it, and cffi's backend keeps
# that interpreter's objects, which the main one later frees (an abort;
# python/cpython#117953, fixed in 3.13).
refuse_subinterpreter("newmath_cffi_api")
import _newmath_cffi  # noqa: E402  (plain C: importing it starts no Go runtime)

ffi, lib = _newmath_cffi.ffi, _newmath_cffi.lib
_refused, _err = ffi.new("int *"), ffi.new("char[]", ERROR_SIZE)
if lib.load_core(os.fsencode(STEP / "libnewmath_core.so"), _refused, _err, ERROR_SIZE) != 0:
    raise guard_error("newmath_cffi_api", bool(_refused[0]), ffi.string(_err))


raw_sum = cffi_raw_sum(ffi, lib.sum, lib.free)
sum = checked_sum(raw_sum)
