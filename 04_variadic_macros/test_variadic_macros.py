"""Step 04: module macro, Go calling CPython through C shims."""

from __future__ import annotations

import inspect
import json
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import textwrap
import threading
import tracemalloc
from pathlib import Path

import cgo_errors
import macro
import pytest
import refcheck

STEP = Path(__file__).resolve().parent
INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)
FREE_THREADED = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
MODULE_FILE = "macro" + sysconfig.get_config_var("EXT_SUFFIX")


class MyList(list):
    pass


class MyInt(int):
    pass


# ---------------------------------------------------------------- is_a_*
@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        ([], True),
        ([1, "a", None], True),
        (MyList([1]), True),  # PyList_Check accepts subclasses
        ((1, 2), False),
        ("abc", False),
        (None, False),
        ({}, False),
        (range(3), False),
        (iter([1]), False),
        (list, False),  # the type itself is not a list
    ],
)
def test_is_a_list(obj, expected):
    assert macro.is_a_list(obj) is expected


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (0, True),
        (-5, True),
        (2**100, True),  # big ints are ints too
        (-(2**100), True),
        (True, True),  # bool is an int subclass
        (False, True),
        (MyInt(3), True),
        (1.5, False),
        (1.0, False),
        ("1", False),
        (None, False),
        (1j, False),
        (int, False),
    ],
)
def test_is_a_long(obj, expected):
    assert macro.is_a_long(obj) is expected


# ---------------------------------------------------------------- list_sum
@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([], 0),
        ([5, 4], 9),  # the talk's numbers
        ([1, -2, 3, -4], -2),
        ([INT64_MAX], INT64_MAX),
        ([INT64_MIN], INT64_MIN),
        ([INT64_MAX, INT64_MIN, 1], 0),  # back in range: never overflowed
        ([INT64_MAX - 1, 1], INT64_MAX),
        ([True, True, False], 2),
        ([MyInt(7), 1], 8),
        (MyList([1, 2, 3]), 6),
    ],
)
def test_list_sum(values, expected):
    result = macro.list_sum(values)
    assert result == expected
    assert type(result) is int


def test_list_sum_matches_python_on_random_lists():
    import random

    rng = random.Random(20261124)
    for _ in range(2000):
        values = [rng.randint(-(2**40), 2**40) for _ in range(rng.randrange(50))]
        assert macro.list_sum(values) == sum(values)
    values = list(range(1_000_000))
    assert macro.list_sum(values) == sum(values)


def test_list_sum_reads_the_list_storage_not_its_methods():
    """A list subclass's storage is read (PyList_AsTuple), like the C API
    does: overridden __getitem__/__iter__/__len__ are not called."""

    class Weird(list):
        def __getitem__(self, i):
            raise AssertionError("not called")

        def __iter__(self):
            raise AssertionError("not called")

        def __len__(self):
            return 0

    assert macro.list_sum(Weird([1, 2, 3])) == 6


def test_list_sum_calls_no_python_code_on_int_subclasses():
    class Loud(int):
        def __index__(self):
            raise AssertionError("not called")

        def __int__(self):
            raise AssertionError("not called")

    assert macro.list_sum([Loud(5), Loud(4)]) == 9


class Ünïcode:
    pass


