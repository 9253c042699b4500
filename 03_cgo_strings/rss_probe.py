"""Measure the resident memory of many say_hello calls, in THIS process.

Run it as a child process, one per version (each version has its own Go
runtime, and a process may hold only one, golang/go#65050):

    python rss_probe.py DIR CALLS NAME_CHARS SAMPLES

DIR is the folder holding the `hello` module to measure ("." for the correct
version, "v2_leak" for the leaking one); the name has NAME_CHARS characters
of mixed ASCII, accents, CJK and emoji. Prints one JSON object: "calls" and
"rss" (bytes) after each batch of CALLS / SAMPLES calls, the first sample
taken after a warm-up batch; "greeting_bytes", the UTF-8 size of a result.
"""

from __future__ import annotations

import json
import os
import sys


def rss_bytes() -> int:
    """Current resident set size, from /proc/self/statm (Linux)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except FileNotFoundError:  # macOS: peak RSS, enough to see growth
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main() -> None:
    folder, calls, name_chars, samples = sys.argv[1], *map(int, sys.argv[2:5])
    sys.path.insert(0, os.path.abspath(folder))
    import hello

    say_hello = hello.say_hello
    name = ("Gophers, Zoë, 世界 🐹 " * name_chars)[:name_chars]
    batch = max(1, calls // samples)
    for _ in range(batch):  # warm-up: caches, allocator pools, Go's first call
        say_hello(name)
    points, rss = [0], [rss_bytes()]
    done = 0
    while done < calls:
        for _ in range(batch):
            say_hello(name)
        done += batch
        points.append(done)
        rss.append(rss_bytes())
    print(json.dumps({
        "module": hello.__file__,
        "calls": points,
        "rss": rss,
        "greeting_bytes": len(say_hello(name).encode()),
    }))


if __name__ == "__main__":
    main()
