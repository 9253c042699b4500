"""Headers, metadata limits and EXIF orientation, read from the file's bytes.

The same rules, in the same words, as the Go engine's engine/probe.go,
engine/pngscan.go and engine/exif.go (a line-by-line port): both engines read
a file's header before the file itself (its size decides whether the file may
be read and decoded at all), refuse damaged headers and metadata bombs alike,
and take the EXIF orientation from the same places with Pillow's rules.
"""

from __future__ import annotations

import contextlib
import re
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

# Pillow's PngImagePlugin.MAX_TEXT_CHUNK and MAX_TEXT_MEMORY.
MAX_TEXT_CHUNK = 1 << 20
MAX_TEXT_MEMORY = 64 << 20


class HeaderError(Exception):
    """A damaged or unsupported header: the message is the per-file error."""


ReadAt = Callable[[int, int], bytes]  # (offset, size) -> at most size bytes


# ------------------------------------------------------------------ JPEG

@dataclass
class JpegInfo:
    width: int = 0
    height: int = 0
    precision: int = 0
    sof: int = 0  #: frame marker: 0xC0 baseline ... 0xC3 lossless ...
    comps: list[tuple[int, int, int]] = field(default_factory=list)  #: (id, h, v)
    jfif: bool = False
    adobe: bool = False
    transform: int = 0

    @property
    def progressive(self) -> bool:
        return self.sof in (0xC2, 0xC6, 0xCA, 0xCE)

    def check(self) -> None:
        """Refuse what neither engine decodes (engine/probe.go's check)."""
        if self.sof == 0xDE:
            raise HeaderError("cannot decode JPEG: hierarchical JPEG is not supported")
        if self.precision != 8:
            raise HeaderError(f"cannot decode JPEG: {self.precision}-bit samples are not "
                              "supported (only 8-bit)")
        if len(self.comps) not in (1, 3, 4):
            raise HeaderError(f"cannot decode JPEG: {len(self.comps)} colour components are "
                              "not supported (only 1, 3 or 4)")
        for _, h, v in self.comps:
            if not (1 <= h <= 4 and 1 <= v <= 4):
                raise HeaderError(f"cannot decode JPEG: invalid sampling factors {h}x{v}")
        if self.sof == 0xC3:
            # What libjpeg-turbo 3 decodes for Pillow (and the Go engine's
            # decoder too): gray or RGB, full resolution; libjpeg-turbo refuses
            # to convert YCbCr (JFIF, Adobe's transform) to RGB in lossless mode.
            if len(self.comps) not in (1, 3):
                raise HeaderError(f"cannot decode JPEG: lossless JPEG with {len(self.comps)} "
                                  "components is not supported (only 1 or 3)")
            if any((h, v) != (1, 1) for _, h, v in self.comps):
                raise HeaderError("cannot decode JPEG: lossless JPEG with subsampled components "
                                  "is not supported")
            if len(self.comps) == 3 and (self.jfif or (self.adobe and self.transform != 0)):
                raise HeaderError("cannot decode JPEG: lossless JPEG in YCbCr is not supported "
                                  "(converting it to RGB would lose the losslessness)")


def _marker_known(m: int) -> tuple[bool, bool]:
    """Pillow's JpegImagePlugin.MARKER: (known, followed by a segment)."""
    if 0xC0 <= m <= 0xCF and m != 0xC8:
        return True, True
    if m == 0xC8 or 0xD0 <= m <= 0xD9 or 0xF0 <= m <= 0xFD:
        return True, False
    if 0xDA <= m <= 0xDF or 0xE0 <= m <= 0xEF or m == 0xFE:
        return True, True
    return False, False


TRUNCATED_JPEG = "cannot decode JPEG: the file ends before the image header (truncated)"
# Bytes between two segments skipped looking for the next marker (Pillow and
# libjpeg skip any number): enough for padding, not gigabytes of zeros.
MAX_JUNK = 64 << 10


