"""The file rules of the contract, once, for both engines: the walk, the output
folders, the temp names (the Go engine gets the paths, core/piuma_api.h) and the
atomic write. src is untrusted, dst is the job's: the link and mount rules are
checked before the batch (refused_names, check_source): no output replaces a source.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from dataclasses import dataclass

#: Why a file failed, one word or two; the index is the category's number in
#: core/piuma_api.h (PIUMA_EMPTY = 1 ...), which the Go core returns.
CATEGORIES = (None, "empty", "not an image", "too large", "truncated", "damaged",
              "unsupported", "unreadable", "cannot write", "not enough memory", "cancelled",
              "internal error")

#: File name extensions the job processes (compared in lower case).
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")


@dataclass(frozen=True)
class FileResult:
    """The outcome for one input file, the same for both engines."""

    source: str  #: the input file (absolute, links of src resolved)
    destination: str  #: where its output is (or would have been) written
    error: str | None  #: None when the file succeeded, else "<category>: <details>"
    bytes_in: int  #: size of the input file
    bytes_out: int  #: size of the output file (0 on error)
    width: int  #: output width in pixels (0 on error)
    height: int  #: output height in pixels (0 on error)
    seconds: float  #: time spent on this file (wall clock, in its worker)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def category(self) -> str | None:
        """One of CATEGORIES (None when ok): compare this, not the words."""
        return None if self.error is None else self.error.split(":", 1)[0]


class FileError(Exception):
    """A per-file failure: category (one of CATEGORIES) and details."""

    def __init__(self, category: str, details: str) -> None:
        assert category in CATEGORIES, category
        super().__init__(f"{category}: {details}")
        self.category, self.details, self.bytes_in = category, details, 0


def failed(source: str, destination: str, category: str, details: str,
           bytes_in: int = 0, seconds: float = 0.0) -> FileResult:
    return FileResult(source, destination, f"{category}: {details}", bytes_in, 0, 0, 0, seconds)


def plain_error(exc: OSError) -> str:
    """What an OS error means, without the path (the result names the file):
    strerror's words, first letter in lower case, as Go prints them."""
    if exc.errno == errno.EISDIR:  # (a rename of a file over a folder)
        return "a folder with the output's name is in the way"
    if exc.errno:
        text = os.strerror(exc.errno)
        return text[:1].lower() + text[1:]
    return str(exc) or type(exc).__name__


def is_image_name(name: str) -> bool:
    """Whether a file name has a processed extension, in any case. The
    extension starts at the last dot (os.path.splitext gives ".png" none)."""
    return name.lower().endswith(IMAGE_EXTENSIONS)


