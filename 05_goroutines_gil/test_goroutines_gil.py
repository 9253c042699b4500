"""Step 05: countdown across goroutines: the GIL (and free-threaded builds),
Ctrl-C with any number of workers, panics in worker goroutines, fork,
forkserver and spawn, the benchmark.

This interpreter loads countdown's Go core; everything that must watch a
process from outside (signals, panics, fork, the benchmark's engines) runs in
a child process, started with a generous timeout that only catches hangs.
"""

import contextlib
import inspect
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import threading
import tracemalloc
from pathlib import Path

import bench
import countdown
import pytest

STEP = Path(__file__).resolve().parent
HANG = 60  # seconds: a child still running after this is hung (no timing claim)
CHUNK = 1 << 20  # countdown.Chunk in Go
FOREVER = 1 << 62  # a count that would take decades: it can only end by a stop
FREE_THREADED = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def run_child(code: str, **kwargs) -> subprocess.CompletedProcess:
    kwargs.setdefault("env", child_env())
    return subprocess.run([sys.executable, "-c", code], cwd=STEP, capture_output=True,
                          text=True, timeout=HANG, **kwargs)


def child_env(**extra) -> dict:
    return dict(os.environ, PYTHONPATH=str(STEP), **extra)


# --------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------
@pytest.mark.parametrize(("n", "workers"), [
    (0, 1), (0, 7), (1, 1), (1, 2), (2, 1), (7, 3), (10, 4), (3, 10), (5, 10_000),
    (CHUNK - 1, 1), (CHUNK, 2), (CHUNK + 1, 2), (3 * CHUNK + 5, 3),
    (1_000_003, 7), (10_000_000, 2), (12_345, 10_000), (99_999, 64),
])
def test_countdown_counts_n(n, workers):
    assert countdown.countdown(n, workers) == n
    assert countdown.countdown(n, workers, release_gil=False) == n
    assert countdown.countdown(n, workers, interruptible=False) == n


def test_countdown_default_workers_and_keywords():
    assert countdown.countdown(1_000_001) == 1_000_001
    assert countdown.countdown(n=11, workers=3) == 11
    assert countdown.countdown(True) == 1  # bool is an int
    np = pytest.importorskip("numpy")
    assert countdown.countdown(np.int64(1000), np.int32(3)) == 1000  # __index__


def test_countdown_many_workers_uneven_splits():
    for n in range(0, 60):
        for workers in (1, 2, 3, 5, 8, 13, 59, 60, 61):
            assert countdown.countdown(n, workers) == n, (n, workers)


def test_countdown_signature_doc_and_constants():
    sig = inspect.signature(countdown.countdown)
    assert str(sig) == "(n, workers=2, *, release_gil=True, interruptible=True)"
    for word in ("GIL", "KeyboardInterrupt", "ValueError", "OverflowError", "TypeError"):
        assert word in countdown.countdown.__doc__
    assert countdown.MAX_WORKERS == 10_000
    usable = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    assert countdown.num_cpu() == (len(usable) if usable else os.cpu_count())
    assert countdown.gomaxprocs() >= 1


def test_gomaxprocs_env_is_honoured():
    out = subprocess.run(
        [sys.executable, "-c", "import countdown; print(countdown.gomaxprocs(), "
         "countdown.countdown(10**6, 4))"],
        cwd=STEP, capture_output=True, text=True, timeout=HANG,
        env=child_env(GOMAXPROCS="1"), check=True)
    assert out.stdout.split() == ["1", "1000000"]


GOMAXPROCS_CHILD = r"""
import os, sys
if len(sys.argv) > 1:
    os.environ["GOMAXPROCS"] = sys.argv[1]  # before the import, yet too late for Go
import countdown
print(countdown.gomaxprocs(), countdown.num_cpu())
"""


def test_gomaxprocs_is_read_from_the_environment_the_process_started_with():
    # Go reads its environment where the kernel put it when the process
    # started, not through getenv: os.environ (putenv) before the import
    # adds a variable Go never sees (golang/go#44108).
    default = countdown.num_cpu()  # go.mod's go 1.21: GOMAXPROCS defaults to NumCPU
    other = "1" if default > 1 else "2"  # a value that is not the default
    env = child_env()
    env.pop("GOMAXPROCS", None)
    late = subprocess.run([sys.executable, "-c", GOMAXPROCS_CHILD, other], cwd=STEP,
                          capture_output=True, text=True, timeout=HANG, env=env, check=True)
    assert late.stdout.split() == [str(default), str(default)]
    env["GOMAXPROCS"] = other
    started = subprocess.run([sys.executable, "-c", GOMAXPROCS_CHILD], cwd=STEP,
                             capture_output=True, text=True, timeout=HANG, env=env, check=True)
    assert started.stdout.split() == [other, str(default)]


