"""Step 05 in a few seconds: goroutines from Python, with the GIL released.

Prints durations (they vary) and facts that do not: results, errors, and
whether a Python thread ran during the Go call or only after it.
"""

import threading
import time

import countdown

print(f"countdown(10, workers=3) = {countdown.countdown(10, 3)}   "
      "(shares 4 + 3 + 3, one goroutine each)")
try:
    countdown.countdown(-1)
except ValueError as exc:
    print(f"countdown(-1) -> ValueError: {exc}")

N = 500_000_000  # ten times the talk's 50,000,000: long enough to time (>= 0.1 s)
countdown.countdown(1000)  # warm up
for workers in (1, 2):
    t0 = time.perf_counter()
    countdown.countdown(N, workers)
    print(f"countdown({N:,}, workers={workers}): {time.perf_counter() - t0:.2f} s")

# A Python thread counts to JOB while the main thread sleeps, or calls Go.
JOB = 1_000_000
GO_N = 10**9  # per goroutine: the Go call lasts many times the thread's job


def waiting_for_cpu() -> float | None:
    """Seconds this thread has been runnable but not running (Linux only).
    Waiting for the GIL does not count: the thread sleeps."""
    try:
        with open("/proc/thread-self/schedstat") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


def python_thread_during(what: str, call) -> None:
    go = threading.Event()
    times = {}

    def job() -> None:
        cpu, waited = time.thread_time(), waiting_for_cpu()
        go.wait()  # wakes at once, but runs only once it has the GIL
        i = 0
        while i < JOB:
            i += 1
        times["done"], times["cpu"] = time.perf_counter(), time.thread_time() - cpu
        times["waited"] = None if waited is None else waiting_for_cpu() - waited

    thread = threading.Thread(target=job)
    thread.start()
    t0 = time.perf_counter()
    go.set()
    call()
    call_end = time.perf_counter()
    thread.join()
    if call is not sleep:
        what += f": {call_end - t0:.2f} s"
    done = times["done"] - t0
    if times["waited"] is None:  # not Linux
        waited = asleep = "-"
    else:
        waited = f"{times['waited']:.2f} s"
        asleep = f"{max(0.0, done - times['cpu'] - times['waited']):.2f} s"
    when = ("" if call is sleep else
            "  during the call" if times["done"] < call_end else "  after the call")
    print(f"  {what:<44}{done:>7.2f} s{times['cpu']:>8.2f} s{waited:>12}{asleep:>9}{when}")


def sleep() -> None:
    time.sleep(0.2)


print(f"\na Python thread counts to {JOB:,}; meanwhile the main thread runs:")
print(f"  {'':<44}{'done in':>9}{'on a CPU':>10}{'waiting':>12}{'asleep':>9}")
python_thread_during("time.sleep(0.2)", sleep)
python_thread_during("countdown(10**9, workers=1)", lambda: countdown.countdown(GO_N, 1))
python_thread_during("countdown(2 * 10**9, workers=2)", lambda: countdown.countdown(2 * GO_N, 2))
python_thread_during("countdown(10**9, release_gil=False)",
                     lambda: countdown.countdown(GO_N, 1, release_gil=False))
print("  (waiting: runnable, for a CPU; asleep: for the GIL)")
