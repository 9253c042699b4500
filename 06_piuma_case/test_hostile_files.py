"""Step 06 on hostile files (issue 10): no bad file spoils a good one, no input
ends the interpreter, both engines refuse and accept the same files.

Whatever could end the interpreter on the engines as they were (a Go runtime
out of memory, a 64 GiB read) runs in a child process here, which also
measures its peak memory. The images are small and mostly generated here
(make_images.py writes the JPEGs Pillow cannot).
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import random
import re
import shutil
import signal
import struct
import subprocess
import sys
import threading
import warnings
import zlib
from pathlib import Path

import PIL
import piuma
import pytest
from make_images import dc_jpeg, jpeg_segment, lossless_jpeg, lossless_sample, png_chunk
from PIL import Image, ImageChops, ImageStat, JpegImagePlugin, PngImagePlugin
from piuma import _fsutil, _probe, optimize_dir

HERE = Path(__file__).resolve().parent
GOOD = HERE / "build" / "images" / "fixtures" / "good"
ENGINES = ["go", "python"]
CLI = [sys.executable, str(HERE / "optimize.py")]
PNG_SIG = b"\x89PNG\r\n\x1a\n"


def run(engine: str, src, dst, **kw) -> dict[str, piuma.FileResult]:
    kw.setdefault("optimize", False)
    results = optimize_dir(src, dst, engine=engine, **kw)
    real = os.path.realpath(src)
    return {os.path.relpath(r.source, real): r for r in results}


def tree_state(root: Path) -> dict[str, tuple[str, int]]:
    return {str(p.relative_to(root)): (hashlib.sha256(p.read_bytes()).hexdigest(),
                                       p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file() and not p.is_symlink()}


def mean_diff(a: Image.Image, b: Image.Image) -> float:
    a, b = a.convert("RGB"), b.convert("RGB")
    assert a.size == b.size
    return sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 3


def png_bytes(im: Image.Image, **save) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "PNG", **save)
    return buf.getvalue()


def jpeg_bytes(im: Image.Image, quality_: int = 95, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality_, **kw)
    return buf.getvalue()


def with_png_chunks(data: bytes, *chunks: bytes, after_idat: bool = False) -> bytes:
    """Insert chunks after IHDR, or just before IEND."""
    if after_idat:
        return data[:-12] + b"".join(chunks) + data[-12:]
    return data[:33] + b"".join(chunks) + data[33:]


def child(code: str, timeout: int = 300) -> tuple[dict, float]:
    """Run code in a fresh interpreter (it sets OUT). Returns OUT and how far
    the process's resident memory rose above where it was when the code
    started, in MiB: the peak (VmHWM) is reset then (Linux: clear_refs), after
    piuma, its Go core and Pillow are loaded."""
    prologue = f"""
import json, sys
sys.path.insert(0, {str(HERE)!r})
import piuma, piuma._piuma, piuma._pyengine
from PIL import Image
def status_mib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024  # kB
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # resets the peak resident set size
_base = status_mib("VmRSS")
"""
    epilogue = "\nprint('@@' + json.dumps({'out': OUT, 'grew': status_mib('VmHWM') - _base}))\n"
    p = subprocess.run([sys.executable, "-c", prologue + code + epilogue], capture_output=True,
                       text=True, timeout=timeout)
    assert p.returncode == 0, f"the child died ({p.returncode}):\n{p.stderr[-3000:]}"
    line = next(x for x in p.stdout.splitlines() if x.startswith("@@"))
    report = json.loads(line[2:])
    return report["out"], report["grew"]


# ------------------------------------------------ 1. a bad file spoils nothing

def test_a_bad_jpeg_does_not_spoil_the_next_one_cli(tmp_path):
    """The issue's reproduction: one worker, a bad JPEG first, then good ones."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "a_bad.jpg").write_bytes(b"\xff\xd8\xff\x3e" + bytes(1000))
    base = (GOOD / "baseline.jpg").read_bytes()
    sof = base.index(b"\xff\xc0")
    (src / "c_twelve.jpg").write_bytes(base[:sof + 4] + b"\x0c" + base[sof + 5:])
    (src / "e_width0.jpg").write_bytes(base[:sof + 7] + b"\0\0" + base[sof + 9:])
    (src / "g_two_soi.jpg").write_bytes(b"\xff\xd8" + base)
    for name in ("b.jpg", "d.jpg", "f.jpg", "h.jpg"):
        shutil.copy(GOOD / "baseline.jpg", src / name)
    for engine in ENGINES:
        p = subprocess.run([*CLI, src, tmp_path / f"out-{engine}", "--workers", "1",
                            "--no-optimize", "--engine", engine, "--json"],
                           capture_output=True, text=True)
        assert p.returncode == 1, p.stderr
        files = {os.path.basename(f["source"]): f["error"]
                 for f in json.loads(p.stdout)["files"]}
        assert files["b.jpg"] is files["d.jpg"] is files["f.jpg"] is files["h.jpg"] is None, files
        assert files["a_bad.jpg"] == ("cannot decode JPEG: unknown marker 0x3E before the "
                                      "image data")
        assert files["c_twelve.jpg"] == ("cannot decode JPEG: 12-bit samples are not "
                                         "supported (only 8-bit)")
        assert files["e_width0.jpg"] == ("invalid image size in the header: width 0, "
                                         "height 300")
        assert files["g_two_soi.jpg"].startswith("cannot decode JPEG: ")


# ------------------------------------------- 2. sizes that used to kill

