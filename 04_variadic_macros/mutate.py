"""list_sum while another thread rewrites the list (tests, notebook).

    python mutate.py [MODULE_DIR] [MUTATIONS]   # JSON: every outcome, counted

A writer thread changes one shared list MUTATIONS times; two reader threads
call list_sum on it until the writer is done. The writer only ever leaves
the list in one of a few known states (or reversed, or with an item replaced
by an equal one), and always with fresh int objects, so that the items it
drops are freed at once. Each call must then return the sum of one state, or
raise the TypeError or OverflowError of one; anything else (a wrong sum,
another exception) is reported in "wrong". On a free-threaded build the
threads really run during the walk: code that read the list's items as
borrowed references would read items being replaced and freed here (this
step did: wrong sums and IndexErrors, in each of three runs of 20,000
mutations).
"""

from __future__ import annotations

import json
import re
import sys
import threading

N = 1000
BASE = 1 << 40  # ints that are not cached: each one is a fresh object


def fresh(state: str) -> list:
    """A new list for `state`, made of new objects."""
    if state == "long":
        return [BASE + i for i in range(N)]
    if state == "short":
        return [2 * BASE + i for i in range(N // 3)]
    if state == "empty":
        return []
    if state == "str":
        return [BASE + i for i in range(N - 1)] + ["".join(["not ", "an int"])]
    if state == "big":
        return [BASE + i for i in range(N - 1)] + [(1 << 70) + N]
    raise ValueError(state)


STATES = ("long", "short", "empty", "str", "big")
SUMS = {sum(fresh(s)): s for s in ("long", "short", "empty")}
# The bad item is last, or first once the list is reversed.
ERRORS = {
    (TypeError, rf"list_sum\(\) item ({N - 1}|0) must be an int, not str"): "str",
    (OverflowError, rf"list_sum\(\) item ({N - 1}|0) does not fit in a signed 64-bit "
                    "integer"): "big",
}


def run(list_sum, mutations: int) -> dict:
    values = fresh("long")
    done = threading.Event()
    counts: dict[str, int] = dict.fromkeys((*STATES, "wrong"), 0)
    wrong: list[str] = []
    lock = threading.Lock()

    def outcome() -> str:
        try:
            total = list_sum(values)
        except (TypeError, OverflowError) as exc:
            for (kind, pattern), state in ERRORS.items():
                if type(exc) is kind and re.fullmatch(pattern, str(exc)):
                    return state
            return f"wrong: {type(exc).__name__}: {exc}"
        except Exception as exc:
            return f"wrong: {type(exc).__name__}: {exc}"
        return SUMS.get(total, f"wrong: sum {total}")

    def reader() -> None:
        while not done.is_set():
            seen = outcome()
            with lock:
                if seen.startswith("wrong"):
                    counts["wrong"] += 1
                    if len(wrong) < 10:
                        wrong.append(seen)
                else:
                    counts[seen] += 1

    def writer() -> None:
        state, flipped = "long", False
        try:
            for m in range(mutations):
                op = m % 4
                if op == 0:  # replace everything (the old items are freed)
                    state, flipped = STATES[(m // 4) % len(STATES)], False
                    values[:] = fresh(state)
                elif op == 1:
                    values.reverse()
                    flipped = not flipped
                elif op == 2 and state == "long":  # an equal, new item
                    i = (m * 7919) % N
                    values[i] = BASE + (N - 1 - i if flipped else i)
                else:
                    values[:] = values[::-1]  # a new array, the same items
                    flipped = not flipped
        finally:
            done.set()

    threads = [threading.Thread(target=reader) for _ in range(2)]
    threads.append(threading.Thread(target=writer))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"calls": sum(counts.values()), "outcomes": counts, "wrong": wrong,
            "gil": getattr(sys, "_is_gil_enabled", lambda: True)()}


if __name__ == "__main__":
    if len(sys.argv) > 1:
        sys.path.insert(0, sys.argv[1])
    import macro

    mutations = int(sys.argv[2]) if len(sys.argv) > 2 else 20_000
    print(json.dumps({"module": macro.__file__, **run(macro.list_sum, mutations)}))