def test_go_line_pins_the_pre_1_25_gomaxprocs_default():
    # Go 1.25 caps the default GOMAXPROCS by a container's CPU limit (and
    # updates it), but only for a main module whose go.mod says go >= 1.25:
    # go.mod's `go 1.21` keeps the old default, recorded in the binary.
    go = shutil.which("go")
    if go is None:
        pytest.skip("go not on PATH")
    assert re.search(r"^go 1\.21$", (STEP / "go.mod").read_text(), re.M)
    out = subprocess.run([go, "version", "-m", "libcountdown_core.so"], cwd=STEP,
                         capture_output=True, text=True, check=True).stdout
    built_with = re.match(r"libcountdown_core\.so: go1\.(\d+)", out)
    assert built_with, out
    if int(built_with[1]) < 25:
        pytest.skip(f"built with go1.{built_with[1]}: no container-aware GOMAXPROCS")
    godebug = re.search(r"^\s*build\s+DefaultGODEBUG=(\S+)$", out, re.M)
    assert godebug, out
    settings = godebug[1].split(",")
    assert "containermaxprocs=0" in settings
    assert "updatemaxprocs=0" in settings


def test_concurrent_calls_from_python_threads():
    results, errors = [], []

    def worker(n, w):
        try:
            results.append((n, countdown.countdown(n, w)))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(1_000_000 + i, 1 + i % 4))
               for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(results) == [(1_000_000 + i, 1_000_000 + i) for i in range(8)]


# --------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------
@pytest.mark.parametrize(("args", "kwargs", "exc", "message"), [
    ((-1,), {}, ValueError, "argument 'n' must be >= 0, got -1"),
    ((-10**30,), {}, ValueError, r"argument 'n' must be >= 0, got -1000000000000"),
    ((10, 0), {}, ValueError, "argument 'workers' must be >= 1, got 0"),
    ((10, -3), {}, ValueError, "argument 'workers' must be >= 1, got -3"),
    ((10, 10_001), {}, ValueError,
     r"argument 'workers' must be <= 10000 \(one goroutine each\), got 10001"),
    ((2**63,), {}, OverflowError,
     "argument 'n' is too large: 9223372036854775808 does not fit in a signed 64-bit"),
    # beyond 64 bits is beyond MAX_WORKERS: ValueError as the docstring says
    ((10, 2**63), {}, ValueError, r"'workers' must be <= 10000 .*, got 9223372036854775808"),
    ((10, 2**64), {}, ValueError, r"'workers' must be <= 10000 .*, got 18446744073709551616"),
    ((1.5,), {}, TypeError, "argument 'n' must be int, not float"),
    (("10",), {}, TypeError, "argument 'n' must be int, not str"),
    ((None,), {}, TypeError, "argument 'n' must be int, not NoneType"),
    ((10, 2.0), {}, TypeError, "argument 'workers' must be int, not float"),
    ((), {}, TypeError, r"missing required argument 'n'"),
    ((1, 2, 3), {}, TypeError, r"at most 2 positional arguments"),
    # CPython's own wording: "'threads' is an invalid keyword argument for
    # countdown()" up to 3.12, "countdown() got an unexpected keyword argument
    # 'threads'" from 3.13.
    ((1,), {"threads": 2}, TypeError,
     r"^('threads' is an invalid keyword argument for countdown\(\)"
     r"|countdown\(\) got an unexpected keyword argument 'threads')$"),
])
def test_countdown_bad_input(args, kwargs, exc, message):
    with pytest.raises(exc, match=message):
        countdown.countdown(*args, **kwargs)


def test_countdown_does_not_leak():
    big = 1 << 40  # results outside the small-int cache are new objects
    for _ in range(100):
        countdown.countdown(100, 3)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for i in range(20_000):
        countdown.countdown(1000 + i, 3)
        for bad in ((-big,), (big * big,), (-big * big,), (1.5,), (1, 0)):
            with contextlib.suppress(ValueError, OverflowError, TypeError):
                countdown.countdown(*bad)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert after - before < 64 * 1024


