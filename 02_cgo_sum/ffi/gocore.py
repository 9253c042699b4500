"""What the cffi and ctypes loaders of step 02 share.

1. The one-runtime rule, Python side. Loading a library that carries a Go
   runtime starts it, so ctypes.CDLL / ffi.dlopen must not be the first to
   load the Go core: load_go_core() has the guard load it first
   (libgo_guard.so, plain C: common/go_guard.h, the same check and the same
   process-wide lock as every C glue). The FFI's own dlopen then finds the
   library loaded, and starts nothing new.
2. The newmath.sum contract: with no C glue, the FFI converts the arguments
   by its own rules. ctypes (with argtypes) refuses a float with its own
   ArgumentError but silently wraps 2**64 to 0; cffi checks types and range
   with its own messages. So check in Python, with newmath.sum's messages.
3. A Go panic, reported by the core in an epg_go_panic (common/go_panic.h),
   becomes the RuntimeError the C glue would raise.
4. go_runtimes(), as every C glue has it: is a second Go runtime mapped now?
5. fork(): in a fork()ed child of a process whose Go runtime started (by
   any module or loader: the guard's process-wide mark, common/go_guard.h),
   a call raises RuntimeError (check_fork), as every C glue's does, rather
   than calling into a runtime that lost its threads.
"""

from __future__ import annotations

import ctypes
import operator
import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

HERE = Path(__file__).resolve().parent
STEP = HERE.parent
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
ERROR_SIZE = 8192

_guard = ctypes.CDLL(str(HERE / "libgo_guard.so"))  # plain C: starts no Go runtime
_guard.epg_go_load.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int),
                               ctypes.c_char_p, ctypes.c_size_t]
_guard.epg_go_load.restype = ctypes.c_void_p
_guard.epg_go_runtimes.argtypes = [ctypes.POINTER(ctypes.c_size_t)]
_guard.epg_go_runtimes.restype = ctypes.c_void_p  # not c_char_p: it must be freed
_guard.epg_go_forked.argtypes = []
_guard.epg_go_forked.restype = ctypes.c_int  # 1: a fork()ed child of a process that runs Go
_libc = ctypes.CDLL(None, use_errno=True)
_libc.free.argtypes = [ctypes.c_void_p]
_libc.free.restype = None


_api = ctypes.pythonapi
_api.PyInterpreterState_Get.restype = ctypes.c_void_p
_api.PyInterpreterState_GetID.argtypes = [ctypes.c_void_p]
_api.PyInterpreterState_GetID.restype = ctypes.c_int64


def refuse_subinterpreter(module: str) -> None:
    """The C glue's rule (common/go_core.h): main interpreter only. The Go
    runtime is per process, and a loader's module-level state (the FFI
    handle, cffi's function pointer) would be shared by interpreters."""
    if _api.PyInterpreterState_GetID(_api.PyInterpreterState_Get()) != 0:
        raise ImportError(
            f"cannot import {module} in a subinterpreter: its Go runtime and its state are "
            f"per process, shared by every interpreter; import {module} in the main "
            "interpreter")


def guard_error(module: str, refused: bool, message: bytes) -> ImportError:
    """The ImportError for a failed guarded load (common/go_core.h's wording)."""
    text = os.fsdecode(message)
    return ImportError(text if refused else f"cannot import {module}: {text}")


def check_fork() -> None:
    """Before every call into Go: RuntimeError in a fork()ed child."""
    if _guard.epg_go_forked():  # go_guard.h's process-wide mark
        raise RuntimeError("this process was fork()ed from one that runs a Go runtime, which "
                           "does not survive fork() (golang/go#15538): start child processes "
                           "with 'spawn' (multiprocessing.get_context('spawn'), subprocess)")


def load_go_core(module: str, library: Path, load: Callable[[str], T]) -> T:
    """Load `library` for `module` through the guard, then `load(path)` it.

    Raises ImportError, before anything is loaded, when another Go runtime
    runs in this process (whoever loaded it).
    """
    refuse_subinterpreter(module)
    path = str(Path(library).resolve())
    refused, err = ctypes.c_int(), ctypes.create_string_buffer(ERROR_SIZE)
    if not _guard.epg_go_load(module.encode(), os.fsencode(path), ctypes.byref(refused),
                              err, ERROR_SIZE):
        raise guard_error(module, bool(refused.value), err.value)
    return load(path)  # already loaded: dlopen returns the running copy


def go_runtimes() -> list[str]:
    """The Go runtimes mapped in this process, one path per loaded copy: the
    C glue's go_runtimes() (common/go_core.h), for the loaders without glue.
    More than one: a Go library was loaded after the core, which nothing
    can refuse."""
    count = ctypes.c_size_t()
    ctypes.set_errno(0)
    block = _guard.epg_go_runtimes(ctypes.byref(count))
    if not block:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), "/proc/self/maps")
    try:
        paths, at = [], block
        for _ in range(count.value):
            path = ctypes.string_at(at)
            paths.append(os.fsdecode(path))
            at += len(path) + 1
        return paths
    finally:
        _libc.free(block)


def go_panic_error(where: str, value: bytes, stack: bytes) -> RuntimeError:
    """The RuntimeError the C glue raises for a Go panic (common/go_core.h)."""
    exc = RuntimeError(f"Go panic in {where}: {value.decode(errors='replace')}")
    if hasattr(exc, "add_note"):  # 3.11+
        exc.add_note(stack.decode(errors="replace"))
    return exc


def cffi_raw_sum(ffi, go_sum, free) -> Callable[[int, int], tuple[int, int]]:
    """raw_sum(a, b) -> (fits, result) over a cffi function with Sum's C
    signature; a Go panic report becomes RuntimeError, its strings freed once."""

    def raw_sum(a: int, b: int) -> tuple[int, int]:
        # A result buffer per call: cffi releases the GIL during the call, so
        # a buffer shared by all calls would be overwritten by other threads.
        check_fork()
        result = ffi.new("long long *")
        report = ffi.new("epg_go_panic *")
        fits = go_sum(a, b, result, report)
        if report.value != ffi.NULL:  # Go recovered a panic: its C strings are ours
            exc = go_panic_error("sum()", ffi.string(report.value), ffi.string(report.stack))
            free(report.value)
            free(report.stack)
            raise exc
        return fits, result[0]

    return raw_sum


def _int64(value: object) -> int:
    value = operator.index(value)  # TypeError: '...' object cannot be interpreted...
    if not INT64_MIN <= value <= INT64_MAX:
        raise OverflowError("int too big to convert")
    return value


def checked_sum(raw_sum: Callable[[int, int], tuple[int, int]]) -> Callable[[int, int], int]:
    """Wrap raw_sum(a, b) -> (fits, result) in newmath.sum's contract: Go's
    Sum returns 1 when a + b fits, 0 on overflow (and 0 if it stopped early)."""

    def sum(a, b, /):
        a, b = _int64(a), _int64(b)
        fits, result = raw_sum(a, b)
        if fits != 1:
            raise OverflowError(f"sum({a}, {b}) does not fit in a signed 64-bit integer")
        return result

    sum.__qualname__ = "sum"  # so errors read "sum() ..." as with the C glue
    sum.__doc__ = "Return a + b, computed in Go (see gocore.checked_sum)."
    return sum