def inside(path: str, folder: str) -> bool:
    """Whether path is folder or inside it (both resolved; "/" holds all)."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def folder_ids(folders) -> set[tuple[int, int]]:
    """Identities (device, inode) of folders (or files): a bind mount shows one at
    two paths; for one not made yet, of the nearest folder above it (makedirs
    would start)."""
    ids = set()
    for folder in folders:
        while not os.path.lexists(folder) and folder != os.path.dirname(folder):
            folder = os.path.dirname(folder)
        with contextlib.suppress(OSError):  # (a dangling link: nothing made there)
            ids.add(((st := os.stat(folder)).st_dev, st.st_ino))
    return ids


def check_source(source: str, dst: str, outs: set[tuple[int, int]]) -> None:
    """FileError if source is in dst (src/a.jpg -> dst/a.jpg), by path or by
    the identity of its folder (outs: the output folders'): an output could
    replace it."""
    try:
        real = os.path.realpath(source)
    except RecursionError:  # (3.11's recursed once a link: 2,000 links ended the batch)
        raise FileError("unreadable", "too many levels of symbolic links") from None
    if inside(real, dst) or folder_ids([os.path.dirname(real)]) & outs:
        raise FileError("cannot write", f"the source, {real}, is in dst (through a link or a "
                        "mount): an output could replace it")


def walk(src: str, dst: str = "") -> tuple[list[str], list[FileResult], set[tuple[int, int]]]:
    """The image files under src, as paths relative to it, sorted by their
    bytes; the folders that could not be listed, as results (to dst); and the
    identities of every folder of src, unlisted ones too (an output may land
    in any). Iterative: os.walk recursed (3.11), and a tree 1,000 deep failed.
    Links are followed to files (only ever read), never to folders: no loops
    (a link to a folder named like an image is a file the probe refuses)."""
    names: list[str] = []
    errors: list[FileResult] = []
    folders, todo = [], [src]
    while todo:
        folders.append(folder := todo.pop())
        rel = os.path.relpath(folder, src)
        try:
            with os.scandir(folder) as listing:
                entries = [(e.path, e.name, e.is_dir(follow_symlinks=False)) for e in listing]
        except OSError as exc:
            errors.append(failed(folder, os.path.join(dst, rel), "unreadable",
                                 f"cannot list this folder: {plain_error(exc)}"))
            continue
        todo += [path for path, _, is_dir in entries if is_dir]
        names += [os.path.normpath(os.path.join(rel, name)) for _, name, is_dir in entries
                  if not is_dir and is_image_name(name)]
    names.sort(key=os.fsencode)
    return names, errors, folder_ids(folders)


# ---- temp files and output folders ------------------------------------------

def temp_name(destination: str) -> str:
    """A new temp path beside destination: hidden, unique, at most 100 bytes
    of the output's name (a long valid name never makes it too long). A run
    killed mid-write leaves it: README.md, "the contract", says how to remove
    such files."""
    folder, name = os.path.split(destination)
    short = os.fsdecode(os.fsencode(name)[:100])
    return os.path.join(folder, f".{short}.piuma-{secrets.token_hex(8)}.tmp")


def refused_names(dst: str, names: list[str], sources: set[tuple[int, int]]) -> dict[str, str]:
    """Create each output folder (under the resolved dst); return the names
    that cannot be written, and why: their folder is reached through a
    symbolic link (it could lead into src, or give two names one output:
    outputs go into dst's own folders only), is a folder of src under another
    path (a bind mount: sources, walk's identities), or cannot be made."""
    bad: dict[str, str] = {}
    for rel in {os.path.dirname(n) for n in names}:
        path = os.path.normpath(os.path.join(dst, rel))
        if link := _link_on_the_way(dst, path):  # before makedirs, which would mkdir through it
            bad[rel] = (f"the output folder {path} is reached through a symbolic link ({link}): "
                        "outputs go into dst's own folders only")
        elif folder_ids([path]) & sources:  # (or the folder it would be made in)
            bad[rel] = f"the output folder {path} is in a folder of src (a bind mount?)"
        else:
            try:
                makedirs(path)
            except FileExistsError:
                bad[rel] = f"a file is in the way of the output folder {path}"
            except OSError as exc:
                bad[rel] = f"cannot make the output folder {path}: {plain_error(exc)}"
            else:
                if not os.access(path, os.W_OK | os.X_OK):  # now, not after decoding its files
                    bad[rel] = f"the output folder {path} is not writable"
    return {n: bad[os.path.dirname(n)] for n in names if os.path.dirname(n) in bad}


def _link_on_the_way(dst: str, path: str) -> str | None:
    """The first symbolic link among the folders from dst to path that exist,
    as `ls -l` shows it ("dst/a -> target"); None if none is. (Not realpath:
    on 3.11 it returns a loop's path as it is.)"""
    folder = dst
    for part in os.path.relpath(path, dst).split(os.sep):
        folder = os.path.join(folder, part)
        if os.path.islink(folder):
            with contextlib.suppress(OSError):  # (removed meanwhile: its name alone)
                return f"{folder} -> {os.readlink(folder)}"
            return folder
        if not os.path.lexists(folder):
            return None
    return None


def makedirs(path: str) -> None:
    """os.makedirs(path, exist_ok=True) without its recursion (a tree 1,000 deep);
    each new folder's entry fsynced in its parent (a crash keeps the folder)."""
    missing, folder = [], path
    while not os.path.lexists(folder) and folder != os.path.dirname(folder):
        missing.append(folder)
        folder = os.path.dirname(folder)
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # (made meanwhile: a concurrent run)
            os.mkdir(folder)
    sync_folders({os.path.dirname(folder) for folder in missing})
    if not os.path.isdir(path):
        raise FileExistsError(errno.EEXIST, "a file is in the way", path)


def write_atomic(temp: str, destination: str, data: bytes) -> None:
    """Write data to a new temp file, flush it to disk, rename it over
    destination: readers see the old file or the new one, never a part.
    (engine/write.go does the same for the Go engine.)"""
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(fd, 0o644)  # whatever the umask: outputs are for a web server
            f.write(data)
            f.flush()
            os.fsync(fd)
        os.rename(temp, destination)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def sync_folders(folders: set[str]) -> None:
    """fsync each folder (after the batch: so that the renames in it survive
    a crash as the data does)."""
    for folder in folders:
        with contextlib.suppress(OSError):  # (best effort: a folder gone, a FS without fsync)
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def stamp(st: os.stat_result) -> tuple[int, int, int, int]:
    """Which file, in which state: device, inode, size, ctime (any write moves
    it, and nothing sets it back). The engines compare the file they read
    with the probe's, before and after decoding (Go: engine/convert.go)."""
    return st.st_dev, st.st_ino, st.st_size, st.st_ctime_ns


def open_source(path: str) -> tuple[object, os.stat_result]:
    """A source opened for reading, binary, and its fstat. O_NONBLOCK: a FIFO
    named like an image (or swapped in) cannot block the open; fstat then
    refuses anything but a regular file before a byte is read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        raise FileError("unreadable", plain_error(exc)) from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise FileError("unreadable", "not a regular file")
    return os.fdopen(fd, "rb"), st
