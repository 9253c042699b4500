"""The Python engine: Pillow, then jpegoptim / pngquant as subprocesses.

(The talk's pipeline, and the default. optimizer="in-process" keeps the
optimisation inside: Pillow's optimize=True and libimagequant, _pyoptimize.py.)

This is the talk's starting point, written carefully: the same contract as
the Go engine (engine/*.go), per-file errors, atomic writes. With workers > 1
it uses a thread pool: Pillow releases the GIL while it decodes, resizes and
encodes, so threads do run in parallel for the heavy parts.
"""

from __future__ import annotations

import io
import os
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from PIL import Image, ImageChops, JpegImagePlugin, PngImagePlugin

from . import _budget, _probe, _pyoptimize
from ._common import FileResult, fit, oriented_size, plan
from ._fsutil import InsideSourceError, NotRegularFile, Outputs, open_source, plain_error, read_all
from ._probe import JPEG_MAGIC, PNG_MAGIC, HeaderError

# EXIF orientation -> the Pillow transpose that undoes it (ImageOps.exif_transpose).
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


class FileError(Exception):
    """A per-file failure: its message goes into FileResult.error."""


@dataclass(frozen=True)
class Options:
    """Settings of a batch, already checked by piuma.optimize_dir."""

    width: int
    height: int
    quality: int
    max_pixels: int
    draft: bool
    optimize: bool
    jpegoptim: str | None  # tool paths, when optimize with the tools
    pngquant: str | None
    max_memory: int = 2 << 30  # bytes all workers may use for decoding at once
    optimizer: str = "tools"  # or "in-process" (_pyoptimize.py)
    resample: str = "bicubic"  # or "lanczos"

    @property
    def in_process(self) -> bool:
        return self.optimize and self.optimizer == "in-process"


def _describe(exc: BaseException) -> str:
    """An exception's message, never empty: some of Pillow's have none."""
    if isinstance(exc, MemoryError):
        return "out of memory"
    text = str(exc).strip()
    if text:
        return text
    return {EOFError: "unexpected end of file", SyntaxError: "invalid data",
            ValueError: "invalid data"}.get(type(exc), type(exc).__name__)


@dataclass
class Header:
    """What the probe of a file found (header in engine/convert.go)."""

    png: bool
    w: int
    h: int
    jpeg: _probe.JpegInfo | None = None
    pngi: _probe.PngInfo | None = None


def _check_pixels(w: int, h: int, max_pixels: int) -> None:
    if w <= 0 or h <= 0:
        raise FileError(f"invalid image size in the header: width {w}, height {h}")
    if w * h > max_pixels:
        raise FileError(f"image too large: {w}x{h} = {w * h} pixels, "
                        f"limit is {max_pixels} (max_pixels)")


def probe(read_at: _probe.ReadAt, size: int, o: Options, max_memory: int | None = None,
          ) -> Header:
    """Format from the magic bytes, then the header and its checks (probe in Go)."""
    if size == 0:
        raise FileError("empty file")
    head = read_at(0, 8)
    if head.startswith(JPEG_MAGIC):
        png = False
    elif head.startswith(PNG_MAGIC):
        png = True
    else:
        raise FileError("not a JPEG or PNG image")
    limit = _budget.max_file_bytes(o.max_pixels)
    if size > limit:
        raise FileError(f"file too large: {_budget.human_bytes(size)}, more than an image of "
                        f"{o.max_pixels} pixels (max_pixels) can take "
                        f"({_budget.human_bytes(limit)})")
    if max_memory is not None and size + _budget.MEM_OVERHEAD > max_memory:
        # its header is not even read
        raise FileError(f"not enough memory: the file is {_budget.human_bytes(size)}, "
                        f"max_memory is {_budget.human_bytes(max_memory)}")
    try:
        if png:
            pngi = _probe.probe_png(read_at, size)
            hd = Header(True, pngi.width, pngi.height, pngi=pngi)
        else:
            info = _probe.probe_jpeg(read_at, size)
            hd = Header(False, info.width, info.height, jpeg=info)
        _check_pixels(hd.w, hd.h, o.max_pixels)
        if hd.jpeg is not None:
            hd.jpeg.check()
    except HeaderError as exc:
        raise FileError(str(exc)) from None
    return hd


def _target(w: int, h: int, orientation: int, o: Options) -> tuple[int, int]:
    """The size to resize to, in the stored orientation."""
    tw, th = fit(*oriented_size(w, h, orientation), o.width, o.height)
    return oriented_size(tw, th, orientation)


def memory(hd: Header, size: int, o: Options) -> int:
    """The estimate of what converting the file needs (memory in Go)."""
    tw1, th1 = _target(hd.w, hd.h, 1, o)
    tw2, th2 = _target(hd.w, hd.h, 6, o)
    if hd.pngi is not None:
        p = hd.pngi
        return _budget.estimate_memory(size, hd.w, hd.h, max(tw1, tw2), max(th1, th2), png=True,
                                       channels=p.channels, sixteen=p.depth == 16,
                                       interlaced=p.interlace == 1, quantized=o.in_process)
    j = hd.jpeg
    assert j is not None
    return _budget.estimate_memory(size, hd.w, hd.h, max(tw1, tw2), max(th1, th2), png=False,
                                   channels=len(j.comps), progressive=j.progressive,
                                   lossless=j.sof == 0xC3)


