"""piuma: resize and optimise a folder of product images, in Python or in Go.

    from piuma import optimize_dir
    results = optimize_dir("incoming", "public", width=800, height=800)
    failed = [r for r in results if not r.ok]

The rules live once, in Python (_files.py, _probe.py); an engine does the
pixels: "python" (Pillow, _pyengine.py) or "go" (piuma._piuma, one call a batch).
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass

from . import _files, _probe
from ._files import CATEGORIES, IMAGE_EXTENSIONS, FileError, FileResult, failed, is_image_name
from ._probe import MAX_PIXELS

__all__ = ["CATEGORIES", "DEFAULT_OPTIMIZER", "ENGINES", "IMAGE_EXTENSIONS", "MAX_PIXELS",
           "OPTIMIZERS", "FileResult", "is_image_name", "optimize_dir"]

ENGINES = ("go", "python")
#: How optimize=True optimises: in the process (optimised Huffman tables,
#: libimagequant), or with the jpegoptim and pngquant commands (the talk's
#: pipeline: the Python engine only). optimizer=None: each engine's default.
OPTIMIZERS = ("in-process", "tools")
DEFAULT_OPTIMIZER = {"go": "in-process", "python": "tools"}
_INT32, _INT64 = 2**31 - 1, 2**63 - 1
__version__ = "0.11.0"


def _cpus() -> int:
    """The CPUs this process may run on (its affinity: taskset, a container's
    cpuset), as Go's GOMAXPROCS counts them (which a GOMAXPROCS variable or a
    cgroup CPU limit can lower: the share is then smaller than it could be)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)


def _int(name: str, value: object, minimum: int, maximum: int, hint: str = "") -> None:
    _type(name, value, int, "an int")
    if not minimum <= value <= maximum:  # type: ignore[operator]
        raise ValueError(f"{name} must be in {minimum}..{maximum}{hint}, got {value}")


def _type(name: str, value: object, kind: type, what: str) -> None:
    if isinstance(value, bool) is not (kind is bool) or not isinstance(value, kind):
        raise TypeError(f"{name} must be {what}, not {type(value).__name__}")


def _choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    _type(name, value, str, "a str")
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, not {value!r}")


def _path(name: str, value: object) -> str:
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name} must be a str or os.PathLike, not {type(value).__name__}")
    path = os.fspath(value)
    if not isinstance(path, str):
        raise TypeError(f"{name} must be a str path, not {type(path).__name__}")
    if not path:
        raise ValueError(f"{name} must not be empty")
    return path


def _callable_and_cluster(progress: object, spec: object) -> None:
    if progress is not None and not callable(progress):
        raise TypeError(f"progress must be callable or None, not {type(progress).__name__}")
    if spec is not None:  # (cluster.py connects to it, once the folders are made)
        _type("cluster", spec, str, "a str or None")
        n, most = spec[6:] if spec.startswith("local:") else "1", 4 * (os.cpu_count() or 1)
        if not spec or not re.fullmatch(r"0*[1-9][0-9]*", n) or int(n) > most:
            raise ValueError(f"cluster must be local, local:N (1 <= N <= {most}: 4 per CPU) or "
                             f"an address, not {spec!r}")


def _tools(opts: Options) -> dict[str, str]:
    """What the optimiser needs on the host that converts, checked: the tools'
    paths, found once (the batch runs those), or the imagequant package."""
    paths = {name: shutil.which(name) for name in ("jpegoptim", "pngquant") if opts.tools}
    for name, path in paths.items():
        if path is None:
            raise FileNotFoundError(
                f"{name} not found on PATH: install it (Debian/Ubuntu: apt-get install {name}; "
                f"macOS: brew install {name}), or do not optimise (optimize=False; --no-optimize)")
    if opts.in_process and opts.engine == "python":
        try:
            import imagequant  # noqa: F401  (ImportError now, not one per file later)
        except ImportError as exc:
            raise ImportError("the Python engine's in-process optimiser needs the imagequant "
                              "package (pip install imagequant), or use optimizer='tools'") from exc
    return paths  # type: ignore[return-value]


def _folders(src: str, dst: str) -> tuple[str, str, tuple]:
    """src and dst resolved and checked: src a folder, dst apart from it;
    and src walked (_files.walk: names, unlisted folders, identities)."""
    if not os.path.isdir(src):
        os.stat(src)  # FileNotFoundError / PermissionError with errno and path
        raise NotADirectoryError(errno.ENOTDIR, "src is not a directory", src)
    src, dst = os.path.realpath(src), os.path.realpath(dst)
    if os.path.islink(dst):  # (3.11's realpath returns a loop as it is)
        raise OSError(errno.ELOOP, "dst is a loop of symbolic links", dst)
    # dst in src (by path, or by identity: a bind mount): a second run would take
    # the outputs as inputs; src in dst: an output could land on a source.
    if (_files.inside(dst, src) or _files.inside(src, dst)  # (before walking src: "/")
            or _files.folder_ids([dst]) & (listing := _files.walk(src, dst))[2]):
        raise ValueError(f"src and dst must not overlap: src={src!r}, dst={dst!r}")
    return src, dst, listing


