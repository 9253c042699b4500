"""The fork pitfall, shown safely: every child has a timeout and is killed if hung.

    python fork_demo.py [--tries 3] [--timeout 3] [--n 100000000]

This script imports countdown at its top, as an application would, so its Go
runtime runs here (with threads of its own). Then it starts children that
call countdown() again, by each of multiprocessing's start methods:

  fork        a copy of this process made by fork(): ONE thread, but a copied
              Go runtime that still believes its other threads exist. Its next
              Go call may wait for them forever: countdown() raises
              RuntimeError there instead (common/go_core.h marks every forked
              child), and the same call made straight into the core (ctypes,
              past the glue) shows what that saves you from.
  forkserver  children forked from a server process, which is clean unless
              something imports a Go module into it: a preload list that names
              one, or this very script. The default preload is ['__main__'],
              and from CPython 3.13.8 and 3.14.1 the server imports the main
              script, running its top-level `import countdown` (before, a bug,
              gh-126631, kept it from importing __main__ at all). Each setup
              runs in a fresh application process (one server per process);
              the server's memory map says whether it runs Go.
  spawn       a fresh interpreter that imports countdown and starts a Go
              runtime of its own: always works.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

STEP = Path(__file__).resolve().parent
sys.path.insert(0, str(STEP.parent / "common"))
# At the top, as in an application: the Go runtime starts here, and in every
# process that imports this script (a forkserver that preloads __main__).
import countdown  # noqa: E402
from go_runtimes import go_runtimes  # noqa: E402

# forkserver setups: the preload list they set (None: multiprocessing's default)
FORKSERVER_SETUPS = {
    "preload-countdown": ["countdown"],  # preloaded to start children faster
    "default": None,  # ['__main__']: this script, with its top-level import
    "preload-nothing": [],  # the fix: the server imports nothing
}


def threads() -> int:
    """OS threads of this process (Linux: one entry per thread in /proc)."""
    try:
        return len(os.listdir("/proc/self/task"))
    except FileNotFoundError:  # not Linux
        return -1


def go_runtimes_of(pid: int) -> list[str]:
    """The Go runtimes mapped in process pid (Linux; a child of ours)."""
    return go_runtimes(pid)


def where(pid: int) -> str:
    """What a hung child is doing (Linux): its threads and where it sleeps."""
    try:
        threads = len(os.listdir(f"/proc/{pid}/task"))
        with open(f"/proc/{pid}/wchan") as f:
            wchan = f.read().strip()
    except OSError:
        return ""
    return f" ({threads} thread(s), sleeping in the kernel's {wchan or '?'})"


REFUSED = 4  # a child's exit code: countdown() raised RuntimeError (the fork check)


def call_go(n: int) -> None:
    """countdown() in a child: exit REFUSED if the glue refuses a forked child."""
    try:
        if countdown.countdown(n, 2) != n:
            sys.exit(3)
    except RuntimeError as exc:
        print(f"    child {os.getpid()}: RuntimeError: {str(exc)[:60]}...", flush=True)
        sys.exit(REFUSED)


def call_core(n: int) -> None:
    """The same count straight into the Go core's export, past the glue and its
    check (ctypes finds the copy already loaded: no new runtime)."""
    core = ctypes.CDLL(str(STEP / "libcountdown_core.so"))
    core.Countdown.argtypes = [ctypes.c_longlong, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]
    core.Countdown.restype = ctypes.c_longlong
    report = (ctypes.c_void_p * 2)()  # epg_go_panic: value, stack
    if core.Countdown(n, 2, None, report) != n:
        sys.exit(3)


def job(n: int, straight: bool = False) -> None:
    print(f"    child {os.getpid()}: {threads()} OS thread(s) before calling Go",
          flush=True)
    (call_core if straight else call_go)(n)


def wait(child: multiprocessing.process.BaseProcess, timeout: float, t0: float) -> str:
    """Join a child; kill it if it is still running after timeout seconds."""
    child.join(timeout)
    elapsed = time.perf_counter() - t0
    if child.is_alive():
        state = where(child.pid)
        child.kill()
        child.join()
        return f"HUNG: still running after {timeout:g} s{state}, killed"
    if child.exitcode == 0:
        return f"finished in {elapsed:.2f} s"
    if child.exitcode == REFUSED:
        return "refused: countdown() raised RuntimeError (a forked child)"
    return f"FAILED: exit code {child.exitcode}"


def attempt(method: str, n: int, timeout: float, straight: bool = False) -> str:
    ctx = multiprocessing.get_context(method)
    child = ctx.Process(target=job, args=(n, straight))
    t0 = time.perf_counter()
    child.start()
    return wait(child, timeout, t0)


# --------------------------------------------------------------------------
# forkserver: one application process per setup
# --------------------------------------------------------------------------
def forkserver_job(conn, n: int) -> None:
    """In a child of the forkserver: report the server's Go runtimes (its
    parent's memory map), then call Go, which may hang if the server ran Go."""
    server = os.getppid()
    conn.send((server, go_runtimes_of(server)))
    conn.close()
    call_go(n)


