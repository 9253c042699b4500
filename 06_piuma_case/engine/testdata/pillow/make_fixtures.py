"""Pillow's outputs that the Go engine's tests compare with (resize_test.go,
jpeg_test.go). Made with Pillow 13.0 here; run from this folder, with the
workshop venv, to make them again:

    ../../../../.venv/bin/python make_fixtures.py

Resize: each case's source (src-*.png) and Pillow's Image.resize(size, BICUBIC,
reducing_gap=3.0) of it (out-*.png), all lossless PNGs. CMYK: the RGB that
Pillow makes of cmyk.jpg and ycck.jpg, as raw bytes (*.rgb). Those two JPEGs
were written once by libjpeg's own encoder (jpeg_set_colorspace with JCS_CMYK,
JCS_YCCK; cjpeg takes no CMYK input) and are kept as data: this script only
reads them, for the *.rgb files.
"""

import random

from PIL import Image

CASES = [  # name, mode, source size, output size
    ("rgb-bicubic", "RGB", (97, 61), (30, 19)),
    ("rgb-vertical", "RGB", (97, 61), (97, 20)),
    ("rgb-horizontal", "RGB", (97, 61), (30, 61)),
    ("gray-bicubic", "L", (80, 60), (33, 25)),
    ("rgba-bicubic", "RGBA", (64, 48), (25, 19)),
    # reducing_gap: boxes of 7x2 pixels first, partial ones on both edges
    ("reduce-rgb", "RGB", (900, 7), (40, 1)),
    ("reduce-gray", "L", (13, 2000), (2, 90)),
    ("reduce-rgba", "RGBA", (1500, 3), (50, 1)),
]


def source(mode: str, size: tuple[int, int], seed: int) -> Image.Image:
    """Gradients, edges and grain; RGBA: alpha from 0 to 255 and some 0s."""
    rng = random.Random(seed)
    w, h = size
    data = bytearray()
    for y in range(h):
        for x in range(w):
            px = [(x * 255 // w + rng.randrange(40)) % 256, (y * 255 // h) ^ (x & 16),
                  rng.randrange(256) if (x // 7 + y // 5) % 3 == 0 else 128]
            if mode == "RGBA":
                px.append(0 if (x + y) % 11 == 0 else (x * 255 // w + y) % 256)
            data += bytes(px[:len(mode)])  # L: the first, RGB: 3, RGBA: 4
    return Image.frombytes(mode, size, bytes(data))


def main() -> None:
    for seed, (name, mode, size, out) in enumerate(CASES):
        im = source(mode, size, seed)
        im.save(f"src-{name}.png")
        im.resize(out, Image.Resampling.BICUBIC, reducing_gap=3.0).save(f"out-{name}.png")
    for name in ("cmyk", "ycck"):  # (committed: see above)
        with Image.open(f"{name}.jpg") as im, open(f"{name}.rgb", "wb") as f:
            f.write(im.convert("RGB").tobytes())


if __name__ == "__main__":
    main()
