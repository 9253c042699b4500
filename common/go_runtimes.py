"""Which objects mapped in this process carry a Go runtime? (Linux, ELF)

The question common/go_guard.h asks before it loads a Go core, answered the
same way from Python, for the tests and the notebooks (every Go-backed module
also has its own go_runtimes(), the guard's C answer). It looks at what is
mapped, never at names on disk: /proc/self/maps lists every file mapped in
the process (loaded by any path or loader, in any link-map namespace, deleted
since), and the objects are read from memory through /proc/self/mem. One
loaded copy of an object is its mapping at file offset 0 and the mappings of
the same file (device, inode) after it; a copy with executable code carries a
Go runtime if a PT_NOTE segment holds Go's build ID note (owner "Go\\0\\0",
type 4) or, when built without one (-ldflags=-buildid=), a writable PT_LOAD
segment holds Go's build info ("\\xff Go buildinf:" at a 16-byte boundary).

    >>> import newmath; go_runtimes()
    ['/…/02_cgo_sum/libnewmath_core.so']
"""

from __future__ import annotations

import os
import struct
from typing import NamedTuple

__all__ = ["BUILDINFO_MAGIC", "go_runtimes", "notes_have_go"]

NT_GO_BUILDID = 4
BUILDINFO_MAGIC = b"\xff Go buildinf:"
PT_LOAD, PT_NOTE, PF_W = 1, 4, 2
CHUNK = 1 << 16


class Mapping(NamedTuple):
    start: int
    end: int
    perms: str
    offset: int
    file: tuple[str, int]  # (device, inode)
    path: str


def notes_have_go(notes: bytes, align: int) -> bool:
    """Does the content of one PT_NOTE segment hold Go's build ID note?
    (go_guard.h's epg_notes_have_go, which test_go_guard.py fuzzes against
    this.) Name and descriptor each end at a multiple of the alignment,
    counted from the note's start."""
    a = 8 if align == 8 else 4
    at = 0
    while len(notes) - at >= 12:
        namesz, descsz, kind = struct.unpack_from("=III", notes, at)
        desc = (at + 12 + namesz + a - 1) & ~(a - 1)
        after = (desc + descsz + a - 1) & ~(a - 1)
        if after > len(notes):
            return False
        if kind == NT_GO_BUILDID and namesz == 4 and notes[at + 12:at + 16] == b"Go\0\0":
            return True
        at = after
    return False


def _mappings(pid: int | str) -> list[Mapping]:
    with open(f"/proc/{pid}/maps", "rb") as f:
        text = f.read().decode("utf-8", "surrogateescape")
    maps = []
    for line in text.splitlines():
        fields = line.split(maxsplit=5)
        if len(fields) < 5 or fields[4] == "0":
            continue  # not a file
        start, end = (int(x, 16) for x in fields[0].split("-"))
        maps.append(Mapping(start, end, fields[1], int(fields[2], 16),
                            (fields[3], int(fields[4])), fields[5] if len(fields) > 5 else ""))
    return maps


class _Copy:
    """One loaded copy of an object: its mappings, read through /proc/self/mem."""

    def __init__(self, mem, maps: list[Mapping]):
        self.mem, self.maps = mem, maps

    def read(self, offset: int, size: int) -> bytes | None:
        """[offset, offset + size) of the file, from one readable mapping."""
        for m in self.maps:
            if "r" in m.perms and m.offset <= offset <= m.offset + m.end - m.start - size:
                try:
                    data = os.pread(self.mem, size, m.start + offset - m.offset)
                except OSError:
                    return None
                return data if len(data) == size else None
        return None

    def has_buildinfo(self, lo: int, hi: int) -> bool:
        for m in self.maps:
            if "r" not in m.perms:
                continue
            start = (max(lo, m.offset) + 15) & ~15
            stop = min(hi, m.offset + m.end - m.start)
            for at in range(start, stop - len(BUILDINFO_MAGIC) + 1, CHUNK):
                try:
                    data = os.pread(self.mem, min(CHUNK, stop - at), m.start + at - m.offset)
                except OSError:
                    break
                k = data.find(BUILDINFO_MAGIC)
                while k >= 0:
                    if k % 16 == 0:  # data starts at a 16-byte boundary
                        return True
                    k = data.find(BUILDINFO_MAGIC, k + 1)
        return False

    def has_go(self) -> bool:
        if not any("x" in m.perms for m in self.maps):
            return False  # a mapped data file, not loaded code
        header = self.read(0, 64)
        if header is None or header[:4] != b"\x7fELF" or header[4] != 2:  # 64-bit only
            return False
        end = "<" if header[5] == 1 else ">"
        phoff, = struct.unpack_from(end + "Q", header, 0x20)
        phentsize, phnum = struct.unpack_from(end + "HH", header, 0x36)
        if phentsize != 56 or phnum in (0, 0xFFFF):
            return False
        table = self.read(phoff, phnum * phentsize)
        if table is None:
            return False
        # (type, flags, offset, filesz, align) of every program header
        headers = [struct.unpack_from(end + "IIQQQQQQ", table, i * phentsize)
                   for i in range(phnum)]
        for kind, _flags, offset, _vaddr, _paddr, filesz, _memsz, align in headers:
            if kind == PT_NOTE and filesz <= 1 << 20:
                notes = self.read(offset, filesz)
                if notes is not None and notes_have_go(notes, align):
                    return True
        return any(kind == PT_LOAD and flags & PF_W and
                   self.has_buildinfo(offset, offset + filesz)
                   for kind, flags, offset, _vaddr, _paddr, filesz, _memsz, _align in headers)


def go_runtimes(pid: int | str = "self") -> list[str]:
    """The Go runtimes mapped in this process (or process pid, one we may
    trace: a child), one path per loaded copy (as /proc/<pid>/maps names it,
    " (deleted)" included), in address order."""
    maps = _mappings(pid)
    found = []
    mem = os.open(f"/proc/{pid}/mem", os.O_RDONLY | os.O_CLOEXEC)
    try:
        for i, first in enumerate(maps):
            if first.offset != 0:
                continue
            mine = [first]
            for m in maps[i + 1:]:
                if m.file == first.file:
                    if m.offset == 0:
                        break  # another copy of the same file
                    mine.append(m)
            if _Copy(mem, mine).has_go():
                found.append(first.path)
    finally:
        os.close(mem)
    return found
