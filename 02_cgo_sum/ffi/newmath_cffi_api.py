"""newmath.sum through cffi in API mode: cffi generated and compiled the
glue (build_cffi.py), with the Go archive linked into _newmath_cffi."""

import importlib
import sysconfig

from gocore import HERE, checked_sum, load_go_core

# The Go runtime lives in the cffi module itself: claim before importing it.
EXT_SUFFIX = sysconfig.get_config_var("EXT_SUFFIX")
_cffi = load_go_core("newmath_cffi_api", HERE / f"_newmath_cffi{EXT_SUFFIX}",
                     lambda _path: importlib.import_module("_newmath_cffi"))
ffi, lib = _cffi.ffi, _cffi.lib


def raw_sum(a: int, b: int) -> tuple[int, int]:
    # A result buffer per call: cffi releases the GIL during the call, so a
    # buffer shared by all calls would be overwritten by other threads.
    result = ffi.new("long long *")
    return lib.Sum(a, b, result), result[0]


sum = checked_sum(raw_sum)
