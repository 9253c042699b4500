"""One Go runtime per process, across steps.

Every Go-backed module of this repository must refuse to become the second Go
runtime of a process (golang/go#65050), and must do so BEFORE its Go core is
loaded. Each case runs in a fresh interpreter: this process (the root pytest)
never loads a Go core itself.
"""

import itertools
import json
import os
import re
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest
from go_refusal import REFUSAL

ROOT = Path(__file__).resolve().parent

# step folder -> the Go-backed module it builds and the Go core that module loads
# (step 06's package `piuma` loads its Go core lazily, in `piuma._piuma`)
GO_MODULES = {
    "02_cgo_sum": ("newmath", "libnewmath_core.so"),
    "03_cgo_strings": ("hello", "libhello_core.so"),
    "04_variadic_macros": ("macro", "libmacro_core.so"),
    "05_goroutines_gil": ("countdown", "libcountdown_core.so"),
    "06_piuma_case": ("piuma._piuma", "piuma/libpiuma_core.so"),
}
PRESENT = [step for step in GO_MODULES if (ROOT / step / "Makefile").is_file()]
# CFFI supports free-threaded CPython only from 3.14 (cffi 2.0): step 02
# builds no cffi module there.
NO_CFFI = bool(sysconfig.get_config_var("Py_GIL_DISABLED")) and sys.version_info < (3, 14)



@pytest.fixture(scope="module")
def built():
    for step in PRESENT:
        subprocess.run(["make", "--no-print-directory", "-C", str(ROOT / step),
                        f"PYTHON={sys.executable}"], check=True, capture_output=True)
    # each module loads the core that sits beside it in the step folder
    return {step: ROOT / step / GO_MODULES[step][1] for step in PRESENT}


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(("first", "second"), list(itertools.permutations(PRESENT, 2)))
def test_second_go_runtime_is_refused_across_steps(built, first, second):
    first_module, _ = GO_MODULES[first]
    second_module, _ = GO_MODULES[second]
    proc = run_python(f"""
        import importlib, sys
        sys.path.insert(0, {str(ROOT / first)!r})
        importlib.import_module({first_module!r})
        sys.path[0] = {str(ROOT / second)!r}
        try:
            importlib.import_module({second_module!r})
        except ImportError as exc:
            print(exc)
        maps = open("/proc/self/maps").read()
        print("first core mapped:", {str(built[first])!r} in maps)
        print("second core mapped:", {str(built[second])!r} in maps)
    """)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    match = REFUSAL.match(lines[0])
    assert match, proc.stdout
    assert match["new"] == second_module
    assert match["owner"] == first_module
    assert match["path"] == str(built[first])
    # refused before dlopen: the second runtime never started
    assert lines[1:] == ["first core mapped: True", "second core mapped: False"]


@pytest.mark.skipif("cgocheck2" not in os.environ.get("GOEXPERIMENT", ""),
                    reason="only under `make test-cgocheck2`")
def test_go_cores_are_built_with_cgocheck2(built):
    for step, core in built.items():
        info = subprocess.run(["go", "version", "-m", str(core)], capture_output=True,
                              text=True, check=True).stdout
        assert re.search(r"GOEXPERIMENT=\S*cgocheck2", info), (step, info)


# ---- the ways around the rule that were open, each closed -------------------

# every Go-backed module of the repository: (step folder, module)
ALL_MODULES = [(step, GO_MODULES[step][0]) for step in PRESENT]
if "02_cgo_sum" in PRESENT:
    ALL_MODULES += [("02_cgo_sum/variant_a", "newmath"), ("02_cgo_sum/ffi", "newmath_ctypes")]
    if not NO_CFFI:
        ALL_MODULES += [("02_cgo_sum/ffi", "newmath_cffi_abi"),
                        ("02_cgo_sum/ffi", "newmath_cffi_api")]


