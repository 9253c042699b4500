"""The fork pitfall, shown safely: each child gets a timeout and is killed.

    python fork_demo.py [--tries 3] [--timeout 3] [--n 100000000]

This process imports countdown, so its Go runtime is running (with threads of
its own). Then it starts children that call countdown() again:
  - with the "fork" start method, the child is a copy of this process made by
    fork(): it has ONE thread, but the copied Go runtime still believes its
    other threads exist, and may wait for them forever;
  - with "spawn", the child is a fresh interpreter that imports countdown and
    starts a Go runtime of its own: it always works.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time

import countdown


def threads() -> int:
    """OS threads of this process (Linux: one entry per thread in /proc)."""
    try:
        return len(os.listdir("/proc/self/task"))
    except FileNotFoundError:  # not Linux
        return -1


def where(pid: int) -> str:
    """What a hung child is doing (Linux): its threads and where it sleeps."""
    try:
        threads = len(os.listdir(f"/proc/{pid}/task"))
        with open(f"/proc/{pid}/wchan") as f:
            wchan = f.read().strip()
    except OSError:
        return ""
    return f" ({threads} thread(s), sleeping in the kernel's {wchan or '?'})"


def job(n: int) -> None:
    print(f"    child {os.getpid()}: {threads()} OS thread(s) before calling Go",
          flush=True)
    if countdown.countdown(n, 2) != n:
        sys.exit(3)


def attempt(method: str, n: int, timeout: float) -> str:
    ctx = multiprocessing.get_context(method)
    child = ctx.Process(target=job, args=(n,))
    t0 = time.perf_counter()
    child.start()
    child.join(timeout)
    elapsed = time.perf_counter() - t0
    if child.is_alive():
        state = where(child.pid)
        child.kill()
        child.join()
        return f"HUNG: still running after {timeout:g} s{state}, killed"
    if child.exitcode == 0:
        return f"finished in {elapsed:.2f} s"
    return f"FAILED: exit code {child.exitcode}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tries", type=int, default=3, help="fork attempts")
    ap.add_argument("--timeout", type=float, default=3.0, help="seconds per child")
    ap.add_argument("--n", type=int, default=100_000_000)
    args = ap.parse_args(argv)

    countdown.countdown(1_000_000, 2)  # the Go runtime is running in this process
    print(f"parent {os.getpid()}: {threads()} OS threads "
          "(Python's main thread + the Go runtime's)")
    outcomes = []
    for i in range(args.tries):
        print(f"fork #{i + 1}:", flush=True)
        outcome = attempt("fork", args.n, args.timeout)
        outcomes.append(outcome.startswith("HUNG"))
        print(f"  fork #{i + 1}: {outcome}", flush=True)
    print("spawn:", flush=True)
    print(f"  spawn: {attempt('spawn', args.n, 60)}", flush=True)
    print(f"fork: {sum(outcomes)} of {len(outcomes)} children hung")
    return 0


if __name__ == "__main__":
    sys.exit(main())
