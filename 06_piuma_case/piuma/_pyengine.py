"""The Python engine: the talk's pipeline, Pillow then jpegoptim / pngquant.

Per file, as a Python user writes it: Pillow's draft, load, resize, transpose,
save, as _probe.py decided (for both engines); then jpegoptim / pngquant as
processes, or, in process, optimize=True and libimagequant (_pyoptimize.py).
workers > 1: threads, which Pillow lets run in parallel (it releases the GIL).
"""

from __future__ import annotations

import io
import os
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from PIL import Image

from . import Options, _probe, _pyoptimize
from ._files import FileError, FileResult, failed, open_source, plain_error, stamp, write_atomic

# EXIF orientation -> the transpose that undoes it (as ImageOps.exif_transpose).
TRANSPOSE = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
             4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
             6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
             8: Image.Transpose.ROTATE_90}


def _output_mode(im: Image.Image) -> Image.Image:
    """JPEG: gray stays gray, else RGB (CMYK converted). PNG: gray without
    transparency stays gray, everything else RGBA (RGB later if opaque)."""
    if im.format in ("JPEG", "MPO"):
        return im if im.mode in ("L", "RGB") else im.convert("RGB")
    if im.mode in ("1", "L") and "transparency" not in im.info:
        return im.convert("L")
    if im.mode.startswith("I;16"):  # 16-bit gray: the high byte of each sample
        return im.point(lambda v: v / 256).convert("L")  # (convert() would clip at 255)
    return im.convert("RGBA")


def convert(job: _probe.Job, o: Options) -> tuple[bytes, int, int]:
    """Encoded output, width, height, for one probed file: the talk's pipeline."""
    im = decode(job)
    if im.size != (job.out_width, job.out_height):
        # reducing_gap: an axis shrunk 6x or more is first box-averaged, so
        # the table of weights stays small whatever the shape.
        im = im.resize((job.out_width, job.out_height), Image.Resampling.BICUBIC,
                        reducing_gap=3.0)
    if job.orientation in TRANSPOSE:
        im = im.transpose(TRANSPOSE[job.orientation])
    im.info = {}  # no metadata in outputs: Pillow's save would copy a comment, an ICC profile
    buf = io.BytesIO()
    if job.format == "JPEG":
        im.save(buf, "JPEG", quality=o.quality, subsampling="4:2:0", optimize=o.in_process)
        return buf.getvalue(), im.width, im.height
    if im.mode == "RGBA" and im.getextrema()[3] == (255, 255):
        im = im.convert("RGB")  # no transparent pixel: RGB, as the Go engine
    im.save(buf, "PNG")
    data = buf.getvalue()
    if o.in_process:
        data = _pyoptimize.optimize_png(im, data)
    return data, im.width, im.height


