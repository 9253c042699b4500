"""piuma: resize and optimise a folder of product images, in Python or in Go.

    from piuma import optimize_dir
    results = optimize_dir("incoming", "public", width=800, height=800)
    failed = [r for r in results if not r.ok]

Both engines follow one contract (README.md): the output fits inside
width x height keeping the aspect ratio (0: no bound), never upscales, keeps
the format, applies EXIF orientation, mirrors the source tree under dst,
writes atomically, never touches a source file, and reports every per-file
error while the batch goes on.

engine="go" imports the Go-backed extension piuma._piuma (one Go runtime per
process: see common/go_core.h); engine="python" never loads it.
"""

from __future__ import annotations

import errno
import os
import shutil
import threading
from collections.abc import Callable

from ._budget import default_max_memory
from ._common import IMAGE_EXTENSIONS, MAX_PIXELS, FileResult, is_image_name

__all__ = ["DEFAULT_OPTIMIZER", "ENGINES", "GO_JPEG_CODECS", "IMAGE_EXTENSIONS", "MAX_PIXELS",
           "OPTIMIZERS", "RESAMPLE_FILTERS", "FileResult", "is_image_name", "optimize_dir"]

ENGINES = ("go", "python")
#: JPEG codecs of the Go engine: libjpeg-turbo through cgo, or Go's image/jpeg.
GO_JPEG_CODECS = ("libjpeg-turbo", "image/jpeg")
#: How optimize=True optimises: inside the process (optimised Huffman tables
#: at JPEG encode time, libimagequant for PNGs), or with the jpegoptim and
#: pngquant commands (the talk's pipeline).
OPTIMIZERS = ("in-process", "tools")
#: optimizer=None: each engine's default. The Python engine keeps the talk's
#: pipeline; the Go engine does the whole job in process.
DEFAULT_OPTIMIZER = {"go": "in-process", "python": "tools"}
#: Resize kernels: Pillow's BICUBIC (the default) and LANCZOS (sharper, as
#: libvips's thumbnail; about 50% more work in the resize).
RESAMPLE_FILTERS = ("bicubic", "lanczos")


def _int(name: str, value: object, minimum: int, maximum: int | None = None,
         hint: str = "") -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value < minimum or (maximum is not None and value > maximum):
        bounds = f"in {minimum}..{maximum}" if maximum is not None else f">= {minimum}"
        raise ValueError(f"{name} must be {bounds}{hint}, got {value}")
    return value


def _path(name: str, value: object) -> str:
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name} must be a str or os.PathLike, not {type(value).__name__}")
    path = os.fspath(value)
    if not isinstance(path, str):
        raise TypeError(f"{name} must be a str path, not {type(path).__name__}")
    if not path:
        raise ValueError(f"{name} must not be empty")
    return path


def _choice(name: str, value: object, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, "
                         f"not {value!r}")
    return value


