"""`make exercise` in 03_cgo_strings: is the leak gone, and does it still work?

exercise/hello.c is built against v2_leak's Go core into build/exercise/ and
run in child processes (its Go core is another copy of the Go runtime: one
per process): rss_probe.py makes 200,000 calls and samples the resident
memory, as the step's own test of version 2 does; a few calls run under
PYTHONMALLOC=debug, which aborts when a buffer is released to an allocator
that did not make it (PyMem_Free on the greeting works by chance without it
on a GIL build; 3.13t's mimalloc crashes at once). The exercise's build makes
PyUnicode_FromString fail for one name (exercise/fault.h): the path where the
copy fails is checked too.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

STEP = Path(__file__).resolve().parent.parent
BUILD = Path(os.environ.get("EPG_EXERCISE_BUILD", STEP / "build" / "exercise"))
CALLS, NAME_CHARS = 200_000, 200
MiB = 1024 * 1024


def child(args: list[str], **extra_env: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "GODEBUG"}  # no cgocheck=0
    proc = subprocess.run([sys.executable, *args], cwd=BUILD, env=env | extra_env,
                          capture_output=True, text=True, timeout=300)
    # PYTHONMALLOC=debug's report on a block it is asked to free: API names the
    # allocator that made it, m, o or r for Python's own (PyMem, PyObject,
    # PyMem_Raw). Any other byte there is malloc's bookkeeping: not Python's.
    report = re.search(r"Debug memory block at address p=\S+: API '(.)'", proc.stderr)
    if proc.returncode != 0 and report and report[1] not in "mor":
        pytest.fail("the module crashed under PYTHONMALLOC=debug: Python's allocator was "
                    "asked to free a block it did not make. Memory from Go's C.CString "
                    "(malloc) must be released with free(), not PyMem_Free (nor PyObject_Free "
                    f"or PyMem_RawFree). Its stderr begins with:\n{proc.stderr[:600]}",
                    pytrace=False)
    if proc.returncode != 0:
        how = (f"was killed by signal {-proc.returncode}" if proc.returncode < 0
               else f"exited with status {proc.returncode}")
        pytest.fail(f"the module crashed: the child {how}. A buffer freed twice, read after it "
                    "was freed, or freed by an allocator that did not make it does this. Its "
                    f"stderr ends with:\n{proc.stderr[-1500:]}",
                    pytrace=False)
    return proc


def test_it_still_greets():
    code = ("import hello\n"
            "print(repr(hello.say_hello('Gophers')))\n"
            "name = 'Zoë, 世界 🐹' * 1000\n"
            "print(hello.say_hello(name) == 'Hello ' + name)\n"
            "try:\n    hello.say_hello(b'Gophers')\n"
            "except TypeError:\n    print('TypeError')\n")
    lines = child(["-c", code]).stdout.splitlines()
    assert lines == ["'Hello Gophers'", "True", "TypeError"], (
        f"say_hello no longer answers right: {lines} (is the buffer freed before the str "
        "is made from it?)")


def test_the_greetings_go_back_to_the_allocator_that_made_them():
    code = ("import hello\n"
            "for name in ['Gophers', 'Zoë, 世界 🐹' * 1000] * 100:\n"
            "    assert hello.say_hello(name) == 'Hello ' + name\n"
            "print('ok')\n")
    assert child(["-c", code], PYTHONMALLOC="debug").stdout == "ok\n"


FAILING_COPY = r"""
import os, hello
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
name = "\x01fail" + "x" * 400  # exercise/fault.h: PyUnicode_FromString fails for it
def calls(n):
    for _ in range(n):
        try:
            hello.say_hello(name)
        except MemoryError:
            continue
        raise SystemExit("say_hello did not raise the MemoryError PyUnicode_FromString set")
calls(50_000)  # (the Go heap's warm-up: a few MiB, more on a loaded machine)
before = rss()
calls(200_000)
print(rss() - before)
"""


def test_the_greeting_is_freed_when_the_str_cannot_be_made():
    """The exercise's build makes PyUnicode_FromString fail for one name
    (exercise/fault.h): the glue must raise its MemoryError, and the buffer,
    still the glue's, must be freed on that path too."""
    growth = int(child(["-c", FAILING_COPY]).stdout)
    if growth >= 16 * MiB:  # (a leak: 80 MiB; a right answer grew 7 on a loaded machine)
        pytest.fail(f"over 200,000 calls whose PyUnicode_FromString failed, the child's "
                    f"resident memory grew by {growth / MiB:.1f} MiB, {growth / 200_000:.0f} "
                    "bytes a call (a greeting is 412): when the copy fails, the buffer is "
                    "still yours to free", pytrace=False)


def test_the_greetings_are_freed():
    run = json.loads(child([str(STEP / "rss_probe.py"), str(BUILD), str(CALLS), str(NAME_CHARS),
                            "10"]).stdout)
    assert Path(run["module"]).parent == BUILD, run["module"]  # the exercise's build
    # Over the second half of the calls: a leak grows all along, while the Go
    # heap's warm-up (a few MiB on a loaded machine) is over by then.
    half = len(run["rss"]) // 2
    calls = run["calls"][-1] - run["calls"][half]
    growth = run["rss"][-1] - run["rss"][half]
    leaked = calls * (run["greeting_bytes"] + 1)
    if growth >= 4 * MiB:
        pytest.fail(f"over {calls:,} calls the child's resident memory grew by "
                    f"{growth / MiB:.1f} MiB, {growth / calls:.0f} bytes a call (a greeting and "
                    f"its NUL are {run['greeting_bytes'] + 1} bytes; all of them would be "
                    f"{leaked / MiB:.1f} MiB): the buffer Go returns is still not freed",
                    pytrace=False)
