"""`make demo`: goroutines from Python, the GIL released, in a few seconds.

1. countdown's result, and a bad input's exception;
2. the talk's race, two Python threads against two goroutines, timed on the
   wall clock and in CPU time: CPU seconds per wall second are the cores the
   count used, which shows why threads that share a GIL cannot go faster,
   whatever else the machine is doing;
3. a Python thread counting while the main thread is inside countdown():
   with the GIL released it runs during the call, held it cannot.

Durations vary from run to run (the README's copy masks them); every other
word printed is computed from what the run did.
"""

import os
import signal
import sys
import threading
import time

import countdown

print(f"countdown(10, workers=3) = {countdown.countdown(10, 3)}   "
      "(shares 4 + 3 + 3, one goroutine each)")
try:
    countdown.countdown(-1)
except ValueError as exc:
    print(f"countdown(-1) -> ValueError: {exc}")


# -- 2. The race: the same loop, two Python threads vs two goroutines. ------
def py_countdown(n: int) -> None:
    while n > 0:
        n -= 1


def python_threads(n: int) -> None:
    threads = [threading.Thread(target=py_countdown, args=(n // 2,)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def race(label: str, n: int, run) -> float:
    """Time run(n) on the wall clock and in CPU time (every thread of the
    process); print both, their ratio, and the time per decrement."""
    wall, cpu = time.perf_counter(), time.process_time()
    run(n)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"  {label:<28}{n:>14,}{wall:>8.2f} s{cpu:>8.2f} s{cpu / wall:>6.2f} cores"
          f"{wall / n * 1e9:>8.2f} ns")
    return wall / n


PY_N, GO_N = 10_000_000, 2_000_000_000  # Go counts 200x more: long enough to time
countdown.countdown(1000)  # warm up
print("\nthe talk's race: count down in 2 Python threads, then in 2 goroutines\n"
      f"  {'':<28}{'decrements':>14}{'wall':>10}{'CPU':>10}{'CPU / wall':>12}"
      f"{'a decrement':>12}")
py = race("2 Python threads", PY_N, python_threads)
go = race("2 goroutines (GIL released)", GO_N, lambda n: countdown.countdown(n, 2))
print(f"  a decrement took {py / go:.0f}x longer in a Python thread (compiled vs interpreted). "
      "CPU / wall\n  is the cores a count used: Python threads that share a GIL take turns "
      "and never pass 1;\n  goroutines use the cores the machine gives them (one each at most; "
      "fewer while it is busy).")


# -- 3. A Python thread during a Go call. ------------------------------------
# The helper counts to WORK and then stops the call (SIGALRM, whose handler
# runs inside it); a timer stops it otherwise. The switch interval of 1000 s
# keeps any thread from being made to hand the GIL over: with the GIL held,
# the handler's own Python code would otherwise give the helper a turn
# inside the call. The same probe as test_gil_is_released_during_the_go_call.
WORK = 100_000


class Stop(Exception):
    pass


def python_thread_during(release_gil: bool, timer: float) -> tuple[int, str, float]:
    state = {"calling": False, "during": 0, "stopped_it": False}

    def stop(signum, frame):  # runs in the main thread, inside the Go call
        raise Stop(state["during"])

    gate = threading.Lock()
    gate.acquire()

    def helper() -> None:
        with gate:  # opened just before the call: from then on it wants the GIL
            pass
        for _ in range(WORK):
            state["during"] += state["calling"]
        if state["calling"]:
            state["stopped_it"] = True
            os.kill(os.getpid(), signal.SIGALRM)

    signal.signal(signal.SIGALRM, stop)
    thread = threading.Thread(target=helper)
    thread.start()
    signal.setitimer(signal.ITIMER_REAL, timer)
    state["calling"] = True
    t0 = time.perf_counter()
    gate.release()  # does not release the GIL: the helper now waits for it
    try:
        countdown.countdown(1 << 62, 1, release_gil=release_gil)
        during = -1  # (2**62 decrements: decades; never)
    except Stop as exc:
        during = exc.args[0]
    seconds = time.perf_counter() - t0
    state["calling"] = False
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    thread.join()
    return during, "it" if state["stopped_it"] else "a timer", seconds


interval = sys.getswitchinterval()
sys.setswitchinterval(1000)
print(f"\na Python thread counts to {WORK:,} while the main thread is inside countdown(2**62)\n"
      "(a count that only a signal ends):")
for label, release, timer in (("GIL released (the default)", True, 30.0),
                              ("GIL held (release_gil=False)", False, 0.5)):
    during, who, seconds = python_thread_during(release, timer)
    print(f"  {label + ':':<31}it counted {during:>7,} during the call; {who} stopped "
          f"the call: {seconds:.2f} s")
sys.setswitchinterval(interval)