def _dst(dst: str, make: bool = True) -> None:
    """dst checked, and made if make (once the engine is ready, here or on a
    cluster): one that takes no file fails now, not after every file was
    decoded for nothing. Not made: the folder it would be made in is checked."""
    near = dst
    if make:
        _files.makedirs(dst)
    while not os.path.lexists(near):
        near = os.path.dirname(near)
    os.stat(near)  # (a loop of links: ELOOP, not "a file is in the way")
    if not os.path.isdir(near):
        raise FileExistsError(errno.EEXIST, "a file is in the way", near)
    if os.statvfs(near).f_flag & os.ST_RDONLY:
        raise OSError(errno.EROFS, "dst is on a read-only file system", dst)
    if not os.access(near, os.W_OK | os.X_OK):
        raise PermissionError(errno.EACCES, "dst is not writable", near)


@dataclass(frozen=True)
class Options:
    """The checked settings of a batch (what optimize_dir's keywords become)."""

    width: int = 0
    height: int = 0
    quality: int = 85
    engine: str = "go"
    workers: int = 0
    optimize: bool = True
    optimizer: str | None = None
    draft: bool = True
    max_pixels: int = MAX_PIXELS
    max_memory: int = 0

    def __post_init__(self) -> None:
        _int("width", self.width, 0, _INT32, " (0: no bound)")
        _int("height", self.height, 0, _INT32, " (0: no bound)")
        _int("quality", self.quality, 1, 100)
        _int("workers", self.workers, 0, _INT32, " (0: one per CPU)")
        _int("max_pixels", self.max_pixels, 1, _INT64)
        _int("max_memory", self.max_memory, 0, _INT64, " (0: half of the memory)")
        _choice("engine", self.engine, ENGINES)
        if self.optimizer is not None:
            _choice("optimizer", self.optimizer, OPTIMIZERS)
            if self.engine == "go" and self.optimizer == "tools":
                raise ValueError("the Go engine optimises in process only; optimizer='tools' "
                                 "(jpegoptim and pngquant, the talk's pipeline) is the Python "
                                 "engine's")
        for name in ("optimize", "draft"):
            _type(name, getattr(self, name), bool, "a bool")

    @property
    def tools(self) -> bool:
        return self.optimize and (self.optimizer or DEFAULT_OPTIMIZER[self.engine]) == "tools"

    @property
    def in_process(self) -> bool:
        return self.optimize and not self.tools


def optimize_dir(src: str | os.PathLike[str], dst: str | os.PathLike[str], *,
                 cluster: str | None = None, progress: Callable[[int, int], object] | None = None,
                 **options) -> list[FileResult]:
    """Resize and optimise every .jpg/.jpeg/.png under src into dst, at the
    same relative path: one FileResult per input file (and per folder that
    could not be listed), sorted by the bytes of the source path.

    width, height: bounding box (0: no bound). quality: JPEG, 1..100. engine:
    "go" or "python". workers: files at once (0: one per CPU it may use; at
    most 4 per such CPU, and one per 64 MiB of max_memory). optimize,
    optimizer: "in-process" (optimised Huffman tables, libimagequant) or
    "tools" (jpegoptim and pngquant, the Python engine's default). draft:
    JPEG DCT scaling (Pillow's draft). max_pixels: larger images fail from
    their header. max_memory: bytes all workers may use (0: half of the
    memory or of the cgroup's limit; on a cluster, each worker process's).
    cluster: "local", "local:N", a Dask scheduler's address or file.
    progress(done, total): called from this thread while the batch runs (it must
    not fork: the batch runs in another thread).

    TypeError / ValueError for bad arguments, FileNotFoundError /
    NotADirectoryError for a bad src, OSError when dst cannot be written.
    Ctrl-C (in the main thread, where Python delivers it) cancels the files
    not started, waits for the running ones, and raises KeyboardInterrupt.
    """
    opts = Options(**options)  # bad arguments raise before the walk
    _callable_and_cluster(progress, cluster)
    src, dst, (names, results, sources) = _folders(_path("src", src), _path("dst", dst))
    if cluster is not None:  # (the optimiser is checked where it runs, then dst made)
        from . import cluster as _cluster

        results += _cluster.run(src, dst, names, sources, opts, cluster, progress)
    else:  # what the engine needs, before dst is made for a batch that cannot run
        _tools(opts)
        if opts.engine == "go":
            from . import _piuma  # one Go runtime per process (or ImportError)

            _piuma.run([])  # a fork()ed child's RuntimeError, before dst is made
        _dst(dst)
        results += convert(src, dst, names, opts, progress, sources)
    return sorted(results, key=lambda r: os.fsencode(r.source))