@pytest.mark.parametrize("engine", ENGINES)
def test_hostile_sizes_are_per_file_errors(engine, tmp_path):
    """A sparse 64 GiB "JPEG", a 10^6 x 10^6 PNG with max_pixels raised to
    2^62: per-file errors from the header, nothing read or allocated, the
    batch goes on. (Go: the runtime aborted the process; Python: MemoryError
    ended the batch.)"""
    src = tmp_path / "src"
    src.mkdir()
    with open(src / "a_sparse.jpg", "wb") as f:
        f.write(b"\xff\xd8\xff\xe0")
        f.truncate(64 << 30)  # 64 GiB apparent, 4 KiB on disk
    base = (GOOD / "baseline.jpg").read_bytes()
    with open(src / "b_sparse_valid_header.jpg", "wb") as f:
        f.write(base[:base.index(b"\xff\xda")])  # a real header, then 64 GiB of zeros
        f.truncate(64 << 30)
    ihdr = struct.pack(">IIBBBBB", 10**6, 10**6, 8, 2, 0, 0, 0)
    (src / "c_huge.png").write_bytes(PNG_SIG + png_chunk(b"IHDR", ihdr) + png_chunk(
        b"IDAT", zlib.compress(bytes(10_000))) + png_chunk(b"IEND", b""))
    shutil.copy(GOOD / "baseline.jpg", src / "d_good.jpg")
    code = f"""
rs = piuma.optimize_dir({str(src)!r}, {str(tmp_path / "out")!r}, engine={engine!r},
                        optimize=False, width=300, max_memory=1 << 30)
OUT = {{r.source.rsplit('/', 1)[1]: r.error for r in rs}}
rs = piuma.optimize_dir({str(src)!r}, {str(tmp_path / "out2")!r}, engine={engine!r},
                        optimize=False, width=300, max_pixels=2**62, max_memory=1 << 30)
OUT = [OUT, {{r.source.rsplit('/', 1)[1]: r.error for r in rs}}]
"""
    (default, raised), grew = child(code)
    assert default["a_sparse.jpg"] == ("file too large: 64.0 GiB, more than an image of "
                                       "89478485 pixels (max_pixels) can take (2.7 GiB)")
    assert default["b_sparse_valid_header.jpg"].startswith("file too large: 64.0 GiB")
    assert default["c_huge.png"].startswith("image too large: 1000000x1000000")
    assert default["d_good.jpg"] is None
    assert raised["a_sparse.jpg"] == ("not enough memory: the file is 64.0 GiB, max_memory is "
                                      "1.0 GiB")
    assert raised["b_sparse_valid_header.jpg"] == (
        "not enough memory: the file is 64.0 GiB, max_memory is 1.0 GiB")
    assert raised["c_huge.png"].startswith("not enough memory: this 1000000x1000000 image "
                                           "needs about ")
    assert raised["c_huge.png"].endswith(" TiB, max_memory is 1.0 GiB")
    assert raised["d_good.jpg"] is None
    assert grew < 100, f"peak memory grew by {grew:.0f} MiB"


def long_png(w: int, h: int) -> bytes:
    """A gray PNG of w x h pixels, some KiB (deflated zeros), valid."""
    idat = zlib.compress(bytes((w + 1) * h), 9)
    return (PNG_SIG + png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b""))


def short_png(im: Image.Image, keep: float, **save) -> bytes:
    """im as a PNG whose image data is a well-ended zlib stream of only the
    first `keep` of its filtered rows' bytes."""
    data = png_bytes(im, **save)
    pos, idat = len(PNG_SIG), b""
    while pos < len(data):
        n = struct.unpack(">I", data[pos:pos + 4])[0]
        if data[pos + 4:pos + 8] == b"IDAT":
            idat += data[pos + 8:pos + 8 + n]
        pos += 12 + n
    raw = zlib.decompress(idat)
    return (data[:33] + png_chunk(b"IDAT", zlib.compress(raw[:int(len(raw) * keep)]))
            + png_chunk(b"IEND", b""))


@pytest.mark.parametrize("engine", ENGINES)
def test_a_png_with_too_few_rows_is_an_error_in_both_engines(engine, tmp_path):
    """A zlib stream that ends cleanly before the last row: Pillow filled
    the missing rows with zeros and the Python engine published a picture
    half transparent (or, for an 80-byte file declaring 1x80,000,000, a
    800-pixel line of nothing) as a success; the Go engine refused it."""
    src = tmp_path / "src"
    src.mkdir()
    rgba = Image.new("RGBA", (64, 48), (200, 100, 50, 255))
    files = {
        "half-rgba.png": short_png(rgba, 0.5),
        "half-gray.png": short_png(rgba.convert("L"), 0.5),
        "half-adam7.png": short_png(rgba.convert("RGB"), 0.9, interlace=1),
        "one-row-short.png": short_png(rgba, 1 - 1 / 48),
        "tower.png": (PNG_SIG + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 80_000_000, 8,
                                                               0, 0, 0, 0))
                      + png_chunk(b"IDAT", zlib.compress(bytes(20))) + png_chunk(b"IEND", b"")),
        "whole.png": short_png(rgba, 1.0),
    }
    for name, data in files.items():
        (src / name).write_bytes(data)
    res = run(engine, src, tmp_path / "out", width=32, height=32)
    assert res["whole.png"].ok, res["whole.png"].error
    for name in files:
        if name != "whole.png":
            assert not res[name].ok, name
            assert res[name].error == ("cannot decode PNG: damaged image data (not enough "
                                       "pixel data)"), (name, res[name].error)


@pytest.fixture(scope="module")
def long_pngs(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("long") / "src"
    src.mkdir()
    (src / "line.png").write_bytes(long_png(89_000_000, 1))
    (src / "tower.png").write_bytes(long_png(1, 4_000_000))
    return src


@pytest.mark.parametrize("engine", ENGINES)
def test_an_89_megapixel_line_uses_memory_proportional_to_it(engine, long_pngs, tmp_path):
    """89,000,000 x 1 pixels (inside the default max_pixels), fitted in 300:
    the Go engine's resize kept a table of 300 x 445,001 weights (1.6 GB in
    all), Pillow's 300 x 445,001 doubles (1 GB). Now: the decoded image
    (89 MB) and little more, in both engines; and with a smaller max_memory,
    a per-file error from the header."""
    src = long_pngs
    code = f"""
rs = piuma.optimize_dir({str(src)!r}, {str(tmp_path / "out")!r}, engine={engine!r},
                        optimize=False, width=300, height=300, workers=1)
OUT = [(r.error, r.width, r.height) for r in rs]
"""
    out, grew = child(code)
    assert out == [[None, 300, 1], [None, 1, 300]]
    # Before: 1.6 GB (Go), 1 GB (Python); now below the line's estimate.
    estimate = estimate_mib(src / "line.png", width=300, height=300, draft=True)
    assert estimate < 1000
    assert grew < estimate, f"peak memory grew by {grew:.0f} MiB"
    res = run(engine, src, tmp_path / "small", width=300, height=300, max_memory=128 << 20)
    assert res["line.png"].error == ("not enough memory: this 89000000x1 image needs about "
                                     "390.1 MiB, max_memory is 128.0 MiB")
    assert res["tower.png"].ok


def estimate_mib(path: Path, **kw) -> float:
    """The memory estimate of a file (the same in both engines), in MiB."""
    from piuma import _pyengine

    o = _pyengine.Options(quality=85, max_pixels=piuma.MAX_PIXELS, optimize=False,
                          jpegoptim=None, pngquant=None, **kw)
    data = path.read_bytes()
    hd = _pyengine.probe(lambda off, n: data[off:off + n], len(data), o)
    return _pyengine.memory(hd, len(data), o) / 2**20


@pytest.mark.parametrize("engine", ENGINES)
def test_the_estimate_bounds_the_peak_memory(engine, tmp_path):
    """The memory estimate that max_memory is checked against is above what
    each engine takes for a file: its peak resident memory, file by file."""
    import numpy as np

    rng = np.random.default_rng(10)
    src = tmp_path / "src"
    src.mkdir()
    noise = Image.fromarray(rng.integers(0, 256, (1000, 1500, 3), dtype=np.uint8))
    noise.save(src / "progressive.jpg", quality=90, progressive=True)
    noise.convert("CMYK").save(src / "cmyk.jpg", quality=90)
    Image.fromarray(rng.integers(0, 256, (1000, 1500, 4), dtype=np.uint8)).save(src / "rgba.png")
    Image.fromarray(rng.integers(0, 65536, (1000, 1500), dtype=np.uint16)).save(src / "gray16.png")
    (src / "line.png").write_bytes(long_png(30_000_000, 1))
    # Pillow's row pointers: 8 bytes a row, per image (the estimate missed them)
    (src / "tower.png").write_bytes(long_png(1, 30_000_000))
    from concurrent.futures import ThreadPoolExecutor

    def one(name: str) -> tuple[str, str | None, float]:  # in a fresh process each
        (src / name).parent.joinpath(name + ".d").mkdir()
        os.link(src / name, src / (name + ".d") / name)
        error, grew = child(f"""
[r] = piuma.optimize_dir({str(src / (name + ".d"))!r}, {str(tmp_path / "out" / name)!r},
                         engine={engine!r}, optimize=False, width=600, height=600, workers=1,
                         draft=False)
OUT = r.error
""")
        return name, error, grew

    files = sorted(p.name for p in src.iterdir())
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(one, files))
    for name, error, grew in results:
        estimate = estimate_mib(src / name, width=600, height=600, draft=False)
        print(f"{engine} {name}: peak +{grew:.0f} MiB, estimate {estimate:.0f} MiB")
        assert error is None
        assert grew < estimate, (name, grew, estimate)


