"""What both engines are told about a file before they touch its pixels.

Pillow's lazy Image.open reads the header (format, size, mode, EXIF) without
decoding; from it this module decides, once for both engines: whether the file
is refused (empty, not an image, too large, not enough memory, unsupported),
the output size, the EXIF orientation and the JPEG draft scale. The Python
engine then decodes with Pillow, the Go engine with libjpeg-turbo or libspng;
both follow these decisions, so they agree on everything but the pixels.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import sys
from dataclasses import dataclass
from pathlib import PurePosixPath

from PIL import Image, JpegImagePlugin

from . import _files
from ._files import FileError

#: Pillow's Image.MAX_IMAGE_PIXELS (1024 * 1024 * 1024 // 4 // 3).
MAX_PIXELS = 89_478_485
#: JPEG's own limit, for both formats: the imagequant wheel (2.15) crashes in a
#: thread on a PNG of about 1,040,000 rows (8 bytes a row on an 8 MiB stack).
MAX_SIDE = 65_535
MIB = 1 << 20
MAX_SCANS = 1000  # a progressive JPEG's scans, at most (see buffered)
HEADER_LIMIT = 16 * MIB  # what a header may take (EXIF, ICC, XMP, text)
#: The EXIF the probe reads: one JPEG APP1 segment's worth. Pillow makes a
#: Python int of every value (36 bytes for 2 of the file: a 14 MiB block took
#: 415 MiB); a larger block (Pillow joins segments) is "as stored".
MAX_EXIF = 65_535


@dataclass(frozen=True)
class Settings:
    """What the probe needs of a batch's options."""

    width: int  # bounding box, 0: no bound
    height: int
    max_pixels: int
    memory_share: int  # bytes one file may use: max_memory // workers
    draft: bool
    quantize: bool  # PNGs quantised in process (libimagequant's copy counts)


@dataclass(frozen=True)
class Job:
    """One file, decided. Sizes of the output are in the stored orientation:
    the engines resize, then orient (EXIF 5..8 swap the axes)."""

    source: str
    destination: str
    temp: str
    format: str  # "JPEG" or "PNG"
    width: int
    height: int
    scale: int  # JPEG: decode at 1/scale (Pillow's draft)
    out_width: int
    out_height: int
    orientation: int  # EXIF 1..8
    bytes_in: int
    memory: int = 0  # what converting it takes, at most (memory_needed and more)
    stamp: tuple[int, ...] = ()  # the file probed: _files.stamp


