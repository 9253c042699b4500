"""Step 06 on hostile files: no bad file spoils a good one, no input ends the
interpreter, both engines reach the same outcome for every file.

Both engines follow one probe (piuma/_probe.py, Pillow's header read), so they
agree on what is refused before a pixel is decoded; past it, Pillow decodes
for the Python engine and libjpeg-turbo / libspng for the Go engine, and the
tests compare their categories and pictures, never their words.

Whatever could end the interpreter runs in a child process here, which also
measures its peak memory. Files are made here; the corpus test takes the test
images of Pillow, libspng, libpng and libjpeg-turbo (`make corpus`), which
nobody here made.
"""

from __future__ import annotations

import argparse
import errno
import hashlib
import importlib.util
import io
import json
import os
import random
import re
import shlex
import shutil
import struct
import subprocess
import sys
import threading
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import piuma
import pytest
from PIL import Image
from piuma import _files, _probe, optimize_dir

HERE = Path(__file__).resolve().parent
GOOD = HERE / "build" / "images" / "fixtures" / "good"
CORPUS = HERE / "build" / "corpus"
ENGINES = ["go", "python"]
CLI = [sys.executable, str(HERE / "optimize.py")]
PNG_SIG = b"\x89PNG\r\n\x1a\n"
CJPEG = shutil.which("cjpeg")  # libjpeg-turbo-progs: JPEGs Pillow cannot write
needs_cjpeg = pytest.mark.skipif(CJPEG is None, reason="needs cjpeg (libjpeg-turbo-progs)")


def run(engine: str, src, dst, **kw) -> dict[str, piuma.FileResult]:
    kw.setdefault("optimize", False)
    results = optimize_dir(src, dst, engine=engine, **kw)
    real = os.path.realpath(src)
    return {os.path.relpath(r.source, real): r for r in results}


def both(src: Path, tmp_path: Path, **kw) -> tuple[dict, dict]:
    return run("go", src, tmp_path / "go", **kw), run("python", src, tmp_path / "py", **kw)


def tree_state(root: Path) -> dict[str, tuple[str, int]]:
    return {str(p.relative_to(root)): (hashlib.sha256(p.read_bytes()).hexdigest(),
                                       p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file() and not p.is_symlink()}


def pixels(path: str) -> np.ndarray:
    """An output's pixels as float RGBA, colour premultiplied by alpha (the
    colour of an invisible pixel does not count)."""
    with Image.open(path) as im:
        a = np.asarray(im.convert("RGBA"), dtype=np.float64)
    a[..., :3] *= a[..., 3:] / 255
    return a


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a - b) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(255**2 / mse)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(w: int, h: int, depth: int, ctype: int, raw: bytes, *extra: bytes, idat=None) -> bytes:
    """A PNG from its filtered rows; extra chunks go before the image data."""
    ihdr = png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, 0))
    return (PNG_SIG + ihdr + b"".join(extra)
            + png_chunk(b"IDAT", zlib.compress(raw) if idat is None else idat)
            + png_chunk(b"IEND", b""))


def encoded(im: Image.Image, fmt: str, **save) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **save)
    return buf.getvalue()


def photo(size=(101, 77)) -> Image.Image:
    with Image.open(GOOD / "baseline.jpg") as im:
        return im.convert("RGB").resize(size, Image.Resampling.LANCZOS)


def cjpeg(im: Image.Image, *args: str) -> bytes:
    """What libjpeg's own cjpeg writes (any sampling factors, arithmetic)."""
    p = subprocess.run([CJPEG, "-quality", "92", *args], input=encoded(im, "PPM"),
                       capture_output=True, check=True)
    return p.stdout


def child(code: str, timeout: int = 300) -> tuple[object, float]:
    """Run code in a fresh interpreter (it sets OUT). Returns OUT and how far
    its resident memory rose above where it was when the code started, in
    MiB (the peak is reset then: Linux's clear_refs)."""
    prologue = f"""
import json, sys
sys.path.insert(0, {str(HERE)!r})
import piuma, piuma._piuma, piuma._pyengine
def status_mib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")
_base = status_mib("VmRSS")
"""
    epilogue = "\nprint('@@' + json.dumps({'out': OUT, 'grew': status_mib('VmHWM') - _base}))\n"
    p = subprocess.run([sys.executable, "-c", prologue + code + epilogue], capture_output=True,
                       text=True, timeout=timeout)
    assert p.returncode == 0, f"the child died ({p.returncode}):\n{p.stderr[-3000:]}"
    report = json.loads(next(x for x in p.stdout.splitlines() if x.startswith("@@"))[2:])
    return report["out"], report["grew"]


# ------------------------------------------------ 1. a bad file spoils nothing

