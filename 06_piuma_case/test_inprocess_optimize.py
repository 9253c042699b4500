"""The in-process optimiser (optimizer="in-process") against the tools it replaces.

Go engine: libjpeg's optimised Huffman tables and libimagequant in the Go
core: the very bytes jpegoptim writes, the very pixels and palette pngquant
writes. Python engine: Pillow's optimize=True and the PyPI imagequant binding
(an older libimagequant): within 1% (JPEG) and 2% (PNG) of the tools' sizes,
PSNR within 0.3 dB. Runs in the step's interpreter, which loads this step's
Go core once (see test_piuma_case.py).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import piuma
import pytest
from PIL import Image
from piuma import optimize_dir
from test_hostile_files import pixels as premultiplied  # colour times alpha
from test_hostile_files import psnr

HERE = Path(__file__).resolve().parent
PRODUCTS = HERE / "build" / "images" / "products"
SUBSET = ["jpeg/chelsea.jpg", "jpeg/astronaut-gray.jpg", "png/coffee-cutout.png"]

# The Python engine's in-process optimiser needs the PyPI imagequant binding,
# built on CFFI: requirements-free-threaded.txt leaves it out (CFFI supports
# free-threaded CPython only from 3.14). Without it only the Go side runs.
HAVE_IMAGEQUANT = importlib.util.find_spec("imagequant") is not None
needs_imagequant = pytest.mark.skipif(
    not HAVE_IMAGEQUANT, reason="the imagequant package is not installed (a CFFI "
    "binding: left out on free-threaded CPython before 3.14)")

if not PRODUCTS.is_dir():  # pragma: no cover - a usage error, not a test failure
    pytest.exit("run `make` in 06_piuma_case first (build/images is missing)", 2)


@pytest.fixture(scope="module")
def products(tmp_path_factory) -> Path:
    """Two product JPEGs (colour and gray) and a transparent PNG cut-out."""
    src = tmp_path_factory.mktemp("products")
    for rel in SUBSET:
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(PRODUCTS / rel, src / rel)
    return src


def run(src: Path, dst: Path, **kw) -> dict[str, piuma.FileResult]:
    results = optimize_dir(src, dst, width=400, height=400, **kw)
    assert all(r.ok for r in results), [r.error for r in results]
    return {os.path.relpath(r.source, os.path.realpath(src)): r for r in results}


def pixels(path: str) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGBA"))


def test_go_in_process_writes_what_the_talks_pipeline_writes(products, tmp_path):
    """The Go engine in process against the talk's pipeline (Pillow, then
    jpegoptim and pngquant): the resize makes Pillow's very pixels, so the
    JPEGs decode to the same pixels (libjpeg-turbo 2.1 here, Pillow's 3.x
    there: the Huffman tables may differ by a few bytes) and pngquant's very
    palette and indices come out."""
    inproc = run(products, tmp_path / "in", engine="go", optimizer="in-process")
    tools = run(products, tmp_path / "tools", engine="python", optimizer="tools")
    for rel in SUBSET:
        a, b = Path(inproc[rel].destination), Path(tools[rel].destination)
        if rel.endswith(".jpg"):
            assert np.array_equal(pixels(str(a)), pixels(str(b))), rel
            assert abs(a.stat().st_size - b.stat().st_size) <= 0.002 * b.stat().st_size, rel
        else:
            with Image.open(a) as pa, Image.open(b) as pb:
                assert pa.mode == pb.mode == "P"
                assert np.array_equal(np.asarray(pa), np.asarray(pb))  # pngquant's indices
                assert pa.getpalette("RGBA") == pb.getpalette("RGBA")  # and palette
            # One IDAT chunk instead of pngquant's 8 KB ones: a little smaller.
            assert b.stat().st_size - 300 <= a.stat().st_size <= b.stat().st_size


@needs_imagequant
def test_python_in_process_is_close_to_the_tools(products, tmp_path):
    inproc = run(products, tmp_path / "in", engine="python", optimizer="in-process")
    tools = run(products, tmp_path / "tools", engine="python", optimizer="tools")
    plain = run(products, tmp_path / "plain", engine="python", optimize=False)
    for rel in SUBSET:
        a, b = inproc[rel], tools[rel]
        limit = 0.01 if rel.endswith(".jpg") else 0.02
        assert abs(a.bytes_out - b.bytes_out) <= limit * b.bytes_out, (rel, a, b)
        if rel.endswith(".jpg"):  # lossless both ways: the encoder's pixels
            assert np.array_equal(pixels(a.destination), pixels(plain[rel].destination))
            assert np.array_equal(pixels(b.destination), pixels(plain[rel].destination))
        else:  # lossy: as close to the true-colour output as pngquant's
            ref = premultiplied(plain[rel].destination)
            qa = psnr(premultiplied(a.destination), ref)
            qb = psnr(premultiplied(b.destination), ref)
            assert abs(qa - qb) < 0.3, (qa, qb)
            assert a.bytes_out < plain[rel].bytes_out / 2


@pytest.fixture
def no_tools(tmp_path, monkeypatch):
    """PATH without jpegoptim and pngquant (nor anything else)."""
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert shutil.which("pngquant") is None


@pytest.mark.usefixtures("no_tools")
def test_in_process_needs_no_tool(products, tmp_path):
    plain = run(products, tmp_path / "plain", engine="go", optimize=False)
    for engine in ("go", "python") if HAVE_IMAGEQUANT else ("go",):
        out = run(products, tmp_path / engine, engine=engine, optimizer="in-process")
        for rel in SUBSET:
            assert out[rel].bytes_out < plain[rel].bytes_out, (engine, rel)
    # The Go engine's default is in process; the Python engine's the tools.
    run(products, tmp_path / "default", engine="go")
    with pytest.raises(FileNotFoundError, match=r"jpegoptim not found on PATH: install it "
                       r"\(Debian/Ubuntu: apt-get install jpegoptim; macOS: brew install "
                       r"jpegoptim\)"):
        optimize_dir(products, tmp_path / "x", engine="python")
    assert not (tmp_path / "x").exists()  # (it was made, then the tools were looked for)
    with pytest.raises(ValueError, match="the Go engine optimises in process only"):
        optimize_dir(products, tmp_path / "y", engine="go", optimizer="tools")


@pytest.mark.parametrize("engine", ["go", pytest.param("python", marks=needs_imagequant)])
def test_an_opaque_picture_gets_a_palette_without_transparency(engine, tmp_path):
    """The Python engine's palette PNG carried a tRNS chunk of 255s (every
    entry opaque) for an opaque picture; the Go engine's carries none."""
    src = tmp_path / "src"
    src.mkdir()
    with Image.open(PRODUCTS / "jpeg" / "chelsea.jpg") as im:  # 64 colours: a palette wins
        im.resize((300, 200)).quantize(64).convert("RGB").save(src / "flat.png")
    [r] = optimize_dir(src, tmp_path / "out", engine=engine, optimizer="in-process")
    data = Path(r.destination).read_bytes()
    with Image.open(r.destination) as im:
        assert im.mode == "P"  # the palette won
    assert b"tRNS" not in data