class _Reader:
    """Sequential reads over read_at, 4 KiB at a time."""

    def __init__(self, read_at: ReadAt, start: int, size: int) -> None:
        self.read_at, self.pos, self.size = read_at, start, size
        self.buf, self.i = b"", 0

    @property
    def offset(self) -> int:
        """Where the next byte comes from in the file."""
        return self.pos - len(self.buf) + self.i

    def byte(self) -> int:
        if self.i >= len(self.buf):
            if self.pos >= self.size:
                raise HeaderError(TRUNCATED_JPEG)
            self.buf = self.read_at(self.pos, min(4096, self.size - self.pos))
            if not self.buf:
                raise HeaderError(TRUNCATED_JPEG)
            self.pos += len(self.buf)
            self.i = 0
        b = self.buf[self.i]
        self.i += 1
        return b

    def read(self, n: int) -> bytes:
        out = bytearray()
        while len(out) < n:
            if self.i >= len(self.buf):
                self.byte()  # refill (raises at the end)
                self.i -= 1
            take = min(n - len(out), len(self.buf) - self.i)
            out += self.buf[self.i:self.i + take]
            self.i += take
        return bytes(out)

    def skip(self, n: int) -> None:
        left = len(self.buf) - self.i
        if n <= left:
            self.i += n
            return
        n -= left
        self.buf, self.i = b"", 0
        if self.pos + n > self.size:
            raise HeaderError(TRUNCATED_JPEG)
        self.pos += n


def walk_jpeg(read_at: ReadAt, size: int,
              visit: Callable[[int, bytes, int], None] | None = None) -> JpegInfo:
    """Walk the markers as Pillow does, up to the first scan (walkJPEG);
    visit(marker, segment, offset of the segment) sees every APPn segment."""
    if size < 2:
        raise HeaderError(TRUNCATED_JPEG)
    r = _Reader(read_at, 2, size)
    info = JpegInfo()
    seen_sof = False
    b = r.byte()
    junk = 0
    while True:
        if b != 0xFF:  # junk before a marker: skipped, as Pillow does, up to a point
            junk += 1
            if junk > MAX_JUNK:
                raise HeaderError("cannot decode JPEG: no marker where the header continues "
                                  "(damaged header)")
            b = r.byte()
            continue
        junk = 0
        m = r.byte()
        if m == 0xFF:  # fill byte
            b = 0xFF
            continue
        if m == 0x00:  # an escaped 0xFF: junk
            b = r.byte()
            continue
        known, segment = _marker_known(m)
        if not known:
            raise HeaderError(f"cannot decode JPEG: unknown marker 0x{m:02X} before the "
                              "image data")
        if not segment:
            if m == 0xD8:
                raise HeaderError("cannot decode JPEG: a second start-of-image marker before "
                                  "the image data")
            if m == 0xD9:
                raise HeaderError("cannot decode JPEG: the image ends before its header "
                                  "(no frame)")
            b = r.byte()
            continue
        n = struct.unpack(">H", r.read(2))[0] - 2
        if n < 0:
            raise HeaderError(f"cannot decode JPEG: invalid length of segment 0x{m:02X}")
        if m == 0xDA:
            if not seen_sof:
                raise HeaderError("cannot decode JPEG: image data before the image header "
                                  "(no frame)")
            return info
        is_sof = (0xC0 <= m <= 0xCF and m not in (0xC4, 0xCC)) or m == 0xDE
        is_app = 0xE0 <= m <= 0xEF
        if (is_sof or (is_app and visit is not None) or (m == 0xE0 and n >= 14)
                or (m == 0xEE and n >= 12)):
            at = r.offset
            seg = r.read(n)
            if is_sof:
                if seen_sof:
                    raise HeaderError("cannot decode JPEG: two frame headers (hierarchical "
                                      "JPEG is not supported)")
                _parse_sof(info, m, seg)
                seen_sof = True
            elif m == 0xE0 and n >= 14 and seg[:5] == b"JFIF\x00":  # libjpeg's test
                info.jfif = True
            elif m == 0xEE and n >= 12 and seg[:5] == b"Adobe":
                info.adobe, info.transform = True, seg[11]
            if is_app and visit is not None:
                visit(m, seg, at)
        else:
            r.skip(n)
        b = r.byte()


def _parse_sof(info: JpegInfo, m: int, s: bytes) -> None:
    if len(s) < 6:
        raise HeaderError("cannot decode JPEG: the frame header is too short")
    info.sof = m
    info.precision = s[0]
    info.height, info.width = struct.unpack(">HH", s[1:5])
    nc = s[5]
    if len(s) < 6 + 3 * nc:
        raise HeaderError("cannot decode JPEG: the frame header is too short")
    info.comps = [(s[6 + 3 * i], s[7 + 3 * i] >> 4, s[7 + 3 * i] & 15) for i in range(nc)]