def run_child(code: str) -> subprocess.CompletedProcess:
    """Like run_python, with common/ importable (go_runtimes, go_refusal)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT / "common"))
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT / "common",
                          capture_output=True, text=True, timeout=120, env=env)


# A Go runtime that a third-party library starts (loaded by ctypes or any
# other way, however it was built) is refused by every module: test_go_guard.py.


@pytest.mark.skipif(sys.version_info < (3, 11), reason="no _xxsubinterpreters API to drive")
@pytest.mark.parametrize(("folder", "module"), ALL_MODULES)
def test_no_go_module_in_a_subinterpreter(built, folder, module):
    """The owner record used to live in `sys`, one per interpreter: a second
    Go module imported in a subinterpreter started a second runtime. Now no
    Go-backed module loads in a subinterpreter at all (Python 3.12+ refuses
    from the module's Py_mod_multiple_interpreters slot, 3.10/3.11 from its
    exec slot); the main interpreter can still import it afterwards."""
    path = str(ROOT / folder)
    package = module.rpartition(".")[0]
    inside = textwrap.dedent(f"""
        import sys, types
        sys.path.insert(0, {path!r})
        if {package!r}:  # the glue alone: piuma/__init__ imports Pillow, which
            pkg = types.ModuleType({package!r})  # may refuse subinterpreters first
            pkg.__path__ = [{path!r} + "/" + {package!r}]
            sys.modules[{package!r}] = pkg
        try:
            import {module}
        except ImportError as exc:
            print("ImportError:", exc)
        else:
            print("imported")
    """)
    proc = run_child(f"""
        import sys
        try:
            import _interpreters as interpreters      # 3.13
        except ImportError:
            import _xxsubinterpreters as interpreters  # 3.11, 3.12
        from go_runtimes import go_runtimes
        sub = interpreters.create()
        interpreters.run_string(sub, {inside!r})
        interpreters.destroy(sub)
        print(go_runtimes())
        sys.path.insert(0, {path!r})
        import {module} as m
        print(m.__name__, len(go_runtimes()))
    """)
    assert proc.returncode == 0, proc.stderr
    refusal, runtimes, main = proc.stdout.splitlines()
    # 3.12+ subinterpreters are isolated: ctypes (3.12) and cffi refuse them
    # before the loader's own check runs; either way nothing loads.
    first = ["_ctypes", "_cffi_backend", "_newmath_cffi"] if "ffi" in folder else []
    assert refusal in (
        *(f"ImportError: module {m} does not support loading in subinterpreters"
          for m in (module, *first)),
        f"ImportError: cannot import {module} in a subinterpreter: its Go runtime and its "
        f"state are per process, shared by every interpreter; import {module} in the main "
        "interpreter")
    assert runtimes == "[]"  # refused before its Go core was loaded
    assert main == f"{module} 1"


RACES = [(a, b) for a, b in [
    (("02_cgo_sum", "newmath"), ("03_cgo_strings", "hello")),
    (("02_cgo_sum/ffi", "newmath_ctypes"), ("05_goroutines_gil", "countdown")),
    (("04_variadic_macros", "macro"), ("06_piuma_case", "piuma._piuma")),
] if a[0].split("/")[0] in PRESENT and b[0].split("/")[0] in PRESENT]


@pytest.mark.parametrize(("first", "second"), RACES, ids=[f"{a[1]}-{b[1]}" for a, b in RACES])
def test_two_threads_two_go_modules_exactly_one_wins(built, first, second):
    """Check-then-load is atomic for the whole process (go_guard.h's lock):
    two threads importing two Go modules at the same moment never load two
    runtimes. (On a GIL build the GIL already serialises the C glue, but not
    ctypes, which releases it; a free-threaded build has no GIL at all.)"""
    code = f"""
        import importlib, json, sys, threading
        from go_refusal import REFUSAL
        from go_runtimes import go_runtimes
        for folder in ({first[0]!r}, {second[0]!r}):
            sys.path.insert(0, {str(ROOT)!r} + "/" + folder)
        outcomes = {{}}
        start = threading.Barrier(2)
        def load(name):
            start.wait()
            try:
                importlib.import_module(name)
                outcomes[name] = "ok"
            except ImportError as exc:
                match = REFUSAL.match(str(exc))
                outcomes[name] = match["owner"] if match else str(exc)
        threads = [threading.Thread(target=load, args=(n,)) for n in
                   ({first[1]!r}, {second[1]!r})]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(json.dumps([outcomes, len(go_runtimes())]))
    """
    for _ in range(4):  # a race: several fresh processes
        proc = run_child(code)
        assert proc.returncode == 0, proc.stderr
        outcomes, runtimes = json.loads(proc.stdout)
        assert runtimes == 1
        winners = [name for name, outcome in outcomes.items() if outcome == "ok"]
        assert len(winners) == 1, outcomes
        (loser,) = set(outcomes) - set(winners)
        assert outcomes[loser] == winners[0], outcomes  # refused, naming the winner


@pytest.mark.skipif("02_cgo_sum" not in PRESENT, reason="step 02 not present")
@pytest.mark.skipif(NO_CFFI, reason="CFFI supports free-threaded CPython only from 3.14 "
                    "(cffi 2.0)")
def test_importing_the_cffi_module_directly_starts_no_runtime(built):
    """02's cffi API module used to link the Go runtime in: `import
    _newmath_cffi` started it, past every check. Now it is plain C and loads
    the Go core only through the guard."""
    proc = run_child(f"""
        import sys
        from go_runtimes import go_runtimes
        sys.path[:0] = [{str(ROOT / "03_cgo_strings")!r}, {str(ROOT / "02_cgo_sum/ffi")!r}]
        import hello
        import _newmath_cffi
        ffi, lib = _newmath_cffi.ffi, _newmath_cffi.lib
        print(lib.sum(1, 2, ffi.new("long long *"), ffi.new("epg_go_panic *")))
        print(go_runtimes() == [{str(ROOT / "03_cgo_strings/libhello_core.so")!r}])
        try:
            import newmath_cffi_api
        except ImportError as exc:
            print(exc)
    """)
    assert proc.returncode == 0, proc.stderr
    not_loaded, only_hello, refusal = proc.stdout.splitlines()
    assert not_loaded == "-2"  # sum() before load_core(): no Go called
    assert only_hello == "True"
    match = REFUSAL.match(refusal)
    assert match, refusal
    assert (match["new"], match["owner"]) == ("newmath_cffi_api", "hello")


def test_nothing_in_python_switches_the_rule_off(built):
    """The rule used to be a record in `sys` (`del sys._go_runtime_owner`
    turned it off). Now nothing in Python holds it: forgetting the first
    module changes nothing."""
    first, second = PRESENT[0], PRESENT[1]
    proc = run_child(f"""
        import importlib, sys
        sys.path.insert(0, {str(ROOT / first)!r})
        importlib.import_module({GO_MODULES[first][0]!r})
        print(hasattr(sys, "_go_runtime_owner"))
        for name in list(sys.modules):
            if name.split(".")[0] == {GO_MODULES[first][0].split(".")[0]!r}:
                del sys.modules[name]
        sys.path[0] = {str(ROOT / second)!r}
        try:
            importlib.import_module({GO_MODULES[second][0]!r})
        except ImportError as exc:
            print(exc)
    """)
    assert proc.returncode == 0, proc.stderr
    record, refusal = proc.stdout.splitlines()
    assert record == "False"
    match = REFUSAL.match(refusal)
    assert match, refusal
    assert match["owner"] == GO_MODULES[first][0]


# ---- fork(): a Go runtime does not survive it --------------------------------

# a call into Go for each module (the piuma glue's run([]) calls Go too)
A_GO_CALL = {"newmath": "m.sum(1, 2)", "newmath_ctypes": "m.sum(1, 2)",
             "newmath_cffi_abi": "m.sum(1, 2)", "newmath_cffi_api": "m.sum(1, 2)",
             "hello": "m.say_hello('x')", "macro": "m.list_sum([1, 2])",
             "countdown": "m.countdown(10**6, 2)", "piuma._piuma": "m.run([])"}
FORKED = ("RuntimeError: this process was fork()ed from one that runs a Go runtime, which does "
          "not survive fork() (golang/go#15538): start child processes with 'spawn' "
          "(multiprocessing.get_context('spawn'), subprocess)")


def glue_only(folder: str, module: str) -> str:
    """Code that imports module from folder (piuma's glue without Pillow)."""
    path, package = str(ROOT / folder), module.rpartition(".")[0]
    return textwrap.dedent(f"""
        import importlib, sys, types
        sys.path.insert(0, {path!r})
        if {package!r}:
            pkg = types.ModuleType({package!r})
            pkg.__path__ = [{path!r} + "/" + {package!r}]
            sys.modules[{package!r}] = pkg
        m = importlib.import_module({module!r})
    """)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork()")
@pytest.mark.parametrize(("folder", "module"), ALL_MODULES)
def test_a_forked_child_gets_runtime_error_not_a_hang(built, folder, module):
    """A child fork()ed after the Go runtime started has lost its threads;
    05's countdown hung there, and 02-04 called into it by luck. Every call
    now raises in the child (go_core.h's atfork mark, not the pid: PID 1 of
    a new namespace has its parent's), and the parent's calls go on."""
    call = A_GO_CALL[module]
    proc = run_child(glue_only(folder, module) + textwrap.dedent(f"""
        import os, signal, warnings
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork with threads
        {call}
        pid = os.fork()
        if pid == 0:
            signal.alarm(20)  # (a hang: killed, and the test fails)
            try:
                {call}
                os.write(1, b"no error\\n")
            except RuntimeError as exc:
                os.write(1, f"RuntimeError: {{exc}}\\n".encode())
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        {call}
        print("parent ok, child", os.waitstatus_to_exitcode(status))
    """))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [FORKED, "parent ok, child 0"], proc.stdout


# a call whose arguments the glue converts before it calls Go, F() forking
# in the conversion (02(a) and 04 give Go the objects: a fork there is in Go)
FORK_IN_ARGUMENT = {"newmath": "m.sum(F(), 2)", "newmath_ctypes": "m.sum(F(), 2)",
                    "newmath_cffi_abi": "m.sum(F(), 2)", "newmath_cffi_api": "m.sum(F(), 2)",
                    "countdown": "m.countdown(F(), 2)",
                    "piuma._piuma": "m.run([(F(), '/n/a.jpg', '/n/.t', 1, 9, 9, 1, 9, 9, 1)])"}


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork()")
@pytest.mark.parametrize(("folder", "module"), [(f, m) for f, m in ALL_MODULES
                                                if m in FORK_IN_ARGUMENT and "variant" not in f])
def test_a_fork_while_the_arguments_are_converted_is_refused(built, folder, module):
    """The fork check ran before the arguments' conversion: a child forked
    by an __index__ (or __fspath__) went on into Go and hung. It runs last."""
    proc = run_child(glue_only(folder, module) + textwrap.dedent(f"""
        import os, signal, warnings
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork with threads
        {A_GO_CALL[module]}  # the runtime started
        pid = None
        class F:
            def __index__(self):
                global pid
                pid = os.fork()
                if pid == 0:
                    signal.alarm(20)  # (a hang: killed, and the test fails)
                return 1
            def __fspath__(self):
                return "/n/s.jpg" if self.__index__() else ""
        try:
            {FORK_IN_ARGUMENT[module]}
            outcome = "no error"
        except RuntimeError as exc:
            outcome = f"RuntimeError: {{exc}}"
        if pid == 0:
            os.write(1, (outcome + "\\n").encode())
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        print("parent:", outcome, os.waitstatus_to_exitcode(status))
    """))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [FORKED, "parent: no error 0"], proc.stdout


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork()")
@pytest.mark.skipif("02_cgo_sum" not in PRESENT, reason="step 02 not present")
def test_a_fork_during_another_threads_import_leaves_the_guard_unlocked(built):
    """A thread inside the guard (an import, a reload) holds its process-wide
    lock; a fork at that moment gave the child the lock held by a thread it
    does not have, and its next import of any Go module waited forever. The
    guard's atfork handler gives the child an unlocked one."""
    proc = run_child(textwrap.dedent(f"""
        import importlib.util, os, signal, threading, time, warnings
        warnings.simplefilter("ignore", DeprecationWarning)
        path = {str(ROOT / "02_cgo_sum" / ("newmath" + sysconfig.get_config_var("EXT_SUFFIX")))!r}
        def load():
            s = importlib.util.spec_from_file_location("newmath", path)
            s.loader.exec_module(importlib.util.module_from_spec(s))
        load()
        stop = False
        def reload_forever():
            while not stop:
                load()
        threading.Thread(target=reload_forever, daemon=True).start()
        hung = 0
        for _ in range(20):
            time.sleep(0.01)
            pid = os.fork()
            if pid == 0:
                signal.alarm(5)
                load()  # reaches the guard's lock: a module exec takes it
                os._exit(0)
            _, status = os.waitpid(pid, 0)
            hung += os.WIFSIGNALED(status)
        stop = True
        print(hung)
    """))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["0"]


def in_a_forked_child(before: str, child: str, fork: str = "os.fork()") -> list[str]:
    """A process that runs before, forks (fork: how) and runs child in the
    child: what it printed, a RuntimeError's words included (a hang is killed
    after 20 s), then the child's exit status."""
    proc = run_child(textwrap.dedent("""
        import ctypes, os, signal, sys, warnings
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork with threads
    """) + textwrap.dedent(before) + textwrap.dedent(f"""
        pid = {fork}
        if pid == 0:
            signal.alarm(20)  # (a hang: killed, and the test fails)
            try:
                exec({textwrap.dedent(child)!r})
                os.write(1, b"no error\\n")
            except RuntimeError as exc:
                os.write(1, f"RuntimeError: {{exc}}\\n".encode())
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        print("child", os.waitstatus_to_exitcode(status))
    """))
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork()")
@pytest.mark.parametrize(("folder", "module"), ALL_MODULES)
def test_a_core_loaded_past_the_guard_still_marks_a_forked_child(built, folder, module):
    """A core loaded by a bare ctypes.CDLL starts Go where no guard sees it,
    so no fork mark: the child's import took the copied core for a running
    one, and its first call hung (review R8). The child's guard now sees a
    mapped runtime in a process of one thread: a fork()ed copy."""
    step, _, variant = folder.partition("/")  # (02's ffi loaders load 02's core)
    core = str(ROOT / (folder if variant == "variant_a" else step) / GO_MODULES[step][1])
    lines = in_a_forked_child(f"ctypes.CDLL({core!r})  # Go starts, past every guard\n",
                              glue_only(folder, module) + A_GO_CALL[module] + "\n")
    assert lines == [FORKED, "child 0"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork()")
@pytest.mark.skipif("02_cgo_sum" not in PRESENT, reason="step 02 not present")
@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="setgroups: root")
def test_the_forked_copy_is_seen_whatever_the_process_status_holds(built):
    """The thread count came from /proc/self/status, after its Groups line:
    400 groups of 10 digits pushed it past the 4 KiB read, and the child hung
    again (review R10). It comes from /proc/self/stat now."""
    core = str(ROOT / "02_cgo_sum" / GO_MODULES["02_cgo_sum"][1])
    before = f"""
        os.setgroups(range(4_000_000_000, 4_000_000_400))
        assert len(open("/proc/self/status").read()) > 4096
        ctypes.CDLL({core!r})
    """
    lines = in_a_forked_child(before, glue_only("02_cgo_sum", "newmath") + "m.sum(1, 2)\n")
    assert lines == [FORKED, "child 0"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork()")
@pytest.mark.skipif("02_cgo_sum" not in PRESENT, reason="step 02 not present")
@pytest.mark.parametrize("loader", ["newmath_ctypes", "newmath_cffi_abi", "newmath_cffi_api"])
def test_the_fork_mark_is_the_processs_whatever_loads_the_core(built, loader):
    """Step 02's loaders share one core. The mark was each loader's own: a
    child that first used another loader than its parent got no error, and
    often hung; and the Python loaders only saw os.fork(), not a fork made
    in C. One process-wide mark (go_guard.h), set by the guard's atfork
    handler, is read by every loader."""
    if NO_CFFI and "cffi" in loader:
        pytest.skip("no cffi on this build")
    before = f"""
        sys.path[:0] = [{str(ROOT / "02_cgo_sum")!r}, {str(ROOT / "02_cgo_sum/ffi")!r}]
        import newmath
        newmath.sum(1, 2)
    """
    # a fork made in C: no os.register_at_fork hook
    lines = in_a_forked_child(before, f"import {loader} as m\nm.sum(1, 2)\n",
                              fork="ctypes.CDLL(None).fork()")
    assert lines == [FORKED, "child 0"]