@pytest.mark.parametrize(
    ("values", "exc_type", "message"),
    [
        ((1, 2), TypeError, "list_sum() argument must be a list, not tuple"),
        (None, TypeError, "list_sum() argument must be a list, not NoneType"),
        ("12", TypeError, "list_sum() argument must be a list, not str"),
        (range(3), TypeError, "list_sum() argument must be a list, not range"),
        ({1: 2}, TypeError, "list_sum() argument must be a list, not dict"),
        ([1, 2, "3"], TypeError, "list_sum() item 2 must be an int, not str"),
        ([1.5], TypeError, "list_sum() item 0 must be an int, not float"),
        ([0, None], TypeError, "list_sum() item 1 must be an int, not NoneType"),
        ([Ünïcode()], TypeError, "list_sum() item 0 must be an int, not Ünïcode"),
        ([1, 2**63], OverflowError,
         "list_sum() item 1 does not fit in a signed 64-bit integer"),
        ([1, 2, INT64_MIN - 1], OverflowError,
         "list_sum() item 2 does not fit in a signed 64-bit integer"),
        ([2**100], OverflowError,
         "list_sum() item 0 does not fit in a signed 64-bit integer"),
        ([1, INT64_MAX], OverflowError,
         "list_sum() the running sum does not fit in a signed 64-bit integer "
         "once item 1 is added"),
        ([-1, 0, INT64_MIN], OverflowError,
         "list_sum() the running sum does not fit in a signed 64-bit integer "
         "once item 2 is added"),
        # the first problem wins, the rest is never read
        ([2**62, 2**62, "x"], OverflowError, "once item 1 is added"),
        (["x", 2**64], TypeError, "item 0 must be an int, not str"),
    ],
)
def test_list_sum_bad_input(values, exc_type, message):
    with pytest.raises(exc_type) as info:
        macro.list_sum(values)
    assert type(info.value) is exc_type
    assert message in str(info.value)
    # nothing left behind: the next call works
    assert macro.list_sum([1, 2]) == 3


@pytest.mark.parametrize("func", [macro.is_a_list, macro.is_a_long, macro.list_sum])
def test_wrong_arity(func):
    name = func.__name__
    with pytest.raises(TypeError, match=rf"^{name}\(\) takes exactly 1 argument \(0 given\)$"):
        func()
    with pytest.raises(TypeError, match=rf"^{name}\(\) takes exactly 1 argument \(2 given\)$"):
        func([1], [2])
    with pytest.raises(TypeError, match=rf"^{name}\(\) takes no keyword arguments$"):
        func(obj=[1])


def test_signatures_and_docs():
    assert str(inspect.signature(macro.is_a_list)) == "(obj, /)"
    assert str(inspect.signature(macro.is_a_long)) == "(obj, /)"
    assert str(inspect.signature(macro.list_sum)) == "(values, /)"
    assert "OverflowError" in macro.list_sum.__doc__


