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
import signal
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
    ("06_piuma_case", ".", "import piuma._piuma as m", "m.run([])", "PiumaRun", "run()", "[]"),
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


# How the hook stops the export (common/gopanic/hook_on.go): a panic, or
# panic(nil) with GODEBUG=panicnil=1, when recover() returns nil and only the
# export's done flag tells that it did not reach its end.
MODES = {
    "panic": ("", {}, "EPG_GO_PANIC={function}"),
    "nil": (":nil", {"GODEBUG": "panicnil=1"},
            "panic called with nil argument (GODEBUG=panicnil=1)"),
    # a SIGSEGV in Go code, which Go's signal handler turns into a panic
    "nilptr": (":nilptr", {}, "runtime error: invalid memory address or nil pointer "
               "dereference"),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("step", "folder", "imports", "call", "function", "where", "normal"),
                         [pytest.param(*c, marks=[needs_cffi] if "cffi" in c[2] else [])
                          for c in CASES if c[0] in STEPS],
                         ids=[f"{c[0]}:{c[3]}" for c in CASES if c[0] in STEPS])
def test_a_go_panic_becomes_runtime_error(panic_tree, step, folder, imports, call,
                                          function, where, normal, mode):
    suffix, env, value = MODES[mode]
    code = textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(panic_tree[step] / folder)!r})
        {imports}
        print(repr({call}) == repr({normal}))
        os.environ["EPG_GO_PANIC"] = {function + suffix!r}
        for attempt in range(2):  # the same export panics twice: still recovered
            try:
                result = {call}
            except RuntimeError as exc:
                print(exc)
                notes = "".join(getattr(exc, "__notes__", ["goroutine 0 [running]"]))
                print(notes.startswith("goroutine "), "gopanic.Hook" in notes or
                      sys.version_info < (3, 11))
            else:
                print("returned", repr(result))
        del os.environ["EPG_GO_PANIC"]
        print(repr({call}) == repr({normal}))  # the next call works
    """)
    env = dict(os.environ, PYTHONPATH=str(ROOT / "common"), **env)
    proc = subprocess.run([sys.executable, "-c", code], cwd=panic_tree[step],
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    message = f"Go panic in {where}: " + value.format(function=function)
    assert proc.stdout.splitlines() == ["True", message, "True True", message, "True True",
                                        "True"], proc.stdout + proc.stderr


def run_hooked(step: str, folder: str, imports: str, call: str, hook: str,
               tree: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    code = textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(tree / folder)!r})
        {imports}
        os.environ["EPG_GO_PANIC"] = {hook!r}
        try:
            print(repr({call}))
        except RuntimeError as exc:
            print(exc)
    """)
    env = dict(os.environ, PYTHONPATH=str(ROOT / "common"), **(env or {}))
    return subprocess.run([sys.executable, "-c", code], cwd=tree, capture_output=True,
                          text=True, timeout=120, env=env)


