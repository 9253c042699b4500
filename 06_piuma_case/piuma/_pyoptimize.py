"""The Python engine's in-process PNG optimiser (JPEG's is Pillow's optimize=True,
in _pyengine.convert): libimagequant through the PyPI imagequant binding (its wheel
bundles the GPL-3.0-or-later library) with pngquant's defaults, kept when smaller,
as pngquant's --skip-if-larger (which also asks more of a low-quality palette).
cffi releases the GIL in every C call: two threads quantise two images at once.
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
