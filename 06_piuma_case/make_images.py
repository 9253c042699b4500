"""Derive every image the step uses from the committed photos (images/*.jpg).

    python make_images.py OUT_DIR

OUT_DIR/products: product-sized photos (what a shop receives every day):
    jpeg/*.jpg    3200 px on the long side (a 12-megapixel camera has 4000), baseline,
                  quality 92, with some grain
    jpeg/progressive/*.jpg    progressive JPEGs
    jpeg/*-gray.jpg           a grayscale JPEG
    png/*.png                 cut-outs with a transparent background
OUT_DIR/fixtures/good: small files, one per case the engines must handle:
    EXIF orientations 1..8, CMYK (Adobe), grayscale, progressive,
    transparent PNG, palette PNG, gray PNG, EXIF in PNG, upper-case
    extension, nested folders, plus files that are not processed.
OUT_DIR/fixtures/bad: empty, truncated, garbage, decompression bombs.

    python make_images.py --scaling OUT_DIR N [N ...]

OUT_DIR/scale-N (for make bench only): N images, the product images again and
again (NNN/jpeg/..., NNN/png/...), as hard links to OUT_DIR/products (copies
where links are refused): 900 images cost no disk space. Neither engine keeps
anything from one file to the next, so a copy costs what a new photo of the
same size and kind would; only the disk reads of new photos are missing.

Deterministic (no randomness besides Pillow's fixed-seed noise) and only
Pillow is needed; nothing is downloaded. `--go-seeds DIR` writes the small
files of engine/testdata/seeds (lossless JPEGs, unusual sampling factors, PNG
metadata) that the Go tests and fuzz target start from.
"""

from __future__ import annotations

import io
import os
import shutil
import struct
import sys
import zlib
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw

HERE = Path(__file__).resolve().parent
PHOTOS = ("astronaut", "chelsea", "coffee", "rocket")

# Stored image = inverse of the transpose that EXIF orientation o asks for,
# so that a correct reader shows every orient-<o>.jpg like orient-1.jpg.
INVERSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,  # orientation 6 is undone by ROTATE_270
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def photo(name: str) -> Image.Image:
    with Image.open(HERE / "images" / f"{name}.jpg") as im:
        return im.convert("RGB")


def product_sized(im: Image.Image, long_side: int) -> Image.Image:
    """Upscale like a camera photo would be: smooth, plus sensor-like grain."""
    scale = long_side / max(im.size)
    big = im.resize((round(im.width * scale), round(im.height * scale)),
                    Image.Resampling.LANCZOS)
    noise = Image.effect_noise(big.size, 6).convert("RGB")
    return ImageChops.add(big, noise, scale=1.0, offset=-128)


def cutout(im: Image.Image) -> Image.Image:
    """The photo inside a soft-edged ellipse on a transparent background."""
    mask = Image.new("L", im.size, 0)
    ImageDraw.Draw(mask).ellipse((im.width * 0.08, im.height * 0.08,
                                  im.width * 0.92, im.height * 0.92), fill=255)
    out = im.convert("RGBA")
    out.putalpha(mask)
    return out


def jpeg_bytes(im: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "JPEG", **kw)
    return buf.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def bomb_png(width: int, height: int) -> bytes:
    """A valid PNG header claiming width x height, with a tiny IDAT."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit gray
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
            + png_chunk(b"IDAT", zlib.compress(b"\0" * 64)) + png_chunk(b"IEND", b""))


def bomb_jpeg(data: bytes, width: int, height: int) -> bytes:
    """A real JPEG whose frame header (SOF0) claims width x height."""
    i = data.index(b"\xff\xc0")
    # SOFn: marker, length (2), precision (1), height (2), width (2)
    return data[:i + 5] + struct.pack(">HH", height, width) + data[i + 9:]


# ---- JPEGs that Pillow cannot write: any sampling factors, 12-bit, lossless.
# Tiny encoders for tests: flat 8x8 blocks (DC coefficients only, which any
# baseline decoder must handle), and lossless (SOF3) with a chosen predictor.

def jpeg_segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


class _Bits:
    """Entropy-coded data: bits MSB first, 0xFF stuffed, padded with ones."""

    def __init__(self) -> None:
        self.out, self.acc, self.n = bytearray(), 0, 0

    def put(self, code: int, length: int) -> None:
        for i in range(length - 1, -1, -1):
            self.acc = (self.acc << 1) | ((code >> i) & 1)
            self.n += 1
            if self.n == 8:
                self.out.append(self.acc)
                if self.acc == 0xFF:
                    self.out.append(0)
                self.acc, self.n = 0, 0

    def flush(self) -> bytes:
        while self.n:
            self.put(1, 1)
        out = bytes(self.out)
        self.out = bytearray()
        return out


def _magnitude(bits: _Bits, d: int) -> None:
    """Huffman category (5-bit codes for 0..16) and the value's bits."""
    cat = 16 if d == -32768 else (0 if d == 0 else abs(d).bit_length())
    bits.put(cat, 5)
    if 0 < cat < 16:
        bits.put(d if d > 0 else d + (1 << cat) - 1, cat)


