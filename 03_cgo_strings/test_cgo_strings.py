"""Step 03: hello.say_hello, strings across the C/Go boundary.

This interpreter loads the correct version (`hello` in the step folder).
Versions 1 and 2 carry their own Go runtime, so they only ever run in child
processes (one Go runtime per process, golang/go#65050).
"""

from __future__ import annotations

import contextlib
import inspect
import json
import os
import re
import signal
import subprocess
import sys
import sysconfig
import threading
import time
import tracemalloc
from pathlib import Path

import hello
import pytest
from go_refusal import REFUSAL

STEP = Path(__file__).resolve().parent
COMMON = STEP.parent / "common"
MiB = 1024 * 1024
# This interpreter's build of a module (a checkout may hold several).
MODULE_FILE = "hello" + sysconfig.get_config_var("EXT_SUFFIX")
FREE_THREADED = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
# The GIL tests need one: on a free-threaded build every thread runs anyway.
needs_gil = pytest.mark.skipif(FREE_THREADED,
                               reason="free-threaded build: there is no GIL to hold or release")

# Any str, NUL included, must come back exactly.
ROUND_TRIP = [
    "Gophers",  # the talk's example
    "",
    "Zoë, François, Ångström, naïve café",  # accents (precomposed)
    "e\u0301 n\u0303",  # combining accents: kept as they are, not normalized
    "世界, こんにちは, 안녕하세요",  # CJK
    "🐍❤️🐹 👩‍💻 🇮🇹",  # emoji: 4-byte UTF-8, ZWJ sequence, flag
    "\U0010ffff\u0080\u07ff\u0800\uffff",  # UTF-8 length boundaries
    "a\x00b",  # embedded NUL
    "\x00",
    "tab\tnew\nline",
]

BAD_TYPES = [b"Gophers", bytearray(b"Gophers"), 42, None, 1.5, ["Gophers"]]


@pytest.mark.parametrize("name", ROUND_TRIP)
def test_cgo_strings_round_trip(name):
    result = hello.say_hello(name)
    assert type(result) is str
    assert result == "Hello " + name
    assert len(result) == 6 + len(name)


def test_cgo_strings_the_talks_example():
    assert hello.say_hello("Gophers") == "Hello Gophers"


