"""The shipped wheel: `make wheel`, then a fresh venv per CPython found here.

The repaired wheel must install with no network (--no-index, the wheelhouse
only), run the CLI with neither Go nor a -dev package, and load the C
libraries it carries (piuma.libs/), not the system's: checked with ldd and
in /proc/<pid>/maps of a process that has just used every one of them. One
cp310-abi3 wheel serves every interpreter: the test installs it into a venv
of each CPython >= 3.10 it finds (this one, and pyenv's where present).

Everything runs in other processes: the installed package has its own Go core.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
WHEELHOUSE = HERE / "build" / "wheelhouse"
GOOD = HERE / "build" / "images" / "fixtures" / "good"
CUTOUT = HERE / "build" / "images" / "products" / "png" / "chelsea-cutout.png"
BUNDLED = ("libspng", "libjpeg", "libimagequant", "libgomp")
FREE_THREADED = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))

pytestmark = pytest.mark.slow


def version(exe: str) -> str:
    return subprocess.run([exe, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                          capture_output=True, text=True, check=True).stdout.strip()


def interpreters() -> list[str]:
    """This interpreter, and the oldest and newest other CPython 3.10+ that
    pyenv has here, if any (abi3: the very same wheel serves them)."""
    found = {version(sys.executable): sys.executable}
    if not FREE_THREADED:  # an abi3 wheel is for the regular builds only
        others = {}
        for exe in glob.glob(os.path.expanduser("~/.pyenv/versions/3.1[0-9].*/bin/python3")):
            others.setdefault(version(exe), exe)
        others = {v: e for v, e in others.items() if v not in found}
        for v in (min(others, key=lambda v: tuple(map(int, v.split("."))), default=None),
                  max(others, key=lambda v: tuple(map(int, v.split("."))), default=None)):
            if v is not None:
                found[v] = others[v]
    return [found[v] for v in sorted(found, key=lambda v: tuple(map(int, v.split("."))))]


@pytest.fixture(scope="module")
def wheel() -> Path:
    """make wheel (up to date: a second; else a rebuild, ~20 s)."""
    p = subprocess.run(["make", "--no-print-directory", "-C", str(HERE), "wheel",
                        f"PYTHON={sys.executable}"], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    tag = "cp310-abi3" if not FREE_THREADED else "cp3"
    [whl] = [w for w in WHEELHOUSE.glob("piuma-*.whl") if tag in w.name]
    assert "manylinux" in whl.name  # repaired, not the raw linux_x86_64 one
    init = (HERE / "piuma" / "__init__.py").read_text()  # pyproject.toml's version is the package's
    assert whl.name.startswith("piuma-{}-".format(*re.findall(r'__version__ = "(.+)"', init)))
    return whl


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("wheel")


def clean_env(venv: Path) -> dict[str, str]:
    """Nothing but the venv: no Go, no jpegoptim or pngquant on PATH, no
    checkout on sys.path."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "GO", "CGO", "EPG_"))}
    env["PATH"] = str(venv / "bin")
    return env


@pytest.fixture(scope="module", params=interpreters(), ids=version)
def venv(request, wheel, workdir) -> Path:
    """A new venv with the wheel installed from the wheelhouse alone."""
    venv = workdir / f"venv-{version(request.param)}"
    subprocess.run([request.param, "-m", "venv", "--without-pip", str(venv)], check=True)
    p = subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"),
                        "install", "--quiet", "--no-index", "--find-links", str(WHEELHOUSE),
                        f"piuma @ {wheel.as_uri()}"], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    return venv


def site_packages(venv: Path) -> Path:
    [sp] = venv.glob("lib/python3.*/site-packages")
    return sp


