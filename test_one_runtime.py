"""One Go runtime per process, across steps.

Every Go-backed module of this repository must refuse to become the second Go
runtime of a process (golang/go#65050), and must do so BEFORE its Go core is
loaded. Each case runs in a fresh interpreter: this process (the root pytest)
never loads a Go core itself.
"""

import itertools
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from go_refusal import REFUSAL

ROOT = Path(__file__).resolve().parent

# step folder -> the Go-backed module it builds and the Go core that module loads
# (step 06's package `piuma` loads its Go core lazily, in `piuma._piuma`)
GO_MODULES = {
    "02_cgo_sum": ("newmath", "libnewmath_core.so"),
    "03_cgo_strings": ("hello", "libhello_core.so"),
    "04_variadic_macros": ("macro", "libmacro_core.so"),
    "05_goroutines_gil": ("countdown", "libcountdown_core.so"),
    "06_piuma_case": ("piuma._piuma", "piuma/libpiuma_core.so"),
}
PRESENT = [step for step in GO_MODULES if (ROOT / step / "Makefile").is_file()]



@pytest.fixture(scope="module")
def built():
    for step in PRESENT:
        subprocess.run(["make", "--no-print-directory", "-C", str(ROOT / step),
                        f"PYTHON={sys.executable}"], check=True, capture_output=True)
    # each module loads the core that sits beside it in the step folder
    return {step: ROOT / step / GO_MODULES[step][1] for step in PRESENT}


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(("first", "second"), list(itertools.permutations(PRESENT, 2)))
def test_second_go_runtime_is_refused_across_steps(built, first, second):
    first_module, _ = GO_MODULES[first]
    second_module, _ = GO_MODULES[second]
    proc = run_python(f"""
        import importlib, sys
        sys.path.insert(0, {str(ROOT / first)!r})
        importlib.import_module({first_module!r})
        sys.path[0] = {str(ROOT / second)!r}
        try:
            importlib.import_module({second_module!r})
        except ImportError as exc:
            print(exc)
        maps = open("/proc/self/maps").read()
        print("first core mapped:", {str(built[first])!r} in maps)
        print("second core mapped:", {str(built[second])!r} in maps)
    """)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    match = REFUSAL.match(lines[0])
    assert match, proc.stdout
    assert match["new"] == second_module
    assert match["old"] == first_module
    assert match["path"] == str(built[first])
    # refused before dlopen: the second runtime never started
    assert lines[1:] == ["first core mapped: True", "second core mapped: False"]


@pytest.mark.skipif("cgocheck2" not in os.environ.get("GOEXPERIMENT", ""),
                    reason="only under `make test-cgocheck2`")
def test_go_cores_are_built_with_cgocheck2(built):
    for step, core in built.items():
        info = subprocess.run(["go", "version", "-m", str(core)], capture_output=True,
                              text=True, check=True).stdout
        assert re.search(r"GOEXPERIMENT=\S*cgocheck2", info), (step, info)
