"""What both engines share: the result type, the size rules, the walk rules.

The Go engine implements the same rules in engine/*.go; the tests run both
engines on the same trees and compare.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

#: Pillow's Image.MAX_IMAGE_PIXELS (1024 * 1024 * 1024 // 4 // 3): larger
#: images are refused from their header, before any pixel is decoded.
MAX_PIXELS = 89_478_485

#: File name extensions the job processes (compared in lower case).
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")


@dataclass(frozen=True)
class FileResult:
    """The outcome for one input file, the same for both engines."""

    source: str  #: the input file
    destination: str  #: where its output is (or would have been) written
    error: str | None  #: None when the file succeeded
    bytes_in: int  #: size of the input file
    bytes_out: int  #: size of the output file (0 on error)
    width: int  #: output width in pixels (0 on error)
    height: int  #: output height in pixels (0 on error)
    seconds: float  #: time spent on this file (wall clock, in its worker)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def saved(self) -> int:
        """Bytes saved (negative when the output is larger); 0 on error."""
        return self.bytes_in - self.bytes_out if self.ok else 0


def is_image_name(name: str) -> bool:
    """Whether a file name has a processed extension, in any case.

    The extension starts at the last dot, as Go's filepath.Ext has it
    (os.path.splitext would give ".png" no extension).
    """
    dot = name.rfind(".")
    return dot >= 0 and name[dot:].lower() in IMAGE_EXTENSIONS


def fit(w: int, h: int, max_w: int, max_h: int) -> tuple[int, int]:
    """Output size of a w x h image inside max_w x max_h (0: unbounded).

    Keeps the aspect ratio, never upscales, rounds halves up, all in integer
    arithmetic: exactly engine/geometry.go's fit().
    """
    if max_w <= 0 or max_w > w:
        max_w = 0
    if max_h <= 0 or max_h > h:
        max_h = 0
    if max_w == 0 and max_h == 0:
        return w, h
    if max_h == 0 or (max_w != 0 and max_w * h <= max_h * w):
        return max_w, max(1, (h * max_w + w // 2) // w)
    return max(1, (w * max_h + h // 2) // h), max_h


def oriented_size(w: int, h: int, orientation: int) -> tuple[int, int]:
    """Size after EXIF orientation: 5 to 8 swap the axes."""
    return (h, w) if orientation >= 5 else (w, h)


def plan(src: str, dst: str) -> tuple[list[tuple[str, str, str]], list[FileResult]]:
    """The (source, destination, destination folder relative to dst) of each
    file to process, and the folders that could not be listed.

    Symbolic links to files are followed (only ever read); folders are not
    entered through symbolic links (os.walk's default), so no loops.
    """
    from ._fsutil import plain_error

    jobs: list[tuple[str, str, str]] = []
    failed: list[FileResult] = []

    def onerror(exc: OSError) -> None:
        path = exc.filename
        dest = os.path.join(dst, os.path.relpath(path, src))
        failed.append(FileResult(path, os.path.normpath(dest),
                                 f"cannot list directory: {plain_error(exc)}", 0, 0, 0, 0, 0.0))

    for dirpath, _dirnames, filenames in os.walk(src, onerror=onerror):
        rel = os.path.relpath(dirpath, src)
        for name in filenames:
            if is_image_name(name):
                jobs.append((os.path.join(dirpath, name),
                             os.path.normpath(os.path.join(dst, rel, name)), rel))
    return jobs, failed