def convert(src: str, dst: str, names: list[str], opts: Options,
            progress: Callable[[int, int], object] | None = None, sources: set | None = None,
            supervise: bool = True, outs: set | None = None) -> list[FileResult]:
    """The batch in this process, arguments checked. sources: src's folder
    identities (_files.walk), for making the output folders; None: the caller
    made them (a cluster task, given outs: the batch's output folders').
    supervise=False: in this thread (a profiler), no Ctrl-C handling, no progress."""
    # Each file at once gets a share of the budget (its outcome never depends on
    # the others), 64 MiB at least; at most 4 workers a CPU, as the Go engine runs.
    budget, cpus = opts.max_memory or _probe.default_max_memory(), _cpus()
    workers = max(1, min(opts.workers or cpus, 4 * cpus, budget // (64 * _probe.MIB)))
    settings = _probe.Settings(opts.width, opts.height, opts.max_pixels, budget // workers,
                               opts.draft, opts.in_process)
    if opts.engine == "go":
        from . import _piuma  # loads the Go core: one Go runtime per process

        prog = _piuma.Progress()

        def engine(jobs: list[_probe.Job]) -> list[FileResult]:
            rows = _piuma.run([(j.source, j.destination, j.temp, 1 if j.format == "JPEG" else 2,
                                j.width, j.height, j.scale, j.out_width, j.out_height,
                                j.orientation, j.stamp) for j in jobs],
                              quality=opts.quality, workers=workers,
                              optimize=opts.optimize, progress=prog)
            return [FileResult(j.source, j.destination,
                               None if cat == 0 else f"{CATEGORIES[cat]}: {details}", *rest)
                    for j, (cat, details, *rest) in zip(jobs, rows, strict=True)]
    else:
        from . import _pyengine

        prog = _pyengine.Progress()
        tools = _tools(opts)

        def engine(jobs: list[_probe.Job]) -> list[FileResult]:
            return _pyengine.run(jobs, opts, tools, workers, prog)

    early = 0  # files the batch decided without the engine (refused)

    def batch() -> list[FileResult]:
        """Folders, probes, then one engine call for every file that passed
        (prog's cancel flag is one for the probes and the engine)."""
        nonlocal early, outs
        folders = {os.path.dirname(n) for n in names}
        refused = {} if sources is None else _files.refused_names(dst, names, sources)
        if outs is None:  # (a source in one of them could be replaced by an output)
            outs = _files.folder_ids(os.path.join(dst, os.path.dirname(n)) for n in names
                                     if n not in refused)
        results: list[FileResult | None] = [None] * len(names)
        jobs, where = [], []
        # [excerpt: batch]
        for i, name in enumerate(names):
            source, destination = os.path.join(src, name), os.path.join(dst, name)
            try:
                if prog.cancelled:
                    raise FileError("cancelled", "the batch was cancelled")
                if name in refused:
                    raise FileError("cannot write", refused[name])
                _files.check_source(source, dst, outs)  # (not in dst, through a link or a mount)
                jobs.append(_probe.probe(source, destination, _files.temp_name(destination),
                                         settings))
                where.append(i)
            except FileError as exc:
                results[i] = failed(source, destination, exc.category, exc.details, exc.bytes_in)
                early += 1
        try:
            for i, r in zip(where, engine(jobs), strict=True):  # Go: one call
                results[i] = r
                # [/excerpt: batch]
        finally:
            _files.sync_folders({os.path.join(dst, f) for f in folders})
        return results  # type: ignore[return-value]

    def report() -> None:
        if progress is not None:
            progress(early + prog.done, len(names))

    return _supervise(batch, report, prog.cancel) if supervise else batch()


def _supervise(batch: Callable[[], list[FileResult]], report: Callable[[], None],
               cancel: Callable[[], None]) -> list[FileResult]:
    """Run batch() in a thread; report() progress and handle Ctrl-C here.

    The calling thread stays in Python, so KeyboardInterrupt arrives at once
    (a thread blocked in a long C call would only see it at the end); it
    cancels the batch, which finishes the files already started.
    """
    out: list = []
    # The batch says it has ended with an Event, not by the thread's end: on
    # CPython 3.10-3.12 a join() that KeyboardInterrupt interrupts marks the
    # thread as stopped, and the next join() returns while files are written.
    ended = threading.Event()

    def target() -> None:
        try:
            out.append(batch())
        except BaseException as exc:  # handed to the calling thread
            out.append(exc)
        finally:
            ended.set()

    threading.Thread(target=target, name="piuma-batch", daemon=True).start()
    try:
        while not ended.wait(0.1):
            report()
        report()
    except BaseException:
        cancel()
        ended.wait()  # the files already started finish; a second Ctrl-C leaves them
        raise
    if isinstance(out[0], BaseException):
        raise out[0]
    return out[0]