def test_python_out_of_memory_is_one_files_error(good_copy, tmp_path, monkeypatch):
    """A MemoryError (the estimate is an estimate) fails that file only."""
    from piuma import _pyengine

    real = _pyengine.read_all
    calls = []

    def read_all(fd, size):
        calls.append(size)
        if len(calls) == 1:
            raise MemoryError
        return real(fd, size)

    monkeypatch.setattr(_pyengine, "read_all", read_all)
    res = run("python", good_copy, tmp_path / "out", workers=1, width=100)
    errors = [r.error for r in res.values() if not r.ok]
    assert errors == ["out of memory while converting this image"]
    assert sum(r.ok for r in res.values()) == len(res) - 1


@pytest.fixture
def good_copy(tmp_path: Path) -> Path:
    src = tmp_path / "good"
    for name in ("baseline.jpg", "gray.jpg", "transparent.png", "palette.png"):
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(GOOD / name, src / name)
    return src


def test_cli_max_memory(tmp_path):
    p = subprocess.run([*CLI, GOOD, tmp_path / "out", "--no-optimize", "--max-memory", "1M",
                        "--json"], capture_output=True, text=True)
    assert p.returncode == 1
    for f in json.loads(p.stdout)["files"]:  # 8 MiB of codec state alone is more
        assert f["error"].startswith("not enough memory: the file is "), f
        assert f["error"].endswith(" KiB, max_memory is 1.0 MiB"), f
    p = subprocess.run([*CLI, GOOD, tmp_path / "out", "--no-optimize", "--max-memory", "64MiB"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stdout
    p = subprocess.run([*CLI, GOOD, tmp_path / "out", "--max-memory", "lots"],
                       capture_output=True, text=True)
    assert p.returncode == 2
    assert "invalid size: 'lots'" in p.stderr


# ---------------------------------------------------------- 3. pixels

@pytest.mark.parametrize("engine", ENGINES)
def test_no_resize_means_exact_pixels(engine, tmp_path):
    """Low-alpha pixels changed by up to 127 levels in the Go engine (a
    premultiplication round trip without any resize)."""
    src = tmp_path / "src"
    src.mkdir()
    im = Image.new("RGBA", (64, 8))
    im.putdata([(255 - x, 4 * x, (x * y) % 256, 1 + x % 5 + 30 * y)
                for y in range(8) for x in range(64)])
    im.save(src / "alpha.png")
    im.transpose(Image.Transpose.ROTATE_90).save(src / "turned.png", exif=_exif(6))
    res = run(engine, src, tmp_path / "out", width=0, height=0)
    with Image.open(res["alpha.png"].destination) as out:
        assert out.mode == "RGBA"
        assert out.tobytes() == im.tobytes()
    with Image.open(res["turned.png"].destination) as out:  # oriented, not resized
        assert out.tobytes() == im.tobytes()


def _exif(o: int) -> bytes:
    e = Image.Exif()
    e[0x0112] = o
    return e.tobytes()


# -------------------------------------------------- orientation, as Pillow

# The engines read orientation as Pillow 13 does. Pillow 12 reads some
# malformed blocks differently (20 of the 1,500 below: an Exif header twice,
# BigTIFF magic, IFD type 13), and free-threaded 3.13 has no Pillow 13 wheel:
# there, Pillow is the reference only for the well-formed cases, and the Go
# engine is held to the Python engine's reader (piuma/_probe.py) for the rest.
PILLOW_IS_REFERENCE = tuple(int(x) for x in PIL.__version__.split(".")[:2]) >= (13, 0)


def pillow_orientation(data: bytes, is_png: bool) -> int:
    """What Pillow's Image.getexif() says (the Python engine's old code)."""
    cls = PngImagePlugin.PngImageFile if is_png else JpegImagePlugin.JpegImageFile
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow warns about corrupt EXIF, then goes on
        try:
            o = cls(io.BytesIO(data)).getexif().get(0x0112, 1)
        except Exception:
            return 1
    return o if isinstance(o, int) and 1 <= o <= 8 else 1


_TYPES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 16, 99]
_UNIT = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4,
         16: 8}