# --------------------------------------------------------------------------
# The GIL, without timing. A huge switch interval means a Python thread
# waiting for the GIL gets it ONLY when the holder gives it up itself (in a
# blocking call, or in countdown's Py_BEGIN_ALLOW_THREADS).
# So whatever the helper thread did while `calling` was True, it did because
# the Go call released the GIL.
#
# The count (2**62, decades) ends only when a SIGALRM handler raises Stop. A
# handler runs inside the call: Go calls the glue's check_signals() every
# 50 ms, which takes the GIL (it already has it when release_gil=False) and
# runs PyErr_CheckSignals(). SIGALRM comes from the helper once it has done
# its work during the call, or else from a timer: with the GIL held that is
# the only way the call ends; with it released, the timer only catches a hang.
# Why not a tiny switch interval? The handler is Python code: entering it, the
# main thread would hand the waiting helper the GIL, inside the call, even with
# release_gil=False (measured: the helper then counts hundreds to tens of
# thousands during the "held" call). Holding the GIL in C blocks other threads
# only while no Python code runs.
# --------------------------------------------------------------------------
GIL_PROBE = r"""
import dis, json, os, signal, sys, sysconfig, threading, time
import countdown
sys.setswitchinterval(1000)  # nobody is forced to give up the GIL
WORK = 100_000
state = {"calling": False, "progress": 0, "progress_during_call": 0}

class Stop(Exception):
    pass

def stop(signum, frame):  # in the main thread, inside the call (check_signals)
    raise Stop(state["progress"])  # the helper's progress when the call ends

signal.signal(signal.SIGALRM, stop)
gate = threading.Lock()
gate.acquire()

def call():
    countdown.countdown(1 << 62, 1, release_gil=RELEASE)

CALL = [i.offset for i in dis.get_instructions(call) if i.opname.startswith("CALL")]
ATTACHED = not RELEASE and bool(sysconfig.get_config_var("Py_GIL_DISABLED"))

def in_the_call():  # the main thread's frame is at call()'s call instruction
    frame = sys._current_frames().get(threading.main_thread().ident)
    return frame is not None and frame.f_code is call.__code__ and frame.f_lasti in CALL

def helper():
    with gate:  # opened just before the call; from then on we want the GIL
        pass
    # Without a GIL (3.13t) the helper could do all its work before the call:
    # it waits until main is in it (or past it: a call that held the GIL).
    # Not for a call that stays attached on 3.13t: _current_frames() stops
    # the world, which that call holds off (STOP_THE_WORLD, below).
    while state["calling"] and not ATTACHED and not in_the_call():
        time.sleep(0.001)
    for _ in range(WORK):  # a Python thread making progress
        state["progress"] += 1
        state["progress_during_call"] += state["calling"]
    if state["calling"]:
        os.kill(os.getpid(), signal.SIGALRM)  # done: stop the count

t = threading.Thread(target=helper)
t.start()
signal.setitimer(signal.ITIMER_REAL, TIMER)
state["calling"] = True
gate.release()  # does not release the GIL: the helper now waits for it
try:
    call()
    stopped_at = "returned"
except Stop as exc:
    stopped_at = exc.args[0]
state["calling"] = False
signal.setitimer(signal.ITIMER_REAL, 0)
signal.signal(signal.SIGALRM, signal.SIG_IGN)
t.join()  # releases the GIL: the helper runs now if it has not yet
print(json.dumps({"progress_at_stop": stopped_at, **state}))
"""


def gil_probe(release, timer):
    code = f"RELEASE, TIMER = {release}, {timer}\n" + GIL_PROBE
    proc = run_child(code)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_gil_is_released_during_the_go_call():
    # The helper did all its work while the main thread was inside the call,
    # and stopped it: the timer (HANG / 2 s) only turns a hang into a failure.
    out = gil_probe(release=True, timer=HANG / 2)
    assert out == {"progress_at_stop": 100_000, "calling": False,
                   "progress": 100_000, "progress_during_call": 100_000}


@pytest.mark.skipif(FREE_THREADED, reason="no GIL to hold on a free-threaded build "
                    "(see the test_free_threaded_* tests)")
def test_gil_held_variant_blocks_other_threads():
    # The same probe, GIL held: the helper waited for the GIL during the whole
    # call (it would have run as soon as the call released it), the timer
    # stopped the call (any delay would do), and the helper ran only after.
    out = gil_probe(release=False, timer=0.5)
    assert out == {"progress_at_stop": 0, "calling": False,
                   "progress": 100_000, "progress_during_call": 0}


# --------------------------------------------------------------------------
# Free-threaded CPython (3.13t): no GIL. release_gil=False keeps this thread's
# state *attached* during the call instead: other threads run Python anyway,
# but whatever needs every thread to stop (the garbage collector's
# stop-the-world pause) waits for the call to end.
# --------------------------------------------------------------------------
@pytest.mark.skipif(not FREE_THREADED, reason="needs a free-threaded CPython")
def test_free_threaded_importing_countdown_leaves_the_gil_off():
    assert not sys._is_gil_enabled()  # this process imported countdown at the top
    code = ("import sys, warnings\n"
            "warnings.simplefilter('error')\n"  # 'The global interpreter lock (GIL) has...'
            "import countdown, cloop\n"
            "print(sys._is_gil_enabled(), countdown.countdown(10**6, 4), cloop.countdown(10))")
    proc = run_child(code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "1000000", "10"]


