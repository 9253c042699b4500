"""Step 02: newmath.sum with a Go core, every way of calling it.

This interpreter imports variant (b), the default `newmath`. Everything that
loads another Go core (variant a, the cffi API module) or needs a fresh
process (the refusals) runs in a child interpreter.
"""

import contextlib
import ctypes
import inspect
import json
import os
import re
import statistics
import subprocess
import sys
import sysconfig
import textwrap
import time
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
FREE_THREADED = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
# The Makefile does not build the cffi module where CFFI cannot run.
needs_cffi = pytest.mark.skipif(
    FREE_THREADED and sys.version_info < (3, 14),
    reason="CFFI supports free-threaded CPython only from 3.14 (cffi 2.0): "
           "the cffi API and ABI variants are not built here")


def run_python(code: str, *paths: Path) -> subprocess.CompletedProcess:
    """Run code in a new interpreter with `paths` (and common/) importable."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(map(str, [*paths, COMMON])))
    env.pop("PYTHON_GIL", None)  # a free-threaded build decides by itself (tested)
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


def method_flags(func) -> int:
    """ml_flags of a builtin function's PyMethodDef: PyCFunctionObject starts
    with a PyObject header, then m_ml; a PyMethodDef is {name, meth, flags}."""
    ml = ctypes.c_void_p.from_address(id(func) + object.__basicsize__).value
    return ctypes.c_int.from_address(ml + 2 * ctypes.sizeof(ctypes.c_void_p)).value


def test_cgo_sum_glue_uses_the_fast_calling_convention():
    METH_NOARGS, METH_O, METH_FASTCALL = 0x4, 0x8, 0x80  # methodobject.h
    assert method_flags(time.time) == METH_NOARGS  # the reader reads real flags
    assert method_flags(newmath.sum) == METH_FASTCALL  # no argument tuple per call
    assert method_flags(newmath.sum_list) == METH_O


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
    pytest.param("newmath_cffi_api", STEP / "ffi", marks=needs_cffi),
    pytest.param("newmath_cffi_abi", STEP / "ffi", marks=needs_cffi),
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
    pytest.param("newmath_cffi_api", STEP / "ffi", marks=needs_cffi),
    pytest.param("newmath_cffi_abi", STEP / "ffi", marks=needs_cffi),
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
    pytest.param("newmath", STEP / "variant_a", "newmath_cffi_api", STEP / "ffi",
                 marks=needs_cffi),
    pytest.param("newmath_cffi_api", STEP / "ffi", "newmath", STEP / "variant_a",
                 marks=needs_cffi),
    ("newmath", STEP / "variant_a", "newmath_ctypes", STEP / "ffi"),
    ("newmath_ctypes", STEP / "ffi", "newmath", STEP / "variant_a"),
    pytest.param("newmath_cffi_abi", STEP / "ffi", "newmath", STEP / "variant_a",
                 marks=needs_cffi),
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


@pytest.mark.parametrize("loaders", [
    "newmath_ctypes",
    pytest.param("newmath_ctypes, newmath_cffi_api, newmath_cffi_abi", marks=needs_cffi),
])
def test_cgo_sum_same_core_twice_is_allowed(loaders):
    """ctypes and cffi on the very library the glue already loaded: one runtime."""
    proc = run_python(f"""
        import newmath, {loaders}
        from go_runtimes import go_runtimes
        print([newmath.sum(1, 2)] + [m.sum(3, 4) for m in ({loaders},)])
        print(go_runtimes())
    """, STEP, STEP / "ffi")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [str([3] + [7] * len(loaders.split(","))),
                                        str([str(CORE)])]


def test_cgo_sum_bench_smoke_run():
    """make bench's script: every engine measured (or skipped, saying why),
    every run kept, the target computed from this run's figures."""
    proc = subprocess.run([sys.executable, "bench.py", "--quick", "--json"], cwd=STEP,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    calls = result["call_ns"]
    assert list(calls) == ["python", "c-varargs", "c-fastcall", "bare-go", "go-glue",
                           "go-variant-a", "cffi-api", "cffi-abi", "ctypes", "cffi-api-raw",
                           "cffi-abi-raw", "ctypes-raw"]
    for engine, r in [*calls.items(), *result["batch_ms"].items()]:
        if "skipped" in r:
            assert engine.startswith("cffi"), engine
            assert needs_cffi.args[0], engine  # only where CFFI cannot run
            assert r["skipped"] == "CFFI supports free-threaded CPython only from 3.14 " \
                                   "(cffi 2.0)"
            continue
        assert len(r["runs"]) == result["repeat"], engine
        assert min(r["runs"]) > 0, engine
        assert (r["min"], r["median"]) == (min(r["runs"]), statistics.median(r["runs"]))
        assert isinstance(r["per_run"], int), engine  # calls per run, calibrated
        assert r["per_run"] >= 1, engine
        assert r["faults"] >= 0, engine
        # every kept run lasted at least --min-time of CPU time (shorter ones are redone)
        assert len(r["seconds"]) == result["repeat"], engine
        assert min(r["seconds"]) >= result["min_time"], engine
    # sum_list split into its parts: on a tuple (no snapshot), Go's additions alone
    assert list(result["batch_ms"]) == ["builtin", "c-pairs", "go-pairs", "go-list",
                                        "go-tuple", "go-array"]
    ratio = calls["go-glue"]["min"] / calls["c-varargs"]["min"]
    assert (result["target_ratio"], result["target_met"]) == (ratio, ratio <= 1)

    table = subprocess.run([sys.executable, "bench.py", "--quick"], cwd=STEP,
                           capture_output=True, text=True, timeout=300)
    assert table.returncode == 0, table.stderr
    for label in ("pure Python def", "C METH_VARARGS (01, talk's)", "C METH_FASTCALL (01)",
                  "C loop -> Go, no Python", "Go via fast C glue (02, b)", "cffi API mode",
                  "ctypes", "Go sum_list, one call per list", "target: Go via the fast glue",
                  "where sum_list(list)'s time goes"):
        assert label in table.stdout


# ---- the panic boundary, beyond the root test (test_go_panics.py) ----------

PANIC_TREE = STEP / "build" / "epgpanic" / STEP.name


@pytest.fixture(scope="module")
def panic_tree():
    """This step built once more with gopanic's hook live (-tags epgpanic):
    a real export panics on demand, EPG_GO_PANIC=<Go function>."""
    subprocess.run(["make", "--no-print-directory", "-C", str(STEP), "panic-build",
                    f"PYTHON={sys.executable}"], check=True, capture_output=True)
    return PANIC_TREE


def run_panics(folder: Path, imports: str, call: str, function: str, normal: object,
               threads: int, calls: int) -> dict:
    """In a child: `call` panicking in Go `calls` times in each of `threads`
    threads at once; what it raised, and how much the C heap grew."""
    proc = run_python(f"""
import json, os, sys, threading
from c_heap import heap  # malloc'ed bytes in use: a report never freed shows
sys.path.insert(0, {str(folder)!r})
{imports}
def call():
    return {call}
assert call() == {normal!r}
os.environ["EPG_GO_PANIC"] = {function!r}
messages, notes, others = set(), set(), []
def panic_once():
    try:
        call()
    except RuntimeError as exc:
        messages.add(str(exc))
        for note in getattr(exc, "__notes__", []):
            notes.add(note.split("\\n", 1)[0] + (" gopanic.Hook" if "gopanic.Hook" in note
                                                  else ""))
    except BaseException as exc:
        others.append(repr(exc))
    else:
        others.append("no exception")
def work(n):
    for _ in range(n):
        panic_once()
def in_threads(n):
    workers = [threading.Thread(target=work, args=(n,)) for _ in range({threads})]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
# The first round allocates what stays (malloc arenas for the threads, Go's
# Ms, caches of cffi and ctypes): the next ones must not grow the heap. The
# least growth of three rounds: a leak shows in each, a one-off allocation
# elsewhere in the process (once, 64 KB under cgocheck2) in one.
in_threads({calls})
growths = []
for _ in range(3):
    before = heap()
    in_threads({calls})
    growths.append(heap() - before)
growth = min(growths)
del os.environ["EPG_GO_PANIC"]
print(json.dumps({{"messages": sorted(messages), "notes": sorted(notes), "others": others,
                  "growth": growth, "after": call() == {normal!r}}}))
""")
    assert proc.returncode == 0, proc.stderr  # a double free aborts the process
    return json.loads(proc.stdout)


def check_panics(result: dict, where: str, function: str, calls: int) -> None:
    assert result["messages"] == [f"Go panic in {where}: EPG_GO_PANIC={function}"]
    assert result["others"] == []
    if sys.version_info >= (3, 11):
        # one goroutine's stack, ending in the hook that panicked
        assert len(result["notes"]) >= 1
        assert all(re.fullmatch(r"goroutine \d+ \[running[^\]]*\]: gopanic\.Hook", n)
                   for n in result["notes"]), result["notes"]
    assert_heap_kept(result["growth"], calls)
    assert result["after"] is True  # the next call works


def assert_heap_kept(growth: int, calls: int) -> None:
    # Each report holds two malloc'ed strings (>= 32 bytes of heap together):
    # reports never freed would leave calls x 32 bytes behind, at least.
    assert growth < calls * 32 // 2, f"the C heap grew by {growth} bytes in {calls} panics"


@pytest.mark.parametrize(("folder", "imports"), [
    (".", "import newmath as m"),
    ("ffi", "import newmath_ctypes as m"),
    pytest.param("ffi", "import newmath_cffi_abi as m", marks=needs_cffi),
    pytest.param("ffi", "import newmath_cffi_api as m", marks=needs_cffi),
])
def test_cgo_sum_every_loader_raises_the_same_panic_and_frees_it_once(panic_tree, folder,
                                                                      imports):
    """The C glue and the Python loaders (ctypes, cffi, which release the GIL
    during the call) turn a Go panic into the same RuntimeError, from 4
    threads at once, and free each report's strings exactly once (a second
    free aborts the process; none leaves the heap growing)."""
    threads, calls = 4, 1000
    result = run_panics(panic_tree / folder, imports, "m.sum(1, 2)", "Sum", 3, threads, calls)
    check_panics(result, "sum()", "Sum", threads * calls)


def test_cgo_sum_list_panics_in_many_threads_at_once(panic_tree):
    """sum_list releases the GIL around its Go call: 8 threads panic inside
    Go at the same time; each gets its RuntimeError, the process lives on."""
    threads, calls = 8, 500
    result = run_panics(panic_tree, "import newmath as m", "m.sum_list(list(range(2_000)))",
                        "SumArray", 2_000 * 1_999 // 2, threads, calls)
    check_panics(result, "sum_list()", "SumArray", threads * calls)


def test_cgo_sum_panic_tests_can_fail(panic_tree):
    """The check above sees a leak: the same run, with each report's strings
    left unfreed by the caller (ctypes, calling the core's Sum itself)."""
    result = run_panics(panic_tree / "ffi", """
import ctypes
from newmath_ctypes import GoPanic, lib
def leaky_sum(a, b):
    r, report = ctypes.c_longlong(), GoPanic()
    lib.Sum(a, b, ctypes.byref(r), ctypes.byref(report))
    if report.value:  # raised, never freed
        raise RuntimeError("Go panic in sum(): " + ctypes.string_at(report.value).decode())
    return r.value
""", "leaky_sum(1, 2)", "Sum", 3, 4, 1000)
    assert result["messages"] == ["Go panic in sum(): EPG_GO_PANIC=Sum"]
    with pytest.raises(AssertionError, match="the C heap grew by"):
        assert_heap_kept(result["growth"], 4 * 1000)


# ---- the guard, seen from this step ----------------------------------------

@needs_cffi
def test_cgo_sum_importing_the_cffi_module_alone_starts_no_go_runtime():
    """_newmath_cffi is plain C (build_cffi.py): importing it loads no Go, so
    another Go core may still come first, and then newmath_cffi_api, which
    loads the Go core through the guard, is the one refused."""
    proc = run_python(f"""
        import sys
        from go_runtimes import go_runtimes
        import _newmath_cffi
        ffi, lib = _newmath_cffi.ffi, _newmath_cffi.lib
        print(go_runtimes(), lib.sum(1, 2, ffi.new("long long *"), ffi.new("epg_go_panic *")))
        sys.path.insert(0, {str(STEP / "variant_a")!r})
        import newmath  # variant (a): a different Go core, free to load
        print(newmath.sum(5, 4), go_runtimes() == [{str(GO_LIBRARY[STEP / "variant_a"])!r}])
        try:
            import newmath_cffi_api
        except ImportError as exc:
            print(exc)
        print(lib.sum(1, 2, ffi.new("long long *"), ffi.new("epg_go_panic *")))
    """, STEP / "ffi")
    assert proc.returncode == 0, proc.stderr
    nothing, variant_a, refusal, still_unbound = proc.stdout.splitlines()
    assert nothing == "[] -2"  # no runtime; sum() before load_core() calls no Go
    assert variant_a == "9 True"
    match = REFUSAL.match(refusal)
    assert match, refusal
    assert (match["new"], match["owner"], match["path"]) == (
        "newmath_cffi_api", "newmath", str(GO_LIBRARY[STEP / "variant_a"]))
    assert still_unbound == "-2"  # the refused load bound nothing


# ---- free-threaded CPython -------------------------------------------------

@pytest.mark.skipif(not FREE_THREADED, reason="not a free-threaded build of CPython")
@pytest.mark.parametrize(("module", "path"), [
    ("newmath", STEP),
    ("newmath", STEP / "variant_a"),
    ("newmath_ctypes", STEP / "ffi"),
    pytest.param("newmath_cffi_api", STEP / "ffi", marks=needs_cffi),
    pytest.param("newmath_cffi_abi", STEP / "ffi", marks=needs_cffi),
])
def test_cgo_sum_leaves_the_gil_off(module, path):
    """Each module declares Py_MOD_GIL_NOT_USED (the loaders: ctypes, cffi,
    the guard library): importing and calling it keeps the GIL off."""
    proc = run_python(f"""
        import sys, warnings
        warnings.simplefilter("error")  # "The global interpreter lock (GIL) has been enabled"
        import {module} as m
        print(m.sum(5, 4), sys._is_gil_enabled())
    """, path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["9", "False"]
