"""A Go panic never crosses into C: every export recovers (common/gopanic).

Without the recover, a panic that reaches cgo's C frames aborts the whole
interpreter (SIGABRT). With it, the C glue (or step 02's ctypes/cffi loaders)
raises RuntimeError("Go panic in <function>: <value>") with the Go stack as a
note, and the next call works.

The cores are rebuilt with gopanic's test hook live (`make panic-build`:
build/epgpanic/<step>/, -tags epgpanic), so a real export panics on demand
(EPG_GO_PANIC=<Go function>) through the production glue. Each case runs in
its own interpreter.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent

# (step, folder inside it, import, call, Go function that panics, its name in
#  the message, repr of the call's normal result)
CASES = [
    ("02_cgo_sum", ".", "import newmath as m", "m.sum(1, 2)", "Sum", "sum()", "3"),
    ("02_cgo_sum", ".", "import newmath as m", "m.sum_list([1, 2])", "SumArray",
     "sum_list()", "3"),
    ("02_cgo_sum", "variant_a", "import newmath as m", "m.sum(1, 2)", "Sum", "sum()", "3"),
    ("02_cgo_sum", "ffi", "import newmath_ctypes as m", "m.sum(1, 2)", "Sum", "sum()", "3"),
    ("02_cgo_sum", "ffi", "import newmath_cffi_abi as m", "m.sum(1, 2)", "Sum", "sum()", "3"),
    ("02_cgo_sum", "ffi", "import newmath_cffi_api as m", "m.sum(1, 2)", "Sum", "sum()", "3"),
    ("03_cgo_strings", ".", "import hello as m", "m.say_hello('Go')", "SayHello",
     "say_hello()", "'Hello Go'"),
    ("03_cgo_strings", ".", "import hello as m", "m.say_hello('Go' * 40_000)", "SayHello",
     "say_hello()", "'Hello ' + 'Go' * 40_000"),  # the call that releases the GIL
    ("04_variadic_macros", ".", "import macro as m", "m.is_a_list([])", "IsAList",
     "is_a_list()", "True"),
    ("04_variadic_macros", ".", "import macro as m", "m.is_a_long(1)", "IsALong",
     "is_a_long()", "True"),
    ("04_variadic_macros", ".", "import macro as m", "m.list_sum([1, 2])", "ListSum",
     "list_sum()", "3"),
    ("05_goroutines_gil", ".", "import countdown as m", "m.countdown(10)", "Countdown",
     "countdown()", "10"),
    ("06_piuma_case", ".", "import piuma._piuma as m, tempfile",
     "m.run(tempfile.mkdtemp(), tempfile.mkdtemp() + '/out')", "PiumaRun", "run()", "[]"),
]
STEPS = sorted({case[0] for case in CASES if (ROOT / case[0] / "Makefile").is_file()})
# CFFI supports free-threaded CPython only from 3.14 (cffi 2.0): step 02
# builds no cffi module there.
needs_cffi = pytest.mark.skipif(
    bool(sysconfig.get_config_var("Py_GIL_DISABLED")) and sys.version_info < (3, 14),
    reason="CFFI supports free-threaded CPython only from 3.14 (cffi 2.0)")


@pytest.fixture(scope="module")
def panic_tree():
    """Each step built once more, with the hook live."""
    for step in STEPS:
        subprocess.run(["make", "--no-print-directory", "-C", str(ROOT / step), "panic-build",
                        f"PYTHON={sys.executable}"], check=True, capture_output=True)
    return {step: ROOT / step / "build" / "epgpanic" / step for step in STEPS}


@pytest.mark.parametrize(("step", "folder", "imports", "call", "function", "where", "normal"),
                         [pytest.param(*c, marks=[needs_cffi] if "cffi" in c[2] else [])
                          for c in CASES if c[0] in STEPS],
                         ids=[f"{c[0]}:{c[3]}" for c in CASES if c[0] in STEPS])
def test_a_go_panic_becomes_runtime_error(panic_tree, step, folder, imports, call,
                                          function, where, normal):
    code = textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(panic_tree[step] / folder)!r})
        {imports}
        print(repr({call}) == repr({normal}))
        os.environ["EPG_GO_PANIC"] = {function!r}
        for attempt in range(2):  # the same export panics twice: still recovered
            try:
                {call}
            except RuntimeError as exc:
                print(exc)
                notes = "".join(getattr(exc, "__notes__", ["goroutine 0 [running]"]))
                print(notes.startswith("goroutine "), "gopanic.Hook" in notes or
                      sys.version_info < (3, 11))
        del os.environ["EPG_GO_PANIC"]
        print(repr({call}) == repr({normal}))  # the next call works
    """)
    env = dict(os.environ, PYTHONPATH=str(ROOT / "common"))
    proc = subprocess.run([sys.executable, "-c", code], cwd=panic_tree[step],
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    message = f"Go panic in {where}: EPG_GO_PANIC={function}"
    assert proc.stdout.splitlines() == ["True", message, "True True", message, "True True",
                                        "True"], proc.stdout + proc.stderr


def _exports(path: Path) -> list[tuple[str, str]]:
    """(function, its first statement) for each //export in a Go file."""
    text = path.read_text()
    return re.findall(r"^//export (\w+)\nfunc \w+\([^)]*\)[^{]*\{\n\t([^\n]*)", text, re.M)


def test_every_export_recovers_first():
    """The rule, checked on every Go file of every step: an exported function's
    first statement defers gopanic.Recover on its report parameter."""
    checked = []
    for path in sorted(ROOT.glob("0[0-9]_*/**/*.go")):
        if "build" in path.relative_to(ROOT).parts:
            continue
        text = path.read_text()
        exports = re.findall(r"^//export (\w+)$", text, re.M)
        first = dict(_exports(path))
        for name in exports:
            assert first.get(name) == "defer gopanic.Recover(unsafe.Pointer(report))", \
                f"{path.relative_to(ROOT)}: {name}"
            checked.append(name)
    assert len(checked) >= 14, checked  # every step's exports were seen