@pytest.mark.skipif("05_goroutines_gil" not in STEPS, reason="step 05 not present")
@pytest.mark.parametrize("mode", ["goexit", "nil"])
def test_a_worker_that_stops_early_becomes_runtime_error(panic_tree, mode):
    """A worker goroutine of countdown() that ends by runtime.Goexit, or by
    panic(nil) under panicnil=1: its share is not counted, and the call says
    so (it used to raise SystemError("countdown(...) performed ... decrements")
    or, for a short count, nothing at all)."""
    proc = run_hooked("05_goroutines_gil", ".", "import countdown as m",
                      "m.countdown(10**9, 4)", f"CountdownWorker:{mode}",
                      panic_tree["05_goroutines_gil"], {"GODEBUG": "panicnil=1"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "Go panic in countdown(): a worker stopped before its end: runtime.Goexit, or "
        "panic(nil) with GODEBUG=panicnil=1"], proc.stdout + proc.stderr


# An export runs on the C caller's thread (a goroutine per call would cost
# more than the call). There, runtime.Goexit cannot be stopped: Recover runs
# (and reports), then the runtime aborts the process. The limit, shown.
GOEXIT_CASES = [c for c in CASES if c[0] in STEPS and "cffi" not in c[2]
                and c[3] not in ("m.say_hello('Go' * 40_000)",)]


@pytest.mark.parametrize(("step", "folder", "imports", "call", "function", "where", "normal"),
                         GOEXIT_CASES, ids=[f"{c[0]}:{c[3]}" for c in GOEXIT_CASES])
def test_goexit_in_an_export_aborts_the_process(panic_tree, step, folder, imports, call,
                                                function, where, normal):
    proc = run_hooked(step, folder, imports, call, f"{function}:goexit", panic_tree[step])
    assert proc.returncode == -signal.SIGABRT, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stdout == ""
    # (Go 1.21 words it "fatal error: internal lockOSThread error")
    assert re.search(r"^fatal error: (runtime\.Goexit called in a thread that was not created "
                     r"by the Go runtime|internal lockOSThread error)$", proc.stderr, re.M), \
        proc.stderr[-2000:]


def _export_bodies(text: str) -> dict[str, list[str]]:
    """{function: the lines of its body} for each //export of a Go file."""
    return {name: body.split("\n") for name, body in
            re.findall(r"^//export (\w+)\nfunc \w+\([^)]*\)[^{]*\{\n(.*?)\n\}$", text, re.M | re.S)}


def test_every_export_recovers_first():
    """The rule, checked on every Go file of every step: an exported function
    starts `done := false` then defers gopanic.Recover on its report and that
    flag, and sets `done = true` right before each return (and at its end),
    so that recover() returning nil (panic(nil) under GODEBUG=panicnil=1) is
    never taken for success."""
    checked = []
    for path in sorted(ROOT.glob("0[0-9]_*/**/*.go")):
        if "build" in path.relative_to(ROOT).parts:
            continue
        text = path.read_text()
        exports = re.findall(r"^//export (\w+)$", text, re.M)
        bodies = _export_bodies(text)
        for name in exports:
            where = f"{path.relative_to(ROOT)}: {name}"
            body = bodies.get(name)
            assert body is not None, where
            assert [line.strip() for line in body[:2]] == [
                "done := false", "defer gopanic.Recover(unsafe.Pointer(report), &done)"], where
            for number, line in enumerate(body):
                if re.match(r"\s*return\b", line):
                    assert body[number - 1].strip() == "done = true", f"{where}: {line}"
            assert re.match(r"\s*(return\b|done = true$)", body[-1]), where
            checked.append(name)
    assert len(checked) >= 14, checked  # every step's exports were seen


@pytest.mark.skipif("03_cgo_strings" not in STEPS, reason="step 03 not present")
def test_a_panic_after_allocating_frees_the_buffer(panic_tree):
    """03's SayHello mallocs the greeting, then fills it: a panic in between
    (EPG_GO_PANIC=SayHello.copy) used to leak the buffer, which the caller
    never sees. 20,000 panics with 1 KB names: the C heap stays flat."""
    code = textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(panic_tree["03_cgo_strings"])!r})
        import hello
        from c_heap import heap
        os.environ["EPG_GO_PANIC"] = "SayHello.copy"
        name = "x" * 1000
        def panics(n):
            for _ in range(n):
                try:
                    hello.say_hello(name)
                except RuntimeError as exc:
                    message = str(exc)
            return message
        panics(1000)
        before = heap()
        print(panics(20_000))
        print(heap() - before)
    """)
    env = dict(os.environ, PYTHONPATH=str(ROOT / "common"))
    proc = subprocess.run([sys.executable, "-c", code], cwd=panic_tree["03_cgo_strings"],
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    message, growth = proc.stdout.splitlines()
    assert message == "Go panic in say_hello(): EPG_GO_PANIC=SayHello.copy"
    # a leaked greeting is 1,006 bytes: 20,000 of them would be 20 MB
    assert int(growth) < 1_000_000, f"the C heap grew by {growth} bytes in 20,000 panics"
