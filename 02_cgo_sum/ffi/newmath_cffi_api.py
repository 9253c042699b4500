"""newmath.sum through cffi in API mode: cffi generated and compiled the
glue (build_cffi.py); its load_core() loads the Go core through the guard."""

import os

import _newmath_cffi  # plain C: importing it starts no Go runtime
from gocore import (
    ERROR_SIZE,
    STEP,
    checked_sum,
    go_panic_error,
    guard_error,
    refuse_subinterpreter,
)

refuse_subinterpreter("newmath_cffi_api")
ffi, lib = _newmath_cffi.ffi, _newmath_cffi.lib
_refused, _err = ffi.new("int *"), ffi.new("char[]", ERROR_SIZE)
if lib.load_core(os.fsencode(STEP / "libnewmath_core.so"), _refused, _err, ERROR_SIZE) != 0:
    raise guard_error("newmath_cffi_api", bool(_refused[0]), ffi.string(_err))


def raw_sum(a: int, b: int) -> tuple[int, int]:
    # A result buffer per call: cffi releases the GIL during the call, so a
    # buffer shared by all calls would be overwritten by other threads.
    result = ffi.new("long long *")
    report = ffi.new("epg_go_panic *")
    status = lib.sum(a, b, result, report)
    if report.value != ffi.NULL:  # Go recovered a panic: its C strings are ours
        exc = go_panic_error("sum()", ffi.string(report.value), ffi.string(report.stack))
        lib.free(report.value)
        lib.free(report.stack)
        raise exc
    return status, result[0]


sum = checked_sum(raw_sum)
