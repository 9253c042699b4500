"""Step 02: newmath.sum with a Go core, every way of calling it.

This interpreter imports variant (b), the default `newmath`. Everything that
loads another Go core (variant a, the cffi API module) or needs a fresh
process (the refusals) runs in a child interpreter.
"""

import contextlib
import inspect
import json
import os
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path

import newmath
import pytest
import sum_contract
from go_refusal import REFUSAL
from go_runtimes import go_runtimes

STEP = Path(__file__).resolve().parent
COMMON = STEP.parent / "common"
CORE = STEP / "libnewmath_core.so"


def run_python(code: str, *paths: Path) -> subprocess.CompletedProcess:
    """Run code in a new interpreter with `paths` (and common/) importable."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(map(str, [*paths, COMMON])))
    # Not cwd=STEP: `-c` puts the working folder first on sys.path, and
    # STEP/newmath*.so would shadow variant (a).
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=COMMON,
                          env=env, capture_output=True, text=True, timeout=120)


# ---- variant (b), in this process -----------------------------------------

@pytest.mark.parametrize(("args", "expected"), sum_contract.GOOD)
def test_cgo_sum_results(args, expected):
    assert newmath.sum(*args) == expected


@pytest.mark.parametrize(("args", "exc_type", "pattern"), sum_contract.BAD)
def test_cgo_sum_bad_input(args, exc_type, pattern):
    with pytest.raises(exc_type, match=pattern):
        newmath.sum(*args)


def test_cgo_sum_refuses_keywords():
    with pytest.raises(TypeError, match="takes no keyword arguments"):
        newmath.sum(a=1, b=2)


def test_cgo_sum_go_wraparound_becomes_overflow_error():
    # In Go, math.MaxInt64 + 1 silently becomes math.MinInt64.
    with pytest.raises(OverflowError, match=r"sum\(9223372036854775807, 1\)"):
        newmath.sum(2**63 - 1, 1)


def test_cgo_sum_matches_python_on_random_pairs():
    import random

    rng = random.Random(2)
    for _ in range(10_000):
        a = rng.randint(sum_contract.INT64_MIN, sum_contract.INT64_MAX)
        b = rng.randint(sum_contract.INT64_MIN, sum_contract.INT64_MAX)
        if sum_contract.INT64_MIN <= a + b <= sum_contract.INT64_MAX:
            assert newmath.sum(a, b) == a + b
        else:
            with pytest.raises(OverflowError):
                newmath.sum(a, b)


def test_cgo_sum_signature():
    assert str(inspect.signature(newmath.sum)) == "(a, b, /)"
    assert str(inspect.signature(newmath.sum_list)) == "(values, /)"


@pytest.mark.parametrize("values", [[], [7], list(range(1_000_000)), (1, -2, 3),
                                    [2**62, 2**62 - 1, -(2**62)], [True, 2]])
def test_cgo_sum_list_results(values):
    assert newmath.sum_list(values) == sum(values)


@pytest.mark.parametrize(("values", "exc_type", "pattern"), [
    ("123", TypeError, r"must be a list or tuple of int, not str"),
    (None, TypeError, r"must be a list or tuple of int, not NoneType"),
    ({1, 2}, TypeError, r"not set"),
    ([1, 2, 3.5], TypeError, r"item 2: 'float' object cannot be interpreted as an integer"),
    ([1, "2"], TypeError, r"item 1: 'str' object"),
    ([0, 2**63], OverflowError, r"item 1: int too big to convert"),
    ([2**63 - 1, 0, 1], OverflowError, r"running total .* at item 2"),
    ([-(2**63), -1], OverflowError, r"running total .* at item 1"),
])
def test_cgo_sum_list_bad_input(values, exc_type, pattern):
    with pytest.raises(exc_type, match=pattern):
        newmath.sum_list(values)


def test_cgo_sum_list_survives_a_list_mutated_by_index():
    """__index__ runs Python code while sum_list converts the items: it may
    shrink the list. sum_list must sum a snapshot, never read freed items."""
    values = []

    class Shrink:
        def __index__(self):
            values.clear()
            junk = [object() for _ in range(1000)]  # reuse the freed memory
            del junk
            return 7

    expected = (1 << 40) + 7 + (1 << 41) + (1 << 42)
    for _ in range(3):
        values[:] = [1 << 40, Shrink(), 1 << 41, 1 << 42]
        assert newmath.sum_list(values) == expected
        assert values == []


def test_cgo_sum_list_keeps_foreign_exceptions_and_chains_its_own():
    class DatabaseDown(Exception):
        def __init__(self, code, detail):
            super().__init__(code, detail)

    class Lookup:
        def __index__(self):
            raise DatabaseDown(42, "db down")

    with pytest.raises(DatabaseDown) as info:
        newmath.sum_list([1, Lookup()])
    assert info.value.args == (42, "db down")  # untouched, not rebuilt

    with pytest.raises(TypeError, match=r"item 1: 'float'") as info:
        newmath.sum_list([1, 2.5])
    assert isinstance(info.value.__cause__, TypeError)  # the original, chained
    assert "item" not in str(info.value.__cause__)


def test_cgo_sum_no_leak_and_no_refcount_drift():
    big = [1 << 40, 1 << 41, 1 << 42]
    bad = [1, 2, 1.5]
    refs = [sys.getrefcount(o) for o in (*big, *bad, big, bad)]
    for _ in range(1000):  # warm up
        newmath.sum(1 << 40, 1)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for i in range(100_000):
        newmath.sum(1 << 40, i)
        newmath.sum_list(big)
        with contextlib.suppress(TypeError):
            newmath.sum_list(bad)
        with contextlib.suppress(OverflowError):
            newmath.sum(2**63 - 1, 1)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert after - before < 64 * 1024
    assert [sys.getrefcount(o) for o in (*big, *bad, big, bad)] == refs


def test_cgo_sum_the_only_go_runtime_is_its_core():
    assert go_runtimes() == [str(CORE)]


def test_cgo_sum_extension_is_plain_c_and_the_core_carries_go():
    """The extension must not contain a Go runtime: it dlopen()s the core
    only after the one-runtime check (see common/go_core.h)."""
    ext = Path(newmath.__file__).read_bytes()
    assert b"runtime.main" not in ext
    assert b"go:buildid" not in ext
    assert b"runtime.main" in CORE.read_bytes()


def test_cgo_sum_go_unit_tests_pass():
    proc = subprocess.run(["go", "test", "-count=1", "./sum/"], cwd=STEP,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ok" in proc.stdout


# ---- the other ways of calling Go, each in its own interpreter -------------

# the one library carrying a Go runtime that each folder's modules load
# (the FFIs load variant (b)'s core)
GO_LIBRARY = {
    STEP: CORE,
    STEP / "variant_a": STEP / "variant_a/libnewmath_core.so",
    STEP / "ffi": CORE,
}

@pytest.mark.parametrize(("module", "path"), [
    ("newmath", STEP / "variant_a"),
    ("newmath_cffi_api", STEP / "ffi"),
    ("newmath_cffi_abi", STEP / "ffi"),
    ("newmath_ctypes", STEP / "ffi"),
])
def test_cgo_sum_every_variant_meets_the_contract(module, path):
    proc = run_python(f"""
        import json, sum_contract
        from go_runtimes import go_runtimes
        import {module} as m
        print(json.dumps([m.sum(5, 4), sum_contract.problems(m.sum), go_runtimes()]))
    """, path)
    assert proc.returncode == 0, proc.stderr
    result, problems, runtimes = json.loads(proc.stdout)
    assert result == 9
    assert problems == []
    assert runtimes == [str(GO_LIBRARY[path])]


@pytest.mark.parametrize(("module", "path"), [
    ("newmath", STEP),
    ("newmath", STEP / "variant_a"),
    ("newmath_cffi_api", STEP / "ffi"),
    ("newmath_cffi_abi", STEP / "ffi"),
    ("newmath_ctypes", STEP / "ffi"),
])
def test_cgo_sum_every_variant_is_thread_safe(module, path):
    """ctypes and cffi release the GIL during the call: a result buffer shared
    between calls would be overwritten by another thread."""
    proc = run_python(f"""
        import sys, threading
        import {module} as m
        sys.setswitchinterval(1e-6)  # switch threads as often as possible
        wrong = []
        def work(k):
            for i in range(50_000):
                if m.sum(k * 10**12, i) != k * 10**12 + i:
                    wrong.append((k, i))
        threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(len(wrong))
    """, path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "0"


def test_cgo_sum_failed_load_leaves_the_process_free():
    """A loader whose library fails to load started no runtime: another Go
    core may still be imported afterwards."""
    proc = run_python(f"""
        import importlib.abc, sys
        class Missing(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name == "_newmath_cffi":
                    raise ImportError("simulated: _newmath_cffi is not built")
        sys.meta_path.insert(0, Missing())
        from go_runtimes import go_runtimes
        try:
            import newmath_cffi_api
        except ImportError as exc:
            print(exc)
        print(go_runtimes())
        sys.path.insert(0, {str(STEP / "variant_a")!r})
        import newmath  # variant (a): another Go core
        print(newmath.sum(5, 4), go_runtimes() == [{str(GO_LIBRARY[STEP / "variant_a"])!r}])
    """, STEP / "ffi")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "simulated: _newmath_cffi is not built", "[]", "9 True"]




@pytest.mark.parametrize(("first", "first_path", "second", "second_path"), [
    # glue (b), then glue (a); and the other way round
    ("newmath", STEP, "newmath", STEP / "variant_a"),
    ("newmath", STEP / "variant_a", "newmath", STEP),
    # glue (a), then a Python-side loader (of core b); and the other way round
    ("newmath", STEP / "variant_a", "newmath_cffi_api", STEP / "ffi"),
    ("newmath_cffi_api", STEP / "ffi", "newmath", STEP / "variant_a"),
    ("newmath", STEP / "variant_a", "newmath_ctypes", STEP / "ffi"),
    ("newmath_cffi_abi", STEP / "ffi", "newmath", STEP / "variant_a"),
])
def test_cgo_sum_second_go_runtime_is_refused(first, first_path, second, second_path):
    second_lib = GO_LIBRARY[second_path]
    proc = run_python(f"""
        import importlib, sys
        def load(name, path):
            sys.path.insert(0, path)
            sys.modules.pop(name, None)
            try:
                return importlib.import_module(name)
            finally:
                sys.path.remove(path)
        sys.path.append({str(STEP / 'ffi')!r})
        first = load({first!r}, {str(first_path)!r})
        try:
            load({second!r}, {str(second_path)!r})
        except ImportError as exc:
            print(exc)
        else:
            print("imported!")
        # Refused BEFORE loading: the second Go runtime's library is not mapped.
        assert {str(second_lib)!r} not in open('/proc/self/maps').read(), "second runtime"
        assert first.sum(5, 4) == 9   # the first module still works
    """)
    assert proc.returncode == 0, proc.stderr
    message = proc.stdout.strip()
    match = REFUSAL.match(message)
    assert match, message
    assert match["new"] == second
    assert match["owner"] == first
    assert match["path"] == str(GO_LIBRARY[first_path])


def test_cgo_sum_same_core_twice_is_allowed():
    """ctypes and cffi on the very library the glue already loaded: one runtime."""
    proc = run_python("""
        import newmath, newmath_ctypes, newmath_cffi_api
        from go_runtimes import go_runtimes
        print(newmath.sum(1, 2), newmath_ctypes.sum(3, 4), newmath_cffi_api.sum(5, 6))
        print(go_runtimes())
    """, STEP, STEP / "ffi")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["3 7 11", str([str(CORE)])]


def test_cgo_sum_bench_smoke_run_prints_the_table():
    proc = subprocess.run([sys.executable, "bench.py", "--quick"], cwd=STEP,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    for label in ("pure Python def", "C (01_c_sum)", "Go via C glue (02, b)",
                  "cffi API mode", "cffi ABI mode", "ctypes", "Go sum_list, one call per list"):
        assert label in proc.stdout
    assert "target: Go via C glue within 2x of C" in proc.stdout
