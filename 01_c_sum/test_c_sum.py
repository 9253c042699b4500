"""Step 01: newmath.sum (METH_VARARGS) and newmath.sum_fast (METH_FASTCALL)
in C, both against the shared sum contract."""

import contextlib
import ctypes
import glob
import inspect
import itertools
import json
import os
import random
import re
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import time
import tracemalloc
import zipfile
from pathlib import Path

import newmath
import pytest
import sum_contract

STEP = Path(__file__).resolve().parent
COMMON = STEP.parent / "common"
FREE_THREADED = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
FUNCTIONS = ["sum", "sum_fast"]
# every pair of these, both ways, crosses each edge of the int64 range
EDGES = [sum_contract.INT64_MIN, sum_contract.INT64_MIN + 1, -(2**62), -2, -1, 0, 1, 2,
         2**62, sum_contract.INT64_MAX - 1, sum_contract.INT64_MAX]


def bad_cases(name: str) -> list[tuple[tuple, type[Exception], str]]:
    """The contract's bad inputs, the messages naming `name` instead of sum."""
    return [(args, exc, pattern.replace(r"sum\(", re.escape(name) + r"\("))
            for args, exc, pattern in sum_contract.BAD]


def outcome(func, args) -> object:
    """What a call gives: its result, or its exception's type and message."""
    try:
        return func(*args)
    except Exception as exc:
        return [type(exc).__name__, str(exc)]


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize(("args", "expected"), sum_contract.GOOD)
def test_c_sum_results(name, args, expected):
    got = getattr(newmath, name)(*args)
    assert got == expected
    assert type(got) is int


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("case", range(len(sum_contract.BAD)))
def test_c_sum_bad_input(name, case):
    args, exc_type, pattern = bad_cases(name)[case]
    with pytest.raises(exc_type, match=pattern):
        getattr(newmath, name)(*args)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_c_sum_result_overflow_names_the_call(name):
    with pytest.raises(OverflowError,
                       match=rf"^{name}\(9223372036854775807, 1\) does not fit in a signed "
                             r"64-bit integer$"):
        getattr(newmath, name)(2**63 - 1, 1)


def test_c_sum_both_conventions_say_the_same_words():
    """sum_fast writes PyArg_ParseTuple's checks by hand: same results, same
    exception types, same messages (but its own name) for every input."""
    cases = [args for args, _ in sum_contract.GOOD] + [args for args, *_ in sum_contract.BAD]
    cases += [(7, True), (2**64, 0), ([], 1), (1, 2.0), ()]
    for args in cases:
        assert json.dumps(outcome(newmath.sum_fast, args)).replace("sum_fast(", "sum(") \
            == json.dumps(outcome(newmath.sum, args)), args


def method_flags(func) -> int:
    """ml_flags of a builtin function's PyMethodDef: PyCFunctionObject starts
    with a PyObject header, then m_ml; a PyMethodDef is {name, meth, flags}."""
    ml = ctypes.c_void_p.from_address(id(func) + object.__basicsize__).value
    return ctypes.c_int.from_address(ml + 2 * ctypes.sizeof(ctypes.c_void_p)).value


def test_c_sum_calling_conventions():
    METH_VARARGS, METH_NOARGS, METH_FASTCALL = 0x1, 0x4, 0x80  # methodobject.h
    assert method_flags(time.time) == METH_NOARGS  # the reader reads real flags
    assert method_flags(newmath.sum) == METH_VARARGS  # a new argument tuple per call
    assert method_flags(newmath.sum_fast) == METH_FASTCALL  # a C array of arguments


@pytest.mark.parametrize("name", FUNCTIONS)
def test_c_sum_refuses_keywords(name):
    with pytest.raises(TypeError, match="takes no keyword arguments"):
        getattr(newmath, name)(a=1, b=2)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_c_sum_overflow_check_at_every_edge(name):
    """The portable overflow test (no compiler builtin) at the edges."""
    func = getattr(newmath, name)
    for a, b in itertools.product(EDGES, repeat=2):
        exact = a + b
        if sum_contract.INT64_MIN <= exact <= sum_contract.INT64_MAX:
            assert func(a, b) == exact, (a, b)
        else:
            with pytest.raises(OverflowError, match="does not fit"):
                func(a, b)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_c_sum_matches_python_on_random_pairs(name):
    func = getattr(newmath, name)
    rng = random.Random(20261124)
    for _ in range(10_000):
        a = rng.randint(sum_contract.INT64_MIN, sum_contract.INT64_MAX)
        b = rng.randint(sum_contract.INT64_MIN, sum_contract.INT64_MAX)
        exact = a + b
        if sum_contract.INT64_MIN <= exact <= sum_contract.INT64_MAX:
            assert func(a, b) == exact
        else:
            with pytest.raises(OverflowError):
                func(a, b)


