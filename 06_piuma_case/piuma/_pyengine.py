"""The Python engine: Pillow, then jpegoptim / pngquant as subprocesses.

This is the talk's starting point, written carefully: the same contract as
the Go engine (engine/*.go), per-file errors, atomic writes. With workers > 1
it uses a thread pool: Pillow releases the GIL while it decodes, resizes and
encodes, so threads do run in parallel for the heavy parts.
"""

from __future__ import annotations

import contextlib
import io
import os
import stat
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from PIL import Image, ImageChops, JpegImagePlugin, PngImagePlugin

from ._common import FileResult, fit, oriented_size, plan

JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

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
    jpegoptim: str | None  # tool paths, when optimize
    pngquant: str | None


def _orientation(im: Image.Image) -> int:
    try:
        o = im.getexif().get(0x0112, 1)
    except Exception:  # a broken EXIF block must not fail a good image
        return 1
    return o if isinstance(o, int) and 1 <= o <= 8 else 1


def _open(data: bytes, max_pixels: int) -> tuple[Image.Image, str]:
    """Open from the header only and refuse decompression bombs.

    The plugin classes are used directly, not Image.open(): Image.open would
    run Pillow's own bomb check (a DecompressionBombWarning, global state) and
    would accept any of Pillow's ~40 formats; we want JPEG and PNG only.
    """
    if data.startswith(JPEG_MAGIC):
        kind, cls = "JPEG", JpegImagePlugin.JpegImageFile
    elif data.startswith(PNG_MAGIC):
        kind, cls = "PNG", PngImagePlugin.PngImageFile
    else:
        raise FileError("not a JPEG or PNG image")
    try:
        im = cls(io.BytesIO(data))
    except Exception as exc:
        raise FileError(f"cannot decode {kind}: {exc}") from None
    w, h = im.size
    if w <= 0 or h <= 0:
        raise FileError(f"invalid image size {w}x{h}")
    if w * h > max_pixels:
        raise FileError(f"image too large: {w}x{h} = {w * h} pixels, "
                        f"limit is {max_pixels} (max_pixels)")
    return im, kind


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


def convert(data: bytes, o: Options) -> tuple[bytes, bool, int, int]:
    """Encoded output, is_png, width, height for the bytes of one file."""
    im, kind = _open(data, o.max_pixels)
    w, h = im.size
    orientation = _orientation(im)
    tw, th = fit(*oriented_size(w, h, orientation), o.width, o.height)
    sw, sh = oriented_size(tw, th, orientation)  # the resize is done unrotated
    if kind == "JPEG" and o.draft and (sw < w or sh < h):
        # DCT-domain downscaling: decode at 1/2, 1/4 or 1/8 size, keeping at
        # least twice the target (the same choice as engine.draftDenom).
        im.draft(None, (2 * sw, 2 * sh))
    try:
        im.load()
    except Exception as exc:
        raise FileError(f"cannot decode {kind}: {exc}") from None
    if kind == "JPEG":
        im = im.convert("RGB") if im.mode not in ("L", "RGB") else im  # CMYK
    else:
        im = _png_mode(im)
    if im.size != (sw, sh):
        # BICUBIC is Catmull-Rom (a = -0.5), x/image/draw's CatmullRom; Pillow
        # premultiplies RGBA itself. reducing_gap=None: one exact pass.
        im = im.resize((sw, sh), Image.Resampling.BICUBIC)
    if orientation in _TRANSPOSE:
        im = im.transpose(_TRANSPOSE[orientation])
    buf = io.BytesIO()
    if kind == "JPEG":
        im.save(buf, "JPEG", quality=o.quality, subsampling="4:2:0")
    else:
        if im.mode == "RGBA" and im.getextrema()[3] == (255, 255):
            im = im.convert("RGB")  # no transparent pixel: write RGB, as Go does
        im.save(buf, "PNG")
    return buf.getvalue(), kind == "PNG", im.width, im.height


