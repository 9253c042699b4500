"""newmath.sum through cffi in API mode: cffi generated and compiled the
glue (build_cffi.py), with the Go archive linked into _newmath_cffi."""

import sysconfig

from gocore import HERE, checked_sum, claim_go_runtime

# The Go runtime lives in the cffi module itself: claim before importing it.
EXT_SUFFIX = sysconfig.get_config_var("EXT_SUFFIX")
claim_go_runtime("newmath_cffi_api", HERE / f"_newmath_cffi{EXT_SUFFIX}")
from _newmath_cffi import ffi, lib  # noqa: E402 - must follow the claim

_result = ffi.new("long long *")


def raw_sum(a: int, b: int) -> tuple[int, int]:
    return lib.Sum(a, b, _result), _result[0]


sum = checked_sum(raw_sum)