@pytest.mark.skipif(not FREE_THREADED, reason="needs a free-threaded CPython")
def test_free_threaded_held_call_does_not_block_python_threads():
    # The GIL probe with release_gil=False: the helper did all its work during
    # the call, and ended it, exactly as when the GIL is released.
    out = gil_probe(release=False, timer=HANG / 2)
    assert out == {"progress_at_stop": 100_000, "calling": False,
                   "progress": 100_000, "progress_during_call": 100_000}


STOP_THE_WORLD = r"""
import gc, os, signal, threading
import countdown
events = []
# A C handler: ending the call runs no bytecode in the main thread (Python code
# there could pause for the collection, inside the call).
signal.signal(signal.SIGALRM, signal.default_int_handler)
gate = threading.Lock()
gate.acquire()

def helper():
    with gate:  # opened just before the call
        pass
    events.append("gc start")
    if not RELEASE:  # the call cannot end by itself: a timer stops it
        signal.setitimer(signal.ITIMER_REAL, 0.2)
    gc.collect()  # stops the world: waits until every thread is detached
    events.append("gc end")
    if RELEASE:
        os.kill(os.getpid(), signal.SIGALRM)  # done: stop the count

t = threading.Thread(target=helper)
t.start()
gate.release()
try:
    countdown.countdown(1 << 62, 1, release_gil=RELEASE)
except KeyboardInterrupt:
    events.append("call end")
t.join()
print(*events, sep=",")
"""


@pytest.mark.skipif(not FREE_THREADED, reason="needs a free-threaded CPython")
@pytest.mark.parametrize(("release", "order"), [
    (True, "gc start,gc end,call end"),    # detached: the collection ran during the call
    (False, "gc start,call end,gc end"),   # attached: it waited for the call to end
])
def test_free_threaded_held_call_blocks_stop_the_world(release, order):
    proc = run_child(f"RELEASE = {release}\n" + STOP_THE_WORLD)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == order


# --------------------------------------------------------------------------
# Ctrl-C: SIGINT sent from outside, as the terminal does, once the child's
# main thread is inside countdown(). The child says so only when it has seen
# it: Python runs a pending signal's handler between bytecodes, and none of
# count()'s runs one between its start and its call instruction. So once the
# main thread's frame is at that instruction, SIGINT can only reach it inside
# countdown(). "The helper runs, so main released the GIL" would be no proof
# on a free-threaded build, where the helper runs whenever it likes.
# --------------------------------------------------------------------------
SIGINT_CHILD = r"""
import dis, signal, sys, threading, time
# Ctrl-C raises KeyboardInterrupt even when this test runs where SIGINT is
# ignored (nohup, a background job): Python installs no handler then.
signal.signal(signal.SIGINT, signal.default_int_handler)
import countdown

def count():
    countdown.countdown(1 << 62, WORKERS, interruptible=INTERRUPTIBLE)

CALL = [i.offset for i in dis.get_instructions(count) if i.opname.startswith("CALL")]
assert len(CALL) == 1, CALL

def announce():
    main = threading.main_thread().ident
    while True:  # until the main thread is at count()'s call instruction
        frame = sys._current_frames().get(main)
        if frame is not None and frame.f_code is count.__code__ and frame.f_lasti in CALL:
            break
        time.sleep(0.001)
    print("in the Go call", flush=True)

threading.Thread(target=announce, daemon=True).start()
count()
print("returned", flush=True)
"""