# ---------------------------------------------------------------- references
def _child(*args: str, cwd: Path = STEP, env: dict | None = None,
           timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """A fresh interpreter in `cwd`, the step folder by default (its own Go
    runtime, if any), with common/ on its path."""
    env = dict(os.environ if env is None else env, PYTHONPATH=str(STEP.parent / "common"))
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_list_sum_leaves_refcounts_alone():
    """Borrowed references stay borrowed: no drift on the lists or their items
    over 100,000 calls of every path, errors included."""
    changes = refcheck.drift(macro.list_sum, 100_000)
    assert len(changes) == 13
    assert changes == dict.fromkeys(changes, 0)


def test_refcount_check_catches_a_new_reference_taken_as_borrowed():
    """The check above can fail: the leakyref build (PySequence_GetItem, a new
    reference, used as if borrowed) gains one reference per item per call."""
    leaky = STEP / "build" / "leakyref"
    proc = _child("refcheck.py", str(leaky), "1000")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert Path(report["module"]).parent == leaky
    changes = report["drift"]
    # Each item is read once per call from the good list, the subclass and the
    # three lists that fail at their last item: 5 references per call.
    assert {k: v for k, v in changes.items() if k.startswith("item ")} == {
        k: 5000 for k in changes if k.startswith("item ")}
    # The offending last items of two failing lists are read (and leaked) too,
    # once per call; lists and tuples themselves are untouched.
    assert changes["the str item"] == 1000
    assert changes["the big int item"] == 1000
    assert changes["good list"] == changes["tuple (not a list)"] == 0


def test_is_a_predicates_leave_refcounts_alone():
    obj, other = [1 << 40], (1 << 41,)
    watched = {"list": obj, "tuple": other, "True": True, "False": False}
    before = {name: sys.getrefcount(o) for name, o in watched.items()}
    for _ in range(100_000):
        macro.is_a_list(obj)
        macro.is_a_list(other)
        macro.is_a_long(obj)
        macro.is_a_long(other[0])
    after = {name: sys.getrefcount(o) for name, o in watched.items()}
    # True/False are immortal from Python 3.12 on (constant refcount); on
    # 3.11 a missing decref of PyBool_FromLong's result would show here.
    assert after == before


def test_list_sum_results_are_not_leaked():
    # Each result is a new int object: an extra reference on it would keep
    # 100,000 of them alive (several MB) and show up here.
    base = [1 << 40, 0]
    for _ in range(1000):
        macro.list_sum(base)
    tracemalloc.start()
    start = tracemalloc.get_traced_memory()[0]
    for i in range(100_000):
        base[1] = i
        macro.list_sum(base)
    grown = tracemalloc.get_traced_memory()[0] - start
    tracemalloc.stop()
    assert grown < 64 * 1024


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_error_messages_are_not_leaked():
    """Every error message is a C.CString that must be freed exactly once:
    300,000 errors must not grow the RSS of a fresh process (without the
    C.free, it grows by over 20 MB)."""
    code = """
import json, macro
def rss():
    with open("/proc/self/status") as fh:
        return next(int(l.split()[1]) for l in fh if l.startswith("VmRSS:")) * 1024
bad = [[1, "x" * 40], [1, 2**70], [2**62, 2**62], (1, 2)]
def errors(n):
    for _ in range(n):
        for values in bad:
            try:
                macro.list_sum(values)
            except (TypeError, OverflowError):
                pass
errors(20_000)
before = rss()
errors(75_000)
print(json.dumps(rss() - before))
"""
    proc = _child("-c", code)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) < 2 * 1024 * 1024