def convert_file(fd: int, size: int, o: Options, budget: _budget.Budget,
                 ) -> tuple[bytes, bool, int, int]:
    """Header, memory, then the whole file (convertFile in Go)."""
    def read_at(off: int, n: int) -> bytes:
        return os.pread(fd, n, off)

    try:
        hd = probe(read_at, size, o, budget.limit)
    except OSError as exc:
        raise FileError(f"cannot read file: {plain_error(exc)}") from None
    need = memory(hd, size, o)
    if need > budget.limit:
        raise FileError(f"not enough memory: this {hd.w}x{hd.h} image needs about "
                        f"{_budget.human_bytes(need)}, max_memory is "
                        f"{_budget.human_bytes(budget.limit)}")
    budget.acquire(need)
    try:
        try:
            data = read_all(fd, size)
        except OSError as exc:
            raise FileError(f"cannot read file: {plain_error(exc)}") from None
        # The file may have changed since its header was read.
        hd2 = probe(lambda off, n: data[off:off + n], len(data), o)
        if (hd2.png, hd2.w, hd2.h) != (hd.png, hd.w, hd.h):
            raise FileError("cannot read file: it changed while it was being read")
        return convert(data, o, hd2)
    finally:
        budget.release(need)


def _png_mode(im: Image.Image) -> Image.Image:
    """Gray if the PNG is gray without transparency, else RGBA (see Go)."""
    if im.mode in ("1", "L") and "transparency" not in im.info:
        return im.convert("L")
    if im.mode in ("I", "I;16", "I;16B"):
        # 16-bit gray: keep the high byte, as Go's Gray16 -> 8 bits does.
        # (convert("RGBA") would clip every value above 255 to white.)
        wide = im.convert("I")
        gray = wide.point(lambda v: v / 256).convert("L")
        t = im.info.get("transparency")
        if not isinstance(t, int):
            return gray
        # tRNS names one 16-bit gray value: alpha 0 there, 255 elsewhere
        # (|v - t| * 255, clipped to 8 bits).
        above = wide.point(lambda v: (v - t) * 255).convert("L")
        below = wide.point(lambda v: (t - v) * 255).convert("L")
        rgba = gray.convert("RGBA")
        rgba.putalpha(ImageChops.lighter(above, below))
        return rgba
    return im.convert("RGBA")


def _resize_gap(w: int, h: int, sw: int, sh: int) -> float | None:
    """Pillow's resize keeps a table of ksize doubles per output pixel and
    axis, ksize growing with the reduction: where it would pass 4 MiB (never
    for photos), reduce by boxes first (reducing_gap; bigTable in Go)."""
    return 3.0 if _budget.big_table(w, sw) or _budget.big_table(h, sh) else None


def convert(data: bytes, o: Options, hd: Header | None = None) -> tuple[bytes, bool, int, int]:
    """Encoded output, is_png, width, height for the bytes of one file."""
    if hd is None:
        hd = probe(lambda off, n: data[off:off + n], len(data), o)
    kind = "PNG" if hd.png else "JPEG"
    if hd.png:
        try:
            orientation = _probe.scan_png(data).orientation()
            assert hd.pngi is not None
            _probe.check_png_data(data, hd.pngi)
        except HeaderError as exc:
            raise FileError(str(exc)) from None
    else:
        meta = _probe.jpeg_meta(data)
        orientation = meta.orientation()
        data = _probe.without_exif(data, meta)
    w, h = hd.w, hd.h
    sw, sh = _target(w, h, orientation, o)
    cls = PngImagePlugin.PngImageFile if hd.png else JpegImagePlugin.JpegImageFile
    try:
        # The plugin classes directly, not Image.open(): Image.open would
        # run Pillow's own bomb check (a DecompressionBombWarning, global
        # state) and would accept any of Pillow's ~40 formats.
        im = cls(io.BytesIO(data))
        if im.size != (w, h):
            raise FileError(f"cannot decode {kind}: the header says {w}x{h}, the decoder "
                            f"{im.width}x{im.height}")
        lossless = hd.jpeg is not None and hd.jpeg.sof == 0xC3
        if kind == "JPEG" and o.draft and not lossless and (sw < w or sh < h):
            # DCT-domain downscaling: decode at 1/2, 1/4 or 1/8 size, keeping
            # at least twice the target (the same choice as engine.draftDenom).
            # Not for lossless JPEGs: libjpeg cannot scale them.
            im.draft(None, (2 * sw, 2 * sh))
        im.load()
    except FileError:
        raise
    except Exception as exc:
        raise FileError(f"cannot decode {kind}: {_describe(exc)}") from None
    if kind == "JPEG":
        im = im.convert("RGB") if im.mode not in ("L", "RGB") else im  # CMYK
    else:
        im = _png_mode(im)
    if im.size != (sw, sh):
        # BICUBIC is Catmull-Rom (a = -0.5), x/image/draw's CatmullRom; Pillow
        # premultiplies RGBA itself, only when it resizes: no resize, exact
        # pixels. reducing_gap=None: one exact pass (but see _resize_gap).
        kernel = (Image.Resampling.LANCZOS if o.resample == "lanczos"
                  else Image.Resampling.BICUBIC)
        im = im.resize((sw, sh), kernel, reducing_gap=_resize_gap(im.width, im.height, sw, sh))
    if orientation in _TRANSPOSE:
        im = im.transpose(_TRANSPOSE[orientation])
    buf = io.BytesIO()
    if kind == "JPEG":
        # optimize=True: optimised Huffman tables (in-process optimiser)
        im.save(buf, "JPEG", quality=o.quality, subsampling="4:2:0", optimize=o.in_process)
        return buf.getvalue(), False, im.width, im.height
    if im.mode == "RGBA" and im.getextrema()[3] == (255, 255):
        im = im.convert("RGB")  # no transparent pixel: write RGB, as Go does
    im.save(buf, "PNG")
    data = buf.getvalue()
    if o.in_process:
        data = _pyoptimize.optimize_png(im, data)
    return data, True, im.width, im.height