def test_low_level_run_optimises_in_process_without_tool_paths(products, tmp_path):
    from piuma import _piuma
    from test_piuma_case import go_jobs

    rows = _piuma.run(go_jobs(products, tmp_path / "out", width=400), optimize=True)
    plain = _piuma.run(go_jobs(products, tmp_path / "plain", width=400))
    assert [r[:2] for r in rows] == [(0, None)] * len(SUBSET)
    assert all(a[3] < b[3] for a, b in zip(rows, plain, strict=True))


@pytest.mark.parametrize(("value", "exc", "message"), [
    ("fast", ValueError, "optimizer must be one of 'in-process', 'tools', not 'fast'"),
    (1, TypeError, "optimizer must be a str, not int"),
])
def test_bad_optimizer(products, tmp_path, value, exc, message):
    with pytest.raises(exc, match=message):
        optimize_dir(products, tmp_path / "out", optimizer=value)


def test_python_in_process_without_imagequant_is_a_clear_error(products, tmp_path):
    code = ("import sys; sys.modules['imagequant'] = None; sys.path.insert(0, sys.argv[1]); "
            "from piuma.cli import main; sys.exit(main(sys.argv[2:]))")
    p = subprocess.run([sys.executable, "-c", code, str(HERE), str(products),
                        str(tmp_path / "out"), "--engine", "python", "--optimizer",
                        "in-process"], capture_output=True, text=True)
    assert p.returncode == 2, p.stderr
    assert "needs the imagequant package (pip install imagequant)" in p.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.*"))