def test_c_sum_overflow_check_has_no_undefined_behaviour(tmp_path):
    """Built once more with UBSan (signed overflow aborts the process): no
    input at the edges makes either function compute an overflowing sum."""
    if shutil.which("cc") is None:
        pytest.skip("no C compiler")
    flags = subprocess.run(["make", "-s", "--no-print-directory", "-C", str(STEP),
                            "print-EXT_CFLAGS", "print-LIMITED_API", f"PYTHON={sys.executable}"],
                           capture_output=True, text=True, check=True).stdout.split()
    module = tmp_path / Path(newmath.__file__).name
    build = subprocess.run(["cc", *flags, "-fsanitize=undefined", "-fno-sanitize-recover=all",
                            "-shared", "-o", str(module), str(STEP / "newmath.c")],
                           capture_output=True, text=True)
    if build.returncode != 0 and "ubsan" in build.stderr:
        pytest.skip(f"no UBSan runtime: {build.stderr.strip()}")
    assert build.returncode == 0, build.stderr
    code = textwrap.dedent(f"""
        import itertools, newmath
        edges = {EDGES!r}
        ok = 0
        for f in (newmath.sum, newmath.sum_fast):
            for a, b in itertools.product(edges, repeat=2):
                try:
                    ok += f(a, b) == a + b
                except OverflowError:
                    ok += not -2**63 <= a + b < 2**63
        print(newmath.__file__, ok)
    """)
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [str(module), str(2 * len(EDGES) ** 2)]


@pytest.mark.parametrize("name", FUNCTIONS)
def test_c_sum_signature_and_doc(name):
    func = getattr(newmath, name)
    assert str(inspect.signature(func)) == "(a, b, /)"
    assert "OverflowError" in func.__doc__


def other_interpreters() -> list[str]:
    """CPython >= 3.10 interpreters (GIL builds) of other versions on this machine."""
    found = {}
    candidates = [*glob.glob(os.path.expanduser("~/.pyenv/versions/*/bin/python3")),
                  *glob.glob("/usr/bin/python3.[0-9]*"),
                  *glob.glob("/usr/local/bin/python3.[0-9]*")]
    probe = ("import sys, sysconfig; "
             "print(*sys.version_info[:2], sysconfig.get_config_var('Py_GIL_DISABLED') or 0)")
    for exe in candidates:
        out = subprocess.run([exe, "-c", probe], capture_output=True, text=True)
        if out.returncode == 0:
            major, minor, gil_disabled = map(int, out.stdout.split())
            version = (major, minor)
            if version >= (3, 10) and version != sys.version_info[:2] and not gil_disabled:
                found.setdefault(version, exe)
    return [found[v] for v in sorted(found)]


@pytest.mark.skipif(FREE_THREADED, reason="a free-threaded build has no limited API "
                    "(until abi3t, PEP 803, Python 3.15): the module is version-specific")
def test_c_sum_is_built_against_the_limited_api():
    assert Path(newmath.__file__).name == "newmath.abi3.so"
    interpreters = other_interpreters()
    if not interpreters:
        pytest.skip("no other CPython >= 3.10 here to load the abi3 module with")
    # The stable ABI's promise: this one build imports and works on them all.
    for exe in interpreters:
        out = subprocess.run([exe, "-c", "import sys, newmath; print(sys.version_info[:2], "
                              "newmath.sum(5, 4), newmath.sum_fast(5, 4), newmath.__file__)"],
                             cwd=STEP, capture_output=True, text=True)
        assert out.returncode == 0, (exe, out.stderr)
        assert out.stdout.split(") ")[1].split() == ["9", "9", str(STEP / "newmath.abi3.so")], exe


