"""The memory budget of a batch, the same as the Go engine's engine/budget.go.

No allocation is sized by an untrusted number without a bound. Before a file
is read or decoded, the engine estimates from its header the memory it needs
(estimate_memory, the same formula in both engines) and reserves it from a
budget that all the workers of a batch share (max_memory). A file that needs
more than the whole budget is a per-file error; one that needs more than what
is free waits until other workers release theirs.
"""

from __future__ import annotations

import collections
import math
import os
import threading

MIB = 1 << 20
MEM_OVERHEAD = 8 * MIB  # codec state, Huffman tables, row buffers, encoder
INT64_MAX = 2**63 - 1


class Budget:
    """A weighted semaphore, first come first served (engine/budget.go)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._used = 0
        self._cond = threading.Condition()
        self._queue: collections.deque[object] = collections.deque()

    def acquire(self, n: int) -> None:
        """Reserve n bytes (n <= limit), waiting while others hold too much."""
        with self._cond:
            ticket = object()
            self._queue.append(ticket)
            while self._queue[0] is not ticket or self._used + n > self.limit:
                self._cond.wait()
            self._queue.popleft()
            self._used += n
            self._cond.notify_all()

    def release(self, n: int) -> None:
        with self._cond:
            self._used -= n
            self._cond.notify_all()


def _sat(v: int) -> int:
    return min(v, INT64_MAX)


def big_table(n_in: int, n_out: int) -> bool:
    """Whether Pillow's table of resize weights for an axis passes 4 MiB (an
    axis of more than 131,072 pixels that is reduced): both engines then
    reduce by boxes first (reducing_gap=3.0; bigTable in Go)."""
    if n_in <= n_out:
        return False
    scale = n_in / n_out
    ksize = math.ceil(2.0 * scale) * 2 + 1  # Pillow's kernel size (bicubic)
    return n_out * ksize * 8 > 4 * MIB


def estimate_memory(file_size: int, w: int, h: int, tw: int, th: int, *, png: bool,
                    channels: int, sixteen: bool = False, progressive: bool = False,
                    lossless: bool = False, interlaced: bool = False,
                    quantized: bool = False) -> int:
    """Peak memory one file may need (estimateMemory, the same formula): its
    bytes twice, the decoded image, a converted copy, the resize's
    intermediate image, the output."""
    px = w * h
    dec, work = 4, 4
    if channels == 1 and not sixteen:
        dec, work = 1, 1
    elif png and channels == 1 and sixteen:
        dec = 16
    elif png and sixteen:
        dec = 8
    per_pixel = dec + work
    if progressive:
        per_pixel += 4 * channels
    if lossless:
        per_pixel += 2 * channels
    if interlaced:
        per_pixel += dec
    need = _sat(_sat(2 * file_size) + _sat(px * per_pixel))
    if tw != w and th != h:
        need = _sat(need + _sat(max(_sat(tw * h), _sat(w * th)) * work))
    if big_table(w, tw) or big_table(h, th):
        need = _sat(need + _sat(px * work) // 2)
    if png:  # the decoders' current and previous rows (PNG filters refer to the row above)
        need = _sat(need + _sat(2 * w * channels * (2 if sixteen else 1)))
    # Pillow keeps a pointer per row (8 bytes) for each image: the decoded
    # one, its converted copy and the resize's intermediate, all h rows high
    # at most. A 1 x 80,000,000 PNG took 1.4 GB for 160 MB of pixels.
    need = _sat(need + _sat(24 * h))
    need = _sat(need + _sat(_sat(tw * th) * 12))
    if quantized:  # quantised in process (quantizeMemory)
        need = _sat(need + quantize_memory(tw * th))
    return _sat(need + MEM_OVERHEAD)


def quantize_memory(px: int) -> int:
    """What quantising a px-pixel output in process adds (quantizeMemory):
    libimagequant's float copy of the image while under 64 MiB, its maps,
    the indices, and the conversions around the imagequant binding."""
    return _sat(_sat(px * 24) + min(_sat(px * 32), 128 * MIB))


def max_file_bytes(max_pixels: int) -> int:
    """Largest file accepted when images may have max_pixels pixels (maxFileBytes)."""
    return _sat(_sat(max_pixels * 32) + 64 * MIB)


def human_bytes(n: int) -> str:
    """A size in binary units, one decimal, as engine/budget.go's humanBytes."""
    units = ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")
    if n < 1024:
        return f"{n} bytes"
    v, i = float(n), 0
    while v >= 1024 and i < len(units) - 1:
        v /= 1024
        i += 1
    return f"{v:.1f} {units[i]}"


def _cgroup_limit() -> int | None:
    """The memory limit of this process's cgroup (v2, then v1), if any."""
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path) as f:
                text = f.read().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 2**62:
            return int(text)
    return None


def physical_memory() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def default_max_memory() -> int:
    """Half of the memory this process may use: the machine's, or its cgroup's
    limit when lower (a container); 2 GiB when neither can be read."""
    limits = [m for m in (physical_memory(), _cgroup_limit()) if m]
    return min(limits) // 2 if limits else 2 << 30
