"""Files on disk without check-then-use windows (engine/fsutil.go, in Python).

Sources: stat first, so a FIFO or device with an image name is refused without
ever being opened; then open with O_NONBLOCK (a FIFO swapped in after the stat
cannot block the open) and O_NOCTTY, and check the opened file again with
fstat: what is read is what was checked.

Outputs: the destination folder is opened once (a directory descriptor), each
output folder is reached from it one component at a time (os.open/os.mkdir
with dir_fd), and the temp file is created, renamed and removed relative to
the output folder's descriptor: a symbolic link swapped into the path after a
check cannot send the write anywhere else. After the rename the folder itself
is fsynced, so that the new name survives a crash as the data does.
"""

from __future__ import annotations

import contextlib
import errno
import os
import random
import re
import stat
import threading

_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
# Folders only gone through (openat relative to them, fstat): O_PATH (Linux)
# needs no read permission on them, as a path lookup does not (a home folder
# of mode 0711 on the way to the output must not fail it). Elsewhere: read.
_SEARCH_FLAGS = (getattr(os, "O_PATH", os.O_RDONLY) | getattr(os, "O_DIRECTORY", 0)
                 | getattr(os, "O_CLOEXEC", 0))

fsync = os.fsync  # tests replace it to see which descriptors are flushed


class NotRegularFile(Exception):
    """A source that is not a regular file (FIFO, device, folder)."""


class InsideSourceError(OSError):
    """An output folder that is, or is inside, the source folder."""


def open_source(path: str) -> tuple[int, int]:
    """(descriptor, size) of a source opened for reading; the caller closes it."""
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise NotRegularFile
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFile
    except BaseException:
        os.close(fd)
        raise
    return fd, st.st_size


def plain_error(exc: OSError) -> str:
    """What an OS error means, without the path (plainError in Go): the words
    of strerror, first letter in lower case, as Go prints them."""
    if exc.errno in (errno.EISDIR, errno.ENOTEMPTY, errno.EEXIST):
        return "a folder with the output's name is in the way"
    if exc.errno:
        text = os.strerror(exc.errno)
        return text[:1].lower() + text[1:]
    return str(exc)


def read_all(fd: int, size: int) -> bytes:
    """size bytes of an open source (fewer if it shrank meanwhile)."""
    chunks, got = [], 0
    while got < size:
        chunk = os.pread(fd, min(size - got, 1 << 24), got)
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks) if len(chunks) != 1 else chunks[0]


def temp_stem(name: str, keep: int = 100) -> str:
    """At most `keep` bytes of an output's name for its temp file's name: a
    valid name may have 255 bytes, the temp file adds about 30."""
    while len(os.fsencode(name)) > keep:
        name = name[:-1]
    return name


def temp_name(name: str) -> str:
    """".<name>.piuma-<pid>-<random>.tmp": hidden, recognisable, and it says
    which process writes it (a killed run's files can be told apart)."""
    return f".{temp_stem(name)}.piuma-{os.getpid()}-{random.getrandbits(32):08x}.tmp"


TEMP_RE = re.compile(r"^\..*\.piuma-([0-9]+)-[0-9a-f]+\.tmp$", re.DOTALL)


