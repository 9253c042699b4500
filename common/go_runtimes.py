"""Which files mapped in this process carry a Go runtime? (Linux, ELF)

The same question common/go_guard.h asks before it loads a Go core, answered
from Python for the tests and the notebooks: the process's memory map, not a
record anybody could edit. A file carries a Go runtime if it has Go's build
ID note (.note.go.buildid) or, when built without one (-ldflags=-buildid=),
defines cgo's runtime hook x_cgo_init.

    >>> import newmath; go_runtimes()
    ['/…/02_cgo_sum/libnewmath_core.so']
"""

from __future__ import annotations

import os
import struct

__all__ = ["go_runtimes", "has_go_runtime"]


def _mapped_files() -> list[str]:
    seen: dict[str, None] = {os.path.realpath("/proc/self/exe"): None}
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split(maxsplit=5)
            if len(fields) == 6 and fields[5].startswith("/"):
                seen.setdefault(fields[5].rstrip("\n").removesuffix(" (deleted)"))
    return list(seen)


def has_go_runtime(path: str) -> bool:
    """True if the ELF file at path has a Go build ID note or defines x_cgo_init."""
    try:
        with open(path, "rb") as f:
            ident = f.read(64)
            if len(ident) < 64 or ident[:4] != b"\x7fELF" or ident[4] != 2:  # 64-bit only
                return False
            end = "<" if ident[5] == 1 else ">"
            shoff, = struct.unpack_from(end + "Q", ident, 0x28)
            shentsize, shnum, shstrndx = struct.unpack_from(end + "HHH", ident, 0x3A)
            f.seek(shoff)
            table = f.read(shentsize * shnum)
            # (name, type, offset, size, link) of every section
            sections = [struct.unpack_from(end + "IIQQQQI", table, i * shentsize)
                        for i in range(shnum)]
            sections = [(s[0], s[1], s[4], s[5], s[6]) for s in sections]

            def read(offset: int, size: int) -> bytes:
                f.seek(offset)
                return f.read(size)

            names = read(sections[shstrndx][2], sections[shstrndx][3])
            for name, _type, *_ in sections:
                if names[name:names.index(b"\0", name)] == b".note.go.buildid":
                    return True
            for _name, kind, offset, size, link in sections:
                if kind != 11:  # SHT_DYNSYM
                    continue
                strings = read(sections[link][2], sections[link][3])
                symbols = read(offset, size)
                for i in range(0, len(symbols), 24):
                    st_name, _info, _other, st_shndx = struct.unpack_from(end + "IBBH",
                                                                          symbols, i)
                    if st_shndx != 0 and strings[st_name:st_name + 11] == b"x_cgo_init\0":
                        return True
    except (OSError, IndexError, ValueError, struct.error):
        return False
    return False


def go_runtimes() -> list[str]:
    """The files mapped in this process that carry a Go runtime, in map order."""
    return [path for path in _mapped_files() if has_go_runtime(path)]
