"""What each Go core leaves for the dynamic linker to find at load time.

A core that calls no CPython function is linked with -Wl,-z,defs
(common/step.mk): every symbol must come from a library it names, so a
forgotten -l fails the build instead of the import. Only the cores that call
the CPython API (02's variant a, 04) leave symbols undefined, and only
CPython's, which the interpreter provides when it loads them.
"""

from __future__ import annotations

import ctypes
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ELF, ldd")

# core -> does it call the CPython API?
CORES = {
    "02_cgo_sum/libnewmath_core.so": False,
    "02_cgo_sum/variant_a/libnewmath_core.so": True,
    "03_cgo_strings/libhello_core.so": False,
    "03_cgo_strings/v1_gostring/libhello_core.so": False,
    "03_cgo_strings/v2_leak/libhello_core.so": False,
    "04_variadic_macros/libmacro_core.so": True,
    "05_goroutines_gil/libcountdown_core.so": False,
    "06_piuma_case/piuma/libpiuma_core.so": False,
}
PRESENT = {core: py for core, py in CORES.items() if (ROOT / core.split("/")[0]).is_dir()}


@pytest.fixture(scope="module")
def built():
    for step in sorted({core.split("/")[0] for core in PRESENT}):
        subprocess.run(["make", "--no-print-directory", "-C", str(ROOT / step),
                        f"PYTHON={sys.executable}"], check=True, capture_output=True)


def _symbols(path: str | Path, *flags: str) -> set[str]:
    out = subprocess.run(["nm", "-D", *flags, str(path)], capture_output=True, text=True,
                         check=True).stdout
    # "   U name@VERSION" / "0000 T name@@VERSION": the kind and the bare name
    return {(m[1], m[2]) for m in re.finditer(r"^\S*\s+(\w)\s+([^@\s]+)", out, re.M)}


def _unresolved(core: Path) -> set[str]:
    """Strong undefined symbols that no library the core names defines."""
    undefined = {name for kind, name in _symbols(core, "--undefined-only") if kind == "U"}
    ldd = subprocess.run(["ldd", str(core)], capture_output=True, text=True, check=True).stdout
    for lib in re.findall(r"=> (/\S+)", ldd):
        undefined -= {name for _, name in _symbols(lib, "--defined-only")}
    return undefined


@pytest.mark.parametrize(("core", "calls_python"), PRESENT.items())
def test_a_core_needs_only_its_libraries_and_python(built, core, calls_python):
    unresolved = _unresolved(ROOT / core)
    if not calls_python:
        assert unresolved == set()
        return
    assert unresolved, "a core that calls CPython leaves its symbols to the interpreter"
    assert all(re.match(r"_?Py", name) for name in unresolved), sorted(unresolved)
    # ... and this interpreter really has each one (ctypes.pythonapi: dlsym)
    missing = [name for name in unresolved if not hasattr(ctypes.pythonapi, name)]
    assert missing == []


SPNG = """package main

// #include <spng.h>
import "C"

//export Version
func Version() *C.char { return C.spng_version_string() }

func main() {}
"""


@pytest.mark.skipif(not (ROOT / "06_piuma_case").is_dir(), reason="step 06 not present")
def test_a_missing_library_fails_the_build(tmp_path):
    """06's engine links -lspng (a #cgo directive). Without it, the core
    must not build: -z defs reports the undefined symbol at link time."""
    (tmp_path / "go.mod").write_text("module example.com/missing\n\ngo 1.21\n")
    (tmp_path / "main.go").write_text(SPNG)
    build = subprocess.run(["make", "-s", "-C", str(ROOT / "06_piuma_case"),
                            f"PYTHON={sys.executable}", "print-GO_C_SHARED"],
                           capture_output=True, text=True, check=True).stdout.strip()
    proc = subprocess.run(f"{build} -o libmissing.so .", shell=True, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert re.search(r"undefined reference to `spng_version_string'", proc.stderr), proc.stderr
    # the same source with the library named builds: the test is about -z defs
    (tmp_path / "main.go").write_text(SPNG.replace(
        "// #include", "// #cgo LDFLAGS: -lspng\n// #include"))
    proc = subprocess.run(f"{build} -o libmissing.so .", shell=True, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr


USER_FLAG = """package main

// #if !defined(EPG_USER_FLAG)
// #error "the user's CGO_CFLAGS did not reach cgo"
// #endif
import "C"

//export Nothing
func Nothing() {}

func main() {}
"""


def test_the_users_cgo_flags_are_kept(tmp_path):
    """The build adds its flags to the user's CGO_CFLAGS instead of replacing
    them (a -I for a custom libjpeg-turbo, -D options, sanitizers...)."""
    (tmp_path / "go.mod").write_text("module example.com/userflag\n\ngo 1.21\n")
    (tmp_path / "main.go").write_text(USER_FLAG)
    step = ROOT / "05_goroutines_gil"

    def build(env: dict[str, str]) -> subprocess.CompletedProcess:
        cmd = subprocess.run(["make", "-s", "-C", str(step), f"PYTHON={sys.executable}",
                              "print-GO_C_SHARED"], env=env, capture_output=True, text=True,
                             check=True).stdout.strip()
        return subprocess.run(f"{cmd} -o libuserflag.so .", shell=True, cwd=tmp_path,
                              env=env, capture_output=True, text=True, timeout=300)

    env = {k: v for k, v in os.environ.items() if not k.startswith("CGO_")}
    assert build(env).returncode != 0  # without the flag, the #error fires
    proc = build(dict(env, CGO_CFLAGS="-O2 -DEPG_USER_FLAG"))
    assert proc.returncode == 0, proc.stderr