def test_a_bad_jpeg_does_not_spoil_the_next_one(tmp_path):
    """One worker, bad JPEGs between good ones, through the CLI."""
    src = tmp_path / "src"
    src.mkdir()
    base = (GOOD / "baseline.jpg").read_bytes()
    sof = base.index(b"\xff\xc0")
    (src / "a_bad.jpg").write_bytes(b"\xff\xd8\xff\x3e" + bytes(1000))
    (src / "c_twelve.jpg").write_bytes(base[:sof + 4] + b"\x0c" + base[sof + 5:])
    (src / "e_width0.jpg").write_bytes(base[:sof + 7] + b"\0\0" + base[sof + 9:])
    (src / "g_data.jpg").write_bytes(base[:len(base) // 2] + bytes(range(256)) * 8)
    for name in ("b.jpg", "d.jpg", "f.jpg", "h.jpg"):
        shutil.copy(GOOD / "baseline.jpg", src / name)
    outcomes = []
    for engine in ENGINES:
        p = subprocess.run([*CLI, src, tmp_path / f"out-{engine}", "--workers", "1",
                            "--no-optimize", "--engine", engine, "--json"],
                           capture_output=True, text=True)
        assert p.returncode == 1, p.stderr
        files = {os.path.basename(f["source"]): f for f in json.loads(p.stdout)["files"]}
        assert all(files[n]["error"] is None for n in ("b.jpg", "d.jpg", "f.jpg", "h.jpg")), files
        assert files["c_twelve.jpg"]["error"] == "unsupported: cannot handle 12-bit layers"
        assert files["a_bad.jpg"]["category"] == files["e_width0.jpg"]["category"] == "damaged"
        outcomes.append({n: f["category"] for n, f in files.items()})
    assert outcomes[0] == outcomes[1]


# --------------------------------------------------------- 2. sizes, memory

@pytest.mark.parametrize("engine", ENGINES)
def test_a_sparse_64_gib_file_is_neither_read_nor_held(engine, tmp_path):
    """A real JPEG's header and first scan bytes followed by 64 GiB of zeros
    (sparse: no disk used), its header alone followed by them, and an MP4
    named .jpg: both engines read the header and stop, never the whole file;
    the good file beside them is written."""
    src = tmp_path / "src"
    src.mkdir()
    base = (GOOD / "baseline.jpg").read_bytes()
    sos = base.index(b"\xff\xda")
    for name, head in (("a_sparse.jpg", base[:sos + 64]), ("b_no_scan.jpg", base[:sos]),
                       ("c_video.jpg", b"\x00\x00\x00\x18ftypmp42")):
        with open(src / name, "wb") as f:
            f.write(head)
            f.truncate(64 << 30)
    shutil.copy(GOOD / "baseline.jpg", src / "d_good.jpg")
    out, grew = child(f"""
import time
t = time.monotonic()
rs = piuma.optimize_dir({str(src)!r}, {str(tmp_path / "out")!r}, engine={engine!r},
                        optimize=False, width=300)
OUT = [{{r.source.rsplit('/', 1)[1]: (r.error, r.bytes_in) for r in rs}},
       time.monotonic() - t]
""")
    res, seconds = out
    too_large = ("too large: the file is 64.0 GiB, more than a 451x300 image can take "
                 "(68.1 MiB)")
    assert res["a_sparse.jpg"] == [too_large, 64 << 30]
    # Pillow 13 stops at the zeros after the header; Pillow 12 (the
    # free-threaded wheels) skips them a byte at a time, up to HEADER_LIMIT.
    assert res["b_no_scan.jpg"][0] in (too_large, "damaged: no image data in the first "
                                       "16.0 MiB")
    assert res["c_video.jpg"] == ["not an image: not a JPEG or PNG image", 64 << 30]
    assert res["d_good.jpg"] == [None, len(base)]
    assert grew < 100, f"peak memory grew by {grew:.0f} MiB"
    assert seconds < 60, "64 GiB of zeros were read"  # reading them takes minutes


@pytest.mark.parametrize("engine", ENGINES)
def test_a_file_over_its_share_of_max_memory_fails_from_its_header(engine, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    raw = bytes(9001) * 9000  # 9000 x 9000 gray: 81 M pixels, within max_pixels
    (src / "big.png").write_bytes(png(9000, 9000, 8, 0, raw))
    shutil.copy(GOOD / "baseline.jpg", src / "small.jpg")
    res = run(engine, src, tmp_path / "out", width=300, workers=2, max_memory=512 << 20)
    assert res["big.png"].error.startswith("not enough memory: this 9000x9000 image needs "
                                           "about ")
    assert res["big.png"].error.endswith("one worker's share of max_memory is 256.0 MiB")
    assert res["small.jpg"].ok
    p = subprocess.run([*CLI, src, tmp_path / "cli", "--max-memory", "lots"],
                       capture_output=True, text=True)
    assert p.returncode == 2
    assert "invalid size: 'lots'" in p.stderr


@pytest.mark.parametrize("engine", ENGINES)
def test_a_files_memory_share_does_not_depend_on_the_other_files(engine, tmp_path):
    """The share was max_memory // min(workers, files in the batch): a
    garbage file beside a photo halved the photo's share, and it failed."""
    src = tmp_path / "src"
    src.mkdir()
    Image.linear_gradient("L").resize((4000, 3000)).save(src / "photo.jpg")
    need = _probe.memory_needed(4000, 3000, 1, 800, 600, False, (src / "photo.jpg").stat().st_size)
    opts = dict(width=800, workers=2, draft=False, max_memory=need * 3 // 2)
    alone = run(engine, src, tmp_path / "alone", **opts)["photo.jpg"].error
    (src / "zz.jpg").write_bytes(b"not a picture" * 80)
    beside = run(engine, src, tmp_path / "beside", **opts)
    assert beside["zz.jpg"].category == "not an image"
    assert beside["photo.jpg"].error == alone
    assert alone.startswith("not enough memory: ")  # (workers=2: a half share each)


@pytest.mark.parametrize("engine", ENGINES)
def test_many_workers_and_little_memory_convert_fewer_files_at_once(engine, tmp_path,
                                                                     monkeypatch):
    """64 CPUs and a 1 GiB budget: 16 MiB a file failed every file, even a
    small one; workers is capped at one per 64 MiB."""
    src = tmp_path / "src"
    src.mkdir()
    for i in range(3):
        shutil.copy(GOOD / "baseline.jpg", src / f"{i}.jpg")
    monkeypatch.setattr(piuma, "_cpus", lambda: 64)
    assert all(r.ok for r in run(engine, src, tmp_path / "a", max_memory=1 << 30).values())
    res = run(engine, src, tmp_path / "b", workers=64, max_memory=1 << 30)
    assert all(r.ok for r in res.values()), [r.error for r in res.values()]
    # workers=10**6 on 2 CPUs: 8 at once (4 a CPU, as Go runs), so a 2000 x 2000
    # JPEG decoded whole (~106 MiB) fits its 128 MiB share; it was cut for 16.
    monkeypatch.setattr(piuma, "_cpus", lambda: 2)  # (taskset -c 0,1: Go's GOMAXPROCS 2)
    Image.new("RGB", (2000, 2000), "teal").save(src / "big.jpg")
    res = run(engine, src, tmp_path / "c", workers=10**6, max_memory=1 << 30, draft=False)
    assert all(r.ok for r in res.values()), [r.error for r in res.values()]


@pytest.mark.parametrize("engine", ["go", pytest.param("python", marks=pytest.mark.skipif(
    importlib.util.find_spec("imagequant") is None, reason="needs imagequant"))])
def test_a_side_over_65535_pixels_is_too_large(engine, tmp_path):
    """A 9 KB PNG of 1 x 1,100,000 killed the process (SIGSEGV) in the
    imagequant wheel, quantised in a thread; 65,536 wide too is refused."""
    src = tmp_path / "src"
    src.mkdir()
    for name, (w, h) in {"tall.png": (1, 1_100_000), "wide.png": (65_536, 1),
                         "longest.png": (1, 65_535)}.items():
        Image.new("L", (w, h)).save(src / name)
    p = subprocess.run([*CLI, src, tmp_path / "out", "--engine", engine, "--optimizer",
                        "in-process", "--json"], capture_output=True, text=True, timeout=300)
    assert p.returncode == 1, f"exit status {p.returncode}: {p.stderr[-2000:]}"  # (-11: crashed)
    errors = {os.path.basename(f["source"]): f["error"] for f in json.loads(p.stdout)["files"]}
    assert errors == {"tall.png": "too large: 1x1100000: a side over 65535 pixels (JPEG's own "
                                  "limit)",
                      "wide.png": "too large: 65536x1: a side over 65535 pixels (JPEG's own limit)",
                      "longest.png": None}, p.stderr


def test_cli_sizes():
    from piuma.cli import _size

    assert [_size(t) for t in ("512", "512B", "2G", "2gib", " 3M ", "1KB")] == [
        512, 512, 2 << 30, 2 << 30, 3 << 20, 1024]
    for bad in ("", "B", "1.5G", "-1", "5X", "5I", "G5", "\u0663M"):  # (int() reads "٣")
        with pytest.raises(argparse.ArgumentTypeError, match="invalid size"):
            _size(bad)


def tiff_orientation(value: int, count: int = 1, extra: bytes = b"") -> bytes:
    """A TIFF (EXIF) block whose IFD0 holds the orientation tag (SHORT),
    with count values, and an ASCII description of extra."""
    entries = 2 if extra else 1
    data = 8 + 2 + 12 * entries + 4  # where the values go
    ifd = struct.pack(">HHHI", entries, 0x0112, 3, count)
    ifd += struct.pack(">HH", value, 0) if count <= 2 else struct.pack(">I", data)
    if extra:
        ifd += struct.pack(">HHII", 0x010E, 2, len(extra),
                           data + (2 * count if count > 2 else 0))
    return (b"MM\0*\0\0\0\x08" + ifd + b"\0\0\0\0"
            + (struct.pack(">H", value) * count if count > 2 else b"") + extra)


def long_png(w: int, h: int) -> bytes:
    """A gray PNG of w x h pixels, some KiB of deflated zeros, valid."""
    return png(w, h, 8, 0, b"", idat=zlib.compress(bytes((w + 1) * h), 9))


@pytest.mark.parametrize("engine", ENGINES)
def test_an_exif_block_over_one_jpeg_segment_is_not_read(engine, tmp_path):
    """EXIF orientation 6 in a block of 100 KB (a long description): "as
    stored", in both engines; in one of 60 KB, it turns the picture."""
    src = tmp_path / "src"
    src.mkdir()
    for name, extra in (("small.png", 60_000), ("big.png", 100_000)):
        block = tiff_orientation(6, 1, b"x" * extra + b"\0")
        (src / name).write_bytes(png(40, 20, 8, 0, bytes(41) * 20, png_chunk(b"eXIf", block)))
    res = run(engine, src, tmp_path / "out")
    assert (res["small.png"].width, res["small.png"].height) == (20, 40)  # turned
    assert (res["big.png"].width, res["big.png"].height) == (40, 20)  # as stored


@pytest.mark.parametrize("engine", ["go", pytest.param("python", marks=pytest.mark.skipif(
    importlib.util.find_spec("imagequant") is None, reason="the Python engine quantises in "
    "process with the imagequant package, not installed here (free-threaded 3.13)"))])
def test_the_estimate_bounds_the_peak_memory(engine, tmp_path):
    """The estimate max_memory is checked against (piuma/_probe.py,
    memory_needed) is above each engine's peak, file by file, in a fresh
    process each: noise photos and the thinnest shapes (65,535 x 1, the
    longest side; an 89,000,000 x 1 line's weight tables took 1.6 GB before
    both engines box-reduced first). Progressive JPEGs with draft too: libjpeg
    keeps the whole image's coefficients at full size (a 6000 x 6000 4:4:4
    one took 216 MiB against an estimate of 40 before they were counted). A
    PNG with 60 MiB of zTXt, which Pillow inflates from the header (87 MiB
    against 54 before the text was counted); a JPEG with a 16 MiB ICC profile
    in 250 APP2 segments (94 against 63: Pillow keeps every segment, and the
    pieces while it joins them); a PNG with 150,000 text keys (61 against 57:
    keys and dict entries; the Python engine's: libspng refuses 1,000 chunks).
    EXIF blocks of 14 MiB, which Pillow's getexif made into a Python int a
    value (415 MiB against 60): over one JPEG segment's worth, not read; but
    Pillow parses a JPEG's as it opens it (480 MiB against 130): counted."""
    rng = np.random.default_rng(10)
    src = tmp_path / "src"
    src.mkdir()
    noise = Image.fromarray(rng.integers(0, 256, (1000, 1500, 3), dtype=np.uint8))
    noise.save(src / "progressive.jpg", quality=90, progressive=True)
    noise.convert("CMYK").save(src / "cmyk.jpg", quality=90)
    Image.fromarray(rng.integers(0, 256, (1000, 1500, 4), dtype=np.uint8)).save(src / "rgba.png")
    Image.fromarray(rng.integers(0, 65536, (1000, 1500), dtype=np.uint16)).save(src / "gray16.png")
    (src / "line.png").write_bytes(long_png(65_535, 1))
    text = [png_chunk(b"zTXt", b"k%d\0\0" % i + zlib.compress(b"a" * (400 << 10), 9))
            for i in range(150)]
    (src / "text.png").write_bytes(png(1000, 1000, 8, 2, bytes(3001) * 1000, *text))
    jpeg = encoded(photo((64, 64)), "JPEG")
    icc = b"".join(b"\xff\xe2" + struct.pack(">H", 2 + 14 + 65_503) + b"ICC_PROFILE\0"
                   + bytes((i + 1, 250)) + bytes(65_503) for i in range(250))
    (src / "icc.jpg").write_bytes(jpeg[:2] + icc + jpeg[2:])
    big = tiff_orientation(1000, 7 << 20)  # one SHORT tag of 7 Mi values
    (src / "exif.png").write_bytes(png(64, 64, 8, 0, bytes(65) * 64, png_chunk(b"eXIf", big)))
    # Pillow joins the segments and reads a dpi from the EXIF as it opens a JPEG (0x0128)
    big = big.replace(struct.pack(">H", 0x0112), struct.pack(">H", 0x0128), 1)
    app1 = b"".join(b"\xff\xe1" + struct.pack(">H", 8 + len(part)) + b"Exif\0\0" + part
                    for part in [big[i:i + 65_000] for i in range(0, len(big), 65_000)])
    (src / "exif.jpg").write_bytes(jpeg[:2] + app1 + jpeg[2:])
    raw = f"\nexif\n{len(big)}\n" + "\n" * (14 << 20)  # (Pillow split it into lines)
    (src / "rawexif.png").write_bytes(png(64, 64, 8, 0, bytes(65) * 64, png_chunk(
        b"tEXt", b"Raw profile type exif\0" + raw.encode())))
    if engine == "python":
        keys = b"".join(png_chunk(b"tEXt", b"%079d\0" % i) for i in range(150_000))
        (src / "keys.png").write_bytes(png(64, 64, 8, 0, bytes(65) * 64, keys))
    (src / "tower.png").write_bytes(long_png(1, 65_535))
    y, x = np.mgrid[0:6000, 0:6000]  # smooth: quick to encode, small on disk
    Image.fromarray(np.stack([x // 24 % 256, y // 24 % 256, (x + y) // 48 % 256], -1).astype(
        np.uint8)).save(src / "progressive444-draft.jpg", quality=90, progressive=True,
                        subsampling=0)
    os.link(src / "progressive.jpg", src / "progressive-draft.jpg")
    # Baseline, one scan a component (jpegtran -scans): buffered as a progressive
    (tmp_path / "scans.txt").write_text("0;\n1;\n2;\n")
    with Image.open(src / "progressive444-draft.jpg") as im:
        im.save(tmp_path / "444.jpg", subsampling=0)
    subprocess.run(["jpegtran", "-scans", tmp_path / "scans.txt", "-outfile",
                    src / "multiscan-draft.jpg", tmp_path / "444.jpg"], check=True)
    (src / "onescan-draft.jpg").write_bytes(first_scan_only(src / "multiscan-draft.jpg"))
    for name in sorted(p.name for p in src.iterdir()):
        draft = "-draft." in name
        (src / (name + ".d")).mkdir()
        os.link(src / name, src / (name + ".d") / name)
        settings = _probe.Settings(600, 600, piuma.MAX_PIXELS, 1 << 50, draft, True)
        estimate = _probe.probe(str(src / name), "", "", settings).memory / 2**20
        error, grew = child(f"""
[r] = piuma.optimize_dir({str(src / (name + ".d"))!r}, {str(tmp_path / "out" / name)!r},
                         engine={engine!r}, optimizer="in-process", width=600, height=600,
                         workers=1, draft={draft})
OUT = r.error
""")
        print(f"{engine} {name}: peak +{grew:.0f} MiB, estimate {estimate:.0f} MiB")
        assert error is None, (name, error)
        assert grew < estimate, (name, grew, estimate)


def test_an_apng_over_max_memory_is_refused_before_it_is_decoded(tmp_path):
    """The probe decoded an APNG's first image (to see its frames in order)
    before the memory check: a 6000x6000 one over max_memory took 140 MiB
    first. Now it is refused from its header, as a plain PNG is."""
    src = tmp_path / "src"
    src.mkdir()
    big = Image.new("RGBA", (6000, 6000), (0, 128, 128, 255))
    (src / "big.png").write_bytes(encoded(big, "PNG", save_all=True,
                                          append_images=[Image.new("RGBA", big.size)]))
    error, grew = child(f"""
[r] = piuma.optimize_dir({str(src)!r}, {str(tmp_path / "out")!r}, engine="python",
                         optimize=False, width=800, max_memory=100 << 20)
OUT = r.error
""")
    assert error.startswith("not enough memory: this 6000x6000 image needs about"), error
    assert grew < 64, grew  # the image decoded is 137 MiB


def test_an_apng_longer_than_the_header_limit_converts(tmp_path):
    """The probe decoded an APNG's first image from the header it had read,
    16 MiB at most: a valid APNG whose first frame alone is larger was
    "truncated" in both engines. It is decoded from the file now."""
    src = tmp_path / "src"
    src.mkdir()
    noise = Image.frombytes("RGB", (2600, 2600), os.urandom(3 * 2600 * 2600))  # 20 MiB
    (src / "anim.png").write_bytes(encoded(noise, "PNG", save_all=True, compress_level=1,
                                           append_images=[noise.transpose(
                                               Image.Transpose.ROTATE_180)]))
    assert (src / "anim.png").stat().st_size > 16 << 20
    go, py = both(src, tmp_path, width=100)
    assert (go["anim.png"].error, py["anim.png"].error) == (None, None)


def first_scan_only(path: Path) -> bytes:
    """A JPEG of one scan a component cut after its first scan (and a table
    for the next), then EOI: a file of a single scan that holds one component."""
    data = path.read_bytes()
    second = data.index(b"\xff\xda", data.index(b"\xff\xda") + 2)
    cut = data.rfind(b"\xff\xc4", 0, second)
    return data[:cut if cut > data.index(b"\xff\xda") else second] + b"\xff\xd9"


def test_buffered_jpegs_are_told_from_their_first_scan(tmp_path):
    """libjpeg keeps the whole image's coefficients for a progressive file or
    one whose first scan lacks a component: a crafted file of a single such
    scan (a 9000 x 9000 one took 505 MiB against an estimate of 85) is one;
    an EXIF thumbnail (a JPEG inside APP1, SOS and all) or an MPO's second
    picture make no difference. A progressive file whose scans repeat past
    MAX_SCANS is refused from its header; a baseline one with as many SOS
    bytes in a trailer converts."""
    thumb = encoded(photo((40, 30)), "JPEG")
    exif = b"Exif\0\0II*\0" + struct.pack("<I", 8) + bytes(6) + thumb  # no IFD entry
    src = tmp_path / "src"
    src.mkdir()
    (src / "camera.jpg").write_bytes(encoded(photo((400, 300)), "JPEG", exif=exif))
    photo((64, 48)).save(src / "stereo.jpg", "MPO", save_all=True,
                         append_images=[photo((64, 48))])
    (tmp_path / "scans.txt").write_text("0;\n1;\n2;\n")
    subprocess.run(["jpegtran", "-scans", tmp_path / "scans.txt", "-outfile",
                    tmp_path / "multiscan.jpg", src / "camera.jpg"], check=True)
    (src / "onescan.jpg").write_bytes(first_scan_only(tmp_path / "multiscan.jpg"))
    (src / "progressive.jpg").write_bytes(encoded(photo((64, 48)), "JPEG", progressive=True))
    for name, want in [("camera.jpg", False), ("stereo.jpg", False), ("onescan.jpg", True),
                       ("progressive.jpg", True)]:
        with open(src / name, "rb") as f, Image.open(f) as im:
            assert _probe.buffered(f, im, (src / name).read_bytes()) is want, name
    prog = encoded(photo((64, 48)), "JPEG", progressive=True)
    last = prog.rindex(b"\xff\xda")
    (src / "scan-bomb.jpg").write_bytes(prog[:last] + prog[last:-2] * 1000 + b"\xff\xd9")
    (src / "trailer.jpg").write_bytes(encoded(photo((64, 48)), "JPEG") + b"\xff\xda" * 1001)
    go, py = both(src, tmp_path)
    for res in (go, py):
        assert res["camera.jpg"].ok
        assert res["trailer.jpg"].ok
        assert res["scan-bomb.jpg"].error == ("damaged: more than 1000 scans (encoders write a "
                                              "dozen)")


def test_python_out_of_memory_is_one_files_error(tmp_path, monkeypatch):
    """A MemoryError (the estimate is an estimate) fails that file only."""
    from piuma import _pyengine

    src = tmp_path / "src"
    src.mkdir()
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        shutil.copy(GOOD / "baseline.jpg", src / name)
    real, calls = _pyengine._output_mode, []

    def output_mode(im):
        calls.append(1)
        if len(calls) == 2:
            raise MemoryError
        return real(im)

    monkeypatch.setattr(_pyengine, "_output_mode", output_mode)
    res = run("python", src, tmp_path / "out", workers=1, width=100)
    assert [r.error for r in res.values()] == [
        None, "not enough memory: Python ran out of memory converting this image", None]


# ------------------------------- 3. what issue 17 found wrong, one test each

@pytest.mark.parametrize("engine", ENGINES)
def test_no_decoder_state_survives_a_file(engine, tmp_path):
    """One worker: a JPEG with optimised Huffman tables, then a motion-JPEG
    style one without DHT (the standard tables are implied): the second
    decoded only alone; a JPEG without DQT succeeded with the previous
    file's tables (wrong pixels)."""
    src = tmp_path / "src"
    src.mkdir()
    im = photo()
    (src / "a_optimised.jpg").write_bytes(encoded(im, "JPEG", quality=90, optimize=True))
    plain = encoded(im, "JPEG", quality=90)
    (src / "b_no_dht.jpg").write_bytes(_without_segments(plain, 0xC4))
    (src / "c_reference.jpg").write_bytes(plain)
    (src / "d_no_dqt.jpg").write_bytes(_without_segments(plain, 0xDB))
    res = run(engine, src, tmp_path / "out", workers=1)
    assert res["a_optimised.jpg"].ok
    assert res["c_reference.jpg"].ok
    assert res["b_no_dht.jpg"].ok, res["b_no_dht.jpg"].error
    assert psnr(pixels(res["b_no_dht.jpg"].destination),
                pixels(res["c_reference.jpg"].destination)) == 99.0
    assert res["d_no_dqt.jpg"].category == "unsupported"


def _without_segments(jpeg: bytes, marker: int) -> bytes:
    """A JPEG with every segment of one kind (DHT 0xC4, DQT 0xDB) cut out."""
    out, i = bytearray(jpeg[:2]), 2
    while jpeg[i + 1] != 0xDA:
        n = struct.unpack(">H", jpeg[i + 2:i + 4])[0]
        if jpeg[i + 1] != marker:
            out += jpeg[i:i + 2 + n]
        i += 2 + n
    return bytes(out + jpeg[i:])


@pytest.mark.parametrize("engine", ENGINES)
def test_stray_bytes_before_a_marker_are_shown_as_everyone_shows_them(engine, tmp_path):
    """libjpeg warns ("Corrupt JPEG data: 4 extraneous bytes before marker
    0xdb") and decodes; Pillow, browsers and libvips show the picture. The Go
    engine failed the file: now it treats warnings as Pillow does."""
    src = tmp_path / "src"
    src.mkdir()
    data = encoded(photo(), "JPEG", quality=90)
    dqt = data.index(b"\xff\xdb")
    (src / "stray.jpg").write_bytes(data[:dqt] + b"\x01\x02\x03\x04" + data[dqt:])
    (src / "clean.jpg").write_bytes(data)
    res = run(engine, src, tmp_path / "out")
    assert res["stray.jpg"].ok, res["stray.jpg"].error
    assert psnr(pixels(res["stray.jpg"].destination), pixels(res["clean.jpg"].destination)) > 60


@needs_cjpeg
def test_arithmetic_jpegs_of_any_size_decode_in_both(tmp_path):
    """The Python engine refused sequential arithmetic-coded JPEGs (SOF9)
    larger than ~64 KiB as "broken data stream"."""
    src = tmp_path / "src"
    src.mkdir()
    big = photo((1200, 900))
    (src / "arith.jpg").write_bytes(cjpeg(big, "-arithmetic"))
    (src / "arith-progressive.jpg").write_bytes(cjpeg(big, "-arithmetic", "-progressive"))
    assert (src / "arith.jpg").stat().st_size > 64 << 10
    go, py = both(src, tmp_path, width=600)
    for name in ("arith.jpg", "arith-progressive.jpg"):
        assert go[name].ok, go[name].error
        assert py[name].ok, py[name].error
        assert psnr(pixels(go[name].destination), pixels(py[name].destination)) > 38, name


@needs_cjpeg
def test_odd_sizes_keep_their_colour_at_every_sampling(tmp_path):
    """Odd-sized JPEGs whose chroma is full resolution on the odd axis came
    out of the Go engine 3.7-7.3 dB below Python (its planes path shrank 101
    chroma samples to 51: the colour drifted to the edge), and 4:1:1 lost
    2.7-4.9 dB at 96x64. Now both decode to RGB: within 0.5 dB of each other,
    against the source as Pillow decodes it, for every sampling."""
    src = tmp_path / "src"
    src.mkdir()
    cases = {"444": ("1x1", (101, 77)), "422": ("2x1", (101, 77)), "440": ("1x2", (101, 77)),
             "420": ("2x2", (101, 77)), "411": ("4x1", (96, 64))}
    for name, (sample, size) in cases.items():
        (src / f"{name}.jpg").write_bytes(cjpeg(photo(size), "-sample", sample))
    go, py = both(src, tmp_path)  # no bound: no resize
    for name in cases:
        ref = pixels(str(src / f"{name}.jpg"))
        g, p = psnr(pixels(go[f"{name}.jpg"].destination), ref), \
            psnr(pixels(py[f"{name}.jpg"].destination), ref)
        print(f"{name}: go {g:.2f} dB, python {p:.2f} dB")
        assert abs(g - p) < 0.5, (name, g, p)


def gray_row(depth: int, values: list[int]) -> bytes:
    """One filtered row of a 1/2/4-bit gray PNG."""
    bits = "".join(format(v, f"0{depth}b") for v in values)
    bits += "0" * (-len(bits) % 8)
    return b"\0" + int(bits, 2).to_bytes(len(bits) // 8, "big")


@pytest.mark.parametrize("engine", ENGINES)
def test_png_transparent_colours_at_every_bit_depth(engine, tmp_path):
    """tRNS was dropped for 2- and 4-bit gray (Pillow scales the pixels to 8
    bits but not the key); 1-bit gray came out 9 dB apart; a 16-bit key
    cannot be matched by Pillow, which reads 8 bits a sample: refused by both."""
    src = tmp_path / "src"
    src.mkdir()
    for depth in (1, 2, 4):
        top = (1 << depth) - 1
        values = [x % (top + 1) for x in range(16)]
        raw = gray_row(depth, values) * 4
        (src / f"gray{depth}.png").write_bytes(
            png(16, 4, depth, 0, raw, png_chunk(b"tRNS", struct.pack(">H", top))))
        # A key out of range (Pillow's 1_trns.png says 255 for 1 bit): its
        # low bits count, as libpng (and so browsers) read it.
        (src / f"gray{depth}-wide.png").write_bytes(
            png(16, 4, depth, 0, raw, png_chunk(b"tRNS", struct.pack(">H", 0xFF00 | top))))
    rgb16 = b"\0" + struct.pack(">6H", 0x1234, 0x5678, 0x9ABC, 0x1200, 0x5600, 0x9A00)
    (src / "rgb16.png").write_bytes(png(2, 1, 16, 2, rgb16, png_chunk(
        b"tRNS", struct.pack(">3H", 0x1234, 0x5678, 0x9ABC))))
    res = run(engine, src, tmp_path / "out")
    for name in (f"gray{d}{wide}.png" for d in (1, 2, 4) for wide in ("", "-wide")):
        top = (1 << int(name[4])) - 1
        with Image.open(res[name].destination) as im:
            alpha = list(im.convert("RGBA").getchannel("A").tobytes())[:16]
        assert alpha == [0 if x % (top + 1) == top else 255 for x in range(16)], (name, alpha)
    assert res["rgb16.png"].error == "unsupported: a 16-bit PNG with a transparent colour (tRNS)"


def test_png_oddities_have_one_outcome_in_both_engines(tmp_path):
    """Two IHDR chunks, a palette PNG without PLTE, an APNG whose frame
    sequence is broken, ~1 GB of zeros after the image data, a tRNS of over
    256 entries (the Python engine's "internal error"), a tRNS after the image
    data (Pillow applied it, libspng does not): each ends the same way in both
    engines, quickly."""
    src = tmp_path / "src"
    src.mkdir()
    rows = (b"\0" + bytes(range(48))) * 16
    ihdr = struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0)
    (src / "two-ihdr.png").write_bytes(png(16, 16, 8, 2, rows, png_chunk(b"IHDR", ihdr)))
    small = struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0)  # the size Pillow's probe reads
    (src / "two-sizes.png").write_bytes(png(16, 16, 8, 2, rows, png_chunk(b"IHDR", small)))
    (src / "no-plte.png").write_bytes(png(16, 16, 8, 3, (b"\0" + bytes(16)) * 16))
    apng = encoded(photo((32, 24)), "PNG", save_all=True,
                   append_images=[photo((32, 24)).transpose(Image.Transpose.ROTATE_180)])
    fctl = apng.index(b"fcTL", apng.index(b"IDAT"))  # the second frame's
    broken = bytearray(apng)
    broken[fctl + 4:fctl + 8] = struct.pack(">I", 7)  # sequence number 7, not 2
    body = bytes(broken[fctl + 4:fctl + 4 + 26])
    broken[fctl + 30:fctl + 34] = struct.pack(">I", zlib.crc32(b"fcTL" + body))
    (src / "apng-sequence.png").write_bytes(bytes(broken))
    z = zlib.compressobj(9)
    zeros = z.compress(rows) + z.compress(bytes(1 << 30)) + z.flush()
    (src / "trailing-zeros.png").write_bytes(png(16, 16, 8, 2, b"", idat=zeros))
    (src / "short-stream.png").write_bytes(png(16, 16, 8, 2, rows[:len(rows) // 2]))
    indexed = (b"\0" + bytes(i % 4 for i in range(16))) * 16
    plte = png_chunk(b"PLTE", bytes(range(12)))
    (src / "trns-257.png").write_bytes(png(16, 16, 8, 3, indexed, plte,
                                           png_chunk(b"tRNS", bytes(257))))
    late = png(16, 16, 8, 3, indexed, plte)
    iend = late.index(b"IEND") - 4
    (src / "trns-late.png").write_bytes(late[:iend] + png_chunk(b"tRNS", bytes(4)) + late[iend:])
    rgb_late = png(16, 16, 8, 2, rows)
    iend = rgb_late.index(b"IEND") - 4
    (src / "trns-late-rgb.png").write_bytes(rgb_late[:iend] + png_chunk(b"tRNS", bytes(6))
                                            + rgb_late[iend:])
    start = time.monotonic()
    go, py = both(src, tmp_path)
    assert time.monotonic() - start < 60  # an inflate of 1 GB took seconds per engine
    # The differences that remain: Pillow reads the second IHDR (the same
    # picture here), libspng refuses a chunk out of its place; a zlib stream
    # that ends cleanly half way: Pillow fills the missing rows with black
    # (ZipDecode.c does not check, on purpose), libspng refuses it.
    assert (go.pop("two-ihdr.png").error, py.pop("two-ihdr.png").error) == (
        "damaged: invalid chunk position", None)
    # Of another size: both "damaged" (Go said "unreadable: the file changed
    # since it was probed").
    assert go["two-sizes.png"].error == "damaged: invalid chunk position"
    assert (go.pop("short-stream.png").category, py.pop("short-stream.png").category) == (
        "truncated", None)
    for name in go:
        assert go[name].category == py[name].category, (name, go[name].error, py[name].error)
        if go[name].ok:
            assert psnr(pixels(go[name].destination), pixels(py[name].destination)) > 50
    assert go["no-plte.png"].error == "damaged: a palette PNG without a palette (PLTE chunk)"
    assert go["trns-257.png"].error == ("damaged: a palette PNG with over 256 transparent "
                                        "entries (tRNS)")
    for name in ("trns-late.png", "trns-late-rgb.png"):
        with Image.open(py[name].destination) as im:
            assert im.mode == "RGB", name  # opaque, as libspng reads it


def test_libspng_is_stricter_than_pillow_on_these_pngs(tmp_path):
    """Differences that remain (README, "where the engines still differ"),
    pinned so that a change of either library shows: each file holds a whole
    picture, Pillow converts it, libspng refuses a broken part of it."""
    src = tmp_path / "src"
    src.mkdir()
    rows = (b"\0" + bytes(range(48))) * 16
    good = png(16, 16, 8, 2, rows)
    idat = good.index(b"IDAT") - 4
    n = struct.unpack(">I", good[idat:idat + 4])[0]
    bad_crc = bytearray(good)
    bad_crc[idat + 8 + n + 3] ^= 1  # IDAT's CRC only, its data intact
    (src / "idat-crc.png").write_bytes(bytes(bad_crc))
    # compression method 2 (0 is the only one); interlace 2 (0, 1 only), which
    # Pillow reads as Adam7: 1 x 1, whose one pass is the plain row
    for name, at, whole in (("compression", 10, good), ("interlace", 12,
                                                        png(1, 1, 8, 2, b"\0abc"))):
        ihdr = bytearray(whole)
        ihdr[8 + 8 + at] = 2  # (its CRC made good)
        ihdr[8 + 8 + 13:8 + 8 + 17] = struct.pack(">I", zlib.crc32(bytes(ihdr[12:29])))
        (src / f"ihdr-{name}.png").write_bytes(bytes(ihdr))
    (src / "plte-31.png").write_bytes(png(16, 16, 8, 2, rows, png_chunk(b"PLTE", bytes(31))))
    (src / "cut-in-checksum.png").write_bytes(good[:good.index(b"IEND") - 4 - 4 - 2])
    text = png_chunk(b"zTXt", b"Comment\0\0" + zlib.compress(b"x" * (600 << 10)))
    (src / "ztxt-600k.png").write_bytes(png(16, 16, 8, 2, rows, text))
    apng = bytearray(encoded(photo((30, 20)), "PNG", save_all=True, append_images=[
        photo((30, 20)).transpose(Image.Transpose.ROTATE_180)] * 2))
    apng[apng.rindex(b"fdAT") - 4] |= 0x80  # the last frame's chunk length: over 2**31
    (src / "apng-later-frame.png").write_bytes(bytes(apng))
    texts = b"".join(png_chunk(b"tEXt", b"k\0%d" % i) for i in range(1001))
    (src / "text-1001.png").write_bytes(png(16, 16, 8, 2, rows, texts))
    go, py = both(src, tmp_path)
    assert all(r.ok for r in py.values()), {n: r.error for n, r in py.items()}
    assert {n: r.error for n, r in go.items()} == {
        "idat-crc.png": "damaged: invalid chunk checksum",
        "ihdr-compression.png": "damaged: invalid compression method",
        "ihdr-interlace.png": "damaged: invalid interlace method",
        "plte-31.png": "damaged: invalid chunk length",
        "cut-in-checksum.png": "truncated: the file ends early (end of stream)",
        "ztxt-600k.png": "damaged: reached chunk/cache limits",
        "apng-later-frame.png": "damaged: chunk exceeds maximum standard length",
        "text-1001.png": "damaged: reached chunk/cache limits"}


def test_malformed_pngs_both_engines_convert_differently(tmp_path):
    """Differences that remain (README), where both engines write a picture:
    a gray or RGB tRNS of the wrong length (Pillow takes its first bytes as
    the colour key, libspng drops the chunk, as libpng does), an APNG whose
    second frame's data (fdAT) comes before IDAT (Pillow shows that frame,
    libspng the IDAT)."""
    src = tmp_path / "src"
    src.mkdir()
    half = bytes(32) + bytes([255] * 32)  # left half black: the colour key 0
    (src / "gray-trns6.png").write_bytes(png(64, 2, 8, 0, (b"\0" + half) * 2,
                                             png_chunk(b"tRNS", bytes(6))))
    rgb = b"".join(bytes([v] * 3) for v in half)
    (src / "rgb-trns8.png").write_bytes(png(64, 2, 8, 2, (b"\0" + rgb) * 2,
                                            png_chunk(b"tRNS", bytes(8))))
    apng = encoded(Image.new("RGB", (8, 4), "red"), "PNG", save_all=True,
                   append_images=[Image.new("RGB", (8, 4), "blue")])
    idat = apng.index(b"IDAT") - 4
    idat_end = idat + 12 + struct.unpack(">I", apng[idat:idat + 4])[0]
    iend = apng.index(b"IEND") - 4
    (src / "fdat-first.png").write_bytes(apng[:idat] + apng[idat_end:iend]
                                         + apng[idat:idat_end] + apng[iend:])
    go, py = both(src, tmp_path)
    assert all(r.ok for r in (*go.values(), *py.values())), (go, py)

    def first_pixel(res: dict, name: str) -> tuple:
        with Image.open(res[name].destination) as im:
            return im.convert("RGBA").getpixel((0, 0))

    for name in ("gray-trns6.png", "rgb-trns8.png"):
        assert (first_pixel(go, name)[3], first_pixel(py, name)[3]) == (255, 0), name
    assert (first_pixel(go, "fdat-first.png"), first_pixel(py, "fdat-first.png")) == (
        (255, 0, 0, 255), (0, 0, 255, 255))


def test_a_jpeg_without_a_scan_is_truncated_in_both_engines(tmp_path):
    """Its headers, then the end (or EOI): Pillow's header read finds no scan
    and its load said "damaged: cannot load this image"; libjpeg said
    "truncated". The probe refuses it, for both."""
    src = tmp_path / "src"
    src.mkdir()
    data = encoded(photo(), "JPEG")
    head = data[:data.index(b"\xff\xda")]
    (src / "headers.jpg").write_bytes(head)
    (src / "headers-eoi.jpg").write_bytes(head + b"\xff\xd9")
    go, py = both(src, tmp_path)
    for name in ("headers.jpg", "headers-eoi.jpg"):  # (an older Pillow's header read raised
        assert go[name].error == py[name].error, name  # IndexError at the end: "the file
        assert go[name].category == "truncated", go[name].error  # ends early")


def test_a_png_without_image_data_is_damaged_and_one_cut_in_its_header_truncated(tmp_path):
    """IHDR then IEND: "damaged" (the no-scan rule of JPEGs took it for a cut
    file too); cut right after IHDR: "truncated" (it was Pillow's struct.error,
    "damaged: unpack_from requires a buffer of at least 4 bytes ...")."""
    src = tmp_path / "src"
    src.mkdir()
    header = png(8, 8, 8, 2, b"")[:8 + 25]  # the signature and IHDR
    (src / "no-idat.png").write_bytes(header + png_chunk(b"IEND", b""))
    (src / "cut.png").write_bytes(header)
    jpeg = encoded(photo(), "JPEG")
    sof = jpeg.index(b"\xff\xc0")  # a SOF segment shorter than its fields: not the end
    (src / "short-sof.jpg").write_bytes(jpeg[:sof] + b"\xff\xc0\x00\x04\x08\x00" + jpeg[sof:])
    whole = png(8, 8, 8, 2, (b"\0" + bytes(24)) * 8)  # IHDR one byte short, CRC made good
    (src / "short-ihdr.png").write_bytes(whole[:8] + struct.pack(">I", 12) + whole[12:28]
                                         + struct.pack(">I", zlib.crc32(whole[12:28]))
                                         + whole[33:])
    for at in range(8, 48):  # a PNG and a JPEG cut anywhere in their headers
        (src / f"cut-{at}.png").write_bytes(whole[:at])
        (src / f"cut-{at}.jpg").write_bytes(jpeg[:at - 5])  # (from its 3rd byte)
    go, py = both(src, tmp_path)
    for name in ("short-sof.jpg", "short-ihdr.png", "no-idat.png"):  # whole files
        assert go[name].category == py[name].category == "damaged", name
    assert go["cut.png"].error == py["cut.png"].error == "truncated: the file ends early"
    for name in (n for n in go if n.startswith("cut-")):  # (some said "damaged: broken PNG")
        assert go[name].category == py[name].category == "truncated", (name, py[name].error)


def test_what_follows_a_jpeg_image_has_one_outcome_in_both_engines(tmp_path):
    """libjpeg reads on to EOI in both (the Go engine stopped at the last
    row and converted what Pillow calls broken): a second scan in a baseline
    file, an unknown marker after the scan. No EOI: truncated when the last
    rows need bytes past the end, converted when a trailer follows them, or a
    segment cut short (the Go engine read libjpeg's fake EOI as its bytes).
    A difference that remains (README): 2 bytes of padding after gray.jpg's
    last rows, which Pillow's suspending decoder still wants to read past."""
    src = tmp_path / "src"
    src.mkdir()
    jpg = encoded(photo((64, 48)), "JPEG")
    sos = jpg.index(b"\xff\xda")
    (src / "second-scan.jpg").write_bytes(jpg[:-2] + jpg[sos:])
    (src / "bad-marker.jpg").write_bytes(jpg[:-2] + b"\xff\x60\x00\x04ab\xff\xd9")
    (src / "no-eoi.jpg").write_bytes(jpg[:-2])
    (src / "trailer.jpg").write_bytes(jpg[:-2] + b"CAMERA TRAILER" * 4)  # and no EOI
    (src / "cut-dht.jpg").write_bytes(jpg[:-2] + b"\xff\xc4\x00\x20\x00")
    (src / "gray-pad2.jpg").write_bytes((GOOD / "gray.jpg").read_bytes()[:-2] + b"\0\0")
    go, py = both(src, tmp_path)
    assert {n: (go[n].category, py[n].category) for n in go} == {
        "second-scan.jpg": ("damaged", "damaged"), "bad-marker.jpg": ("damaged", "damaged"),
        "no-eoi.jpg": ("truncated", "truncated"), "trailer.jpg": (None, None),
        "cut-dht.jpg": (None, None), "gray-pad2.jpg": (None, "truncated")}
    assert go["second-scan.jpg"].error == "damaged: Didn't expect more than one scan"


# ----------------------------------------------- 4. names, paths, folders

@pytest.mark.parametrize("engine", ENGINES)
def test_a_folder_that_cannot_be_listed_is_one_result(engine, tmp_path, monkeypatch):
    """(As root, chmod 000 does not stop a listing: os.scandir refuses here.)
    The batch goes on; the result names the folder, and where it would go."""
    src, dst = tmp_path / "src", tmp_path / "dst"
    (src / "locked").mkdir(parents=True)
    shutil.copy(GOOD / "baseline.jpg", src / "locked" / "a.jpg")
    shutil.copy(GOOD / "baseline.jpg", src / "b.jpg")
    real_scandir = os.scandir

    def scandir(path="."):
        if os.fspath(path).endswith("locked"):
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    rs = optimize_dir(src, dst, engine=engine, optimize=False, width=100)
    real = os.path.realpath(tmp_path)
    assert [(r.source, r.destination, r.category) for r in rs] == [
        (f"{real}/src/b.jpg", f"{real}/dst/b.jpg", None),
        (f"{real}/src/locked", f"{real}/dst/locked", "unreadable")]
    assert rs[1].error.startswith("unreadable: cannot list this folder: ")


@pytest.mark.parametrize("engine", ENGINES)
def test_a_folder_gone_while_src_is_walked_fails_alone(engine, tmp_path, monkeypatch):
    """A folder a user removed between the listing of its parent and its own:
    it is a result that says so; the identity check (which stats every folder
    of src) once failed the whole batch with FileNotFoundError."""
    src = tmp_path / "src"
    (src / "gone").mkdir(parents=True)
    shutil.copy(GOOD / "baseline.jpg", src / "a.jpg")
    real_scandir = os.scandir

    class Listed(list):  # src's listing, made before "gone" is removed
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            pass

    def scandir(path):
        with real_scandir(path) as it:
            entries = Listed(it)
        if path == str(src.resolve()):
            (src / "gone").rmdir()
        return entries

    monkeypatch.setattr(os, "scandir", scandir)
    rs = optimize_dir(src, tmp_path / "out", engine=engine)
    assert [(os.path.basename(r.source), r.error) for r in rs] == [
        ("a.jpg", None), ("gone", "unreadable: cannot list this folder: no such file or directory")]


def test_root_is_never_src_or_dst(tmp_path):
    """"/" + os.sep is "//": the overlap check let / through, as src or dst."""
    assert _files.inside(str(tmp_path), "/")
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
    assert b"FAILED bad-\xe9.png: not an image: " in p.stdout  # its bytes, as ls shows them
    assert f"4 ok, 1 failed ({engine} engine)".encode() in p.stdout
    p = subprocess.run([*CLI, src, tmp_path / "out2", "--no-optimize", "--engine", engine,
                        "--json"], capture_output=True, env=env)
    report = json.loads(p.stdout)  # ASCII: undecodable bytes as \udcxx escapes
    sources = {os.path.basename(os.fsencode(f["source"])) for f in report["files"]}
    assert sources == {b"caf\xe9.jpg", b"\xee\x80\x80-private.jpg", b"plain.jpg", b"\xff.jpg",
                       b"bad-\xe9.png"}


def test_cli_prints_non_utf8_names_on_a_utf16_stdout(tmp_path):
    """Such a name's bytes, alone, are not UTF-16: they are escaped there, as
    Python writes them (the encoder refused the odd byte, and the CLI died
    with a traceback)."""
    env = dict(os.environ, PYTHONIOENCODING="utf-16")
    p = subprocess.run([*CLI, _names_src(tmp_path), tmp_path / "out", "--no-optimize"],
                       capture_output=True, env=env)
    assert p.returncode == 1, p.stderr
    assert "FAILED bad-\\udce9.png: not an image: " in p.stdout.decode("utf-16")


@pytest.mark.parametrize("engine", ENGINES)
def test_a_read_only_destination_fails_before_any_work(engine, tmp_path, monkeypatch):
    """A dst on a read-only file system fails at once, not after every file
    was decoded (faked: mounting one needs privileges a test should not take)."""
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
    with pytest.raises(OSError, match="read-only file system"):
        optimize_dir(GOOD, dst, width=100, engine=engine)
    assert list(dst.iterdir()) == []


def test_cli_summary_escapes_control_characters_in_names(tmp_path):
    """A newline in a file name forged a line of the summary, a carriage
    return hid the start of one: they are written as escapes."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "z.jpg: bad\nFAILED innocent.jpg").write_bytes(b"garbage")
    (src / "evil\r.png").write_bytes(b"garbage")
    (src / "csi\x9b.png").write_bytes(b"garbage")  # a C1 control: CSI on some terminals
    with open(os.fsencode(src) + b"/raw\x9b.png", "wb"):  # the same, a byte (not UTF-8)
        pass
    shutil.copy(GOOD / "baseline.jpg", src / "fine.jpg")
    p = subprocess.run([*CLI, src, tmp_path / "out", "--no-optimize", "--width", "800"],
                       capture_output=True, text=True)
    assert p.returncode == 1, p.stderr
    assert [line for line in p.stdout.splitlines() if line.startswith("FAILED")] == [
        "FAILED csi\\x9b.png: not an image: not a JPEG or PNG image",
        "FAILED evil\\r.png: not an image: not a JPEG or PNG image",
        "FAILED raw\\x9b.png: empty: empty file",
        "FAILED z.jpg: bad\\nFAILED innocent.jpg: not an image: not a JPEG or PNG image"]
    assert "\r" not in p.stdout


def test_cli_with_stderr_closed_still_reports(tmp_path):
    """A cron line with 2>&- (sys.stderr is None): the progress bar asked
    None whether it is a terminal, after the batch, and the summary was lost."""
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(GOOD / "baseline.jpg", src / "a.jpg")
    p = subprocess.run(["sh", "-c", 'exec "$@" 2>&-', "sh", *map(str, CLI), str(src),
                        str(tmp_path / "out")], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout
    assert p.stdout.startswith("1 ok, 0 failed (go engine)"), p.stdout


def test_cli_summary_escapes_control_characters_in_errors(tmp_path):
    """An error may name a folder (a file in the way of an output folder):
    its newline could forge a line of the summary too."""
    src, dst = tmp_path / "src", tmp_path / "dst"
    name = "x\n9 ok, 0 failed (go engine)"
    (src / name).mkdir(parents=True)
    shutil.copy(GOOD / "baseline.jpg", src / name / "a.jpg")
    dst.mkdir()
    (dst / name).write_bytes(b"")  # a file in the way of the output folder
    p = subprocess.run([*CLI, src, dst, "--no-optimize"], capture_output=True, text=True)
    assert p.returncode == 1, p.stderr
    lines = p.stdout.splitlines()
    assert len(lines) == 2, lines
    assert lines[0] == ("FAILED x\\n9 ok, 0 failed (go engine)/a.jpg: cannot write: a file is in "
                        "the way of the output folder "
                        f"{os.path.realpath(dst)}/x\\n9 ok, 0 failed (go engine)")


@pytest.mark.parametrize("engine", ENGINES)
def test_error_naming_a_non_utf8_folder_is_lossless(engine, tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    bad = os.fsencode(src) + b"/\xe9t\xe9"
    os.makedirs(bad)
    shutil.copy(GOOD / "baseline.jpg", os.path.join(bad, b"a.jpg"))
    os.makedirs(dst)
    os.symlink(bad, os.path.join(os.fsencode(dst), b"\xe9t\xe9"))
    r = run(engine, src, dst)[os.fsdecode(b"\xe9t\xe9/a.jpg")]
    real = os.fsencode(os.path.realpath(tmp_path))
    assert os.fsencode(r.error) == (b"cannot write: the output folder " + real
                                    + b"/dst/\xe9t\xe9 is reached through a symbolic link ("
                                    + real + b"/dst/\xe9t\xe9 -> " + bad + b"): outputs go "
                                    b"into dst's own folders only")


# ------------------------------------------- 5. crash leftovers and races

def readme_find_command() -> str:
    [cmd] = re.findall(r"^find -H DST -type f [^\n]*-delete$", (HERE / "README.md").read_text(),
                       re.M)
    return cmd


@pytest.mark.parametrize("engine", ENGINES)
def test_temp_files_a_killed_run_left_stay_until_the_readmes_find_removes_them(engine, tmp_path):
    """A run killed mid-write leaves its hidden temp file, never a partial
    output. No run removes files it did not make (the sweep of this host's
    dead runs' temp files is dropped: README.md, "Dropped since"): a later
    run leaves a leftover, and a src folder named like one, alone; the
    README's find command removes the leftover once it is old, and nothing
    else, when DST is a link too (find did not follow one before -H)."""
    src, dst = tmp_path / "src", tmp_path / "releases" / "r1"
    (src / "sub").mkdir(parents=True)
    shutil.copy(GOOD / "baseline.jpg", src / "sub" / "a.jpg")
    like_temp = ".x.jpg.piuma-0123456789abcdef.tmp"
    (src / like_temp).mkdir()
    shutil.copy(GOOD / "gray.jpg", src / like_temp / "b.jpg")
    (dst / "sub").mkdir(parents=True)
    left = Path(_files.temp_name(str(dst / "sub" / "a.jpg")))
    left.write_bytes(b"half a JPEG")
    (dst / "sub" / ".notes.piuma-old.tmp").write_bytes(b"not piuma's")  # (not 16 hex digits)
    res = run(engine, src, dst)
    assert all(r.ok for r in res.values()), res
    assert left.read_bytes() == b"half a JPEG"
    hour_ago = time.time() - 2 * 3600
    for old in (left, dst / "sub" / ".notes.piuma-old.tmp"):
        os.utime(old, (hour_ago, hour_ago))
    (tmp_path / "current").symlink_to(dst)  # what the cron job is given
    subprocess.run(readme_find_command().replace("DST", shlex.quote(str(tmp_path / "current"))),
                   shell=True, check=True)
    assert not left.exists()
    assert sorted(p.relative_to(dst).as_posix() for p in dst.rglob("*") if p.is_file()) == [
        f"{like_temp}/b.jpg", "sub/.notes.piuma-old.tmp", "sub/a.jpg"]


def test_a_jpeg_of_sampling_factors_zero_fails_alone(tmp_path, monkeypatch):
    """A progressive JPEG whose components are all sampled 0x0 (a hostile
    header Pillow reads): the memory estimate divided by zero, and the
    ZeroDivisionError stopped the batch, in both engines and on Dask. It is
    that file's error now; any other exception in the probe would be too."""
    data = bytearray(encoded(photo((64, 48)), "JPEG", progressive=True))
    sof = data.index(b"\xff\xc2")
    for c in range(3):  # SOF: marker, length, precision, height, width, count; 3 bytes a component
        data[sof + 10 + 3 * c + 1] = 0
    src = tmp_path / "src"
    src.mkdir()
    (src / "zero.jpg").write_bytes(data)
    shutil.copy(GOOD / "baseline.jpg", src / "fine.jpg")
    go, py = both(src, tmp_path)
    for res in (go, py):
        assert res["fine.jpg"].ok
        assert res["zero.jpg"].category == "damaged", res["zero.jpg"].error
    with open(src / "zero.jpg", "rb") as f, Image.open(f) as im:
        assert _probe.coefficients(im) == 0  # (no block of any size: no division by zero)
    real = _probe.decide
    monkeypatch.setattr(_probe, "decide", lambda im, source, *a: (
        1 / 0 if source.endswith("zero.jpg") else real(im, source, *a)))
    for res in both(src, tmp_path / "again"):
        assert res["fine.jpg"].ok
        assert res["zero.jpg"].error == "internal error: ZeroDivisionError: division by zero"


@pytest.mark.parametrize("engine", ENGINES)
def test_a_fifo_swapped_in_after_the_probe_cannot_block(engine, tmp_path, monkeypatch):
    """The probe saw a regular file; a FIFO takes its place before the
    engine opens it: the open returns at once, and the file is an error."""
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(GOOD / "gray.jpg", src / "pipe.jpg")
    shutil.copy(GOOD / "gray.jpg", src / "fine.jpg")
    real_probe = _probe.probe

    def probe(source, *args):
        job = real_probe(source, *args)
        if source.endswith("pipe.jpg"):
            os.unlink(source)
            os.mkfifo(source)
        return job

    monkeypatch.setattr(_probe, "probe", probe)
    out: list = []
    t = threading.Thread(target=lambda: out.append(run(engine, src, tmp_path / "out",
                                                       workers=1)))
    t.start()
    t.join(120)  # a hang detector: the open returns at once, or never
    if t.is_alive():  # pragma: no cover - unblock the reader, then fail
        os.close(os.open(src / "pipe.jpg", os.O_WRONLY | os.O_NONBLOCK))
        t.join()
        pytest.fail("opening a FIFO blocked")
    assert out[0]["pipe.jpg"].error == "unreadable: not a regular file"
    assert out[0]["fine.jpg"].ok


# ------------------------------------ 6. mutated files among good copies

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


def mutation_seeds() -> list[bytes]:
    cat = photo((90, 60))
    with Image.open(GOOD / "transparent.png") as im:
        cut = im.convert("RGBA").resize((90, 60))
    exif = Image.Exif()
    exif[0x0112] = 6
    return [encoded(cat, "JPEG"), encoded(cat, "JPEG", progressive=True),
            encoded(cat.convert("L"), "JPEG"), encoded(cat.convert("CMYK"), "JPEG"),
            encoded(cat, "JPEG", exif=exif.tobytes()), encoded(cut, "PNG"),
            encoded(cat.quantize(16), "PNG"), encoded(cat.convert("L"), "PNG"),
            encoded(cat, "PNG", interlace=1)]


@pytest.mark.parametrize("workers", [1, 4])
def test_mutated_files_never_spoil_good_copies(workers, tmp_path):
    """300 mutated files with untouched good copies between them, in both
    engines: every good copy succeeds, every other result is an error (and no
    output) or a complete image, no temp file is left, no source changes;
    and the engines reach the same outcome for most (the differences are
    counted and printed: they are the decoders', Pillow's and libjpeg's)."""
    rng = random.Random(1000 + workers)
    seeds = mutation_seeds()
    src = tmp_path / "src"
    src.mkdir()
    good_names = []
    for i in range(300):
        seed = seeds[i % len(seeds)]
        ext = "png" if seed.startswith(PNG_SIG) else "jpg"
        if i % 6 == 0:
            good_names.append(f"f{i:03d}-good.{ext}")
            (src / good_names[-1]).write_bytes(seed)
        else:
            (src / f"f{i:03d}.{ext}").write_bytes(mutate(rng, seed))
    before = tree_state(src)
    go, py = both(src, tmp_path, workers=workers, width=40, height=40)
    for res in (go, py):
        assert len(res) == 300
        assert all(res[name].ok for name in good_names)
        for name, r in res.items():
            if r.ok:
                with Image.open(r.destination) as im:
                    im.load()
                    assert im.size == (r.width, r.height)
            else:
                assert r.error.split(": ", 1)[1].strip(), r.error  # words after the colon
                assert not os.path.exists(r.destination), name
    assert not list(tmp_path.rglob("*.tmp"))
    assert tree_state(src) == before
    same = sum(go[n].category == py[n].category for n in go)
    print(f"{same} of 300 with the same outcome")
    assert same >= 270


# ------------------------------- 7. a corpus nobody here made: the libraries' tests

def test_the_corpus_ends_alike_in_both_engines(tmp_path):
    """Every JPEG and PNG of the test suites of Pillow, libspng, libpng and
    libjpeg-turbo (their source releases, `make corpus`: real-world files,
    broken ones, PngSuite, fuzzers' crashers), through both engines, fitted in
    300x300 without the optimisers: the outcomes are tabled (pytest -s shows
    the table, which the README quotes), and where both convert a file, the
    pictures must be the same (PSNR, colour premultiplied)."""
    if not (CORPUS / ".complete").is_file():  # (a make corpus that failed leaves it empty)
        pytest.skip("no corpus: run `make corpus` (downloads the libraries' source releases)")
    sources = Counter(p.name.split("__")[0].rsplit("-", 1)[0] for p in CORPUS.iterdir()
                      if piuma.is_image_name(p.name))
    assert sources.keys() == {"pillow", "libspng", "libpng", "libjpeg-turbo"}, sources
    table = compare(CORPUS, tmp_path)
    print(table.text())
    assert table.files == sum(sources.values()) > 800
    assert table.same_outcome / table.files > 0.9, table.text()
    assert table.low_psnr == [], table.text()


@dataclass
class Table:
    files: int = 0
    same_outcome: int = 0
    outcomes: Counter = field(default_factory=Counter)  # (go, python) -> files
    psnr: list[float] = field(default_factory=list)
    low_psnr: list[tuple[str, float]] = field(default_factory=list)
    differ: list[tuple[str, str | None, str | None]] = field(default_factory=list)

    def text(self) -> str:
        lines = [f"{self.files} files, {self.same_outcome} with the same outcome in both engines",
                 f"{'go engine':<20} {'python engine':<20} files"]
        for (g, p), n in sorted(self.outcomes.items(), key=lambda kv: -kv[1]):
            lines.append(f"{g or 'ok':<20} {p or 'ok':<20} {n}")
        if self.psnr:
            q = np.percentile(self.psnr, [0, 50, 100])
            lines.append(f"both converted {len(self.psnr)}: PSNR go vs python, min {q[0]:.1f} "
                         f"dB, median {q[1]:.1f} dB, max {q[2]:.1f} dB")
        lines += [f"  differs: {name}: go {g}, python {p}" for name, g, p in self.differ]
        lines += [f"  low PSNR: {name}: {v:.1f} dB" for name, v in self.low_psnr]
        return "\n".join(lines)


def compare(corpus: Path, work: Path, min_psnr: float = 30.0) -> Table:
    runs = {}
    for engine in ("go", "python"):
        results = piuma.optimize_dir(corpus, work / engine, engine=engine, width=300,
                                     height=300, optimize=False)
        runs[engine] = {os.path.basename(r.source): r for r in results}
    t = Table()
    for name, g in runs["go"].items():
        p = runs["python"][name]
        t.files += 1
        t.outcomes[g.category, p.category] += 1
        if g.category == p.category:
            t.same_outcome += 1
        else:
            t.differ.append((name, g.error, p.error))
        if g.ok and p.ok:
            a, b = pixels(g.destination), pixels(p.destination)
            mse = float(np.mean((a - b) ** 2)) if a.shape == b.shape else 255.0**2
            v = 99.0 if mse == 0 else 10 * np.log10(255**2 / mse)
            t.psnr.append(v)
            if v < min_psnr:
                t.low_psnr.append((name, v))
    return t