def test_the_wheel_installs_and_runs_the_cli_without_go(venv, workdir):
    env = clean_env(venv)
    for tool in ("go", "pngquant", "jpegoptim", "cc"):
        assert shutil.which(tool, path=env["PATH"]) is None, tool
    src = workdir / f"src-{venv.name}"
    src.mkdir()
    for p in sorted(GOOD.glob("*.*"))[:6]:
        (src / p.name).write_bytes(p.read_bytes())
    (src / CUTOUT.name).write_bytes(CUTOUT.read_bytes())
    out = workdir / f"out-{venv.name}"
    p = subprocess.run([str(venv / "bin" / "piuma-optimize"), str(src), str(out),
                        "--width", "200", "--json"], cwd=workdir, env=env,
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    report = json.loads(p.stdout)
    images = [f for f in src.iterdir() if f.suffix.lower() in (".jpg", ".png")]
    assert report["summary"]["ok"] == len(images) >= 5
    assert report["summary"]["failed"] == 0
    for f in report["files"]:
        assert Path(f["destination"]).is_file()
        assert f["destination"].startswith(str(out))
    # Optimised in process by default: a palette PNG, and no pngquant around.
    cut = next(f for f in report["files"] if f["source"].endswith(CUTOUT.name))
    with open(cut["destination"], "rb") as fh:
        header = fh.read(26)
    assert header[25] == 3, "the cut-out should be a palette PNG (colour type 3)"


def test_ldd_resolves_the_bundled_libraries(venv):
    core = site_packages(venv) / "piuma" / "libpiuma_core.so"
    libs = site_packages(venv) / "piuma.libs"
    ldd = subprocess.run(["ldd", str(core)], capture_output=True, text=True, check=True).stdout
    resolved = dict(re.findall(r"^\s*(\S+) => (\S+)", ldd, flags=re.M))
    for name in BUNDLED:
        [(soname, path)] = [(k, v) for k, v in resolved.items() if k.startswith(name + "-")]
        assert Path(path).resolve().parent == libs.resolve(), (soname, path)
    assert "not found" not in ldd
    # No system copy of any of them is among the core's dependencies.
    for path in resolved.values():
        assert not re.search(r"/(libspng|libjpeg|libimagequant)\.so", path), path


def test_the_running_process_maps_the_bundled_libraries(venv, workdir):
    """A batch that decodes and encodes JPEG and quantises a PNG, then the
    process's own memory map: every bundled library comes from piuma.libs."""
    src = workdir / f"maps-{venv.name}"
    src.mkdir()
    (src / "a.jpg").write_bytes((GOOD / "baseline.jpg").read_bytes())
    (src / "b.png").write_bytes((GOOD / "transparent.png").read_bytes())
    code = f"""
import json, piuma
rs = piuma.optimize_dir({str(src)!r}, {str(src) + "-out"!r}, width=120)
maps = sorted({{line.split()[-1] for line in open("/proc/self/maps") if "/" in line}})
print(json.dumps({{"ok": [r.ok for r in rs], "maps": maps, "piuma": piuma.__file__}}))
"""
    p = subprocess.run([str(venv / "bin" / "python"), "-c", code], cwd=workdir,
                       env=clean_env(venv), capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    got = json.loads(p.stdout)
    assert got["ok"] == [True, True]
    sp = site_packages(venv).resolve()
    assert Path(got["piuma"]).resolve().is_relative_to(sp)
    cores = [m for m in got["maps"] if m.endswith("/libpiuma_core.so")]
    assert [Path(m).resolve() for m in cores] == [sp / "piuma" / "libpiuma_core.so"]
    for name in BUNDLED:
        ours = [m for m in got["maps"] if Path(m).name.startswith(name + "-")
                and Path(m).resolve().parent == sp / "piuma.libs"]
        assert ours, f"{name} is not mapped from piuma.libs: {got['maps']}"
        # (Pillow, when imported, maps its own copies from pillow.libs: fine.)
        system = [m for m in got["maps"] if Path(m).name.startswith(name)
                  and not Path(m).resolve().is_relative_to(sp)]
        assert not system, f"a system copy of {name} is mapped too: {system}"
