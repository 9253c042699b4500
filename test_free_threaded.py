"""On a free-threaded CPython (3.13t, 3.14t), every module of the workshop
keeps the GIL off.

Importing an extension module that does not declare Py_mod_gil =
Py_MOD_GIL_NOT_USED turns the GIL back on for the whole process (with a
RuntimeWarning). Each module says in its slot's comment why it is safe
without the GIL; this checks that each one really declares it, in a fresh
interpreter, one module at a time (one Go runtime per process).
CI runs it under a free-threaded 3.13 built by common/free-threaded-python.sh.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
pytestmark = pytest.mark.skipif(not sysconfig.get_config_var("Py_GIL_DISABLED"),
                                reason="not a free-threaded build of CPython")

# (folder, module): every extension module of the workshop
MODULES = [
    ("01_c_sum", "newmath"),
    ("02_cgo_sum", "newmath"),
    ("02_cgo_sum/variant_a", "newmath"),
    ("02_cgo_sum/ffi", "newmath_ctypes"),
    ("03_cgo_strings", "hello"),
    ("04_variadic_macros", "macro"),
    ("05_goroutines_gil", "countdown"),
    ("06_piuma_case", "piuma._piuma"),
]
PRESENT = [(folder, module) for folder, module in MODULES
           if (ROOT / folder.split("/")[0] / "Makefile").is_file()]


@pytest.fixture(scope="module")
def built():
    for step in sorted({folder.split("/")[0] for folder, _ in PRESENT}):
        subprocess.run(["make", "--no-print-directory", "-C", str(ROOT / step),
                        f"PYTHON={sys.executable}"], check=True, capture_output=True)


@pytest.mark.parametrize(("folder", "module"), PRESENT)
def test_importing_it_leaves_the_gil_off(built, folder, module):
    code = textwrap.dedent(f"""
        import importlib, sys, warnings
        warnings.simplefilter("error")  # "The global interpreter lock (GIL) has been enabled"
        sys.path.insert(0, {str(ROOT / folder)!r})
        m = importlib.import_module({module!r})
        print(m.__name__, sys._is_gil_enabled())
    """)
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT / "common",
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [module, "False"]
