"""The C heap in use in this process (glibc's mallinfo2): for tests that show
a Go export frees what it mallocs, on every path, panics included."""

from __future__ import annotations

import ctypes

__all__ = ["heap"]


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]


_mallinfo2 = ctypes.CDLL(None).mallinfo2
_mallinfo2.restype = _MallInfo2


def heap() -> int:
    """Bytes malloc has handed out and not had back: small blocks plus mmap'ed ones."""
    info = _mallinfo2()
    return info.uordblks + info.hblkhd