def start_sigint_child(workers=2, interruptible=True):
    code = (f"WORKERS, INTERRUPTIBLE = {workers}, {interruptible}\n"
            + SIGINT_CHILD)
    child = subprocess.Popen([sys.executable, "-c", code], cwd=STEP,
                             env=child_env(GOMAXPROCS="2"),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = []
    reader = threading.Thread(target=lambda: line.append(child.stdout.readline()))
    reader.start()
    reader.join(HANG)
    if line != ["in the Go call\n"]:  # main never got to the call, or the child died
        child.kill()
        _, err = child.communicate()
        reader.join()
        pytest.fail(f"no handshake from the child: {line!r}\n{err}")
    return child


# How much counting a stop may take, measured in work rather than time: fewer
# decrements than one chunk per worker of the largest call (10,000 chunks,
# seconds of CPU). Children run with GOMAXPROCS=2. After the signal, the
# stop comes at the poller's next turn (50 ms, a few hundred chunks on 2 Ps).
# Before the CPU tokens (countdown.Run), 10,000 runnable workers kept the
# poller waiting for minutes: far more than a chunk each.
STOP_WITHIN = 10_000 * CHUNK
STOPPED = re.compile(r"countdown\(\) stopped after (\d+) of (\d+) decrements")


def decrements_before_stop(notes: list[str]) -> int | None:
    """The partial count the glue notes on the exception (3.11+), checked."""
    if sys.version_info < (3, 11):
        return None  # no exception notes
    assert len(notes) == 1, notes
    match = STOPPED.fullmatch(notes[0])
    assert match, notes
    done, n = int(match[1]), int(match[2])
    assert n == FOREVER
    assert done % CHUNK == 0  # whole chunks: workers stop between two
    assert done < STOP_WITHIN, f"stopped only after {done // CHUNK:,} chunks"
    return done


@pytest.mark.parametrize("workers", [2, 10_000])
def test_ctrl_c_interrupts_a_long_go_call(workers):
    child = start_sigint_child(workers)
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=HANG)
    assert child.returncode == -signal.SIGINT  # Python re-raises SIGINT on exit
    lines = err.rstrip().splitlines()
    if sys.version_info >= (3, 11):  # the traceback ends with the exception's note
        assert lines[-2] == "KeyboardInterrupt", err
        decrements_before_stop(lines[-1:])
    else:
        assert lines[-1] == "KeyboardInterrupt", err
    assert "returned" not in out


TIMER_CHILD = r"""
import signal, sys
import countdown
signal.signal(signal.SIGALRM, signal.default_int_handler)  # raises KeyboardInterrupt
signal.setitimer(signal.ITIMER_REAL, 0.2)
try:
    countdown.countdown(1 << 62, WORKERS, release_gil=RELEASE)
except KeyboardInterrupt as exc:
    print(*getattr(exc, "__notes__", []), sep="\n")
else:
    sys.exit("returned")
"""


@pytest.mark.parametrize("release", [True, False], ids=["gil-released", "gil-held"])
@pytest.mark.parametrize("workers", [1, 10_000])
def test_a_timer_signal_stops_any_number_of_workers(workers, release):
    """The stop is prompt for any worker count up to MAX_WORKERS, with the GIL
    held or not: measured in decrements (the note), not in seconds."""
    proc = run_child(f"WORKERS, RELEASE = {workers}, {release}\n" + TIMER_CHILD,
                     env=child_env(GOMAXPROCS="2"))
    assert proc.returncode == 0, proc.stderr
    decrements_before_stop(proc.stdout.splitlines())


def test_a_timer_signal_stops_the_count_when_threading_was_first_imported_elsewhere():
    """Before 3.13, threading.main_thread() is whichever thread imported
    threading first: imported (with countdown) from another thread, the main
    thread got no callback, and the signal waited for the count's end."""
    proc = run_child("import _thread, sys, time\n"
                     "_thread.start_new_thread(lambda: [__import__(m) for m in ('threading', "
                     "'countdown')], ())\n"
                     "while 'countdown' not in sys.modules or 'threading' not in "
                     "sys.modules:\n    time.sleep(0.01)\n"
                     "time.sleep(0.2)  # (its exec done)\n"
                     + TIMER_CHILD.replace("WORKERS", "2").replace("RELEASE", "True"))
    assert proc.returncode == 0, proc.stderr
    decrements_before_stop(proc.stdout.splitlines())


def test_ctrl_c_is_ignored_by_an_uninterruptible_call():
    child = start_sigint_child(workers=1, interruptible=False)
    child.send_signal(signal.SIGINT)
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            child.wait(timeout=2)  # it would run for decades: SIGINT is pending
    finally:
        child.kill()
        child.communicate()
    assert child.returncode == -signal.SIGKILL


# --------------------------------------------------------------------------
# A panic in a worker goroutine. The export's deferred gopanic.Recover cannot
# catch it (recover works in the panicking goroutine only): countdown.Run
# recovers it in the worker, stops the others, and the export re-panics it in
# its own goroutine, where Recover reports it with the worker's stack.
# Driven through the production glue, on the copy of the step built with
# gopanic's test hook live (`make panic-build`): EPG_GO_PANIC=CountdownWorker
# makes the last worker panic before its first chunk, while the others count.
# --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def panic_build() -> Path:
    subprocess.run(["make", "--no-print-directory", "-C", str(STEP), "panic-build",
                    f"PYTHON={sys.executable}"], check=True, capture_output=True)
    return STEP / "build" / "epgpanic" / STEP.name


