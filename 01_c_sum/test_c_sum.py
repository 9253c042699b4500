"""Step 01: newmath.sum in C, against the shared sum contract."""

import contextlib
import glob
import inspect
import os
import shutil
import subprocess
import sys
import tracemalloc
import zipfile
from pathlib import Path

import newmath
import pytest
import sum_contract

STEP = Path(__file__).resolve().parent


@pytest.mark.parametrize(("args", "expected"), sum_contract.GOOD)
def test_c_sum_results(args, expected):
    assert newmath.sum(*args) == expected


@pytest.mark.parametrize(("args", "exc_type", "pattern"), sum_contract.BAD)
def test_c_sum_bad_input(args, exc_type, pattern):
    with pytest.raises(exc_type, match=pattern):
        newmath.sum(*args)


def test_c_sum_refuses_keywords():
    with pytest.raises(TypeError, match="takes no keyword arguments"):
        newmath.sum(a=1, b=2)


def test_c_sum_matches_python_on_random_pairs():
    import random

    rng = random.Random(20261124)
    for _ in range(10_000):
        a = rng.randint(sum_contract.INT64_MIN, sum_contract.INT64_MAX)
        b = rng.randint(sum_contract.INT64_MIN, sum_contract.INT64_MAX)
        exact = a + b
        if sum_contract.INT64_MIN <= exact <= sum_contract.INT64_MAX:
            assert newmath.sum(a, b) == exact
        else:
            with pytest.raises(OverflowError):
                newmath.sum(a, b)


def test_c_sum_signature_and_doc():
    assert str(inspect.signature(newmath.sum)) == "(a, b, /)"
    assert "OverflowError" in newmath.sum.__doc__


def other_interpreters() -> list[str]:
    """CPython >= 3.10 interpreters of other versions on this machine."""
    found = {}
    candidates = [*glob.glob(os.path.expanduser("~/.pyenv/versions/*/bin/python3")),
                  *glob.glob("/usr/bin/python3.[0-9]*"),
                  *glob.glob("/usr/local/bin/python3.[0-9]*")]
    for exe in candidates:
        out = subprocess.run([exe, "-c", "import sys; print(*sys.version_info[:2])"],
                             capture_output=True, text=True)
        if out.returncode == 0:
            version = tuple(map(int, out.stdout.split()))
            if version >= (3, 10) and version != sys.version_info[:2]:
                found.setdefault(version, exe)
    return [found[v] for v in sorted(found)]


def test_c_sum_is_built_against_the_limited_api():
    assert Path(newmath.__file__).name == "newmath.abi3.so"
    interpreters = other_interpreters()
    if not interpreters:
        pytest.skip("no other CPython >= 3.10 here to load the abi3 module with")
    # The stable ABI's promise: this one build imports and works on them all.
    for exe in interpreters:
        out = subprocess.run([exe, "-c", "import sys, newmath; print(sys.version_info[:2], "
                              "newmath.sum(5, 4), newmath.__file__)"],
                             cwd=STEP, capture_output=True, text=True)
        assert out.returncode == 0, (exe, out.stderr)
        assert out.stdout.split(") ")[1].split() == ["9", str(STEP / "newmath.abi3.so")], exe


def test_c_sum_does_not_leak():
    # Results outside the small-int cache are new objects: a missing
    # Py_DECREF anywhere would keep them alive and show up here.
    big = 1 << 40
    for _ in range(1000):
        newmath.sum(big, 1)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for i in range(200_000):
        newmath.sum(big, i)
        with contextlib.suppress(TypeError):
            newmath.sum(1.5, i)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert after - before < 64 * 1024


def test_c_sum_setuptools_build_works(tmp_path):
    """setup.py + pyproject.toml build the same abi3 module as the Makefile."""
    # Build from a copy: an in-tree build would share build/ with other runs.
    src = tmp_path / "src"
    src.mkdir()
    for name in ("newmath.c", "setup.py", "pyproject.toml"):
        shutil.copy(STEP / name, src)
    wheel_dir = tmp_path / "wheel"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
         "--no-build-isolation", "-w", str(wheel_dir), str(src)],
        check=True, capture_output=True, text=True,
    )
    (wheel,) = wheel_dir.glob("newmath-1.0-cp310-abi3-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        assert "newmath.abi3.so" in zf.namelist()
        zf.extractall(tmp_path / "site")
    # A fresh interpreter: this one already imported the Makefile's newmath.
    code = (
        "import newmath, sum_contract\n"
        f"assert newmath.__file__.startswith({str(tmp_path / 'site')!r})\n"
        "print(sum_contract.problems(newmath.sum))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True,
        cwd=tmp_path,
        env=dict(os.environ, PYTHONPATH=f"{tmp_path / 'site'}:{STEP.parent / 'common'}"),
    )
    assert out.stdout.strip() == "[]"