# ---------------------------------------------------------------- threads
def test_list_sum_from_many_python_threads():
    """Each call runs in Go on the calling thread, with the GIL held."""
    failures = []

    def worker(seed):
        values = list(range(seed, seed + 1000))
        for _ in range(500):
            if macro.list_sum(values) != sum(values):
                failures.append(seed)
                return

    threads = [threading.Thread(target=worker, args=(k * 1000,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


def test_list_sum_while_another_thread_rewrites_the_list():
    """mutate.py: a writer thread rewrites the list (fresh items, so that the
    ones it drops are freed at once) while two threads call list_sum on it.
    Every call returns the sum of a state the list was in, or that state's
    TypeError/OverflowError: Go walks a snapshot. (With the list's own items
    read as borrowed references, a free-threaded build returned wrong sums
    and IndexErrors here.) On a GIL build the walk cannot overlap a write;
    the outcomes must still all be right."""
    proc = _child("mutate.py", ".", "20000", timeout=600)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert Path(report["module"]) == STEP / MODULE_FILE
    assert report["wrong"] == []
    assert report["outcomes"]["wrong"] == 0
    assert report["calls"] == sum(report["outcomes"].values()) > 0
    assert report["gil"] is not FREE_THREADED


# ---------------------------------------------------------------- one runtime
def test_macro_its_core_is_the_only_go_runtime():
    """What is mapped in this process, not a record: one Go runtime, its core.
    (A second one is refused: ../test_one_runtime.py, for every module.)"""
    from go_runtimes import go_runtimes

    assert go_runtimes() == [str(STEP / "libmacro_core.so")]


def test_a_core_built_for_another_python_is_refused(tmp_path):
    """The core reads Python objects through the headers it was compiled with:
    one left by `make PYTHON=<another python>` would crash on the first call.
    The glue compares the core's Python ABI with its own (a stand-in core here,
    plain C, reporting 2.7) and refuses it with ImportError."""
    shutil.copy(STEP / MODULE_FILE, tmp_path)
    (tmp_path / "core.c").write_text(
        'const char *macro_core_python_abi(void) { return "2.7"; }\n'
        "void IsAList(void) {}\nvoid IsALong(void) {}\nvoid ListSum(void) {}\n")
    subprocess.run([os.environ.get("CC", "cc"), "-shared", "-fPIC", "-o",
                    str(tmp_path / "libmacro_core.so"), str(tmp_path / "core.c")], check=True)
    proc = _child("-c", "import macro", cwd=tmp_path)
    this = f"{sys.version_info[0]}.{sys.version_info[1]}{'t' if FREE_THREADED else ''}"
    assert proc.returncode == 1
    assert proc.stderr.splitlines()[-1] == (
        "ImportError: cannot import macro: its Go core libmacro_core.so was built for "
        f"Python 2.7, this is Python {this}; rebuild it with this interpreter "
        "(make PYTHON=...)")


# ---------------------------------------------------------------- cgo limits
@pytest.mark.parametrize("name", sorted(cgo_errors.PROGRAMS))
def test_cgo_cannot_call_variadic_functions_nor_macros(name):
    """The reason for the shims: Go calling them directly does not build."""
    _, expected = cgo_errors.PROGRAMS[name]
    result = cgo_errors.build(name)
    assert result.returncode != 0
    assert expected in result.stdout + result.stderr


@pytest.mark.skipif(sys.version_info < (3, 11), reason="Py_INCREF is a macro before 3.11")
def test_cgo_can_call_static_inline_functions():
    result = cgo_errors.build("inline")
    assert result.returncode == 0, result.stderr


def test_bench_child_measures_list_sum():
    proc = subprocess.run(
        [sys.executable, "bench.py", "--engine", "macro", "--sizes", "1,10", "--repeat", "2",
         "--min-time", "0.01"],
        cwd=STEP, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout)
    assert set(results) == {"macro.list_sum", "builtin sum"}
    # Every timed run is kept: two per function and size.
    assert all(set(by_size) == {"1", "10"} for by_size in results.values())
    runs = [ns for by_size in results.values() for ns in by_size.values()]
    assert all(len(r) == 2 and min(r) > 0 for r in runs), results


# ---------------------------------------------------------------- panics
# The step built once more with gopanic's test hook live (`make panic-build`:
# build/epgpanic/, -tags epgpanic): EPG_GO_PANIC=<name> makes the Go core
# panic on demand where it calls gopanic.Hook(<name>). It is another Go core,
# so it runs in child processes. (../test_go_panics.py covers a panic at the
# start of every export of every step.)
@pytest.fixture(scope="module")
def panic_build() -> Path:
    proc = subprocess.run(["make", "--no-print-directory", "panic-build",
                           f"PYTHON={sys.executable}"],
                          cwd=STEP, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return STEP / "build" / "epgpanic" / STEP.name


def _panic_child(panic_build: Path, code: str, **kwargs) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "EPG_GO_PANIC"}
    return _child("-c", textwrap.dedent(code), cwd=panic_build, env=env, **kwargs)


def test_a_panic_after_an_exception_keeps_it_as_context(panic_build):
    """Go set a TypeError, then panicked: the RuntimeError says so and carries
    the TypeError as its __context__; nothing is left set afterwards."""
    proc = _panic_child(panic_build, """
        import json, os, sys
        import macro
        os.environ["EPG_GO_PANIC"] = "ListSum.error"
        try:
            macro.list_sum([1, "x"])
        except RuntimeError as exc:
            notes = getattr(exc, "__notes__", [])
            print(json.dumps([str(exc), type(exc.__context__).__name__, str(exc.__context__),
                              exc.__cause__ is None, exc.__suppress_context__,
                              sys.version_info < (3, 11) or
                              notes[0].startswith("goroutine ") and "main.ListSum(" in notes[0]]))
        del os.environ["EPG_GO_PANIC"]
        try:
            macro.list_sum([1, "x"])
        except TypeError as exc:
            print(json.dumps([str(exc), exc.__context__ is None]))
        print(macro.list_sum([1, 2]), macro.is_a_list([]))
    """)
    assert proc.returncode == 0, proc.stderr
    panic, again, after = proc.stdout.splitlines()
    assert json.loads(panic) == ["Go panic in list_sum(): EPG_GO_PANIC=ListSum.error",
                                 "TypeError", "list_sum() item 1 must be an int, not str",
                                 True, False, True]
    assert json.loads(again) == ["list_sum() item 1 must be an int, not str", True]
    assert after == "3 True"


def test_a_panic_halfway_through_the_walk_leaks_nothing(panic_build):
    """The walk panics at its middle item: the snapshot Go holds is released by
    its defer (no item keeps a reference: refcheck), every report string is
    freed (RSS), and the interpreter goes on."""
    proc = _panic_child(panic_build, """
        import collections, json, os
        import macro, refcheck
        def rss():
            with open("/proc/self/statm") as fh:
                return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        os.environ["EPG_GO_PANIC"] = "ListSum.walk"
        raised = collections.Counter()
        drift = refcheck.drift(macro.list_sum, 500, (TypeError, OverflowError, RuntimeError),
                               raised)
        values = list(range(10))
        def panics(n):
            for _ in range(n):
                try:
                    macro.list_sum(values)
                except RuntimeError:
                    pass
        panics(2000)
        before = rss()
        panics(15_000)
        grown = rss() - before
        del os.environ["EPG_GO_PANIC"]
        print(json.dumps({"drift": drift, "raised": raised, "grown": grown,
                          "after": macro.list_sum(values)}))
    """)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    # Every list that reaches the walk panics there (5 of refcheck's 6; the
    # tuple is refused before): 500 rounds.
    assert report["raised"] == {"RuntimeError": 5 * 500, "TypeError": 500}
    assert report["drift"] == dict.fromkeys(report["drift"], 0)
    assert len(report["drift"]) == 13
    # Each report holds the panic value and a Go stack of about 1 KB: 15,000
    # unfreed reports would grow the RSS by about 15 MB.
    assert report["grown"] < 4 * 1024 * 1024, report["grown"]
    assert report["after"] == sum(range(10))


@pytest.mark.parametrize(("mode", "message"), [
    ("fatal", "fatal error: concurrent map writes"),
    ("stack", "fatal error: stack overflow"),
    ("goexit", "fatal error: runtime.Goexit called in a thread that was not created by "
               "the Go runtime|fatal error: internal lockOSThread error"),  # (Go 1.21's words)
])
def test_a_go_fatal_error_is_not_a_panic(panic_build, mode, message):
    """What recover cannot catch: a fatal runtime error ends the process. A Go
    runtime in a library aborts (SIGABRT) rather than exits. runtime.Goexit
    too: the export runs on the C caller's thread, which Go cannot end, and
    nothing can cancel a Goexit (the deferred Recover runs, then the abort)."""
    proc = _panic_child(panic_build, f"""
        import os
        import macro
        os.environ["EPG_GO_PANIC"] = "ListSum:{mode}"
        print("calling", flush=True)
        try:
            macro.list_sum([1, 2])
        except BaseException as exc:
            print("caught", type(exc).__name__, flush=True)
        print("returned", flush=True)
    """, timeout=120)
    assert proc.stdout == "calling\n"
    assert proc.returncode == -signal.SIGABRT, (proc.returncode, proc.stderr[-2000:])
    assert set(message.split("|")) & set(proc.stderr.splitlines()), proc.stderr[:2000]


@pytest.mark.parametrize("faulthandler", ["never", "before the import", "after the import"])
def test_a_nil_dereference_is_a_panic_while_gos_signal_handler_is_in_place(panic_build,
                                                                          faulthandler):
    """A nil pointer dereference faults (SIGSEGV); Go's signal handler turns
    the fault into a panic, and list_sum raises RuntimeError. A handler
    installed after the Go runtime replaces Go's: faulthandler.enable() once
    macro is imported, and the same call kills the process."""
    proc = _panic_child(panic_build, f"""
        import faulthandler, os
        if {faulthandler!r} == "before the import":  # (python -X faulthandler: the same)
            faulthandler.enable()
        import macro
        if {faulthandler!r} == "after the import":
            faulthandler.enable()
        os.environ["EPG_GO_PANIC"] = "ListSum:nilptr"
        try:
            macro.list_sum([1, 2])
        except RuntimeError as exc:
            print(exc)
    """, timeout=120)
    if faulthandler == "after the import":
        # faulthandler reports, puts Go's handler back and raise()s the signal:
        # Go sees one sent to it (sigcode SI_TKILL), not a fault, and crashes:
        assert proc.returncode < 0, proc.stderr[-2000:]  # (SIGSEGV, SIGABRT; Go 1.21: SIGQUIT)
        assert proc.stdout == ""
        assert "Fatal Python error: Segmentation fault" in proc.stderr
    else:
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert proc.stdout == ("Go panic in list_sum(): runtime error: invalid memory address "
                               "or nil pointer dereference\n")


# ---------------------------------------------------------------- free-threaded
@pytest.mark.skipif(not FREE_THREADED, reason="not a free-threaded build of CPython")
def test_every_build_of_macro_leaves_the_gil_off(panic_build):
    """Importing a module that does not declare Py_mod_gil = Py_MOD_GIL_NOT_USED
    turns the GIL back on for the whole process (with a RuntimeWarning)."""
    assert macro.__file__ == str(STEP / MODULE_FILE)
    assert sys._is_gil_enabled() is False
    code = ("import sys, warnings\n"
            "warnings.simplefilter('error')\n"
            "sys.path.insert(0, sys.argv[1])\n"
            "import macro\n"
            "print(macro.__file__, sys._is_gil_enabled())\n")
    for folder in (STEP, STEP / "build" / "leakyref", panic_build):
        proc = _child("-c", code, str(folder))
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.split() == [str(folder / MODULE_FILE), "False"]


def test_limits_demo_shows_what_the_boundary_cannot_stop(panic_build):
    """`make limits` (limits.py): five ways list_sum() stops inside Go, and a
    Go library loaded after macro, which nothing refuses and go_runtimes()
    shows."""
    proc = _child(str(STEP / "limits.py"), cwd=STEP, timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = [" ".join(line.split()) for line in proc.stdout.splitlines()]
    lines = [line.replace("internal lockOSThread error", "runtime.Goexit called in a thread "
                          "that was not created by the Go runtime")  # (Go 1.21's words)
             for line in lines]
    assert lines == [
        "1. list_sum([1, 2]) stopped inside Go, in the panic build:",
        "panic(...) -> RuntimeError: Go panic in list_sum(): EPG_GO_PANIC=ListSum",
        "panic(nil), GODEBUG=panicnil=1 -> RuntimeError: Go panic in list_sum(): panic "
        "called with nil argument (GODEBUG=panicnil=1)",
        "runtime.Goexit() -> killed by SIGABRT: fatal error: runtime.Goexit called in a "
        "thread that was not created by the Go runtime",
        "concurrent map writes -> killed by SIGABRT: fatal error: concurrent map writes",
        "stack overflow -> killed by SIGABRT: fatal error: stack overflow",
        "2. A Go library loaded after macro:",
        "macro.go_runtimes() -> ['04_variadic_macros/libmacro_core.so']",
        "ctypes.CDLL(another Go library) -> no error",
        "macro.go_runtimes() -> ['04_variadic_macros/build/leakyref/libmacro_core.so', "
        "'04_variadic_macros/libmacro_core.so']",
        "two Go runtimes in one process: not supported (golang/go#65050);",
        "load that library in another process",
    ], proc.stdout