@pytest.mark.parametrize("char", ["x", "é", "世", "🐹"])
def test_cgo_strings_one_megabyte(char):
    # 1 MB of UTF-8 (1, 2, 3 or 4 bytes a character): takes the path that
    # releases the GIL around the Go call.
    name = char * (1_000_000 // len(char.encode()))
    result = hello.say_hello(name)
    assert result == "Hello " + name
    assert len(result.encode()) == 6 + len(name.encode())


def test_cgo_strings_str_subclass_gives_plain_str():
    class Name(str):
        pass

    result = hello.say_hello(Name("Gophers"))
    assert type(result) is str
    assert result == "Hello Gophers"


@pytest.mark.parametrize("value", BAD_TYPES, ids=lambda v: type(v).__name__)
def test_cgo_strings_refuses_non_str(value):
    with pytest.raises(TypeError) as info:
        hello.say_hello(value)
    assert str(info.value) == f"say_hello() argument must be str, not {type(value).__name__}"


@pytest.mark.parametrize(
    ("name", "position"),
    [("\ud800", 0), ("ab\udfff", 2), ("🐹\udc80🐹", 1), ("\udfff\ud800", 0)],
)
def test_cgo_strings_lone_surrogate(name, position):
    with pytest.raises(UnicodeEncodeError, match="surrogates not allowed") as info:
        hello.say_hello(name)
    assert info.value.encoding == "utf-8"
    assert info.value.start == position


def test_cgo_strings_arguments():
    assert str(inspect.signature(hello.say_hello)) == "(name, /)"
    assert "UnicodeEncodeError" in hello.say_hello.__doc__
    with pytest.raises(TypeError, match=r"takes exactly one argument \(0 given\)"):
        hello.say_hello()
    with pytest.raises(TypeError, match=r"takes exactly one argument \(2 given\)"):
        hello.say_hello("a", "b")
    with pytest.raises(TypeError, match="takes no keyword arguments"):
        hello.say_hello(name="Gophers")


def test_cgo_strings_refcounts_do_not_drift():
    name = "Gophers " + "🐹" * 10  # a new object, not interned
    bad = b"Gophers"
    surrogate = "x\ud800"
    before = [sys.getrefcount(obj) for obj in (name, bad, surrogate)]
    for _ in range(10_000):
        hello.say_hello(name)
        with contextlib.suppress(TypeError):
            hello.say_hello(bad)
        with contextlib.suppress(UnicodeEncodeError):
            hello.say_hello(surrogate)
    assert [sys.getrefcount(obj) for obj in (name, bad, surrogate)] == before
    # A fresh result: owned by `result` and getrefcount's argument only.
    result = hello.say_hello(name)
    assert sys.getrefcount(result) == 2


def test_cgo_strings_no_python_memory_leak():
    name = "Zoë 世界 🐹" * 20
    for _ in range(1000):
        hello.say_hello(name)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for _ in range(100_000):
        hello.say_hello(name)
        with contextlib.suppress(TypeError):
            hello.say_hello(None)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert after - before < 64 * 1024


def test_cgo_strings_threads_share_the_go_core():
    # Several threads greet at once (long names: the Go calls run without
    # the GIL, see the tests below); every result must be right.
    names = [chr(0x4E00 + i) * 400_000 for i in range(4)]
    errors: list[str] = []

    def work(name: str) -> None:
        for _ in range(5):
            if hello.say_hello(name) != "Hello " + name:
                errors.append(name[0])

    threads = [threading.Thread(target=work, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_cgo_strings_nogil_threshold_is_exposed():
    assert hello.NOGIL_MIN_BYTES == 64 * 1024
    assert type(hello.NOGIL_MIN_BYTES) is int


@contextlib.contextmanager
def spinning_thread():
    """A thread that counts while it holds the GIL; yields its counter.

    The switch interval is set to 1000 s, so a thread waiting for the GIL
    gets it only when the holder releases it (a blocking call,
    Py_BEGIN_ALLOW_THREADS), not because the interval ran out. The spinner
    itself gives the GIL back after every increment (time.sleep releases
    it), so the main thread gets it again without waiting 1000 s; the sleep
    leaves it time to wake up and take it.
    """
    count = [0]
    stop = threading.Event()

    def spin() -> None:
        while not stop.is_set():
            count[0] += 1
            time.sleep(0.0002)

    interval = sys.getswitchinterval()
    thread = threading.Thread(target=spin, daemon=True)
    sys.setswitchinterval(1000)
    try:
        thread.start()
        while count[0] == 0:  # the spinner runs: sleep releases the GIL
            time.sleep(0.001)
        yield count
    finally:
        stop.set()
        thread.join(timeout=120)  # join releases the GIL: the spinner exits
        sys.setswitchinterval(interval)
    assert not thread.is_alive()


@needs_gil
@pytest.mark.parametrize("extra", [0, 3 * MiB], ids=["threshold", "threshold+3MiB"])
def test_cgo_strings_long_names_release_the_gil(extra):
    # With a 1000 s switch interval, the spinner counts during our loop only
    # if say_hello releases the GIL. Each call gives it a chance; loop until
    # it took one (at most `calls` calls, so that a kept GIL fails, not hangs).
    name = "x" * (hello.NOGIL_MIN_BYTES + extra)
    calls = 100_000 if extra == 0 else 1_000
    with spinning_thread() as count:
        before, done = count[0], 0
        while count[0] == before and done < calls:
            hello.say_hello(name)
            done += 1
        after = count[0]
    assert after > before, f"no other thread ran during {done} calls: GIL kept"


@needs_gil
@pytest.mark.parametrize("size", [0, 7, 1024, hello.NOGIL_MIN_BYTES - 1])
def test_cgo_strings_short_names_keep_the_gil(size):
    # Below the threshold the glue keeps the GIL: with a 1000 s switch
    # interval the spinner cannot run during our loop, so its count is frozen.
    # (This also shows the test above is meaningful: the spinner runs only
    # when say_hello lets it.)
    assert size < hello.NOGIL_MIN_BYTES
    name = "é" * (size // 2) + "x" * (size % 2)  # `size` bytes of UTF-8
    assert len(name.encode()) == size
    with spinning_thread() as count:
        before = count[0]
        for _ in range(2_000):
            hello.say_hello(name)
        after = count[0]
    assert after == before


# --------------------------------------------------------------------------
# Child processes: memory measurements and the two wrong versions.
# --------------------------------------------------------------------------
def run_child(args: list[str], cwd: Path = STEP) -> subprocess.CompletedProcess:
    # Without GODEBUG: a cgocheck=0 in the caller's environment would hide
    # version 1's error (and the memory corruption it prevents).
    env = {k: v for k, v in os.environ.items() if k != "GODEBUG"}
    env["PYTHONPATH"] = str(COMMON)  # go_runtimes, for the children that ask
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def rss_growth(folder: str, calls: int, name_chars: int) -> dict:
    proc = run_child(["rss_probe.py", folder, str(calls), str(name_chars), "10"])
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert Path(data["module"]).parent == (STEP / folder).resolve()
    data["growth"] = data["rss"][-1] - data["rss"][0]
    return data


def test_cgo_strings_a_million_calls_keep_rss_flat():
    data = rss_growth(".", 1_000_000, 16)
    assert data["calls"][-1] == 1_000_000
    assert data["growth"] < 4 * MiB, data


def test_cgo_strings_version2_leaks_every_greeting():
    calls, chars = 200_000, 200
    fixed = rss_growth(".", calls, chars)
    leak = rss_growth("v2_leak", calls, chars)
    assert leak["greeting_bytes"] == fixed["greeting_bytes"] > 200
    # Every call leaks the C.CString: the greeting, its NUL, malloc's header.
    leaked_at_least = calls * (leak["greeting_bytes"] + 1)
    assert leak["growth"] > 0.9 * leaked_at_least, leak
    assert fixed["growth"] < 4 * MiB, fixed
    assert leak["growth"] > 10 * max(fixed["growth"], MiB)


def test_cgo_strings_version2_cuts_at_nul():
    # A NUL-terminated result cannot carry a NUL: the greeting is cut short.
    code = "import hello; print(ascii(hello.say_hello('a\\x00b')))"
    proc = run_child(["-c", code], cwd=STEP / "v2_leak")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "'Hello a'"


def go_experiments(library: Path) -> set[str]:
    """The GOEXPERIMENTs a Go binary was built with (`go version -m`)."""
    info = subprocess.run(["go", "version", "-m", str(library)],
                          capture_output=True, text=True, check=True).stdout
    found = re.search(r"^\s*build\s+GOEXPERIMENT=(\S*)$", info, re.MULTILINE)
    return set(found.group(1).split(",")) if found else set()


def test_cgo_strings_version1_go_string_aborts():
    code = (
        "import hello\n"
        "print('imported', flush=True)\n"
        "hello.say_hello('Gophers')\n"
        "print('returned', flush=True)\n"
    )
    proc = run_child(["-c", code], cwd=STEP / "v1_gostring")
    assert proc.stdout.splitlines() == ["imported"]  # died inside the call
    # A Go runtime in a library aborts the process on a fatal error or an
    # unrecovered panic (GOTRACEBACK=crash is forced when C owns the process).
    assert proc.returncode == -signal.SIGABRT, (proc.returncode, proc.stderr)
    if "cgocheck2" in go_experiments(STEP / "v1_gostring" / "libhello_core.so"):
        # Every store of a Go pointer into C memory is checked: the result
        # is caught as it is written to the caller's memory.
        assert re.search(r"^write of unpinned Go pointer 0x[0-9a-f]+ to non-Go memory "
                         r"0x[0-9a-f]+$", proc.stderr, re.MULTILINE), proc.stderr
        assert "fatal error: unpinned Go pointer stored into non-Go memory" in proc.stderr
        check = "runtime.cgoCheckPtrWrite("
    else:
        # The default check of exported functions' results (Go 1.21 words it
        # "cgo result has Go pointer").
        assert re.search(
            r"^panic: runtime error: (\S*v1_gostring/core/main\.go:\d+: result of Go "
            r"function SayHello called from cgo is unpinned Go string or points to "
            r"unpinned Go string|cgo result has Go pointer)$", proc.stderr, re.MULTILINE), \
            proc.stderr
        check = "runtime.cgoCheckResult("
    # Why SayHello's deferred gopanic.Recover cannot turn it into an exception:
    # the check runs in cgo's wrapper (_cgoexp_<hash>_SayHello) after SayHello
    # returned. The goroutine's stack shows the check called by the wrapper,
    # and SayHello is no longer on it.
    (stack,) = [block for block in proc.stderr.split("\n\n")
                if block.startswith("goroutine ") and "_SayHello(" in block]
    frames = re.findall(r"^(\S+)\(", stack, re.MULTILINE)
    wrapper = next(i for i, f in enumerate(frames) if re.fullmatch(r"_cgoexp_\w+_SayHello", f))
    assert check[:-1] in frames[:wrapper], stack
    assert "main.SayHello" not in frames, stack
    assert not any("gopanic" in f for f in frames), stack


def test_cgo_strings_version1_empty_name_escapes_the_check():
    # The greeting for "" is the constant "Hello ", which lives in the
    # library's read-only data, not in Go's heap: cgocheck checks Go memory
    # only, so this call returns. A run-time check sees what happens to run.
    proc = run_child(["-c", "import hello; print(repr(hello.say_hello('')))"],
                     cwd=STEP / "v1_gostring")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "'Hello '\n"


def test_cgo_strings_versions_never_share_a_process():
    code = (
        "import importlib.util, sys\n"
        "import hello\n"
        "spec = importlib.util.spec_from_file_location('hello', sys.argv[1])\n"
        "try:\n"
        "    spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
        "from go_runtimes import go_runtimes\n"
        "print(go_runtimes())\n"
    )
    v2 = STEP / "v2_leak" / MODULE_FILE
    proc = run_child(["-c", code, str(v2)])
    assert proc.returncode == 0, proc.stderr
    refusal, runtimes = proc.stdout.splitlines()
    match = REFUSAL.match(refusal)
    assert match, refusal
    assert (match["new"], match["owner"]) == ("hello", "hello")
    assert match["path"] == str(STEP / "libhello_core.so")
    assert runtimes == str([str(STEP / "libhello_core.so")])


# --------------------------------------------------------------------------
# Free-threaded CPython (3.13t): every version keeps the GIL off.
# --------------------------------------------------------------------------
@pytest.mark.skipif(not FREE_THREADED, reason="not a free-threaded build of CPython")
@pytest.mark.parametrize("folder", [".", "v1_gostring", "v2_leak"])
def test_cgo_strings_every_version_leaves_the_gil_off(folder):
    # Importing a module that does not declare Py_mod_gil = Py_MOD_GIL_NOT_USED
    # turns the GIL back on for the whole process, with a RuntimeWarning.
    if folder == ".":
        assert hello.__file__ == str(STEP / MODULE_FILE)
        assert sys._is_gil_enabled() is False
    code = ("import sys, warnings\n"
            "warnings.simplefilter('error')\n"
            "import hello\n"
            "print(hello.__file__, sys._is_gil_enabled())\n")
    proc = run_child(["-c", code], cwd=STEP / folder)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [str(STEP / folder / MODULE_FILE), "False"]


# --------------------------------------------------------------------------
# make bench's child, make demo.
# --------------------------------------------------------------------------
def test_cgo_strings_bench_child_keeps_every_run():
    limit = hello.NOGIL_MIN_BYTES
    proc = run_child(["bench.py", "--child", f"7,{limit - 1},{limit}", "--repeat", "2",
                      "--min-time", "0.01"])
    assert proc.returncode == 0, proc.stderr
    records = json.loads(proc.stdout)
    assert set(records) == {"7", str(limit - 1), str(limit)}
    for size, record in records.items():
        assert record["size"] == int(size)
        assert len(record["seconds"]) == len(record["faults"]) == 2
        assert min(record["seconds"]) > 0
        assert min(record["faults"]) >= 0
        # Each kept run lasted at least --min-time (a shorter one is redone).
        runs = zip(record["seconds"], record["numbers"], strict=True)
        assert all(seconds * number >= 0.01 for seconds, number in runs), record
        assert record["gil_released"] is (int(size) >= limit)


def test_cgo_strings_demo_shows_the_three_versions():
    proc = run_child(["demo.py"])
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "  say_hello('Gophers')     -> 'Hello Gophers'" in out
    assert "-> 'Hello a'   cut at the NUL" in out
    assert "RSS grew by one greeting + NUL per call or more: the leak" in out
    assert "RSS flat (grew < 1 MiB)" in out
    assert "the process was killed by SIGABRT" in out
    assert str(STEP) not in out  # no absolute paths: the README quotes it