def optimize(data: bytes, is_png: bool, o: Options) -> bytes:
    """jpegoptim (lossless) / pngquant (lossy palette) through pipes.

    Exactly what engine/files.go's optimize() runs (the Go engine's
    optimizer="tools"); keeps the smaller result.
    """
    # [excerpt: tools]
    if is_png:
        cmd = [o.pngquant, "--strip", "--skip-if-larger", "-"]
    else:
        cmd = [o.jpegoptim, "--quiet", "--strip-all", "--stdin", "--stdout", "-"]
    proc = subprocess.run(cmd, input=data, capture_output=True, check=False)
    # [/excerpt: tools]
    if is_png and proc.returncode in (98, 99):  # not smaller / quality not reachable
        return data
    if proc.returncode != 0:
        name = os.path.basename(cmd[0])
        raise FileError(f"{name} failed: exit status {proc.returncode}: "
                        f"{proc.stderr.decode(errors='replace').strip()}")
    out = proc.stdout
    return out if 0 < len(out) < len(data) else data


def process(source: str, destination: str, rel_dir: str, o: Options, outputs: Outputs,
            budget: _budget.Budget) -> FileResult:
    """One file: every failure is this file's error, the batch goes on."""
    start = time.perf_counter()
    bytes_in = 0

    def fail(msg: str) -> FileResult:
        return FileResult(source, destination, msg, bytes_in, 0, 0, 0,
                          time.perf_counter() - start)

    try:
        fd, bytes_in = open_source(source)
    except NotRegularFile:
        return fail("not a regular file")
    except OSError as exc:
        return fail(f"cannot read file: {plain_error(exc)}")
    try:
        out, is_png, w, h = convert_file(fd, bytes_in, o, budget)
        if o.optimize and not o.in_process:
            out = optimize(out, is_png, o)
    except FileError as exc:
        return fail(str(exc))
    except MemoryError:
        # The estimate is an estimate: Pillow running out of memory is still
        # this file's error, never the batch's.
        return fail("out of memory while converting this image")
    except Exception as exc:  # anything else Pillow raises: still per file
        return fail(f"{type(exc).__name__}: {_describe(exc)}")
    finally:
        os.close(fd)
    try:
        outputs.write(rel_dir, destination, out)
    except InsideSourceError:
        return fail(f"cannot write output: the output folder {os.path.dirname(destination)} is "
                    "inside the source folder (a symbolic link leads there)")
    except OSError as exc:
        return fail(f"cannot write output: {plain_error(exc)}")
    return FileResult(source, destination, None, bytes_in, len(out), w, h,
                      time.perf_counter() - start)


class Progress:
    """Same interface as piuma._piuma.Progress, for the Python engine."""

    def __init__(self) -> None:
        self.total = 0
        self.done = 0
        self._cancel = threading.Event()
        self._lock = threading.Lock()

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def file_done(self) -> None:
        with self._lock:
            self.done += 1


def run(src: str, dst: str, o: Options, workers: int, progress: Progress) -> list[FileResult]:
    jobs, results = plan(src, dst)
    progress.total = len(jobs)
    outputs = Outputs(dst, src)
    budget = _budget.Budget(o.max_memory)

    def one(job: tuple[str, str, str]) -> FileResult:
        if progress.cancelled:
            r = FileResult(job[0], job[1], "cancelled", 0, 0, 0, 0, 0.0)
        else:
            r = process(job[0], job[1], job[2], o, outputs, budget)
        progress.file_done()
        return r

    try:
        if workers <= 1 or len(jobs) <= 1:
            results += [one(j) for j in jobs]
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                results += pool.map(one, jobs)
    finally:
        outputs.close()
    # Byte order of the paths, as the Go engine sorts them.
    results.sort(key=lambda r: os.fsencode(r.source))
    return results