WORKER_PANIC = r"""
import json, os
import countdown
assert countdown.__file__.startswith(os.getcwd()), countdown.__file__  # the hooked build
results = []
for n, workers, release, interruptible in CASES:
    os.environ["EPG_GO_PANIC"] = "CountdownWorker"
    try:
        countdown.countdown(n, workers, release_gil=release, interruptible=interruptible)
        outcome = ["returned"]
    except RuntimeError as exc:
        outcome = [str(exc), "".join(getattr(exc, "__notes__", []))]
    del os.environ["EPG_GO_PANIC"]
    outcome.append(countdown.countdown(10**6, 4))  # the next call works
    results.append(outcome)
print(json.dumps(results))
"""
PANIC_CASES = [  # (n, workers, release_gil, interruptible)
    (10, 3, True, True),
    (FOREVER, 2, True, True),  # the other worker counts for decades unless stopped
    (FOREVER, 10_000, True, True),
    (FOREVER, 10_000, True, False),  # no poller: Run only waits for its workers
    (FOREVER, 10_000, False, True),  # the GIL held
    (FOREVER, 1, False, False),
]


def test_a_panic_in_a_worker_goroutine_becomes_runtime_error(panic_build):
    proc = subprocess.run(
        [sys.executable, "-c", f"CASES = {PANIC_CASES!r}\n" + WORKER_PANIC],
        cwd=panic_build, capture_output=True, text=True, timeout=HANG,
        env=dict(os.environ, PYTHONPATH=str(panic_build)))
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout)
    assert len(results) == len(PANIC_CASES)
    for case, (message, stack, after) in zip(PANIC_CASES, results, strict=True):
        assert message == "Go panic in countdown(): EPG_GO_PANIC=CountdownWorker", case
        assert after == 1_000_000, case
        if sys.version_info < (3, 11):
            continue  # no notes: the stack is not attached
        # The worker's stack, not the export's: the hook called from the
        # worker's chunk loop, in a goroutine that countdown.Run started.
        assert stack.startswith("goroutine "), case
        assert "gopanic.Hook(" in stack, case
        assert "main.Countdown.func1(" in stack, case  # the core's BeforeChunk hook
        assert "created by example.com/epg/05_goroutines_gil/countdown.Run" in stack, case
        assert "_cgoexp" not in stack, case  # the export's own goroutine is not in it


# --------------------------------------------------------------------------
# fork vs spawn
# --------------------------------------------------------------------------
@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
def test_fork_child_has_lost_the_go_runtime_threads():
    # What is always true: the forked child has ONE thread, while the Go
    # runtime it inherited was started with several. (Whether its next Go
    # call then hangs is luck: see fork_demo.py and the notebook.)
    code = (
        "import os, countdown\n"
        "after_import = len(os.listdir('/proc/self/task'))\n"
        "countdown.countdown(10**6, 2)\n"
        "parent = len(os.listdir('/proc/self/task'))\n"
        "r, w = os.pipe()\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    os.write(w, str(len(os.listdir('/proc/self/task'))).encode())\n"
        "    os._exit(0)\n"  # no Go call here: it might hang
        "os.close(w)\n"
        "child = int(os.read(r, 100))\n"
        "os.waitpid(pid, 0)\n"
        "print(after_import, parent, child)\n"
    )
    proc = run_child(code)
    assert proc.returncode == 0, proc.stderr
    after_import, parent, child = map(int, proc.stdout.split())
    # Python's main thread + Go's: the one that started the runtime, sysmon...
    # already after the import (PyInit calls into Go, which waits for the
    # runtime's start-up), and still after a call.
    assert after_import >= 3
    assert parent >= 3
    assert child == 1


@pytest.fixture(scope="module")
def fork_demo() -> str:
    """fork_demo.py without fork tries: its forkserver setups, then spawn."""
    proc = subprocess.run([sys.executable, "fork_demo.py", "--tries", "0", "--timeout", "5",
                           "--n", "1000000", "--json"], cwd=STEP, capture_output=True,
                          text=True, timeout=4 * HANG, env=child_env())
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_spawn_works_after_the_go_runtime_started(fork_demo):
    assert re.search(r"^  spawn: finished in [\d.]+ s$", fork_demo, re.M), fork_demo


# The forkserver imports __main__ (the script, whose top level here imports
# countdown) by default from CPython 3.13.8 and 3.14.1; before, gh-126631
# kept it from importing __main__ at all. (A distribution that backported
# the fix to an older version would fail this test, rightly.)
FORKSERVER_IMPORTS_MAIN = sys.version_info >= (3, 14, 1) or (3, 13, 8) <= sys.version_info < (3, 14)