def fit(w: int, h: int, max_w: int, max_h: int) -> tuple[int, int]:
    """Output size of a w x h image inside max_w x max_h (0: no bound): keeps
    the aspect ratio, never upscales, rounds halves up, integers only."""
    max_w = max_w if 0 < max_w < w else 0
    max_h = max_h if 0 < max_h < h else 0
    if max_w == 0 and max_h == 0:
        return w, h
    if max_h == 0 or (max_w != 0 and max_w * h <= max_h * w):
        return max_w, max(1, (h * max_w + w // 2) // w)
    return max(1, (w * max_h + h // 2) // h), max_h


def memory_needed(w: int, h: int, scale: int, ow: int, oh: int, quantize: bool,
                  size: int = 0) -> int:
    """An upper bound of what converting one file takes, in either engine: the
    file, the decoded image and a copy, the resize's intermediate, the output and
    its oriented copy, their row pointers, the encoded output, libimagequant's."""
    dw, dh = -(-w // scale), -(-h // scale)
    need = size + dw * dh * 8 + ow * dh * 4 + ow * oh * 12 + (2 * dh + 2 * oh) * 8
    if quantize:
        need += ow * oh * 24
    return need + 32 * MIB  # codec state, tables, Python objects


def coefficients(im: Image.Image) -> int:
    """What a buffered JPEG (see buffered) needs besides: libjpeg keeps the DCT
    coefficients of the whole image until the last scan, at full size whatever
    the draft scale (2 bytes each, 64 a block, whole MCUs)."""
    (w, h), hmax = im.size, max(1, *(c[1] for c in im.layer))  # (0: the decoders refuse it)
    vmax = max(1, *(c[2] for c in im.layer))
    return -(-w // (8 * hmax)) * -(-h // (8 * vmax)) * sum(c[1] * c[2] for c in im.layer) * 128


def metadata(im: Image.Image) -> int:
    """What Pillow keeps of a header's metadata (the probe holds it now, the
    Python engine's decode again): im.info's keys and values (PNG text, an
    ICC profile: inflated, joined, and its pieces while it is joined) and a
    JPEG's APPn segments, each object once, and the two dicts an entry is in."""
    objs = [*im.info, *im.info.values(), *(seg for _, seg in getattr(im, "applist", []))]
    once = {id(o): sys.getsizeof(o) for o in objs if isinstance(o, (str, bytes))}
    return sum(once.values()) + len(im.info.get("icc_profile") or b"") + 200 * len(im.info)


def human_bytes(n: float) -> str:
    """A size in binary units, named as such: 512 B, 1.5 MiB."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def default_max_memory() -> int:
    """Half of the memory this process may use: the machine's, or the lowest
    limit of its cgroup (v2 or v1) and of that cgroup's parents (a container,
    a systemd unit); 2 GiB when none can be read. (A Dask worker's is passed.)"""
    limits, paths = [], []
    with contextlib.suppress(ValueError, OSError):
        limits.append(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    with contextlib.suppress(OSError, ValueError), open("/proc/self/cgroup") as f:
        for _, kinds, own in (line.rstrip("\n").split(":", 2) for line in f):
            if not kinds or "memory" in kinds.split(","):  # "0::/a/b": v2; "4:memory:/a": v1
                root, name = (("/sys/fs/cgroup", "memory.max") if not kinds else
                              ("/sys/fs/cgroup/memory", "memory.limit_in_bytes"))
                own_dir = PurePosixPath(own)
                paths += [f"{root}{d}/{name}" for d in (own_dir, *own_dir.parents)]
    for path in paths:
        with contextlib.suppress(OSError), open(path) as f:
            text = f.read().strip()
            if text.isdigit() and int(text) < 2**62:  # (v1 writes "no limit" as 2**63 - 4096)
                limits.append(int(text))
    return min(limits) // 2 if limits else 2 << 30


def pillow_error(exc: Exception, at_end: bool | None = None) -> FileError:
    """A Pillow exception as a per-file error, in Pillow's own words. at_end,
    for a header read: whether Pillow had read the whole file (its failure is
    then the file's end; if not, a field cut short is damage, not a cut)."""
    text = str(exc) or type(exc).__name__
    if at_end:  # (a struct.error's words, or Pillow's "broken PNG file (chunk b'')")
        return FileError("truncated", text if "runcated" in text else "the file ends early")
    if at_end is None and (isinstance(exc, EOFError) or "runcated" in text):
        return FileError("truncated", text)
    if "cannot handle" in text or "unknown" in text or "unsupported" in text.lower():
        return FileError("unsupported", text)
    return FileError("damaged", text)


def open_image(f, size: int) -> Image.Image:
    """Pillow's lazy open, JPEG and PNG only, failures in plain words."""
    if size == 0:
        raise FileError("empty", "empty file")
    try:
        return Image.open(f, formats=("JPEG", "PNG"))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise FileError("too large", str(exc)) from None
    except Image.UnidentifiedImageError:
        pass
    except Exception as exc:  # OSError("Truncated File Read"), ValueError...
        raise pillow_error(exc, f.tell() >= size) from None
    # Image.open drops the plugin's reason; ask the plugin that claims the
    # first bytes for it ("cannot handle 12-bit layers", ...).
    f.seek(0)
    head = f.read(16)
    for fmt in ("JPEG", "PNG"):
        factory, accept = Image.OPEN[fmt]
        if accept is not None and accept(head):
            f.seek(0)
            try:
                factory(f, None).close()
            except Exception as exc:  # SyntaxError, OSError, struct.error...
                raise pillow_error(exc, f.tell() >= size) from None
            raise FileError("damaged", "Pillow cannot read the header")
    raise FileError("not an image", "not a JPEG or PNG image")


def check_header(im: Image.Image, s: Settings, size: int) -> None:
    """Refuse what no engine converts faithfully, before a pixel is decoded."""
    w, h = im.size
    if w * h > s.max_pixels:
        raise FileError("too large", f"{w}x{h} = {w * h} pixels, limit is {s.max_pixels} "
                        "(max_pixels)")
    if max(w, h) > MAX_SIDE:
        raise FileError("too large", f"{w}x{h}: a side over {MAX_SIDE} pixels (JPEG's own limit)")
    # A real header followed by gigabytes: no image of w x h takes more than
    # 32 bytes a pixel plus its metadata, and both decoders would read it all.
    limit = 32 * w * h + 64 * MIB
    if size > limit:
        raise FileError("too large", f"the file is {human_bytes(size)}, more than a {w}x{h} "
                        f"image can take ({human_bytes(limit)})")
    if im.format in ("JPEG", "MPO") and not getattr(im, "quantization", None):
        # Lossless JPEGs (SOF3) have none: libjpeg-turbo 2.1 (Debian 12)
        # cannot decode them, so neither engine does.
        raise FileError("unsupported", "a JPEG without quantisation tables (lossless "
                        "JPEG, which libjpeg-turbo 2.1 cannot decode, or a damaged file)")
    if im.format == "PNG":
        if im.mode == "P" and im.palette is None:
            raise FileError("damaged", "a palette PNG without a palette (PLTE chunk)")
        if isinstance(t := im.info.get("transparency"), bytes) and len(t) > 256:  # Pillow raised
            raise FileError("damaged", "a palette PNG with over 256 transparent entries (tRNS)")
        if im.tile and "16" in str(im.tile[0][3]) and "transparency" in im.info:
            # Pillow reads 16-bit RGB as 8 bits a sample and cannot match a
            # 16-bit colour key: refused by both rather than drawn opaque.
            raise FileError("unsupported", "a 16-bit PNG with a transparent colour (tRNS)")


def orientation(im: Image.Image) -> int:
    """EXIF orientation (1..8) from the header, as Pillow's getexif reads it
    (JPEG APP1; PNG eXIf, EXIF text or XMP): a broken or oversized block means 1."""
    exif, raw = im.info.get("exif") or b"", im.info.get("Raw profile type exif") or ""
    if len(exif) > MAX_EXIF or len(raw) > 3 * MAX_EXIF:  # (hex text: 2 digits a byte, lines)
        return 1
    try:
        # Image.getexif, not PngImageFile.getexif: that one decodes the whole
        # image to look for an eXIf chunk after the pixels; this stays a
        # header read (and the Python engine follows the same decision).
        value = Image.Image.getexif(im).get(0x0112, 1)
    except Exception:  # any malformed EXIF: as stored
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def decide(im: Image.Image, source: str, destination: str, temp: str, size: int,
           s: Settings, buffered: bool = False) -> Job:
    """The job for an opened image whose header passed check_header. For a
    JPEG it calls im.draft, so an image the caller goes on to load decodes
    at the chosen scale."""
    w, h = im.size
    extra = coefficients(im) if buffered else 0  # (before im.draft changes im.size)
    o = orientation(im)
    # EXIF 5..8 swap the axes: the stored image fits the box transposed.
    ow, oh = fit(w, h, *((s.height, s.width) if o >= 5 else (s.width, s.height)))
    scale = 1
    fmt = "JPEG" if im.format == "MPO" else im.format  # MPO: a camera's JPEG, plus more
    if fmt == "JPEG" and s.draft and (ow, oh) != (w, h):
        # Decode at 1/2, 1/4 or 1/8 size, keeping at least twice the target
        # (Pillow's draft; the Go engine uses the same scale).
        drafted = im.draft(None, (2 * ow, 2 * oh))
        if drafted is not None:
            scale = round(w / drafted[1][2])
    # Metadata is held by the probe, then by either engine, read then kept: 4 times (5 for a
    # JPEG, parsed again by buffered); Pillow parses a JPEG's EXIF at each of the probe's two
    # opens: up to 30 B of objects a byte each (3.13t's; 17 on 3.11).
    extra += metadata(im) * (5 if fmt == "JPEG" else 4)
    extra += 60 * len(im.info.get("exif") or b"") if fmt == "JPEG" else 0
    need = memory_needed(w, h, scale, ow, oh, s.quantize and fmt == "PNG", size) + extra
    if need > s.memory_share:
        raise FileError("not enough memory", f"this {w}x{h} image needs about "
                        f"{human_bytes(need)}, one worker's share of max_memory is "
                        f"{human_bytes(s.memory_share)}")
    return Job(source, destination, temp, fmt, w, h, scale, ow, oh, o, size, need)


def buffered(f, im: Image.Image, head: bytes) -> bool:
    """Whether libjpeg decodes this JPEG into a buffer of the whole image's
    coefficients (jdinput.c, has_multiple_scans): a progressive one (its scans
    counted: thousands of repeated ones take minutes; djpeg -maxscans), or one
    whose first scan holds fewer components than the frame. Pillow's header read
    of head ends right after that scan's header: FF DA, length 6 + 2n, n, n
    selectors, 3 bytes (read again here: an MPO moves its file)."""
    if im.info.get("progressive"):
        f.seek(0)
        count, tail = 0, b""
        while chunk := f.read(1 << 20):
            count += (tail + chunk).count(b"\xff\xda")  # (0xFF is stuffed in entropy data)
            tail = chunk[-1:]
        if count > MAX_SCANS:
            raise FileError("damaged", f"more than {MAX_SCANS} scans (encoders write a dozen)")
        return True
    with JpegImagePlugin.JpegImageFile(io.BytesIO(head)) as jpeg:
        end, n = jpeg.fp.tell(), len(im.layer)
    return head[end - 8 - 2 * n:end][:5] != bytes((0xFF, 0xDA, 0, 6 + 2 * n, n))


def probe(source: str, destination: str, temp: str, s: Settings) -> Job:
    """Open, check and decide one file (for the Go engine: the file is closed
    again; Go opens it itself). Raises FileError."""
    f, st = _files.open_source(source)
    size = st.st_size
    try:
        with f:
            # Pillow reads HEADER_LIMIT bytes at most: it scans junk between JPEG
            # markers a byte at a time (a header, then gigabytes of zeros: an hour).
            try:
                head = f.read(HEADER_LIMIT)
            except OSError as exc:
                raise FileError("unreadable", _files.plain_error(exc)) from None
            try:
                im = open_image(bounded := io.BytesIO(head), size)
            except FileError:
                if bounded.tell() < HEADER_LIMIT:
                    raise
                raise FileError("damaged", "no image data in the first "
                                f"{human_bytes(HEADER_LIMIT)}") from None
            with im:
                if im.format in ("JPEG", "MPO") and not im.tile and bounded.tell() < HEADER_LIMIT:
                    raise FileError("truncated", "the file ends before its image data")
                check_header(im, s, size)
                job = decide(im, source, destination, temp, size, s,
                             im.format in ("JPEG", "MPO") and buffered(f, im, head))
                if im.format == "PNG" and im.get_format_mimetype() == "image/apng":
                    # An APNG: both write its first image, which Pillow decodes only if
                    # its frames are in order (libspng does not look): checked here, whole.
                    try:
                        f.seek(0)
                        with Image.open(f, formats=("PNG",)) as whole:
                            whole.load()
                    except Exception as exc:
                        raise pillow_error(exc) from None
            return dataclasses.replace(job, stamp=_files.stamp(st))
    except Exception as exc:  # a FileError; anything else is a bug, still this file's alone
        if not isinstance(exc, FileError):
            exc = FileError("internal error", f"{type(exc).__name__}: {exc}")
        exc.bytes_in = size  # the result reports the file's size even so
        raise exc from None