def process_alive(pid: int) -> bool:
    """Only for processes of this machine (PID namespace)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Outputs:
    """The destination tree of one batch (outputs in engine/fsutil.go)."""

    def __init__(self, dst: str, src: str) -> None:
        self.dst = dst
        self.root = -1  # the destination is created and opened at the first write
        self.root_error: OSError | None = None
        self.src_id: tuple[int, int] | None = None
        with contextlib.suppress(OSError):
            st = os.stat(src)
            self.src_id = (st.st_dev, st.st_ino)
        self._cleaned: set[str] = set()
        self._lock = threading.Lock()

    def _open_root(self) -> None:
        with self._lock:
            if self.root >= 0 or self.root_error is not None:
                return
            try:
                os.makedirs(self.dst, exist_ok=True)
                self.root = os.open(self.dst, _DIR_FLAGS)
            except OSError as exc:
                self.root_error = exc

    def close(self) -> None:
        if self.root >= 0:
            os.close(self.root)
            self.root = -1

    def open_folder(self, rel: str) -> int:
        """Descriptor of the output folder rel (relative to dst), created as
        needed; links are followed, but a folder inside the source is refused."""
        self._open_root()
        if self.root_error is not None:
            raise self.root_error
        fd = os.dup(self.root)
        try:
            if rel != ".":
                names = rel.split(os.sep)
                for i, name in enumerate(names):
                    # the output's own folder is opened for reading (fsync, list)
                    flags = _DIR_FLAGS if i == len(names) - 1 else _SEARCH_FLAGS
                    try:
                        nxt = os.open(name, flags, dir_fd=fd)
                    except FileNotFoundError:
                        with contextlib.suppress(FileExistsError):
                            os.mkdir(name, 0o755, dir_fd=fd)
                        nxt = os.open(name, flags, dir_fd=fd)
                    os.close(fd)
                    fd = nxt
            if self._inside_source(fd):
                raise InsideSourceError(errno.EINVAL, "inside the source folder")
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _inside_source(self, fd: int) -> bool:
        """Whether the folder fd is the source folder or inside it: walk up
        through ".." comparing device and inode numbers."""
        if self.src_id is None:
            return False
        cur = os.dup(fd)
        try:
            for _ in range(4096):
                st = os.fstat(cur)
                if (st.st_dev, st.st_ino) == self.src_id:
                    return True
                parent = os.open("..", _SEARCH_FLAGS, dir_fd=cur)
                pst = os.fstat(parent)
                os.close(cur)
                cur = parent
                if (pst.st_dev, pst.st_ino) == (st.st_dev, st.st_ino):  # the root
                    return False
            return False
        finally:
            os.close(cur)

    def clean_stale(self, rel: str, dirfd: int) -> None:
        """Once per batch and folder: remove the temp files of killed runs
        (ours by their name, regular files, whose process is gone)."""
        with self._lock:
            if rel in self._cleaned:
                return
            self._cleaned.add(rel)
        me = os.getpid()
        try:
            entries = list(os.scandir(dirfd))
        except OSError:
            return
        for entry in entries:
            m = TEMP_RE.match(entry.name)
            if m is None:
                continue
            pid = int(m[1])
            if pid <= 0 or pid == me or process_alive(pid):
                continue
            with contextlib.suppress(OSError):
                if stat.S_ISREG(os.stat(entry.name, dir_fd=dirfd, follow_symlinks=False).st_mode):
                    os.unlink(entry.name, dir_fd=dirfd)

    def write(self, rel: str, path: str, data: bytes) -> None:
        """Temp file, flushed, mode 0644, renamed over the name, folder flushed;
        on any error the temp file is removed."""
        dirfd = self.open_folder(rel)
        try:
            self.clean_stale(rel, dirfd)
            name = os.path.basename(path)
            flags = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
                     | getattr(os, "O_CLOEXEC", 0))
            for attempt in range(101):
                tmp = temp_name(name)
                try:
                    fd = os.open(tmp, flags, 0o600, dir_fd=dirfd)
                    break
                except FileExistsError:
                    if attempt == 100:
                        raise
            try:
                try:
                    view = memoryview(data)
                    while view:
                        view = view[os.write(fd, view):]
                    os.fchmod(fd, 0o644)  # whatever the umask, as before
                    fsync(fd)
                finally:
                    os.close(fd)
                os.replace(tmp, name, src_dir_fd=dirfd, dst_dir_fd=dirfd)
            except BaseException:
                with contextlib.suppress(OSError):  # never hide the original error
                    os.unlink(tmp, dir_fd=dirfd)
                raise
            fsync(dirfd)
        finally:
            os.close(dirfd)
