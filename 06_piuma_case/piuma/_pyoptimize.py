"""The Python engine's in-process optimiser: what the Go engine does, in Python.

JPEG: Pillow's ``optimize=True`` (libjpeg's optimize_coding, the optimised
Huffman tables jpegoptim writes), passed to the encoder by _pyengine.convert.
PNG: libimagequant through the PyPI ``imagequant`` binding (cffi; its wheel
bundles libimagequant 2.15, GPL-3.0-or-later), called with pngquant's
defaults exactly as engine/quantize.go calls it, then Pillow writes the
palette PNG, and pngquant's --skip-if-larger rule decides which file to keep.

The binding's own helper (imagequant.quantize_raw_rgba_bytes) cannot set the
speed or the gamma and does not report the quality that rule needs, so this
module uses the binding's cffi library directly. cffi releases the GIL during
every C call: two Python threads quantise two images at once.
"""

from __future__ import annotations

import io
import math

from PIL import Image

GAMMA = 0.45455  # pngquant's assumption for a PNG without gAMA (ours have none)
SPEED = 4  # pngquant's default


def _lib():
    try:
        from imagequant import ffi, lib
    except ImportError as exc:
        raise ImportError(
            "the Python engine's in-process optimiser needs the imagequant package "
            "(pip install imagequant), or use optimizer='tools'") from exc
    return ffi, lib


def check_available() -> None:
    """ImportError now rather than one per file later."""
    _lib()


def keep_quantized(quantized: int, true_color: int, quality: int) -> bool:
    """pngquant 2.17's --skip-if-larger rule (engine/pngenc.go keepQuantized)."""
    expected = max(0.5, math.pow(quality / 100, 1.5))
    limit = int((true_color - 1) * expected)  # C's double -> size_t truncates
    return quantized <= limit and quantized < true_color


def quantize(im: Image.Image) -> tuple[bytes, list[tuple[int, int, int, int]], int]:
    """Palette indices, RGBA palette and libimagequant's quality (0..100)."""
    ffi, lib = _lib()
    rgba = im.convert("RGBA")
    w, h = rgba.size
    pixels = rgba.tobytes()
    attr = lib.liq_attr_create()
    if attr == ffi.NULL:
        raise MemoryError("libimagequant: cannot allocate")
    img = ffi.NULL
    res = ffi.new("liq_result **")
    try:
        if lib.liq_set_speed(attr, SPEED) != lib.LIQ_OK:
            raise RuntimeError("libimagequant: bad speed")
        img = lib.liq_image_create_rgba(attr, pixels, w, h, GAMMA)
        if img == ffi.NULL:
            raise MemoryError("libimagequant: cannot allocate")
        err = lib.liq_image_quantize(img, attr, res)
        if err != lib.LIQ_OK:
            raise RuntimeError(f"libimagequant failed: error {err}")
        lib.liq_set_output_gamma(res[0], GAMMA)
        lib.liq_set_dithering_level(res[0], 1.0)
        # pngquant reads the palette before remapping; that rounds the float
        # palette the remap starts from (see engine/quantize.go).
        lib.liq_get_palette(res[0])
        out = ffi.new("char[]", w * h)
        err = lib.liq_write_remapped_image(res[0], img, out, w * h)
        if err != lib.LIQ_OK:
            raise RuntimeError(f"libimagequant failed: error {err}")
        pal = lib.liq_get_palette(res[0])
        palette = [(c.r, c.g, c.b, c.a) for c in pal.entries[0:pal.count]]
        quality = (lib.liq_get_quantization_quality(res[0])
                   if lib.liq_get_quantization_error(res[0]) >= 0 else 90)
        return ffi.buffer(out)[:], palette, quality
    finally:
        if res[0] != ffi.NULL:
            lib.liq_result_destroy(res[0])
        if img != ffi.NULL:
            lib.liq_image_destroy(img)
        lib.liq_attr_destroy(attr)


def palette_png(indices: bytes, size: tuple[int, int],
                palette: list[tuple[int, int, int, int]]) -> bytes:
    """The palette PNG, written by Pillow at zlib level 9 (optimize=True also
    picks 1, 2 or 4 bits a pixel for small palettes, as pngquant does)."""
    im = Image.frombytes("P", size, indices)
    im.putpalette([v for c in palette for v in c[:3]])
    alphas = [c[3] for c in palette]
    last = max((i + 1 for i, a in enumerate(alphas) if a != 255), default=0)
    buf = io.BytesIO()
    if last:
        im.save(buf, "PNG", optimize=True, transparency=bytes(alphas[:last]))
    else:
        im.save(buf, "PNG", optimize=True)
    return buf.getvalue()


def optimize_png(im: Image.Image, true_color: bytes) -> bytes:
    """The quantised PNG of im when pngquant's rule keeps it, else true_color."""
    indices, palette, quality = quantize(im)
    small = palette_png(indices, im.size, palette)
    return small if keep_quantized(len(small), len(true_color), quality) else true_color