def _bool(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, not {type(value).__name__}")
    return value


def _inside(path: str, folder: str) -> bool:
    """Whether path is folder or inside it (both resolved). "/" contains
    everything: adding a separator to it would give "//"."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise FileNotFoundError(
            f"{name} not found on PATH: install it (Debian/Ubuntu: apt-get install "
            f"{name}; macOS: brew install {name}), or do not optimise (optimize=False; "
            "--no-optimize on the command line)")
    return path


def optimize_dir(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    width: int = 0,
    height: int = 0,
    quality: int = 85,
    engine: str = "go",
    workers: int = 0,
    optimize: bool = True,
    optimizer: str | None = None,
    draft: bool = True,
    resample: str = "bicubic",
    go_jpeg: str = "libjpeg-turbo",
    max_pixels: int = MAX_PIXELS,
    max_memory: int = 0,
    progress: Callable[[int, int], object] | None = None,
) -> list[FileResult]:
    """Resize and optimise every .jpg/.jpeg/.png under src into dst.

    width, height: bounding box in pixels (0: no bound on that axis).
    quality: JPEG quality, 1..100. workers: parallel workers (0: one per CPU;
    goroutines for "go", threads for "python"). optimize: optimise each
    output, the way optimizer says: "in-process" (optimised Huffman tables,
    libimagequant; the Python engine needs the imagequant package) or "tools"
    (jpegoptim and pngquant subprocesses); None: the engine's default,
    DEFAULT_OPTIMIZER. draft: JPEG DCT-domain
    downscaling when the target is at least twice smaller (Image.draft; the
    Go engine's libjpeg-turbo scaling; image/jpeg cannot). resample: the
    resize kernel, "bicubic" or "lanczos". go_jpeg: the Go
    engine's JPEG codec. max_pixels: larger images fail from their header.
    max_memory: bytes that decoding may use at once, all workers together
    (0: half of the machine's memory, or of its cgroup limit); an image that
    needs more fails from its header, before anything is read or decoded.
    progress(done, total) is called from the calling thread while the batch
    runs. Returns one FileResult per input file, sorted by source path (the
    bytes of os.fsencode; names are decoded with os.fsdecode, so a name that
    is not UTF-8 keeps its bytes as surrogate escapes).

    Raises TypeError / ValueError for bad arguments, FileNotFoundError /
    NotADirectoryError for a bad src, ValueError when src and dst overlap.
    Ctrl-C (KeyboardInterrupt) cancels the files not started yet, waits for
    the running ones, then propagates.
    """
    src = _path("src", src)
    dst = _path("dst", dst)
    width = _int("width", width, 0, hint=" (0: no bound)")
    height = _int("height", height, 0, hint=" (0: no bound)")
    quality = _int("quality", quality, 1, 100)
    workers = _int("workers", workers, 0, hint=" (0: one per CPU)")
    max_pixels = _int("max_pixels", max_pixels, 1)
    max_memory = _int("max_memory", max_memory, 0, hint=" (0: half of the memory)")
    # Both engines take the same values: the Go engine's are C ints (int64_t
    # for max_pixels), so larger ones are refused here, for both.
    for name, value, limit in (("width", width, 2**31 - 1), ("height", height, 2**31 - 1),
                               ("workers", workers, 2**31 - 1),
                               ("max_pixels", max_pixels, 2**63 - 1),
                               ("max_memory", max_memory, 2**63 - 1)):
        if value > limit:
            raise ValueError(f"{name} must be <= {limit}, got {value}")
    engine = _choice("engine", engine, ENGINES)
    optimizer = (DEFAULT_OPTIMIZER[engine] if optimizer is None
                 else _choice("optimizer", optimizer, OPTIMIZERS))
    go_jpeg = _choice("go_jpeg", go_jpeg, GO_JPEG_CODECS)
    resample = _choice("resample", resample, RESAMPLE_FILTERS)
    optimize = _bool("optimize", optimize)
    draft = _bool("draft", draft)
    if progress is not None and not callable(progress):
        raise TypeError(f"progress must be callable or None, not {type(progress).__name__}")

    if not os.path.isdir(src):
        os.stat(src)  # FileNotFoundError / PermissionError with errno and path
        raise NotADirectoryError(errno.ENOTDIR, "src is not a directory", src)
    src = os.path.realpath(src)
    real_dst = os.path.realpath(dst)
    if _inside(real_dst, src) or _inside(src, real_dst):
        # dst inside src: a second run would process the outputs; src inside
        # dst: an output could land on a source file. Both are refused.
        raise ValueError(f"src and dst must not overlap: src={src!r}, dst={real_dst!r}")
    jpegoptim = pngquant = None
    tools = optimize and optimizer == "tools"
    if tools:
        jpegoptim, pngquant = _tool("jpegoptim"), _tool("pngquant")
    elif optimize and engine == "python":
        from . import _pyoptimize

        _pyoptimize.check_available()  # ImportError without the imagequant package
    os.makedirs(real_dst, exist_ok=True)
    # A destination that takes no file fails now, not after every file has
    # been decoded, resized and encoded for nothing.
    if os.statvfs(real_dst).f_flag & os.ST_RDONLY:
        raise OSError(errno.EROFS, "dst is on a read-only file system", real_dst)
    if not os.access(real_dst, os.W_OK | os.X_OK):
        raise PermissionError(errno.EACCES, "dst is not writable", real_dst)
    workers = workers or os.cpu_count() or 1
    max_memory = max_memory or default_max_memory()

    if engine == "go":
        from . import _piuma  # loads the Go core: one Go runtime per process

        prog = _piuma.Progress()

        def batch() -> list[FileResult]:
            rows = _piuma.run(src, real_dst, width=width, height=height, quality=quality,
                              workers=workers, max_pixels=max_pixels,
                              stdlib_jpeg=go_jpeg == "image/jpeg", draft=draft,
                              lanczos=resample == "lanczos",
                              optimize=optimize, tools=tools, jpegoptim=jpegoptim,
                              pngquant=pngquant, progress=prog, max_memory=max_memory)
            return [FileResult(*row) for row in rows]
    else:
        from . import _pyengine

        prog = _pyengine.Progress()
        opts = _pyengine.Options(width=width, height=height, quality=quality,
                                 max_pixels=max_pixels, draft=draft, optimize=optimize,
                                 jpegoptim=jpegoptim, pngquant=pngquant,
                                 max_memory=max_memory, optimizer=optimizer,
                                 resample=resample)

        def batch() -> list[FileResult]:
            return _pyengine.run(src, real_dst, opts, workers, prog)

    return _supervise(batch, prog, progress)


def _supervise(batch, prog, callback) -> list[FileResult]:
    """Run batch() in a thread; report progress and handle Ctrl-C here.

    The calling thread stays in Python, so KeyboardInterrupt arrives at once
    (a thread blocked in a long C call would only see it at the end); it
    cancels the batch, which finishes the files already started.
    """
    out: list = []
    # The batch says it has ended with an Event, not by the thread's end:
    # on CPython 3.10-3.12 a join() that KeyboardInterrupt interrupts marks
    # the thread as stopped, and the next join() returns while the files
    # being written are still running.
    ended = threading.Event()

    def target() -> None:
        try:
            out.append(batch())
        except BaseException as exc:  # handed to the calling thread
            out.append(exc)
        finally:
            ended.set()

    worker = threading.Thread(target=target, name="piuma-batch", daemon=True)
    worker.start()
    try:
        while not ended.wait(0.1):
            if callback is not None:
                callback(prog.done, prog.total)
        if callback is not None:
            callback(prog.done, prog.total)
    except BaseException:
        prog.cancel()
        ended.wait()  # the files already started finish; a second Ctrl-C leaves them
        raise
    if isinstance(out[0], BaseException):
        raise out[0]
    return out[0]