def probe_jpeg(read_at: ReadAt, size: int) -> JpegInfo:
    return walk_jpeg(read_at, size)


# ------------------------------------------------------------------ PNG

@dataclass
class PngInfo:
    width: int
    height: int
    depth: int
    color_type: int
    interlace: int

    @property
    def channels(self) -> int:
        return {0: 1, 3: 1, 4: 2, 2: 3}.get(self.color_type, 4)


_PNG_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}


def probe_png(read_at: ReadAt, size: int) -> PngInfo:
    """The IHDR chunk, which must come first (probePNG)."""
    hdr = read_at(0, 33)
    if len(hdr) < 33:
        raise HeaderError("cannot decode PNG: the file ends before the image header (truncated)")
    if hdr[12:16] != b"IHDR" or struct.unpack(">I", hdr[8:12])[0] != 13:
        raise HeaderError("cannot decode PNG: the image header (IHDR) is missing or malformed")
    if zlib.crc32(hdr[12:29]) != struct.unpack(">I", hdr[29:33])[0]:
        raise HeaderError("cannot decode PNG: the image header is damaged (checksum mismatch)")
    w, h = struct.unpack(">II", hdr[16:24])
    p = PngInfo(w, h, hdr[24], hdr[25], hdr[28])
    if p.depth not in _PNG_DEPTHS.get(p.color_type, ()):
        raise HeaderError(f"cannot decode PNG: unsupported bit depth {p.depth} for colour "
                          f"type {p.color_type}")
    if p.interlace > 1:
        raise HeaderError(f"cannot decode PNG: unknown interlace method {p.interlace}")
    return p


PNG_TRUNCATED = "cannot decode PNG: the file ends before the end of the image (truncated)"


def _inflate_limited(data: bytes, what: str) -> bytes | None:
    """Pillow's _safe_zlib_decompress; None for a corrupt stream (inflateLimited)."""
    d = zlib.decompressobj()
    try:
        out = d.decompress(data, MAX_TEXT_CHUNK + 1)  # one byte more: exactly 1 MiB is fine
    except zlib.error:
        return None
    if len(out) > MAX_TEXT_CHUNK:
        raise HeaderError(f"cannot decode PNG: the compressed {what} metadata expands to more "
                          "than 1 MiB (metadata bomb?)")
    return out


@dataclass
class Meta:
    """The orientation sources of one file (imageMeta)."""

    exif: bytes | None = None
    exif_offsets: list[int] = field(default_factory=list)  # JPEG: where the Exif segments are
    exif_broken: bool = False
    raw_profile: bytes | None = None
    xmp: bytes | None = None
    xmp_raw: bytes | None = None
    exif_set: bool = False

    def set(self, key: str, value: bytes, is_str: bool) -> None:
        if key == "exif":
            self.exif_set = True
            self.exif, self.exif_broken = value, is_str
        elif key == "Raw profile type exif":
            self.raw_profile = value
        elif key == "XML:com.adobe.xmp":
            self.xmp = value

    def orientation(self) -> int:
        exif, state, o = self.exif, ABSENT, 1
        if exif is None and self.raw_profile is not None:
            exif = raw_profile_bytes(self.raw_profile)
            if exif is None:
                return 1  # Pillow's bytes.fromhex raises
        if self.exif_broken:
            return 1
        if exif is not None:
            o, state = tiff_orientation(exif)
        if state != ABSENT:
            return o
        v = xmp_orientation(self.xmp or self.xmp_raw or b"")
        return v if 1 <= v <= 8 else 1