@pytest.mark.skipif(not Path("/proc/self/maps").is_file(), reason="needs Linux /proc")
def test_forkserver_runs_go_only_if_something_imports_it_there(fork_demo):
    """What the forkserver process has mapped (/proc/<server>/maps, read by its
    child): the Go core when the preload list names it, or names __main__ on a
    Python that imports it; nothing with set_forkserver_preload([])."""
    line = next(x for x in fork_demo.splitlines() if x.startswith("json: "))
    results = {r["setup"]: r for r in json.loads(line.removeprefix("json: "))}
    core = [str(STEP / "libcountdown_core.so")]
    assert results["preload-countdown"]["go_runtimes"] == core  # on every version
    assert results["default"]["go_runtimes"] == (core if FORKSERVER_IMPORTS_MAIN else [])
    assert results["preload-nothing"]["go_runtimes"] == []
    # A child of a server that runs Go: the glue refuses its call, at once.
    assert results["preload-countdown"]["child"] == ("refused: countdown() raised "
                                                     "RuntimeError (a forked child)"), results
    # A child of a clean server imports countdown itself, after the fork: it works.
    assert results["preload-nothing"]["child"].startswith("finished in"), results
    if not FORKSERVER_IMPORTS_MAIN:
        assert results["default"]["child"].startswith("finished in"), results


def test_its_core_is_the_only_go_runtime():
    """What is mapped in this process, not a record: one Go runtime, its core.
    (A second one is refused: ../test_one_runtime.py, for every module.)"""
    from go_runtimes import go_runtimes

    assert go_runtimes() == [str(STEP / "libcountdown_core.so")]


# --------------------------------------------------------------------------
# The loop really runs: both compiled loops branch backwards, no folding.
# --------------------------------------------------------------------------
BRANCH = re.compile(r"^(j[a-z]*|b|b\.?[a-z]{2}|cbn?z|tbn?z)$", re.I)  # x86, arm64
HEX = re.compile(r"^(?:0x)?([0-9a-f]+)$", re.I)


def backward_branches(instructions):
    """The branches to an earlier address, from (address, instruction) pairs."""
    found = []
    for address, insn in instructions:
        mnemonic, *operands = re.split(r"[\s,]+", insn.strip())
        targets = [int(m[1], 16) for op in operands if (m := HEX.match(op))]
        if BRANCH.match(mnemonic) and targets and targets[0] < address:
            found.append((hex(address), insn.strip()))
    return found


def test_loop_is_compiled_as_a_loop():
    go = shutil.which("go")
    if go is None:
        pytest.skip("go not on PATH")
    out = subprocess.run([go, "tool", "objdump", "-s", r"countdown\.Count$",
                          "libcountdown_core.so"], cwd=STEP, capture_output=True,
                         text=True, check=True).stdout
    # "  countdown.go:31\t0xb6444\t\t48ffc8\t\tDECQ AX\t": address, bytes, instruction
    rows = [[f for f in line.split("\t") if f.strip()] for line in out.splitlines()
            if line.startswith("  ")]
    go_loop = [(int(r[1], 16), r[-1]) for r in rows]
    assert go_loop, out
    assert backward_branches(go_loop), out

    objdump = shutil.which("objdump")
    if objdump is None:
        pytest.skip("binutils objdump not installed: C loop not checked")
    cloop = next(STEP.glob("cloop*.so"))
    out = subprocess.run([objdump, "-d", "--no-show-raw-insn", str(cloop)],
                         capture_output=True, text=True, check=True).stdout
    body = re.split(r"<_?cloop_count>:", out, maxsplit=1)[1].split("\n\n", 1)[0]
    body = body.splitlines()
    # "    1198:\tjne    1190 <cloop_count+0x10>"
    c_loop = [(int(a, 16), i) for a, _, i in (line.partition(":\t") for line in body)
              if i]
    assert backward_branches(c_loop), body