def decode(job: _probe.Job) -> Image.Image:
    """Pillow's draft and load, as the probe decided, in the output's mode;
    the file checked to be the one probed, and Pillow's gaps filled."""
    changed = FileError("unreadable", "the file changed since it was probed")
    f, st = open_source(job.source)
    if stamp(st) != job.stamp:  # replaced or written since its probe (as Go checks)
        f.close()
        raise changed
    with f, _probe.open_image(f, st.st_size) as im:
        fmt = "JPEG" if im.format == "MPO" else im.format
        if (fmt, im.size) != (job.format, (job.width, job.height)):
            raise changed
        if job.scale > 1:
            im.draft(None, (2 * job.out_width, 2 * job.out_height))
        if fmt == "JPEG":
            # Pillow feeds its decoder 64 KiB at a time, and libjpeg's
            # arithmetic decoder cannot resume mid-stream: such JPEGs over
            # 64 KiB failed as "broken data stream". The whole file at once.
            im.decodermaxblock = max(im.decodermaxblock, job.bytes_in)
        rawmode = im.tile[0][3] if im.tile else None
        if rawmode in ("L;2", "L;4") and "transparency" in im.info:
            # Pillow scales 2- and 4-bit gray to 8 bits, but not the tRNS
            # value: scale it too, from its low bits (as libpng does).
            top = (1 << int(rawmode[2])) - 1  # 3 or 15
            im.info["transparency"] = (im.info["transparency"] & top) * (255 // top)
        info = dict(im.info)  # (a tRNS after the pixels: libspng ignores it, so do we)
        try:
            im.load()
        except MemoryError:
            raise
        except Exception as exc:  # OSError, SyntaxError, ValueError...: a broken stream
            raise _probe.pillow_error(exc) from None
        if stamp(os.fstat(f.fileno())) != job.stamp:  # written while it was decoded
            raise changed
        im.info = info
        return _output_mode(im)


# A tool runs deaf to SIGINT (ignored at exec, it stays so): a terminal's Ctrl-C
# lets the file in flight finish (jpegoptim exits 1 on SIGINT, not told from a
# failure); in this process group, a SIGTERM to it (timeout) ends the tools too.
DEAF_TO_SIGINT = ["/bin/sh", "-c", 'trap "" INT; exec "$0" "$@"']


def optimize(data: bytes, is_png: bool, tools: dict[str, str]) -> bytes:
    """jpegoptim (lossless) / pngquant (lossy palette) through pipes, the
    talk's way; keeps the smaller result."""
    if is_png:
        cmd = [tools["pngquant"], "--strip", "--skip-if-larger", "-"]
    else:
        cmd = [tools["jpegoptim"], "--quiet", "--strip-all", "--stdin", "--stdout", "-"]
    proc = subprocess.run([*DEAF_TO_SIGINT, *cmd], input=data, capture_output=True)
    if is_png and proc.returncode in (98, 99):  # not smaller / quality not reachable
        return data
    if proc.returncode != 0:
        raise FileError("internal error", f"{os.path.basename(cmd[0])} failed with exit status "
                        f"{proc.returncode}: {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout if 0 < len(proc.stdout) < len(data) else data


def process(job: _probe.Job, o: Options, tools: dict[str, str]) -> FileResult:
    """One file: every failure is this file's error, the batch goes on."""
    start = time.perf_counter()
    try:
        data, w, h = convert(job, o)
        if o.tools:
            data = optimize(data, job.format == "PNG", tools)
        try:
            write_atomic(job.temp, job.destination, data)
        except OSError as exc:
            raise FileError("cannot write", plain_error(exc)) from None
    except FileError as exc:
        return failed(job.source, job.destination, exc.category, exc.details, job.bytes_in,
                      time.perf_counter() - start)
    except MemoryError:
        return failed(job.source, job.destination, "not enough memory",
                      "Python ran out of memory converting this image", job.bytes_in)
    except Exception as exc:  # a bug, or Pillow raising what it should not: still per file
        return failed(job.source, job.destination, "internal error",
                      f"{type(exc).__name__}: {exc}", job.bytes_in)
    return FileResult(job.source, job.destination, None, job.bytes_in, len(data), w, h,
                      time.perf_counter() - start)


class Progress:
    """The interface of piuma._piuma.Progress, for the Python engine."""

    def __init__(self) -> None:
        self.done, self.cancelled = 0, False
        self._lock = threading.Lock()

    def cancel(self) -> None:
        self.cancelled = True  # (the workers read it before each file)

    def file_done(self) -> None:
        with self._lock:
            self.done += 1


def run(jobs: list[_probe.Job], o: Options, tools: dict[str, str], workers: int,
        progress: Progress) -> list[FileResult]:
    """Results for jobs, in their order (tools: the optimisers' paths)."""
    def one(job: _probe.Job) -> FileResult:
        r = (failed(job.source, job.destination, "cancelled", "the batch was cancelled")
             if progress.cancelled else process(job, o, tools))
        progress.file_done()
        return r

    if workers <= 1 or len(jobs) <= 1:
        return [one(j) for j in jobs]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, jobs))