@pytest.mark.skipif(not FREE_THREADED, reason="not a free-threaded build of CPython")
def test_c_sum_free_threaded_build_is_version_specific_and_keeps_the_gil_off():
    assert Path(newmath.__file__).name == "newmath" + sysconfig.get_config_var("EXT_SUFFIX")
    code = textwrap.dedent("""
        import sys, threading, warnings
        warnings.simplefilter("error")  # "The global interpreter lock (GIL) has been enabled"
        import newmath
        print(sys._is_gil_enabled())
        wrong = []
        def work(k):
            for i in range(20_000):
                if newmath.sum(k, i) != k + i or newmath.sum_fast(i, k) != k + i:
                    wrong.append((k, i))
        threads = [threading.Thread(target=work, args=(k << 40,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(len(wrong), sys._is_gil_enabled())
    """)
    env = {k: v for k, v in os.environ.items() if k != "PYTHON_GIL"}
    proc = subprocess.run([sys.executable, "-c", code], cwd=STEP, capture_output=True,
                          text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "0", "False"]


# Import newmath in a subinterpreter, in a child of `exe`, with what that
# version offers: "shared" = the main GIL, with the multi-phase check that
# refuses single-phase modules (3.12+); "own" = a per-interpreter GIL (3.12+);
# "legacy" = 3.10/3.11's subinterpreters (shared GIL, no check).
SUBINTERPRETERS = """
import json, sys
code = "import sys; sys.path.insert(0, %r); import newmath; assert newmath.sum_fast(5, 4) == 9"
code %= sys.argv[1]
out = {}
if sys.version_info >= (3, 13):
    import _interpreters
    for kind, preset in (("shared", "legacy"), ("own", "isolated")):
        config = _interpreters.new_config(preset)
        config.check_multi_interp_extensions = True
        interp = _interpreters.create(config)
        exc = _interpreters.exec(interp, code)
        out[kind] = "ok" if exc is None else f"{exc.type.__name__}: {exc.msg}"
        _interpreters.destroy(interp)
elif sys.version_info >= (3, 12):
    import os, _testcapi
    for kind, gil in (("shared", 1), ("own", 2)):  # PyInterpreterConfig_{SHARED,OWN}_GIL
        r, w = os.pipe()  # the subinterpreter writes its outcome here
        sub = (f"import os\\ntry:\\n    {code}\\n    m = 'ok'\\n"
               f"except Exception as e:\\n    m = f'{{type(e).__name__}}: {{e}}'\\n"
               f"os.write({w}, m.encode())")
        _testcapi.run_in_subinterp_with_config(
            sub, use_main_obmalloc=gil == 1, allow_fork=True, allow_exec=True,
            allow_threads=True, allow_daemon_threads=True,
            check_multi_interp_extensions=True, gil=gil)
        os.close(w)
        out[kind] = os.read(r, 1000).decode()
else:
    import _xxsubinterpreters as interpreters
    interp = interpreters.create()
    try:
        interpreters.run_string(interp, code)
        out["legacy"] = "ok"
    except Exception as exc:
        out["legacy"] = f"{type(exc).__name__}: {exc}"
print(json.dumps(out))
"""


def run_in_subinterpreters(exe: str) -> dict[str, str]:
    proc = subprocess.run([exe, "-c", SUBINTERPRETERS, str(STEP)], cwd=COMMON,
                          capture_output=True, text=True, timeout=120)
    if proc.returncode != 0 and "No module named '_testcapi'" in proc.stderr:
        pytest.skip(f"{exe} has no _testcapi to configure a subinterpreter with")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_c_sum_imports_in_subinterpreters():
    """Multi-phase init (PEP 489): newmath has no state, so it may be loaded
    in subinterpreters. 3.12+ refuses a single-phase module there ("shared":
    the old newmath failed this). An abi3 build targets 3.10, which cannot
    declare Py_mod_multiple_interpreters, so it keeps the default, shared
    GIL only ("own" refused); the version-specific free-threaded build
    declares a per-interpreter GIL."""
    refused = "ImportError: module newmath does not support loading in subinterpreters"
    checked = []
    for exe in [sys.executable, *([] if FREE_THREADED else other_interpreters())]:
        out = run_in_subinterpreters(exe)
        if "legacy" in out:
            assert out == {"legacy": "ok"}, exe
        elif exe == sys.executable and FREE_THREADED:
            assert out == {"shared": "ok", "own": "ok"}, exe
        else:
            assert out == {"shared": "ok", "own": refused}, exe
        checked.append(out)
    assert checked