def random_tiff(rng: random.Random) -> bytes:
    """An EXIF block with an orientation tag of any type, count, place."""
    bo = rng.choice("<>")
    magic = {"<": [b"II*\x00", b"II\x00*"], ">": [b"MM\x00*", b"MM*\x00"]}[bo]
    head = rng.choice(magic + ([b"II+\x00", b"XX*\x00"] if rng.random() < 0.05 else []))
    entries, extra = [], b""
    n = rng.randint(0, 4)
    data_at = 8 + 2 + 12 * n + 4
    for _ in range(n):
        tag = rng.choice([0x0112, 0x0112, 0x010F, 0x0100])
        typ = rng.choice(_TYPES)
        count = rng.choice([0, 1, 1, 1, 2, 3, 40])
        size = count * _UNIT.get(typ, 1)
        if size > 4 and rng.random() < 0.8:
            value = struct.pack(bo + "L", data_at + len(extra))
            payload = bytes(rng.randrange(10) for _ in range(size))
            extra += payload[:rng.choice([size, size, size // 2])]
        elif typ in (3, 8) and count <= 2:
            value = struct.pack(bo + "HH", rng.randrange(10), rng.randrange(10))
        elif typ in (4, 9, 13):
            value = struct.pack(bo + "L", rng.choice([rng.randrange(10), 2**31 + 6]))
        else:
            value = bytes(rng.randrange(10) for _ in range(4))
        entries.append(struct.pack(bo + "HHL", tag, typ, count) + value)
    ifd = rng.choice([8, 8, 8, 0, 4, 9999])
    block = (head + struct.pack(bo + "L", ifd) + struct.pack(bo + "H", n + rng.choice([0, 0, 2]))
             + b"".join(entries) + b"\0\0\0\0" + extra)
    if rng.random() < 0.1:
        block = block[:rng.randrange(len(block) + 1)]
    return rng.choice([b"", b"", b"Exif\0\0", b"Exif\0\0Exif\0\0"]) + block


def random_xmp(rng: random.Random) -> bytes:
    v = rng.randrange(10)
    return rng.choice([f'<x tiff:Orientation="{v}"/>', f"<tiff:Orientation>{v}</tiff:Orientation>",
                       '<x tiff:Orientation="x"/>', "<x/>"]).encode()


def random_jpeg(rng: random.Random, body: bytes) -> bytes:
    segs = b""
    for _ in range(rng.randint(0, 3)):
        kind = rng.random()
        if kind < 0.6:
            block = random_tiff(rng)
            if not block.startswith(b"Exif\0\0"):
                block = b"Exif\0\0" + block
            segs += jpeg_segment(0xE1, block)
        else:
            segs += jpeg_segment(0xE1, b"http://ns.adobe.com/xap/1.0/\0" + random_xmp(rng))
    return body[:2] + segs + body[2:]


def random_png(rng: random.Random, body: bytes) -> bytes:
    chunks_before, chunks_after = [], []
    for _ in range(rng.randint(0, 3)):
        kind = rng.randrange(7)
        block = random_tiff(rng)
        hexed = b"\nexif\n" + str(len(block)).encode() + b"\n" + block.hex().encode()
        if rng.random() < 0.1:
            hexed += b"zz"
        c = [png_chunk(b"eXIf", block),
             png_chunk(b"tEXt", b"exif\0" + block),
             png_chunk(b"zTXt", b"exif\0\0" + zlib.compress(block)),
             png_chunk(b"tEXt", b"Raw profile type exif\0" + hexed),
             png_chunk(b"zTXt", b"Raw profile type exif\0\0" + zlib.compress(hexed)),
             png_chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0" + random_xmp(rng)),
             png_chunk(b"tEXt", b"XML:com.adobe.xmp\0" + random_xmp(rng))][kind]
        (chunks_after if rng.random() < 0.3 else chunks_before).append(c)
    data = with_png_chunks(body, *chunks_before)
    return with_png_chunks(data, *chunks_after, after_idat=True)


def test_orientation_is_read_as_pillow_reads_it():
    """The engines' own EXIF/XMP reader (piuma/_probe.py, and engine/exif.go
    line by line) against Pillow's getexif() on many generated blocks:
    EXIF LONG, signed and odd types, duplicates, truncation, PNG eXIf with an
    Exif header, "Raw profile type exif", XMP, text chunks named "exif"."""
    if not PILLOW_IS_REFERENCE:
        pytest.skip(f"the reference is Pillow 13's EXIF reader; Pillow {PIL.__version__} "
                    "is installed")
    rng = random.Random(10)
    jpeg = jpeg_bytes(Image.new("L", (8, 8), 128))
    png = png_bytes(Image.new("L", (4, 4), 128))
    seen = set()
    for i in range(1500):
        is_png = i % 2 == 1
        data = random_png(rng, png) if is_png else random_jpeg(rng, jpeg)
        want = pillow_orientation(data, is_png)
        assert _probe.orientation(data, is_png) == want, (i, data)
        seen.add(want)
    assert seen == set(range(1, 9))  # the test can fail: every value occurs


def quadrants(w: int = 32, h: int = 16) -> Image.Image:
    im = Image.new("RGB", (w, h))
    for i, colour in enumerate([(230, 30, 30), (30, 200, 30), (30, 30, 220), (240, 240, 30)]):
        im.paste(colour, ((i % 2) * w // 2, (i // 2) * h // 2,
                          (i % 2 + 1) * w // 2, (i // 2 + 1) * h // 2))
    return im


_TRANSPOSE = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
              4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
              6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
              8: Image.Transpose.ROTATE_90}


def applied_orientation(out: Image.Image, stored: Image.Image) -> int:
    """Which orientation an output shows of a stored picture."""
    candidates = {o: stored.transpose(_TRANSPOSE[o]) if o > 1 else stored for o in range(1, 9)}
    scores = {o: mean_diff(out, im) for o, im in candidates.items() if im.size == out.size}
    return min(scores, key=scores.get)


@pytest.mark.parametrize("engine", ENGINES)
def test_engines_turn_images_as_pillow_says(engine, tmp_path):
    """End to end: the orientation each engine applies is Pillow's, for the
    sources the Go engine used to miss (EXIF LONG, eXIf with an Exif header,
    XMP, raw profile) and for generated ones."""
    src = tmp_path / "src"
    src.mkdir()
    stored = quadrants()
    jpeg, png = jpeg_bytes(stored), png_bytes(stored)
    long6 = b"Exif\0\0II*\0\x08\0\0\0\x01\0\x12\x01\x04\0\x01\0\0\0\x06\0\0\0\0\0\0\0"
    files = {
        "long.jpg": jpeg[:2] + jpeg_segment(0xE1, long6) + jpeg[2:],
        "exif-header.png": with_png_chunks(png, png_chunk(b"eXIf", long6)),
        "xmp.jpg": jpeg[:2] + jpeg_segment(0xE1, b"http://ns.adobe.com/xap/1.0/\0"
                                           b'<x tiff:Orientation="8"/>') + jpeg[2:],
        "xmp.png": with_png_chunks(png, png_chunk(
            b"iTXt", b'XML:com.adobe.xmp\0\0\0\0\0<x tiff:Orientation="5"/>')),
        "raw.png": with_png_chunks(png, png_chunk(
            b"tEXt", b"Raw profile type exif\0\nexif\n  30\n" + long6[6:].hex().encode())),
    }
    rng = random.Random(11)
    for i in range(120):
        is_png = i % 2 == 1
        files[f"random-{i:02d}.{'png' if is_png else 'jpg'}"] = (
            random_png(rng, png) if is_png else random_jpeg(rng, jpeg))
    for name, data in files.items():
        (src / name).write_bytes(data)
    res = run(engine, src, tmp_path / "out", width=0, height=0)
    expected = {"long.jpg": 6, "exif-header.png": 6, "xmp.jpg": 8, "xmp.png": 5, "raw.png": 6}
    for name, data in files.items():
        is_png = name.endswith(".png")
        want = pillow_orientation(data, is_png)
        if name in expected:
            assert want == expected[name], name  # the test can fail
        elif not PILLOW_IS_REFERENCE:
            want = _probe.orientation(data, is_png)
        r = res[name]
        assert r.ok, (name, r.error)
        with Image.open(r.destination) as out:
            assert applied_orientation(out, stored) == want, name


# ------------------------------------------------- JPEG processes, limits

def _lossless_files() -> dict[str, bytes]:
    def f(c: int, x: int, y: int) -> int:  # smooth: the encoders at q85 agree closely
        return 40 + 3 * x + 4 * y + 50 * c
    jfif = jpeg_segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0")
    return {
        "lossless-rgb.jpg": lossless_jpeg(40, 24, 3, f, predictor=1),
        "lossless-gray-p7-rst.jpg": lossless_jpeg(40, 24, 1, f, predictor=7, restart_rows=4),
        "lossless-rgb-p4-pt1.jpg": lossless_jpeg(40, 24, 3, f, predictor=4, point_transform=1),
        "odd-sampling-1x2-2x1.jpg": dc_jpeg(64, 40, [(1, 1, 2), (2, 2, 1), (3, 1, 1)],
                                            lambda c, x, y: 60 + 50 * c + x),
        "odd-sampling-3x1.jpg": dc_jpeg(64, 40, [(1, 3, 1), (2, 1, 1), (3, 1, 1)],
                                        lambda c, x, y: 90 + 30 * c + y),
        "odd-sampling-cmyk.jpg": dc_jpeg(64, 40, [(1, 2, 1), (2, 1, 2), (3, 1, 1), (4, 1, 1)],
                                         lambda c, x, y: 40 + 40 * c + x),
        "twelve-bit.jpg": dc_jpeg(64, 40, [(1, 1, 1)], lambda c, x, y: 2000, precision=12,
                                  sof=0xC1),
        "lossless-ycbcr.jpg": lossless_jpeg(40, 24, 3, f, extra=jfif),
        "lossless-4-components.jpg": lossless_jpeg(40, 24, 4, f),
    }


def test_both_engines_decode_the_same_jpeg_processes(tmp_path):
    """Lossless (SOF3) JPEGs and sampling factors TurboJPEG cannot name were
    refused by the Go engine; Pillow decodes them. 12-bit and YCbCr lossless:
    refused by both, in the same words."""
    src = tmp_path / "src"
    src.mkdir()
    files = _lossless_files()
    for name, data in files.items():
        (src / name).write_bytes(data)
    go = run("go", src, tmp_path / "go", width=0, height=0, workers=1)
    py = run("python", src, tmp_path / "py", width=0, height=0, workers=1)
    refused = {
        "twelve-bit.jpg": "cannot decode JPEG: 12-bit samples are not supported (only 8-bit)",
        "lossless-ycbcr.jpg": "cannot decode JPEG: lossless JPEG in YCbCr is not supported "
                              "(converting it to RGB would lose the losslessness)",
        "lossless-4-components.jpg": "cannot decode JPEG: lossless JPEG with 4 components is "
                                     "not supported (only 1 or 3)",
    }
    for name, data in files.items():
        assert go[name].error == py[name].error == refused.get(name), name
        if name in refused:
            continue
        with Image.open(io.BytesIO(data)) as ref, Image.open(go[name].destination) as g, \
                Image.open(py[name].destination) as p:
            # Both engines re-encode at quality 85 what they decoded: about a
            # level apart, and about a level from Pillow's decode encoded so
            # (a wrong sampling or colour conversion is 30+ levels).
            ref = Image.open(io.BytesIO(jpeg_bytes(ref.convert(g.mode), quality_=85)))
            assert g.size == p.size == ref.size
            assert mean_diff(g, p) < 1.0, name
            assert mean_diff(g, ref) < 1.5, name


def test_pillow_decodes_the_go_lossless_seeds_to_their_samples():
    """engine/testdata/seeds: the Go test checks its decoder against
    make_images.lossless_sample; Pillow (libjpeg-turbo 3) gives the same."""
    seeds = sorted((HERE / "engine" / "testdata" / "seeds").glob("lossless-*.jpg"))
    assert seeds
    for path in seeds:
        with Image.open(path) as im:
            pt = int(path.stem.split("-pt")[1][0]) if "-pt" in path.stem else 0
            want = [lossless_sample(c, x, y) >> pt << pt for y in range(im.height)
                    for x in range(im.width) for c in range(len(im.getbands()))]
            assert list(im.tobytes()) == want, path.name


@pytest.mark.parametrize("engine", ENGINES)
def test_png_metadata_limits_are_pillows_in_both_engines(engine, tmp_path):
    """zTXt, iCCP and iTXt chunks inflating past 1 MiB (by one byte, or by
    megabytes): Pillow refused them, the Go engine decoded them (image/png
    skips those chunks). Exactly 1 MiB is fine, in Pillow and in both engines."""
    src = tmp_path / "src"
    src.mkdir()
    png = png_bytes(Image.new("RGB", (16, 16), (10, 20, 30)))
    bomb = zlib.compress(bytes(4 << 20), 9)  # 4 MiB from 4 KiB
    fine = zlib.compress(bytes(1 << 20), 9)  # exactly MAX_TEXT_CHUNK: Pillow accepts it
    over = zlib.compress(bytes((1 << 20) + 1), 9)
    files = {
        "ztxt.png": with_png_chunks(png, png_chunk(b"zTXt", b"Comment\0\0" + bomb)),
        "iccp.png": with_png_chunks(png, png_chunk(b"iCCP", b"ICC\0\0" + bomb)),
        "itxt.png": with_png_chunks(png, png_chunk(b"iTXt", b"Comment\0\1\0\0\0" + bomb)),
        "after.png": with_png_chunks(png, png_chunk(b"zTXt", b"C\0\0" + bomb), after_idat=True),
        "over.png": with_png_chunks(png, png_chunk(b"zTXt", b"Comment\0\0" + over)),
        "method.png": with_png_chunks(png, png_chunk(b"zTXt", b"Comment\0\1xx")),
        "fine.png": with_png_chunks(png, png_chunk(b"zTXt", b"Comment\0\0" + fine)),
    }
    for name, data in files.items():
        (src / name).write_bytes(data)
    res = run(engine, src, tmp_path / "out")
    what = {"ztxt.png": "zTXt", "iccp.png": "iCCP (colour profile)", "itxt.png": "iTXt",
            "after.png": "zTXt", "over.png": "zTXt"}
    for name, kind in what.items():
        assert res[name].error == (f"cannot decode PNG: the compressed {kind} metadata "
                                   "expands to more than 1 MiB (metadata bomb?)")
    assert res["method.png"].error == ("cannot decode PNG: unknown compression method 1 in a "
                                       "zTXt chunk")
    assert res["fine.png"].ok
    # Pillow itself agrees on each (the test can fail: it checks the cases).
    for name in what:
        with pytest.raises(ValueError, match="Decompressed data too large"):
            Image.open(io.BytesIO(files[name])).load()
    Image.open(io.BytesIO(files["fine.png"])).load()


# ---------------------------------------- differences that remain, pinned

def test_png_zlib_checksum_is_checked_by_both_engines(tmp_path):
    """A PNG whose image data is complete but whose zlib checksum (Adler-32)
    is wrong, in an IDAT chunk of its own, or missing: image/png verifies it
    (Go refuses); Pillow stops reading once it has every row, and the Python
    engine wrote the image. It now inflates the data once more (to count the
    rows, see test_a_png_with_too_few_rows_is_an_error_in_both_engines) and
    checks the checksum on the way: the same error in both engines."""
    src = tmp_path / "src"
    src.mkdir()
    raw = b"".join(b"\0" + bytes([10, 20, 30]) * 16 for _ in range(16))
    z = zlib.compress(raw)
    bad = z[:-4] + bytes(b ^ 0xFF for b in z[-4:])
    ihdr = png_chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0))
    for name, idats in {"wrong.png": [bad[:-4], bad[-4:]], "missing.png": [z[:-4]],
                        "same-chunk.png": [bad], "right.png": [z[:-4], z[-4:]]}.items():
        (src / name).write_bytes(PNG_SIG + ihdr + b"".join(png_chunk(b"IDAT", c) for c in idats)
                                 + png_chunk(b"IEND", b""))
    for engine in ENGINES:
        res = run(engine, src, tmp_path / engine)
        assert res["wrong.png"].error == ("cannot decode PNG: damaged image data (zlib: invalid "
                                          "checksum)"), engine
        assert res["same-chunk.png"].error == res["wrong.png"].error, engine
        assert res["missing.png"].error == ("cannot decode PNG: damaged image data (not enough "
                                            "pixel data)"), engine
        assert res["right.png"].ok, (engine, res["right.png"].error)
    # Pillow alone writes the first two (the test can fail: it checks the case).
    for name in ("wrong.png", "missing.png"):
        Image.open(src / name).load()


def test_remaining_difference_corrupt_jpeg_data(tmp_path):
    """Corrupt entropy-coded data in a JPEG: libjpeg warns and goes on.
    The Go engine stops on the warning (TJFLAG_STOPONWARNING: an error, not a
    damaged picture); Pillow ignores libjpeg's warnings and writes a damaged
    picture."""
    src = tmp_path / "src"
    src.mkdir()
    base = bytearray((GOOD / "baseline.jpg").read_bytes())
    sos = base.index(b"\xff\xda")
    base[sos + 2000:sos + 2004] = b"\xff\xd3\x00\x00"  # a stray restart marker
    (src / "corrupt.jpg").write_bytes(bytes(base))
    go = run("go", src, tmp_path / "go")
    py = run("python", src, tmp_path / "py")
    assert go["corrupt.jpg"].error == ("cannot decode JPEG: corrupt or truncated JPEG data "
                                       "(libjpeg-turbo warning)")
    assert py["corrupt.jpg"].ok


@pytest.mark.parametrize("engine", ENGINES)
def test_damaged_checksums_are_refused_by_both(engine, tmp_path):
    """A bad CRC in the image data: image/png refused it, Pillow did not
    (it checks the chunks before the image data only). Both refuse it now."""
    src = tmp_path / "src"
    src.mkdir()
    png = bytearray(png_bytes(Image.new("RGB", (16, 16), (10, 20, 30))))
    end = png.index(b"IEND") - 8  # the CRC of the IDAT chunk
    png[end] ^= 1
    (src / "crc.png").write_bytes(bytes(png))
    res = run(engine, src, tmp_path / "out")
    assert res["crc.png"].error == ("cannot decode PNG: damaged data (checksum mismatch in the "
                                    "IDAT chunk)")


# ------------------------------------------------------ 4. paths and names

def test_root_is_never_src_or_dst(tmp_path):
    """"/" + os.sep is "//": the overlap check let / through, as src or dst."""
    assert piuma._inside(str(tmp_path), "/")  # refused before anything runs below
    for engine in ENGINES:
        with pytest.raises(ValueError, match="src and dst must not overlap"):
            optimize_dir("/", tmp_path / "out", engine=engine, optimize=False)
        with pytest.raises(ValueError, match="src and dst must not overlap"):
            optimize_dir(GOOD, "/", engine=engine, optimize=False)
    assert not (tmp_path / "out").exists()


def _names_src(tmp_path: Path) -> Path:
    src = os.fsencode(tmp_path / "src")
    os.mkdir(src)
    for name in (b"caf\xe9.jpg", b"\xee\x80\x80-private.jpg", b"plain.jpg", b"\xff.jpg"):
        shutil.copy(GOOD / "baseline.jpg", os.path.join(src, name))
    with open(os.path.join(src, b"bad-\xe9.png"), "wb") as f:
        f.write(b"not a png")
    return Path(os.fsdecode(src))


def test_non_utf8_names_sorted_alike_and_lossless(tmp_path):
    src = _names_src(tmp_path)
    orders = []
    for engine in ENGINES:
        rs = optimize_dir(src, tmp_path / engine, engine=engine, optimize=False, width=50)
        names = [os.path.basename(os.fsencode(r.source)) for r in rs]
        assert names == sorted(names)  # byte order
        assert all(os.path.exists(os.fsencode(r.destination)) for r in rs if r.ok)
        orders.append(names)
    assert orders[0] == orders[1]
    assert b"\xff.jpg" in orders[0]


@pytest.mark.parametrize("engine", ENGINES)
def test_cli_prints_non_utf8_names(engine, tmp_path):
    """A strict UTF-8 stdout raised UnicodeEncodeError on such a name."""
    src = _names_src(tmp_path)
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    p = subprocess.run([*CLI, src, tmp_path / "out", "--no-optimize", "--engine", engine],
                       capture_output=True, env=env)
    assert p.returncode == 1, p.stderr
    # The failed file's name as the file system spells it (its bytes).
    assert b"FAILED " + os.fsencode(src / os.fsdecode(b"bad-\xe9.png")) + b": " in p.stdout
    assert f"4 ok, 1 failed ({engine} engine)".encode() in p.stdout
    p = subprocess.run([*CLI, src, tmp_path / "out2", "--no-optimize", "--engine", engine,
                        "--json"], capture_output=True, env=env)
    report = json.loads(p.stdout)  # ASCII: undecodable bytes as \udcxx escapes
    sources = {os.path.basename(os.fsencode(f["source"])) for f in report["files"]}
    assert sources == {b"caf\xe9.jpg", b"\xee\x80\x80-private.jpg", b"plain.jpg", b"\xff.jpg",
                       b"bad-\xe9.png"}


@pytest.mark.parametrize("engine", ENGINES)
def test_a_read_only_destination_fails_before_any_work(engine, tmp_path, monkeypatch):
    """An existing dst on a read-only file system: every file was decoded,
    resized and encoded, then each failed to be written. Now the call fails
    at once (the CLI: exit 2). The file system is faked: mounting one needs
    privileges a test should not take."""
    real = os.statvfs
    dst = tmp_path / "out"
    dst.mkdir()

    class ReadOnly:
        def __init__(self, st):
            self._st = st

        def __getattr__(self, name):
            return getattr(self._st, name)

        @property
        def f_flag(self):
            return self._st.f_flag | os.ST_RDONLY

    monkeypatch.setattr(os, "statvfs", lambda p: ReadOnly(real(p)) if os.path.realpath(p)
                        == os.path.realpath(dst) else real(p))
    with pytest.raises(OSError, match="read-only file system") as info:
        optimize_dir(HERE / "build" / "images" / "products", dst, width=100, engine=engine)
    assert info.value.errno == errno.EROFS
    assert list(dst.iterdir()) == []


def test_cli_summary_escapes_control_characters_in_names(tmp_path):
    """A newline in a file name forged a line of the summary ("FAILED
    innocent.jpg: ..."), a carriage return hid the start of one; the summary
    now writes them as escapes, and gives sizes in binary units, named so."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "z.jpg: bad\nFAILED innocent.jpg").write_bytes(b"garbage")
    (src / "evil\r.png").write_bytes(b"garbage")
    shutil.copy(HERE / "build" / "images" / "products" / "jpeg" / "chelsea.jpg", src / "fine.jpg")
    p = subprocess.run([*CLI, src, tmp_path / "out", "--no-optimize", "--width", "800"],
                       capture_output=True, text=True)
    assert p.returncode == 1, p.stderr
    lines = p.stdout.splitlines()
    assert [line for line in lines if line.startswith("FAILED")] == [
        f"FAILED {src}/evil\\r.png: not a JPEG or PNG image",
        f"FAILED {src}/z.jpg: bad\\nFAILED innocent.jpg: not a JPEG or PNG image"]
    assert "\r" not in p.stdout
    assert re.search(r"1 ok, 2 failed \(go engine\) in [\d.]+s; [\d.]+ MiB -> [\d.]+ KiB",
                     lines[-1])


@pytest.mark.parametrize("engine", ENGINES)
def test_error_naming_a_non_utf8_folder_is_lossless(engine, tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    sub = os.fsencode(src / "sub")
    os.makedirs(sub)
    shutil.copy(GOOD / "baseline.jpg", os.path.join(sub, b"a.jpg"))
    os.makedirs(dst)
    os.symlink(sub, os.path.join(os.fsencode(dst), b"sub"))
    bad = os.fsencode(src) + b"/\xe9t\xe9"
    os.rename(sub, bad)
    os.symlink(bad, os.path.join(os.fsencode(dst), b"\xe9t\xe9"))
    r = run(engine, src, dst)[os.fsdecode(b"\xe9t\xe9/a.jpg")]
    assert os.fsencode(r.error) == (b"cannot write output: the output folder "
                                    + os.fsencode(os.path.realpath(dst)) + b"/\xe9t\xe9 is "
                                    b"inside the source folder (a symbolic link leads there)")


# ------------------------------------------- 5. crash leftovers and races

@pytest.mark.parametrize("engine", ENGINES)
def test_temp_files_of_a_killed_run_are_removed_not_those_of_a_live_run(engine, tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    (src / "sub").mkdir(parents=True)
    shutil.copy(GOOD / "baseline.jpg", src / "sub" / "a.jpg")
    (dst / "sub").mkdir(parents=True)
    # A run killed by SIGKILL while writing: its temp file stays behind.
    leave = ("import os, sys; n = sys.argv[1]; "
             "open(os.path.join(n, '.a.jpg.piuma-%d-0badcafe.tmp' % os.getpid()), 'w'); ")
    killed = subprocess.run([sys.executable, "-c", leave + "os.kill(os.getpid(), 9)",
                             dst / "sub"])
    assert killed.returncode == -signal.SIGKILL
    # A concurrent run, alive: its temp file must survive.
    live = subprocess.Popen([sys.executable, "-c", leave + "print('ready', flush=True); "
                             "sys.stdin.read()", dst / "sub"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert live.stdout.readline() == "ready\n"
        (dst / "sub" / ".a.jpg.other-tool.tmp").write_bytes(b"not ours")
        before = sorted(os.listdir(dst / "sub"))
        assert len(before) == 3
        res = run(engine, src, dst)
        assert res["sub/a.jpg"].ok
        after = sorted(os.listdir(dst / "sub"))
        assert after == sorted(["a.jpg", f".a.jpg.piuma-{live.pid}-0badcafe.tmp",
                                ".a.jpg.other-tool.tmp"])
    finally:
        live.communicate("")


def test_python_engine_renames_in_the_folder_it_opened(tmp_path, monkeypatch):
    """A symbolic link swapped in while the output is written (here, during
    the fsync of its temp file) used to send the rename into the source
    folder; the folder is also fsynced after the rename. (The Go engine:
    TestWriteFsyncsTheFolderAndIgnoresSwappedLinks.)"""
    src, dst = tmp_path / "src", tmp_path / "dst"
    (src / "sub").mkdir(parents=True)
    shutil.copy(GOOD / "gray.jpg", src / "sub" / "a.jpg")
    (dst / "sub").mkdir(parents=True)
    before = tree_state(src)
    synced = []
    real_fsync = _fsutil.fsync

    def fsync(fd):
        synced.append("folder" if os.path.isdir(f"/proc/self/fd/{fd}") else "file")
        if len(synced) == 1:
            os.rename(dst / "sub", dst / "sub.old")
            os.symlink(src / "sub", dst / "sub")
        real_fsync(fd)

    monkeypatch.setattr(_fsutil, "fsync", fsync)
    res = run("python", src, dst)
    assert res["sub/a.jpg"].ok
    assert tree_state(src) == before
    assert (dst / "sub.old" / "a.jpg").read_bytes()[:3] == b"\xff\xd8\xff"
    assert synced == ["file", "folder"]


def test_a_fifo_swapped_in_after_the_stat_cannot_block(tmp_path, monkeypatch):
    src = tmp_path / "src"
    src.mkdir()
    os.mkfifo(src / "pipe.jpg")
    shutil.copy(GOOD / "gray.jpg", src / "fine.jpg")
    real_stat = os.stat

    def stat(path, *args, **kw):  # the stat still sees a regular file
        if os.fspath(path) == str(src / "pipe.jpg"):
            return real_stat(src / "fine.jpg")
        return real_stat(path, *args, **kw)

    monkeypatch.setattr(os, "stat", stat)
    out: list = []
    t = threading.Thread(target=lambda: out.append(run("python", src, tmp_path / "out",
                                                       workers=1)))
    t.start()
    t.join(120)  # a hang detector: the open returns at once, or never
    if t.is_alive():  # pragma: no cover - unblock the reader, then fail
        fd = os.open(src / "pipe.jpg", os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
        t.join()
        pytest.fail("opening a FIFO blocked")
    assert out[0]["pipe.jpg"].error == "not a regular file"
    assert out[0]["fine.jpg"].ok


# -------------------------------------------------- 6. errors in plain words

@pytest.mark.parametrize("engine", ENGINES)
def test_errors_say_what_is_wrong(engine, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    base = (GOOD / "baseline.jpg").read_bytes()
    gray_png = (GOOD / "gray.png").read_bytes()
    files = {
        "three.jpg": b"\xff\xd8\xff",
        "eight.png": PNG_SIG,
        "header-cut.jpg": base[:300],
        "data-cut.png": gray_png[:len(gray_png) // 2],
        "empty-text.png": gray_png[:33] + png_chunk(b"tEXt", b"") + gray_png[33:],
        "folder.jpg": base,
    }
    for name, data in files.items():
        (src / name).write_bytes(data)
    (tmp_path / "out" / "folder.jpg" / "x").mkdir(parents=True)  # a non-empty folder
    res = run(engine, src, tmp_path / "out")
    assert res["three.jpg"].error == ("cannot decode JPEG: the file ends before the image "
                                      "header (truncated)")
    assert res["eight.png"].error == ("cannot decode PNG: the file ends before the image header "
                                      "(truncated)")
    assert res["header-cut.jpg"].error == res["three.jpg"].error
    assert res["data-cut.png"].error == ("cannot decode PNG: the file ends before the end of "
                                         "the image (truncated)")
    assert res["empty-text.png"].ok
    assert res["folder.jpg"].error == ("cannot write output: a folder with the output's name "
                                       "is in the way")
    for r in res.values():  # never a message that stops at its colon
        assert r.error is None or not r.error.rstrip().endswith(":"), r.error


# ------------------------------------ mutated files among good copies

def mutate(rng: random.Random, data: bytes) -> bytes:
    d = bytearray(data)
    kind = rng.randrange(6)
    if kind == 0:  # random bytes changed, anywhere or in the header
        for _ in range(rng.randint(1, 8)):
            d[rng.randrange(min(len(d), rng.choice([64, 400, len(d)])))] = rng.randrange(256)
    elif kind == 1:  # truncated
        d = d[:rng.randrange(len(d))]
    elif kind == 2:  # a 16-bit or 32-bit field set to an extreme
        i = rng.randrange(min(len(d) - 4, 300))
        d[i:i + rng.choice([2, 4])] = rng.choice([b"\xff\xff", b"\0\0", b"\x7f\xff\xff\xff",
                                                  b"\0\0\0\0"])
    elif kind == 3:  # a slice repeated
        i = rng.randrange(len(d))
        d[i:i] = d[i:i + rng.randint(1, 200)] * rng.randint(1, 5)
    elif kind == 4:  # junk inserted
        i = rng.randrange(len(d))
        d[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 40)))
    else:  # bits flipped in the middle
        for _ in range(rng.randint(1, 4)):
            d[rng.randrange(len(d))] ^= 1 << rng.randrange(8)
    return bytes(d)


def _mutation_seeds() -> list[bytes]:
    cat = Image.open(GOOD / "baseline.jpg").convert("RGB").resize((90, 60))
    cut = Image.open(GOOD / "transparent.png").convert("RGBA").resize((90, 60))
    return [jpeg_bytes(cat), jpeg_bytes(cat, progressive=True), jpeg_bytes(cat.convert("L")),
            jpeg_bytes(cat.convert("CMYK")), jpeg_bytes(cat, exif=_exif(6)),
            png_bytes(cut), png_bytes(cat.quantize(16)), png_bytes(cat.convert("L")),
            _lossless_files()["lossless-rgb.jpg"], _lossless_files()["odd-sampling-3x1.jpg"]]


@pytest.mark.parametrize("workers", [1, 4])
@pytest.mark.parametrize("engine", ENGINES)
def test_mutated_files_never_spoil_good_copies(engine, workers, tmp_path):
    """A few hundred mutated files with untouched good copies between them:
    every good copy succeeds, every other result is an error (and no output)
    or a complete image, no temp file is left, no source changes."""
    rng = random.Random(1000 + workers)
    seeds = _mutation_seeds()
    src = tmp_path / "src"
    src.mkdir()
    good_names = []
    for i in range(300):
        seed = seeds[i % len(seeds)]
        ext = "png" if seed.startswith(PNG_SIG) else "jpg"
        if i % 6 == 0:
            name = f"f{i:03d}-good.{ext}"
            good_names.append(name)
            (src / name).write_bytes(seed)
        else:
            (src / f"f{i:03d}.{ext}").write_bytes(mutate(rng, seed))
    before = tree_state(src)
    res = run(engine, src, tmp_path / "out", workers=workers, width=40, height=40)
    assert len(res) == 300
    for name in good_names:
        assert res[name].ok, (name, res[name].error)
    for name, r in res.items():
        if r.ok:
            with Image.open(r.destination) as im:
                im.load()
                assert im.size == (r.width, r.height)
        else:
            assert r.error, name
            assert not r.error.rstrip().endswith(":"), r.error  # words after the colon
            assert not os.path.exists(r.destination), name
    assert not list((tmp_path / "out").rglob("*.tmp"))
    assert tree_state(src) == before