def forkserver_app(setup: str, n: int, timeout: float) -> dict:
    """This process is the application: start a forkserver child, as set up."""
    ctx = multiprocessing.get_context("forkserver")
    preload = FORKSERVER_SETUPS[setup]
    if preload is not None:
        ctx.set_forkserver_preload(preload)  # before the server starts
    reader, writer = ctx.Pipe(duplex=False)
    child = ctx.Process(target=forkserver_job, args=(writer, n))
    t0 = time.perf_counter()
    child.start()
    writer.close()
    server, mapped = reader.recv() if reader.poll(timeout) else (None, None)
    return {"setup": setup, "server": server, "go_runtimes": mapped,
            "child": wait(child, timeout, t0)}


def run_forkserver_setup(setup: str, n: int, timeout: float) -> dict:
    """forkserver_app in a fresh process (its own session: whatever it leaves
    behind, a hung grandchild or the server, is killed with it)."""
    # The server must find countdown wherever this runs from: older Pythons do
    # not pass the application's sys.path to it (gh-117378), only the environment.
    path = os.pathsep.join([str(STEP), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    proc = subprocess.Popen([sys.executable, __file__, "--forkserver-app", setup,
                             "--n", str(n), "--timeout", str(timeout)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, env=dict(os.environ, PYTHONPATH=path))
    try:
        out, err = proc.communicate(timeout=3 * timeout + 60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        return {"setup": setup, "error": "the application process hung, killed"}
    finally:
        with contextlib.suppress(ProcessLookupError):  # nothing left: the usual case
            os.killpg(proc.pid, signal.SIGKILL)
    if proc.returncode != 0:
        return {"setup": setup, "error": f"exit code {proc.returncode}: {err.strip()}"}
    return json.loads(out.splitlines()[-1])  # (after what its child printed)


def describe(result: dict) -> str:
    setup = result["setup"]
    preload = FORKSERVER_SETUPS[setup]
    name = ("default preload ['__main__']" if preload is None
            else f"set_forkserver_preload({preload!r})")
    if "error" in result:
        return f"  {name}: {result['error']}"
    if result["server"] is None:
        return f"  {name}: no report from the child; child: {result['child']}"
    runs = (f"runs Go ({', '.join(Path(p).name for p in result['go_runtimes'])})"
            if result["go_runtimes"] else "runs no Go")
    line = f"  {name}: server {result['server']} {runs}; its child: {result['child']}"
    if preload is None and not result["go_runtimes"]:
        line += ("\n      (this Python's forkserver did not import this script: before "
                 "CPython 3.13.8 and 3.14.1 it never does, gh-126631; from those "
                 "versions it does, and runs its top-level `import countdown`)")
    return line


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tries", type=int, default=3, help="fork attempts")
    ap.add_argument("--timeout", type=float, default=3.0, help="seconds per child")
    ap.add_argument("--n", type=int, default=100_000_000)
    ap.add_argument("--forkserver", choices=["all", *FORKSERVER_SETUPS, "none"],
                    default="all", help="forkserver setups to show")
    ap.add_argument("--json", action="store_true",
                    help="print the forkserver results as JSON too (tests)")
    ap.add_argument("--forkserver-app", choices=FORKSERVER_SETUPS,
                    help=argparse.SUPPRESS)  # child mode
    args = ap.parse_args(argv)

    if args.forkserver_app:
        print(json.dumps(forkserver_app(args.forkserver_app, args.n, args.timeout)))
        return 0

    countdown.countdown(1_000_000, 2)  # the Go runtime is running in this process
    print(f"parent {os.getpid()}: {threads()} OS threads "
          "(Python's main thread + the Go runtime's)")
    outcomes = []
    for i in range(args.tries):
        print(f"fork #{i + 1}:", flush=True)
        print(f"  fork #{i + 1}, countdown(): {attempt('fork', args.n, args.timeout)}",
              flush=True)
        outcome = attempt("fork", args.n, args.timeout, straight=True)
        outcomes.append(outcome.startswith("HUNG"))
        print(f"  fork #{i + 1}, straight into the core: {outcome}", flush=True)
    if args.tries:
        print(f"fork, straight into the core: {sum(outcomes)} of {len(outcomes)} children hung")

    setups = (list(FORKSERVER_SETUPS) if args.forkserver == "all"
              else [] if args.forkserver == "none" else [args.forkserver])
    if setups:
        print("forkserver (one application process per setup, the server's "
              "/proc/<pid>/maps):", flush=True)
    results = []
    for setup in setups:
        results.append(run_forkserver_setup(setup, args.n, args.timeout))
        print(describe(results[-1]), flush=True)
    if args.json and results:
        print("json:", json.dumps(results))

    print("spawn:", flush=True)
    print(f"  spawn: {attempt('spawn', args.n, 60)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