@pytest.mark.parametrize("name", FUNCTIONS)
def test_c_sum_does_not_leak(name):
    # Results outside the small-int cache are new objects: a missing
    # Py_DECREF anywhere would keep them alive and show up here.
    func = getattr(newmath, name)
    big = 1 << 40
    for _ in range(1000):
        func(big, 1)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for i in range(30_000):  # one leaked int per call would be ~1 MB
        func(big, i)
        with contextlib.suppress(TypeError):
            func(1.5, i)
        with contextlib.suppress(OverflowError):
            func(2**63 - 1, i + 1)
        with contextlib.suppress(TypeError):
            func(i)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert after - before < 64 * 1024


def test_c_sum_setuptools_build_works(tmp_path):
    """setup.py + pyproject.toml build the same module as the Makefile: abi3,
    or version-specific on a free-threaded interpreter."""
    # `make setuptools` (the README's command) in a copy of the whole step:
    # an in-tree build would share build/ with other runs, and a copy of
    # three files hid that setuptools refused the folder as it is.
    src = tmp_path / "repo" / STEP.name
    shutil.copytree(STEP, src, ignore=shutil.ignore_patterns(
        "build", "*.so", "__pycache__", ".pytest_cache", "*.egg-info"))
    (tmp_path / "repo" / "common").symlink_to(STEP.parent / "common")
    made = subprocess.run(["make", "--no-print-directory", "-C", str(src), "setuptools",
                           f"PYTHON={sys.executable}"], capture_output=True, text=True)
    assert made.returncode == 0, made.stdout[-2000:] + made.stderr[-2000:]
    wheel_dir = src / "build" / "wheel"
    if FREE_THREADED:
        tag = sys.implementation.cache_tag.replace("cpython-", "cp")  # cp313
        (wheel,) = wheel_dir.glob(f"newmath-1.0-{tag}-{tag}t-*.whl")
        filename = "newmath" + sysconfig.get_config_var("EXT_SUFFIX")
    else:
        (wheel,) = wheel_dir.glob("newmath-1.0-cp310-abi3-*.whl")
        filename = "newmath.abi3.so"
    with zipfile.ZipFile(wheel) as zf:
        assert filename in zf.namelist()
        zf.extractall(tmp_path / "site")
    # A fresh interpreter: this one already imported the Makefile's newmath.
    cases = [args for args, _ in sum_contract.GOOD] + [args for args, *_ in sum_contract.BAD]
    code = textwrap.dedent(f"""
        import json, sys, newmath
        assert newmath.__file__ == {str(tmp_path / 'site' / filename)!r}, newmath.__file__
        def outcome(func, args):
            try:
                return func(*args)
            except Exception as exc:
                return [type(exc).__name__, str(exc)]
        print(json.dumps([[outcome(f, args) for args in {cases!r}]
                          for f in (newmath.sum, newmath.sum_fast)]))
        print(getattr(sys, "_is_gil_enabled", lambda: True)())
    """)
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True,
        cwd=tmp_path, env=dict(os.environ, PYTHONPATH=str(tmp_path / "site")),
    )
    outcomes, gil = out.stdout.splitlines()
    # Exactly what the Makefile's module does (checked against the contract above).
    assert json.loads(outcomes) == [[outcome(f, args) for args in cases]
                                    for f in (newmath.sum, newmath.sum_fast)]
    assert gil == str(not FREE_THREADED)


def test_c_sum_bench_smoke_run():
    """make bench's script runs, keeps every repeat of every engine."""
    proc = subprocess.run([sys.executable, str(STEP / "bench.py"), "--quick", "--json"],
                          cwd=COMMON, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert set(result["ns"]) == {"python", "c-varargs", "c-fastcall"}
    assert all(len(times) == result["repeat"] and min(times) > 0
               for times in result["ns"].values())
    # each engine's runs make enough calls to last --min-time (calibrated per engine)
    assert set(result["number"]) == set(result["ns"])
    assert all(isinstance(n, int) and n >= 1 for n in result["number"].values())
    # every kept run lasted at least --min-time of CPU time (shorter ones are redone)
    assert all(len(runs) == result["repeat"] and min(runs) >= result["min_time"]
               for runs in result["seconds"].values())
    table = subprocess.run([sys.executable, str(STEP / "bench.py"), "--quick"],
                           capture_output=True, text=True, timeout=300, check=True).stdout
    for label in ("pure Python def", "C METH_VARARGS", "C METH_FASTCALL", "format string"):
        assert label in table
