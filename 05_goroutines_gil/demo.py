"""Step 05 in a few seconds: goroutines from Python, with the GIL released."""

import threading
import time

import countdown

print(f"countdown(10, 3) = {countdown.countdown(10, 3)}   "
      f"(shares 4 + 3 + 3, one goroutine each)")
print(f"Go sees NumCPU={countdown.num_cpu()}, GOMAXPROCS={countdown.gomaxprocs()}")

N = 500_000_000  # ten times the talk's 50,000,000: long enough to time (>= 0.1 s)
countdown.countdown(1000)  # warm up
for workers in sorted({1, 2, countdown.num_cpu()}):
    t0 = time.perf_counter()
    countdown.countdown(N, workers)
    print(f"countdown({N:,}, workers={workers}): {time.perf_counter() - t0:.4f} s")

# A Python thread counts while one Go call runs, GIL released vs held.
state = {"stop": False, "count": 0}


def spin():
    while not state["stop"]:
        state["count"] += 1


for release in (True, False):
    state.update(stop=False, count=0)
    spinner = threading.Thread(target=spin)
    spinner.start()
    time.sleep(0.01)
    before = state["count"]
    countdown.countdown(N // 2, 1, release_gil=release)
    during = state["count"] - before
    state["stop"] = True
    spinner.join()
    print(f"release_gil={release!s:<5}: a Python thread counted to {during:>11,} "
          "during the Go call")
print("(with the GIL held, the thread only counts until the call takes the GIL:"
      " at most one switch interval, sys.getswitchinterval() = 5 ms)")
