"""Derive every image the step uses from the committed photos (images/*.jpg).

    python make_images.py OUT_DIR

OUT_DIR/products: what a shop receives every day: JPEGs of 3200 px on the long
    side (a 12-megapixel camera has 4000), baseline quality 92 with some grain,
    two progressive, one grayscale; PNG cut-outs with a transparent background.
OUT_DIR/fixtures/good: small files, one per case the engines must handle: EXIF
    orientations 1..8, CMYK (Adobe), grayscale, progressive, transparent,
    palette and gray PNGs, EXIF in a PNG, an upper-case extension, nested
    folders, and files that are not processed.
OUT_DIR/fixtures/bad: empty, truncated, garbage, decompression bombs.

Deterministic (Pillow's noise has a fixed seed); only Pillow, nothing downloaded.
"""

from __future__ import annotations

import io
import struct
import sys
import zlib
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw

HERE = Path(__file__).resolve().parent
PHOTOS = ("astronaut", "chelsea", "coffee", "rocket")

# Stored image = inverse of the transpose that EXIF orientation o asks for,
# so that a correct reader shows every orient-<o>.jpg like orient-1.jpg.
T = Image.Transpose
INVERSE = {2: T.FLIP_LEFT_RIGHT, 3: T.ROTATE_180, 4: T.FLIP_TOP_BOTTOM, 5: T.TRANSPOSE,
           6: T.ROTATE_90, 7: T.TRANSVERSE, 8: T.ROTATE_270}  # 6 is undone by ROTATE_270


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


def exif(orientation: int) -> bytes:
    tags = Image.Exif()
    tags[0x0112] = orientation
    return tags.tobytes()


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


def write(path: Path, data: bytes | Image.Image, fmt: str = "JPEG", **kw) -> bytes:
    """Write data, an image saved as fmt with Pillow's options kw; the bytes."""
    if isinstance(data, Image.Image):
        buf = io.BytesIO()
        data.save(buf, fmt, **kw)
        data = buf.getvalue()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


def products(out: Path) -> None:
    for n, name in enumerate(PHOTOS):
        big = product_sized(photo(name), 3200)
        write(out / "jpeg" / f"{name}.jpg", big, quality=92)
        if n % 2 == 0:
            write(out / "jpeg" / "progressive" / f"{name}-progressive.jpg", big, quality=90,
                  progressive=True)
        if n in (1, 2):
            write(out / "png" / f"{name}-cutout.png", cutout(product_sized(photo(name), 1600)),
                  "PNG")
    gray = product_sized(photo("astronaut"), 2800).convert("L")
    write(out / "jpeg" / "astronaut-gray.jpg", gray, quality=90)


def fixtures(out: Path) -> None:
    good, bad = out / "good", out / "bad"
    cat = photo("chelsea")  # 451 x 300: not square, so rotations show
    base = write(good / "baseline.jpg", cat, quality=90)
    write(good / "progressive.jpg", cat, quality=90, progressive=True)
    write(good / "gray.jpg", cat.convert("L"), quality=90)
    # Pillow writes CMYK JPEGs the Adobe way (inverted, APP14 marker).
    write(good / "cmyk.jpg", cat.convert("CMYK"), quality=90)
    write(good / "UPPER.JPG", base)
    write(good / "nested" / "deeper" / "coffee.jpeg", photo("coffee"), quality=85)
    for o in range(1, 9):
        write(good / "exif" / f"orient-{o}.jpg", cat.transpose(INVERSE[o]) if o in INVERSE else cat,
              quality=90, exif=exif(o))
    write(good / "transparent.png", cutout(cat), "PNG")
    write(good / "palette.png", cat.quantize(64), "PNG", transparency=0)  # entry 0: transparent
    png = write(good / "gray.png", cat.convert("L"), "PNG")
    write(good / "exif" / "orient-6.png", cat.transpose(INVERSE[6]), "PNG", exif=exif(6))
    # Not processed: other extensions.
    write(good / "notes.txt", b"not an image\n")
    write(good / "animation.gif", b"GIF89a")

    write(bad / "empty.jpg", b"")
    write(bad / "truncated.jpg", base[: len(base) * 6 // 10])
    write(bad / "truncated.png", png[: len(png) * 6 // 10])
    write(bad / "garbage.jpg", b"this is a text file, not a JPEG\n" * 20)
    write(bad / "fake.png", bytes(range(256)) * 4)
    write(bad / "bomb.jpg", bomb_jpeg(base, 60000, 60000))
    write(bad / "bomb.png", bomb_png(40000, 40000))
    write(bad / "huge.png", bomb_png(2**31 - 1, 2**31 - 1))  # the largest size PNG allows


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: python make_images.py OUT_DIR", file=sys.stderr)
        sys.exit(2)
    products(Path(sys.argv[1], "products"))
    fixtures(Path(sys.argv[1], "fixtures"))
    print(f"images written under {sys.argv[1]}")
