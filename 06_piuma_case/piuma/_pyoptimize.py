"""The Python engine's in-process optimiser: what a Python user would write.

JPEG: Pillow's ``optimize=True`` (libjpeg's optimised Huffman tables, what
jpegoptim writes), passed to the encoder by _pyengine.convert. PNG: the PyPI
``imagequant`` binding (libimagequant, pngquant's library, GPL-3.0-or-later:
its wheel bundles it) with pngquant's defaults, written by Pillow; kept when
it is smaller than the true-colour file, as pngquant's --skip-if-larger does
for pictures it can quantise well (it also asks more of a low-quality
palette: a difference of the edges). cffi releases the GIL in every C call,
so two threads quantise two images at once.
"""

from __future__ import annotations

import io

from PIL import Image


def optimize_png(im: Image.Image, true_color: bytes) -> bytes:
    """The palette PNG of im when it is smaller than true_color, else true_color."""
    import imagequant

    # (quantize_pil_image would read the pixels with Image.getdata, which
    # Pillow 13 deprecates: the raw bytes go in instead.)
    indices, palette = imagequant.quantize_raw_rgba_bytes(im.convert("RGBA").tobytes(),
                                                          im.width, im.height)
    out = Image.frombytes("P", im.size, indices)
    out.putpalette(palette, rawmode="RGBA" if im.mode == "RGBA" else "RGBX")  # no opaque tRNS
    buf = io.BytesIO()
    out.save(buf, "PNG", optimize=True)
    return buf.getvalue() if buf.tell() < len(true_color) else true_color