def scan_png(data: bytes) -> Meta:
    """Chunk structure, CRCs, metadata limits and orientation sources (scanPNG)."""
    pre, full = Meta(), Meta()
    pos, text_memory = len(PNG_MAGIC), 0
    seen_idat = seen_iend = False
    actl_frames, fctl_before_idat, animated, stopped = 0, False, False, False
    n = len(data)
    while not seen_iend:
        if pos + 8 > n:
            raise HeaderError(PNG_TRUNCATED)
        length = struct.unpack(">I", data[pos:pos + 4])[0]
        typ = data[pos + 4:pos + 8]
        if not all(65 <= c <= 90 or 97 <= c <= 122 for c in typ):
            raise HeaderError(f"cannot decode PNG: damaged chunk structure at byte {pos} "
                              "(invalid chunk type)")
        if length > 2**31 - 1 or pos + 12 + length > n:
            raise HeaderError(PNG_TRUNCATED)
        body = data[pos + 8:pos + 8 + length]
        crc = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0]
        if zlib.crc32(body, zlib.crc32(typ)) != crc:
            raise HeaderError("cannot decode PNG: damaged data (checksum mismatch in the "
                              f"{typ.decode()} chunk)")
        pos += 12 + length
        name = typ.decode()
        if name == "IDAT":
            if not seen_idat:
                animated = actl_frames > 1 or (actl_frames == 1 and not fctl_before_idat)
            seen_idat = True
            continue
        if name == "IEND":
            seen_iend = True
            continue
        if name == "fcTL":
            if not seen_idat:
                fctl_before_idat = True
            elif animated:
                stopped = True  # Pillow stops reading at the next frame
        elif name == "acTL" and not stopped:
            if length < 8:
                raise HeaderError("cannot decode PNG: damaged animation control (acTL) chunk")
            if actl_frames != 0:  # a second acTL: Pillow forgets the animation
                actl_frames = 0
            else:
                frames = struct.unpack(">I", body[:4])[0]
                if 0 < frames <= 0x80000000:
                    actl_frames = frames
        key, value, is_str, has_text = "", b"", False, False
        if name == "tEXt":
            k, _, v = body.partition(b"\0")
            if k:
                key, value, has_text = k.decode("latin-1"), v, True
                text_memory += len(v)
        elif name == "zTXt":
            k, _, v = body.partition(b"\0")
            if v and v[0] != 0:
                raise HeaderError(f"cannot decode PNG: unknown compression method {v[0]} in a "
                                  "zTXt chunk")
            text = b""
            if v:
                out = _inflate_limited(v[1:], "zTXt")
                if out is not None:
                    text = out
            if k:
                key, value, is_str, has_text = k.decode("latin-1"), text, True, True
                text_memory += len(text)
        elif name == "iTXt":
            k, found, r = body.partition(b"\0")
            parts = r[2:].split(b"\0", 2) if found and len(r) >= 2 else []
            if len(parts) == 3:
                flag, method = r[0], r[1]
                lang, tk, v = parts
                ok = True
                if flag != 0:
                    out = _inflate_limited(v, "iTXt") if method == 0 else None
                    ok = out is not None
                    v = out or b""
                if ok:
                    if k == b"XML:com.adobe.xmp" and not stopped:
                        full.xmp_raw = v
                        if not seen_idat:
                            pre.xmp_raw = v
                    try:
                        lang.decode("utf-8")
                        tk.decode("utf-8")
                        v_str = v.decode("utf-8")
                    except UnicodeDecodeError:
                        pass
                    else:
                        key, value, is_str, has_text = k.decode("latin-1"), v, True, True
                        text_memory += len(v_str)
        elif name == "iCCP":
            i = body.find(b"\0")  # -1: Pillow reads the method from byte 0
            if i + 1 >= len(body):
                raise HeaderError("cannot decode PNG: damaged iCCP (colour profile) chunk")
            if body[i + 1] != 0:
                raise HeaderError(f"cannot decode PNG: unknown compression method {body[i + 1]} "
                                  "in the iCCP (colour profile) chunk")
            _inflate_limited(body[i + 2:], "iCCP (colour profile)")
        elif name == "eXIf" and not stopped:
            full.set("exif", b"Exif\x00\x00" + body, False)
            if not seen_idat:
                pre.set("exif", b"Exif\x00\x00" + body, False)
        if text_memory > MAX_TEXT_MEMORY:
            raise HeaderError("cannot decode PNG: more than 64 MiB of text metadata")
        if has_text and not stopped:
            full.set(key, value, is_str)
            if not seen_idat:
                pre.set(key, value, is_str)
    if not seen_idat:
        raise HeaderError("cannot decode PNG: no image data (IDAT chunk)")
    # Pillow reads the chunks after the image data only when those before
    # it have no "exif" value (PngImageFile.getexif loads the image then).
    return pre if pre.exif_set else full


