"""`make exercise` in 05_goroutines_gil: does a Python thread run during count.countdown()?
And does the glue keep the rule, no CPython function while the GIL is released?

The module built from exercise/count.c (build/exercise/) runs in a child
process (its Go core is another copy of the Go runtime: one per process).
There, a helper thread counts to 100,000 while the main thread is inside
count.countdown(2 * 10**9). With the switch interval at 1000 s, no thread is
forced to hand the GIL over: the helper can only run during the call if the
call releases the GIL. (The same probe as the step's own
test_gil_is_released_during_the_go_call.)

Both children run with PYTHONMALLOC=debug: CPython's debug hooks check, at
every allocation, that the GIL is held, so a glue that builds its result or
an exception with the GIL released aborts every time. Without them it may
well work (3.11: pymalloc needs no thread state) or crash only sometimes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

STEP = Path(__file__).resolve().parent.parent
BUILD = Path(os.environ.get("EPG_EXERCISE_BUILD", STEP / "build" / "exercise"))
N = 2 * 10**9  # about a second of Go counting: time for the helper to run

PROBE = r"""
import json, sys, threading, time
sys.path.insert(0, sys.argv[1])
import count
sys.setswitchinterval(1000)  # nobody is forced to give up the GIL
WORK = 100_000
state = {"calling": False, "progress_during_call": 0}
gate = threading.Lock()
gate.acquire()

def helper():
    with gate:  # opened just before the call; from then on it wants the GIL
        pass
    for _ in range(WORK):
        state["progress_during_call"] += state["calling"]

t = threading.Thread(target=helper)
t.start()
state["calling"] = True
gate.release()  # does not release the GIL: the helper now waits for it
t0 = time.perf_counter()
result = count.countdown(int(sys.argv[2]))
seconds = time.perf_counter() - t0
state["calling"] = False
t.join()
print(json.dumps({"module": count.__file__, "result": result, "seconds": seconds, **state}))
"""


GIL_NOT_HELD = "Python memory allocator called without holding the GIL"


def run_child(code: str, *args: str, timeout: float) -> subprocess.CompletedProcess:
    """Run `code` in a child with the debug allocator's GIL check; fail,
    naming the cause, if it caught a CPython call made without the GIL."""
    proc = subprocess.run([sys.executable, "-c", code, str(BUILD), *args],
                          capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, PYTHONMALLOC="debug"))
    if GIL_NOT_HELD in proc.stderr:
        calls = proc.stdout.strip().splitlines()
        during = f" during {calls[-1]}" if calls else ""
        pytest.fail(f"the interpreter aborted{during}: {GIL_NOT_HELD} (CPython's debug "
                    "allocator, PYTHONMALLOC=debug, checks it). A CPython function "
                    "(PyLong_FromLongLong for the result, PyArg_ParseTuple, PyErr_*) ran "
                    "while the GIL was released: release it around the Go call only, and "
                    "build the result after taking it back", pytrace=False)
    return proc


def probe() -> dict:
    proc = run_child(PROBE, str(N), timeout=600)
    if proc.returncode != 0:
        pytest.fail(f"the child failed (exit status {proc.returncode}); its stderr ends "
                    f"with:\n{proc.stderr[-1500:]}", pytrace=False)
    out = json.loads(proc.stdout)
    assert Path(out["module"]).parent == BUILD, out["module"]  # the exercise's build
    return out


def test_a_python_thread_runs_during_the_go_call():
    if sysconfig.get_config_var("Py_GIL_DISABLED"):
        pytest.fail("this is a free-threaded CPython: there is no GIL to release, so this "
                    "check cannot tell. Do this exercise with a regular CPython "
                    "(make exercise PYTHON=python3)", pytrace=False)
    out = probe()
    assert out["result"] == N, f"count.countdown({N}) returned {out['result']}"
    if out["progress_during_call"] == 0:
        pytest.fail(f"during the {out['seconds']:.2f} s of count.countdown({N:,}), the helper "
                    "thread counted 0: it waited for the GIL the whole time. Release it "
                    "around the Go call", pytrace=False)


ERRORS = r"""
import sys
sys.path.insert(0, sys.argv[1])
import count
for arg, expected in (("x", TypeError), (-1, ValueError), (2**63, OverflowError)):
    print(f"count.countdown({arg!r})", flush=True)  # the call, if it aborts
    try:
        count.countdown(arg)
    except expected:
        continue
    raise SystemExit(f"count.countdown({arg!r}) did not raise {expected.__name__}")
# 10**6, not a small int (those are cached): the result is a new allocation.
print("count.countdown(10**6)", flush=True)
print(count.countdown(10**6))
"""


PANIC = r"""
import os, sys, threading
sys.path.insert(0, sys.argv[1])
import count
os.environ["EPG_GO_PANIC"] = "Countdown"  # the core's test hook: the Go call panics
print("count.countdown(10), Go panicking", flush=True)
try:
    count.countdown(10)
except RuntimeError as exc:
    print(exc, flush=True)
del os.environ["EPG_GO_PANIC"]
print("count.countdown(10**6)", flush=True)
t = threading.Thread(target=print, args=("a thread ran",))
t.start()
t.join()
print(count.countdown(10**6))
"""


def test_a_go_panic_is_raised_with_the_gil_held():
    """The panic path: Go's report becomes RuntimeError once the GIL is
    taken back. Raised, or returned from, between the release and the take
    back, it aborts (the debug allocator) or hangs the next thread."""
    try:
        proc = run_child(PANIC, timeout=60)
    except subprocess.TimeoutExpired:
        proc = None
    if proc is None or proc.returncode != 0:
        pytest.fail("when Go panics, count.countdown ends the interpreter "
                    f"({'it hung' if proc is None else f'exit status {proc.returncode}'}): "
                    "take the GIL back (Py_END_ALLOW_THREADS) before any return, then raise "
                    "Go's report (epg_raise_go_panic)", pytrace=False)
    assert proc.stdout.splitlines() == [
        "count.countdown(10), Go panicking", "Go panic in countdown(): EPG_GO_PANIC=Countdown",
        "count.countdown(10**6)", "a thread ran", str(10**6)], proc.stdout + proc.stderr


def test_arguments_are_checked_and_the_result_built_with_the_gil_held():
    """A glue that releases the GIL around PyArg_ParseTuple, PyErr_* or
    PyLong_FromLongLong allocates without it: the debug allocator aborts.
    Every time, not only under load, on every CPython version."""
    proc = run_child(ERRORS, timeout=120)
    if proc.returncode < 0:
        pytest.fail(f"count.countdown with a bad argument killed the interpreter (signal "
                    f"{-proc.returncode}): a CPython function (PyArg_ParseTuple, PyErr_*, "
                    "PyLong_FromLongLong) ran while the GIL was released. Release it around "
                    "the Go call only", pytrace=False)
    if proc.returncode != 0 or proc.stdout.splitlines()[-1:] != [str(10**6)]:
        pytest.fail(f"exit status {proc.returncode}: {proc.stderr[-1500:]}", pytrace=False)