def optimize(data: bytes, is_png: bool, o: Options) -> bytes:
    """jpegoptim (lossless) / pngquant (lossy palette) through pipes.

    Exactly what engine/files.go's optimize() runs; keeps the smaller result.
    """
    if is_png:
        cmd = [o.pngquant, "--strip", "--skip-if-larger", "-"]
    else:
        cmd = [o.jpegoptim, "--quiet", "--strip-all", "--stdin", "--stdout", "-"]
    proc = subprocess.run(cmd, input=data, capture_output=True, check=False)
    if is_png and proc.returncode in (98, 99):  # not smaller / quality not reachable
        return data
    if proc.returncode != 0:
        name = os.path.basename(cmd[0])
        raise FileError(f"{name} failed: exit status {proc.returncode}: "
                        f"{proc.stderr.decode(errors='replace').strip()}")
    out = proc.stdout
    return out if 0 < len(out) < len(data) else data


def check_outside(folder: str, root: str) -> None:
    """Create the output folder; refuse it if it resolves inside root.

    root is the resolved source folder. optimize_dir refuses overlapping src
    and dst, but a symbolic link inside dst (dst/sub -> src/sub) would still
    make the rename in write_atomic replace a source file (engine/files.go's
    checkOutside does the same).
    """
    os.makedirs(folder, exist_ok=True)
    real = os.path.realpath(folder)
    if real == root or real.startswith(root + os.sep):
        raise OSError(f"{folder} resolves to {real}, inside the source folder")


def _temp_stem(name: str, keep: int = 100) -> str:
    """At most `keep` bytes of an output's name, for its temp file's name.

    A valid name may have 255 bytes; the temp file adds a dot and a random
    part, so a long (often non-ASCII) name would make it too long
    (engine/files.go's tempPattern does the same).
    """
    while len(os.fsencode(name)) > keep:
        name = name[:-1]
    return name


def write_atomic(path: str, data: bytes) -> None:
    """Temp file in the destination folder, fsync, rename over path.

    Readers (and a crash) see the old file or the new one, never half of one;
    on any error the temp file is removed.
    """
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + _temp_stem(os.path.basename(path)) + ".",
                               suffix=".tmp")
    try:
        with open(fd, "wb") as f:  # closes fd when the block ends, error or not
            f.write(data)
            os.fchmod(f.fileno(), 0o644)  # mkstemp makes it 0600
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):  # never hide the original error
            os.unlink(tmp)
        raise


def process(source: str, destination: str, o: Options, src_root: str = "") -> FileResult:
    """One file; src_root (the resolved source folder) guards the output."""
    start = time.perf_counter()
    bytes_in = 0

    def fail(msg: str) -> FileResult:
        return FileResult(source, destination, msg, bytes_in, 0, 0, 0,
                          time.perf_counter() - start)

    try:
        st = os.stat(source)
    except OSError as exc:
        return fail(f"cannot read file: {exc}")
    if not stat.S_ISREG(st.st_mode):
        return fail("not a regular file")
    bytes_in = st.st_size
    try:
        with open(source, "rb") as f:
            head = f.read(8)
            if not head:
                return fail("empty file")
            # Neither JPEG nor PNG: refused without reading the rest (a video
            # of some gigabytes named .jpg is not read into memory).
            if not head.startswith((JPEG_MAGIC, PNG_MAGIC)):
                return fail("not a JPEG or PNG image")
            f.seek(0)
            data = f.read()
    except OSError as exc:
        return fail(f"cannot read file: {exc}")
    bytes_in = len(data)
    try:
        out, is_png, w, h = convert(data, o)
        if o.optimize:
            out = optimize(out, is_png, o)
    except FileError as exc:
        return fail(str(exc))
    except Exception as exc:  # anything else Pillow raises: still per file
        return fail(f"{type(exc).__name__}: {exc}")
    try:
        if src_root:
            check_outside(os.path.dirname(destination), src_root)
        write_atomic(destination, out)
    except OSError as exc:
        return fail(f"cannot write output: {exc}")
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
    src_root = os.path.realpath(src)

    def one(job: tuple[str, str]) -> FileResult:
        if progress.cancelled:
            r = FileResult(job[0], job[1], "cancelled", 0, 0, 0, 0, 0.0)
        else:
            r = process(job[0], job[1], o, src_root)
        progress.file_done()
        return r

    if workers <= 1 or len(jobs) <= 1:
        results += [one(j) for j in jobs]
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results += pool.map(one, jobs)
    results.sort(key=lambda r: r.source)
    return results
