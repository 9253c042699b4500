"""Step 04: module macro, Go calling CPython through C shims."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
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
    """A list subclass is walked with PyList_GetItem, like the C API does:
    overridden __getitem__/__iter__/__len__ are not called."""

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
def _child(*args: str) -> subprocess.CompletedProcess[str]:
    """A fresh interpreter in the step folder (its own Go runtime, if any)."""
    return subprocess.run([sys.executable, *args], cwd=STEP,
                          capture_output=True, text=True, timeout=300)


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


# ---------------------------------------------------------------- one runtime
def test_macro_its_core_is_the_only_go_runtime():
    """What is mapped in this process, not a record: one Go runtime, its core.
    (A second one is refused: ../test_one_runtime.py, for every module.)"""
    from go_runtimes import go_runtimes

    assert go_runtimes() == [str(STEP / "libmacro_core.so")]


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
        [sys.executable, "bench.py", "--engine", "macro", "--sizes", "1,10", "--repeat", "1"],
        cwd=STEP, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout)
    assert set(results) == {"macro.list_sum", "builtin sum"}
    assert all(set(by_size) == {"1", "10"} for by_size in results.values())
    assert all(ns > 0 for by_size in results.values() for ns in by_size.values())