PNG_SHORT = "cannot decode PNG: damaged image data (not enough pixel data)"
_ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
          (0, 1, 1, 2)]  # x0, y0, dx, dy of each pass


def png_raw_size(p: PngInfo) -> int:
    """Bytes the image data must inflate to: each row's filter byte and pixels."""
    bits = p.depth * p.channels

    def rows(w: int, h: int) -> int:
        return 0 if w == 0 else h * (1 + (w * bits + 7) // 8)
    if p.interlace != 1:
        return rows(p.width, p.height)
    return sum(rows((p.width - x0 + dx - 1) // dx, (p.height - y0 + dy - 1) // dy)
               for x0, y0, dx, dy in _ADAM7)


def _inflated(parts: list[memoryview], wbits: int = zlib.MAX_WBITS) -> tuple[int, bool]:
    """How many bytes the stream in parts inflates to, and whether it ends.
    Counted, not kept: at most 64 KiB of input and 1 MiB of output at a time
    (no copy of the file's data, which the memory estimate does not count)."""
    d, got = zlib.decompressobj(wbits), 0
    for part in parts:
        for i in range(0, len(part), 1 << 16):
            buf = part[i:i + (1 << 16)]
            while buf and not d.eof:
                got += len(d.decompress(buf, 1 << 20))
                buf = d.unconsumed_tail
            if d.eof:
                return got, True
    return got, d.eof


def check_png_data(data: bytes, p: PngInfo) -> None:
    """The image data holds every row, and its zlib stream ends with a right
    checksum, as the Go engine checks (image/png, or its own inflate loop).
    Pillow fills the rows that a short but well-ended stream leaves out with
    zeros and reports success, and stops reading once it has every row. The
    inflated bytes are counted, not kept (about 30 ms for a 1600x1067 RGBA
    PNG here). A stream broken otherwise is left to Pillow's own error."""
    need, pos, parts, view = png_raw_size(p), len(PNG_MAGIC), [], memoryview(data)
    while pos + 8 <= len(data) and data[pos + 4:pos + 8] != b"IEND":
        length = struct.unpack(">I", data[pos:pos + 4])[0]
        if data[pos + 4:pos + 8] == b"IDAT":
            parts.append(view[pos + 8:pos + 8 + length])
        pos += 12 + length
    try:
        got, ended = _inflated(parts)
    except zlib.error as exc:
        if "incorrect data check" not in str(exc):
            return  # a broken stream: Pillow says so itself
        raw, skip = [], 2  # the same data as raw deflate (no zlib header): no check
        for part in parts:
            raw.append(part[skip:])
            skip = max(0, skip - len(part))
        got, _ = _inflated(raw, -zlib.MAX_WBITS)
        if got >= need:
            raise HeaderError("cannot decode PNG: damaged image data (zlib: invalid "
                              "checksum)") from None
        raise HeaderError(PNG_SHORT) from None
    if got < need and not ended:
        return  # the data stops mid-stream: Pillow reports the file truncated
    if got < need or not ended:  # too few rows, or no end (checksum) after the last one
        raise HeaderError(PNG_SHORT)


# ---------------------------------------------------------- orientation

ABSENT, FOUND, BROKEN = 0, 1, 2

# TIFF field types and their sizes, as Pillow loads them.
_TIFF_TYPE_SIZE = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8,
                   13: 4, 16: 8}
# The types Pillow turns into an int, and their struct formats.
_TIFF_INT = {3: "H", 4: "L", 6: "b", 8: "h", 9: "l", 13: "L", 16: "Q"}


def tiff_orientation(data: bytes) -> tuple[int, int]:
    """(orientation, state) from IFD0 of an EXIF block (tiffOrientation)."""
    for _ in range(2):
        if data.startswith(b"Exif\x00\x00"):
            data = data[6:]
    if not data:
        return 1, ABSENT
    if len(data) < 8:
        return 1, BROKEN
    prefix = data[:4]
    if prefix in (b"II*\x00", b"II\x00*"):
        bo = "<"
    elif prefix in (b"MM\x00*", b"MM*\x00"):
        bo = ">"
    else:  # not TIFF, or BigTIFF (whose 8-byte header Pillow cannot read here)
        return 1, BROKEN
    end = len(data)
    pos = struct.unpack(bo + "L", data[4:8])[0]
    if pos + 2 > end:
        return 1, ABSENT
    count = struct.unpack(bo + "H", data[pos:pos + 2])[0]
    total = 0
    seen: set[int] = set()
    for k in range(count):
        e = pos + 2 + 12 * k
        if e + 12 > end:
            break
        tag, typ, n = struct.unpack(bo + "HHL", data[e:e + 8])
        if tag in seen:
            continue  # the first readable entry of a tag wins
        unit = _TIFF_TYPE_SIZE.get(typ)
        if unit is None:
            continue  # unknown type: skipped
        size = n * unit
        val = data[e + 8:e + 12]
        if size > 4:
            off = struct.unpack(bo + "L", val)[0]
            total += size
            if total > end:
                continue  # more data than the block holds: skipped
            if off + size > end:
                break  # Pillow's read fails: the directory ends here
            val = data[off:off + size]
        else:
            val = val[:size]
        if size == 0:
            continue
        seen.add(tag)
        if tag != 0x0112:
            continue
        fmt = _TIFF_INT.get(typ)
        if fmt is None:
            return 1, FOUND  # bytes, text, rational or float: not an orientation
        v = struct.unpack(bo + fmt, val[:struct.calcsize(bo + fmt)])[0]
        return (v if 1 <= v <= 8 else 1), FOUND
    return 1, ABSENT


_XMP_ORIENTATION = re.compile(rb'tiff:Orientation(?:="|>)([0-9])')


def xmp_orientation(xmp: bytes) -> int:
    m = _XMP_ORIENTATION.search(xmp)
    return int(m[1]) if m else 0


_HEX_SPACE = b" \t\n\r\x0b\x0c"


def raw_profile_bytes(text: bytes) -> bytes | None:
    """ImageMagick's "Raw profile type exif" text -> bytes, None if not hex."""
    lines = text.split(b"\n")
    if len(lines) <= 3:
        return b""
    hexdigits = b"".join(lines[3:])
    out = bytearray()
    i = 0
    while i < len(hexdigits):
        if hexdigits[i] in _HEX_SPACE:
            i += 1
            continue
        pair = hexdigits[i:i + 2]
        if len(pair) < 2 or not all(c in b"0123456789abcdefABCDEF" for c in pair):
            return None
        out.append(int(pair, 16))
        i += 2
    return bytes(out)


_XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"


def jpeg_meta(data: bytes) -> Meta:
    """EXIF block (Exif segments joined) and last XMP packet of a JPEG (jpegMeta)."""
    m = Meta()

    def visit(marker: int, seg: bytes, offset: int) -> None:
        if marker != 0xE1:
            return
        if seg.startswith(b"Exif\x00\x00"):
            m.exif = seg if m.exif is None else m.exif + seg[6:]
            m.exif_offsets.append(offset)
        elif seg.startswith(_XMP_HEADER):
            m.xmp = seg[len(_XMP_HEADER):]

    def read_at(off: int, size: int) -> bytes:
        return data[off:off + size]

    with contextlib.suppress(HeaderError):
        walk_jpeg(read_at, len(data), visit)
    return m


def without_exif(data: bytes, meta: Meta) -> bytes:
    """The JPEG with its Exif segments renamed ("Exif" -> "exif"), for Pillow:
    Pillow reads EXIF when it opens a JPEG (for its resolution) and warns
    about a damaged block, and a warning is an error where warnings are
    errors (pytest here): the engine has read the orientation already, and
    outputs carry no metadata."""
    if not meta.exif_offsets:
        return data
    parts, last = [], 0
    for off in meta.exif_offsets:
        parts += [data[last:off], b"e"]
        last = off + 1
    parts.append(data[last:])
    return b"".join(parts)


def orientation(data: bytes, is_png: bool) -> int:
    """EXIF orientation of an image file's bytes: 1 to 8, 1 when absent."""
    if is_png:
        try:
            return scan_png(data).orientation()
        except HeaderError:
            return 1
    return jpeg_meta(data).orientation()