def test_cli_optimizer_option(products, tmp_path):
    cli = [sys.executable, str(HERE / "optimize.py"), str(products)]
    outs = {}
    for optimizer, engine in (("in-process", "go"), ("tools", "python")):
        p = subprocess.run([*cli, str(tmp_path / optimizer), "--width", "400", "--json",
                            "--engine", engine, "--optimizer", optimizer],
                           capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        outs[optimizer] = json.loads(p.stdout)["summary"]["bytes_out"]
    assert abs(outs["in-process"] - outs["tools"]) <= 0.01 * outs["tools"]
    p = subprocess.run([*cli, str(tmp_path / "bad"), "--optimizer", "fast"],
                       capture_output=True, text=True)
    assert p.returncode == 2
    assert "invalid choice: 'fast'" in p.stderr


def peak_growth(code: str) -> tuple[object, float]:
    """Run code in a fresh interpreter (it sets OUT); OUT and how far its peak
    resident memory rose (MiB) above where it was once piuma, its Go core,
    Pillow and imagequant were loaded (Linux: clear_refs resets VmHWM)."""
    prologue = f"""
import json, sys
sys.path.insert(0, {str(HERE)!r})
import piuma, piuma._piuma, piuma._pyoptimize
{"import imagequant" if HAVE_IMAGEQUANT else ""}
def status_mib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")
_base = status_mib("VmRSS")
"""
    epilogue = "\nprint('@@' + json.dumps([OUT, status_mib('VmHWM') - _base]))\n"
    p = subprocess.run([sys.executable, "-c", prologue + code + epilogue],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    out, grew = json.loads(next(x for x in p.stdout.splitlines() if x.startswith("@@"))[2:])
    return out, grew


@pytest.mark.parametrize("engine", ["go", pytest.param("python", marks=needs_imagequant)])
def test_the_memory_estimate_counts_the_quantisation(engine, tmp_path):
    """A 2400x1600 RGBA PNG kept at its size and quantised in process: the
    peak stays under the file's memory estimate, which now counts what
    libimagequant takes (a float copy of the image, maps, indices)."""
    from piuma import _probe

    rng = np.random.default_rng(12)
    src = tmp_path / "src"
    src.mkdir()
    pix = rng.integers(0, 256, (1600, 2400, 4), dtype=np.uint8)
    pix[..., 3] = np.where(rng.random((1600, 2400)) < 0.5, 255, 0)  # transparent half
    Image.fromarray(pix).save(src / "big.png")
    out, grew = peak_growth(f"""
[r] = piuma.optimize_dir({str(src)!r}, {str(tmp_path / "out")!r}, engine={engine!r},
                         optimizer="in-process", workers=1)
OUT = [r.error, r.width, r.height]
""")
    assert out == [None, 2400, 1600]
    estimate = _probe.memory_needed(2400, 1600, 1, 2400, 1600, quantize=True)
    without = _probe.memory_needed(2400, 1600, 1, 2400, 1600, quantize=False)
    print(f"{engine}: peak +{grew:.0f} MiB, estimate {estimate / 2**20:.0f} MiB, "
          f"without the quantisation {without / 2**20:.0f} MiB")
    assert grew < estimate / 2**20, (grew, estimate / 2**20)
    # and the term is not there for nothing: quantising takes more than the
    # rest of the estimate leaves.
    assert grew > without / 2**20 - 8, (grew, without / 2**20)