# --------------------------------------------------------------------------
# The benchmark's smoke run: every engine, each in its own process.
# --------------------------------------------------------------------------
def test_bench_smoke_run_prints_the_table(tmp_path):
    raw = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, "bench.py", "--n", "200000", "--repeat", "2", "--min-run", "0.02",
         "--gil-seconds", "0.1", "--json", str(raw)],
        cwd=STEP, capture_output=True, text=True, timeout=600, env=child_env())
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    run = json.loads(raw.read_text())
    engines = run["engines"]
    assert out.startswith(f"countdown on os.cpu_count()={os.cpu_count()} ")
    assert out.splitlines()[2].startswith("shortest run, s: py 1 "), out
    expected = ["py_sequential", "py_threads_2", "py_processes_2", "c_1", "go_1", "go_2",
                "go_numcpu"]
    if run["free_threaded_python"]:  # found: EPG_FT_PYTHON, or where the script builds it
        expected[2:2] = ["ft_sequential", "ft_threads_2"]
        assert f"free-threaded CPython: {run['free_threaded_python']}" in out
        assert all(not engines[e]["gil"] and engines[e]["python"].endswith("t")
                   for e in ("ft_sequential", "ft_threads_2"))
    else:
        assert "free-threaded CPython: not found (" in out
    assert list(engines) == [*expected, "gil"]
    assert all(engines[e]["gil"] for e in ("py_sequential", "py_threads_2"))  # GIL threads
    for name in expected:
        r = engines[name]
        assert len(r["times"]) == len(r["ns"]) == len(r["cores"]) == 2  # every run kept
        assert r["min_ns"] <= r["median_ns"] <= r["max_ns"]
        assert all(c >= 0 for c in r["cpu"])
        # Python counts n; a compiled engine counts more until a run lasts --min-run
        # (200,000 decrements take well under a millisecond in C or Go, but a busy
        # machine may stall that run for longer: then it counts n).
        if name in bench.COMPILED_ENGINES:
            assert r["n"] >= 200_000, (name, r["n"])
            # every kept run lasted --min-run: a shorter one was redone, counting more
            assert min(r["times"]) >= 0.02, (name, r["times"])
            assert r["counts"] == sorted(r["counts"]), r  # later rounds keep the larger count
            assert r["counts"][-1] == r["n"], r
        else:
            assert r["n"] == 200_000, (name, r["n"])
        assert re.search(rf"^{re.escape(bench.label(name, r))}\s+{r['n']:,}\s+[\d,.]+\s+"
                         r"[\d,.]+\s+[\d,.]+\s+[\d.]+\s+[\d,.]+x$", out, re.M), name
    for key in bench.ratios(run):
        assert key in out
    gil = engines["gil"]
    assert [p["phase"] for p in gil["phases"]] == list(bench.GIL_PHASES) * 2
    assert gil["marks"]  # the Python thread made progress
    for p in gil["phases"]:
        # a thread is on a CPU at most the whole phase (its CPU clock, read just
        # before and after the phase)
        assert 0 <= p["on_cpu"] <= 1.05, p
        assert p["process_cores"] >= 0, p
    if sys.platform == "linux":
        # runnable but waiting for a CPU (schedstat): counted when a wait ends, so
        # one phase may get the end of a wait begun before it, but over the run, on a
        # CPU + waiting never exceeds the time from the first phase to the last
        # (plus one wait before the first)
        phases = gil["phases"]
        busy = sum((p["on_cpu"] + p["waiting_for_cpu"]) * (p["end"] - p["start"])
                   for p in phases)
        assert all(p["waiting_for_cpu"] >= 0 for p in phases), phases
        assert busy <= phases[-1]["end"] - phases[0]["start"] + 0.2, phases
    assert gil["of_solo"]["solo"] == gil["per_cpu_of_solo"]["solo"] == 1
    for what in bench.GIL_PHASES.values():
        assert re.search(rf"^  {re.escape(what)}\s+[\d.]+\s+\d+%(\s+(\d+%|\?)){{4}}"
                         r"\s+[\d.]+$", out, re.M), what


def test_bench_ratios_multiply_out():
    """The split is exact: total gap = compiled vs interpreted x parallelism."""
    ns = {"py_sequential": 40.0, "py_threads_2": 44.0, "ft_sequential": 56.0,
          "ft_threads_2": 30.0, "py_processes_2": 25.0, "c_1": 0.5, "go_1": 0.4, "go_2": 0.21,
          "go_numcpu": 0.22}
    run = {"engines": {name: {"median_ns": v} for name, v in ns.items()}}
    r = bench.ratios(run)
    for kind, threads in (("GIL", "py_threads_2"), ("free-threaded", "ft_threads_2")):
        total = r[f"2 {kind} threads / 2 goroutines"]
        assert total == pytest.approx(ns[threads] / ns["go_2"])
        factors = [v for k, v in r.items() if k.startswith("  ") and
                   list(r).index(k) > list(r).index(f"2 {kind} threads / 2 goroutines")][:2]
        assert factors[0] * factors[1] == pytest.approx(total)
    assert r["S_free-threaded threads (1 thread / 2 threads)"] == pytest.approx(56 / 30)
    assert r["free-threaded 1 thread / GIL 1 thread (single-thread cost)"] == pytest.approx(1.4)