def _dht(table: int, symbols: int, length: int) -> bytes:
    counts = [0] * 16
    counts[length - 1] = symbols
    return bytes([table]) + bytes(counts) + bytes(range(symbols))


def dc_jpeg(w: int, h: int, comps: list[tuple[int, int, int]], sample, precision: int = 8,
            sof: int = 0xC0, extra: bytes = b"") -> bytes:
    """A baseline JPEG of flat 8x8 blocks. comps: (id, h, v) sampling factors;
    sample(c, x, y): the value of component c at (x, y) of that component's
    own grid (the block takes its mean). extra: segments after SOI."""
    hmax, vmax = max(c[1] for c in comps), max(c[2] for c in comps)
    out = b"\xff\xd8" + extra + jpeg_segment(0xDB, bytes([0]) + bytes([1] * 64))
    sofp = bytes([precision]) + struct.pack(">HHB", h, w, len(comps))
    sofp += b"".join(bytes([cid, hs << 4 | vs, 0]) for cid, hs, vs in comps)
    out += jpeg_segment(sof, sofp)
    out += jpeg_segment(0xC4, _dht(0x00, 16 if precision == 12 else 12, 5)
                        + bytes([0x10, 1] + [0] * 15) + b"\x00")  # AC: only EOB, code "0"
    out += jpeg_segment(0xDA, bytes([len(comps)]) + b"".join(bytes([c[0], 0]) for c in comps)
                        + bytes([0, 63, 0]))
    bits, pred, shift = _Bits(), [0] * len(comps), 1 << (precision - 1)

    def block(ci: int, bx: int, by: int) -> None:
        _, hs, vs = comps[ci]
        cw, ch = -(-w * hs // hmax), -(-h * vs // vmax)
        vals = [sample(ci, min(bx * 8 + i, cw - 1), min(by * 8 + j, ch - 1))
                for j in range(8) for i in range(8)]
        dc = round(8 * (sum(vals) / 64 - shift))
        _magnitude(bits, dc - pred[ci])
        pred[ci] = dc
        bits.put(0, 1)  # end of block

    if len(comps) == 1:
        for by in range(-(-h // 8)):
            for bx in range(-(-w // 8)):
                block(0, bx, by)
    else:
        for my in range(-(-h // (8 * vmax))):
            for mx in range(-(-w // (8 * hmax))):
                for ci, (_, hs, vs) in enumerate(comps):
                    for v in range(vs):
                        for u in range(hs):
                            block(ci, mx * hs + u, my * vs + v)
    return out + bits.flush() + b"\xff\xd9"


def lossless_jpeg(w: int, h: int, ncomp: int, sample, predictor: int = 1, ids=None,
                  restart_rows: int = 0, extra: bytes = b"", point_transform: int = 0) -> bytes:
    """A lossless JPEG (SOF3), 8-bit, no subsampling; sample(c, x, y) in 0..255."""
    ids = ids or list(range(1, ncomp + 1))
    pt = point_transform
    out = b"\xff\xd8" + extra
    out += jpeg_segment(0xC3, bytes([8]) + struct.pack(">HHB", h, w, ncomp)
                        + b"".join(bytes([i, 0x11, 0]) for i in ids))
    out += jpeg_segment(0xC4, _dht(0x00, 17, 5))
    if restart_rows:
        out += jpeg_segment(0xDD, struct.pack(">H", restart_rows * w))
    out += jpeg_segment(0xDA, bytes([ncomp]) + b"".join(bytes([i, 0]) for i in ids)
                        + bytes([predictor, 0, pt]))
    bits = _Bits()
    px = [[[sample(c, x, y) >> pt for x in range(w)] for y in range(h)] for c in range(ncomp)]
    first, rst = True, 0
    for y in range(h):
        if restart_rows and y and y % restart_rows == 0:
            out += bits.flush() + bytes([0xFF, 0xD0 + rst % 8])
            rst, first = rst + 1, True
        for x in range(w):
            for c in range(ncomp):
                p = px[c]
                if first and x == 0:
                    pr = 1 << (8 - pt - 1)
                elif first:
                    pr = p[y][x - 1]
                elif x == 0:
                    pr = p[y - 1][x]
                else:
                    a, b, d = p[y][x - 1], p[y - 1][x], p[y - 1][x - 1]
                    pr = {1: a, 2: b, 3: d, 4: a + b - d, 5: a + ((b - d) >> 1),
                          6: b + ((a - d) >> 1), 7: (a + b) >> 1}[predictor]
                diff = (p[y][x] - pr) & 0xFFFF
                _magnitude(bits, diff - 65536 if diff >= 32768 else diff)
        first = False
    return out + bits.flush() + b"\xff\xd9"


def write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def products(out: Path) -> None:
    for n, name in enumerate(PHOTOS):
        big = product_sized(photo(name), 3200)
        write(out / "jpeg" / f"{name}.jpg", jpeg_bytes(big, quality=92))
        if n % 2 == 0:
            write(out / "jpeg" / "progressive" / f"{name}-progressive.jpg",
                  jpeg_bytes(big, quality=90, progressive=True))
        if n in (1, 2):
            buf = io.BytesIO()
            cutout(product_sized(photo(name), 1600)).save(buf, "PNG")
            write(out / "png" / f"{name}-cutout.png", buf.getvalue())
    gray = product_sized(photo("astronaut"), 2800).convert("L")
    write(out / "jpeg" / "astronaut-gray.jpg", jpeg_bytes(gray, quality=90))


def fixtures(out: Path) -> None:
    good, bad = out / "good", out / "bad"
    cat = photo("chelsea")  # 451 x 300: not square, so rotations show
    base = jpeg_bytes(cat, quality=90)
    write(good / "baseline.jpg", base)
    write(good / "progressive.jpg", jpeg_bytes(cat, quality=90, progressive=True))
    write(good / "gray.jpg", jpeg_bytes(cat.convert("L"), quality=90))
    # Pillow writes CMYK JPEGs the Adobe way (inverted, APP14 marker).
    write(good / "cmyk.jpg", jpeg_bytes(cat.convert("CMYK"), quality=90))
    write(good / "UPPER.JPG", base)
    write(good / "nested" / "deeper" / "coffee.jpeg",
          jpeg_bytes(photo("coffee"), quality=85))
    for o in range(1, 9):
        stored = cat.transpose(INVERSE[o]) if o in INVERSE else cat
        exif = Image.Exif()
        exif[0x0112] = o
        write(good / "exif" / f"orient-{o}.jpg",
              jpeg_bytes(stored, quality=90, exif=exif.tobytes()))
    buf = io.BytesIO()
    cutout(cat).save(buf, "PNG")
    write(good / "transparent.png", buf.getvalue())
    buf = io.BytesIO()
    pal = cat.quantize(64)
    pal.info["transparency"] = 0  # palette entry 0 is transparent
    pal.save(buf, "PNG", transparency=0)
    write(good / "palette.png", buf.getvalue())
    buf = io.BytesIO()
    cat.convert("L").save(buf, "PNG")
    write(good / "gray.png", buf.getvalue())
    buf = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6
    cat.transpose(INVERSE[6]).save(buf, "PNG", exif=exif.tobytes())
    write(good / "exif" / "orient-6.png", buf.getvalue())
    # Not processed: other extensions.
    write(good / "notes.txt", b"not an image\n")
    write(good / "animation.gif", b"GIF89a")

    write(bad / "empty.jpg", b"")
    write(bad / "truncated.jpg", base[: len(base) * 6 // 10])
    png = (good / "gray.png").read_bytes()
    write(bad / "truncated.png", png[: len(png) * 6 // 10])
    write(bad / "garbage.jpg", b"this is a text file, not a JPEG\n" * 20)
    write(bad / "fake.png", bytes(range(256)) * 4)
    write(bad / "bomb.jpg", bomb_jpeg(base, 60000, 60000))
    write(bad / "bomb.png", bomb_png(40000, 40000))
    write(bad / "huge.png", bomb_png(2**31 - 1, 2**31 - 1))  # the largest size PNG allows


def scaling_set(out: Path, n: int) -> Path:
    """OUT/scale-<n>: n product images (hard links), made once."""
    products_dir = out / "products"
    if not products_dir.is_dir():
        products(products_dir)
    folder = out / f"scale-{n}"
    stamp = folder / ".complete"
    if stamp.is_file():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    files = sorted(p.relative_to(products_dir) for p in products_dir.rglob("*") if p.is_file())
    for i in range(n):
        rel = files[i % len(files)]
        target = folder / f"{i // len(files):03d}" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(products_dir / rel, target)
        except OSError:  # a file system without hard links
            shutil.copyfile(products_dir / rel, target)
    stamp.write_text(f"{n}\n")
    return folder


def lossless_sample(c: int, x: int, y: int) -> int:
    """The samples of the lossless seeds (engine/hostile_test.go checks them)."""
    return (37 * x + 11 * (c + 1) * y + 50 * c) % 256


def go_seeds(out: Path) -> None:
    """Seeds of the Go fuzz target and inputs of its tests (engine/testdata/
    seeds, committed): what Go's own encoders cannot write."""
    f = lossless_sample
    files = {
        "lossless-rgb-p1.jpg": lossless_jpeg(24, 10, 3, f),
        "lossless-rgb-p5-rst2.jpg": lossless_jpeg(24, 10, 3, f, predictor=5, restart_rows=2),
        "lossless-gray-p7-rst3.jpg": lossless_jpeg(24, 10, 1, f, predictor=7, restart_rows=3),
        "lossless-gray-p4-pt2.jpg": lossless_jpeg(24, 10, 1, f, predictor=4, point_transform=2),
        "lossless-gray-p6.jpg": lossless_jpeg(24, 10, 1, f, predictor=6),
        "lossless-gray-p2.jpg": lossless_jpeg(24, 10, 1, f, predictor=2),
        "lossless-gray-p3.jpg": lossless_jpeg(24, 10, 1, f, predictor=3),
        "sampling-1x2-2x1-1x1.jpg": dc_jpeg(64, 32, [(1, 1, 2), (2, 2, 1), (3, 1, 1)],
                                            lambda c, x, y: 100 + 20 * c + x),
        "sampling-4x1-1x1-1x1.jpg": dc_jpeg(64, 32, [(1, 1, 4), (2, 1, 1), (3, 1, 1)],
                                            lambda c, x, y: 60 + 40 * c + y),
    }
    exif = Image.Exif()
    exif[0x0112] = 6
    tiff = exif.tobytes()[6:]  # without "Exif\0\0"
    ihdr = png_chunk(b"IHDR", struct.pack(">IIBBBBB", 6, 4, 8, 6, 0, 0, 0))
    idat = png_chunk(b"IDAT", zlib.compress(b"".join(b"\0" + bytes(range(y, y + 24))
                                                     for y in range(4))))
    end = png_chunk(b"IEND", b"")
    hexed = "\nexif\n" + str(len(tiff)) + "\n" + tiff.hex()
    xmp = b'<x:xmpmeta><rdf:Description tiff:Orientation="8"/></x:xmpmeta>'
    for name, meta in {
        "exif-prefixed.png": png_chunk(b"eXIf", b"Exif\0\0" + tiff),
        "raw-profile.png": png_chunk(b"zTXt", b"Raw profile type exif\0\0"
                                     + zlib.compress(hexed.encode())),
        "xmp.png": png_chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0" + xmp),
        "text.png": png_chunk(b"tEXt", b"Comment\0hello") + png_chunk(
            b"iCCP", b"icc\0\0" + zlib.compress(b"\0" * 500)),
    }.items():
        files[name] = PNG_SIGNATURE + ihdr + meta + idat + end
    for name, data in files.items():
        write(out / name, data)


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[1] == "--go-seeds":
        go_seeds(Path(argv[2]))
        return 0
    if len(argv) >= 4 and argv[1] == "--scaling":
        for n in argv[3:]:
            print(f"{scaling_set(Path(argv[2]), int(n))}: {n} images")
        return 0
    if len(argv) != 2:
        print("usage: python make_images.py OUT_DIR\n"
              "       python make_images.py --go-seeds engine/testdata/seeds\n"
              "       python make_images.py --scaling OUT_DIR N [N ...]", file=sys.stderr)
        return 2
    out = Path(argv[1])
    products(out / "products")
    fixtures(out / "fixtures")
    print(f"images written under {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
