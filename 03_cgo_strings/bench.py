"""What one say_hello call costs, by name size, and why it jumps.

    python bench.py                  # the table `make bench` prints
    python bench.py --child SIZE,... # measure in this process: JSON

Every size above 128 KiB is measured in a fresh child process of its own:
glibc's malloc adapts its thresholds to the sizes it has seen freed, so a
process that greeted 1 MiB names before would time 256 KiB ones differently
(the smaller sizes share one process, interleaved). Each timed run
lasts at least MIN_RUN seconds, every run is kept, and the minor page faults of
each run are counted (getrusage): fresh pages the kernel had to map and zero.

The two settings: glibc's default, and glibc told to keep the memory it frees
(MALLOC_MMAP_THRESHOLD_ and MALLOC_TRIM_THRESHOLD_ raised to 1 GiB: big blocks
come from the heap, and the heap is never given back to the kernel). Same
code, same work; only where the two big buffers of a call (Go's greeting,
then the result str) come from changes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

STEP = Path(__file__).resolve().parent
KiB, MiB = 1024, 1024 * 1024
SIZES = (7, KiB, 16 * KiB, 64 * KiB - 1, 64 * KiB, 256 * KiB, MiB, 4 * MiB)
MIN_RUN = 0.1  # seconds: a timed run shorter than this measures the noise
DEFAULT, KEPT = "glibc default", "freed memory kept"
SETTINGS = {
    DEFAULT: {},
    KEPT: {"MALLOC_MMAP_THRESHOLD_": str(1 << 30), "MALLOC_TRIM_THRESHOLD_": str(1 << 30)},
}
GLIBC = platform.libc_ver()[0] == "glibc"


# ------------------------------------------------------------------ child
def _faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def child(sizes: list[int], repeat: int, min_run: float = MIN_RUN) -> dict:
    """Time say_hello("x" * size) for each size in this process, the sizes
    interleaved run by run: {size: every run's time and faults per call}."""
    sys.path.insert(0, str(STEP))
    import hello

    say_hello = hello.say_hello

    def run(name: str, number: int) -> tuple[float, float]:
        faults, start = _faults(), time.perf_counter()
        for _ in range(number):
            say_hello(name)
        elapsed = time.perf_counter() - start
        return elapsed, (_faults() - faults) / number

    names, numbers = {}, {}
    for size in sizes:
        names[size] = name = "x" * size
        run(name, 3)  # warm-up: Go's first call, the allocator adapts
        number = 1
        while (elapsed := run(name, number)[0]) < min_run:  # one run >= min_run
            number = max(2 * number, int(number * 1.2 * min_run / max(elapsed, 1e-9)))
        numbers[size] = number
    records = {size: {"size": size, "numbers": [], "seconds": [], "faults": [],
                      "gil_released": size >= hello.NOGIL_MIN_BYTES,
                      "nogil_min_bytes": hello.NOGIL_MIN_BYTES} for size in sizes}
    for _ in range(repeat):
        for size in sizes:
            # A run the machine made shorter than min_run is repeated with more
            # calls (and not kept): every kept run lasts at least min_run.
            while (result := run(names[size], numbers[size]))[0] < min_run:
                numbers[size] *= 2
            elapsed, per_call = result
            records[size]["numbers"].append(numbers[size])
            records[size]["seconds"].append(elapsed / numbers[size])
            records[size]["faults"].append(per_call)
    return records


# ----------------------------------------------------------------- driver
def groups(sizes) -> list[list[int]]:
    """Sizes measured together: the small ones in one process (glibc serves
    them from its heap whatever happened before: side by side is fairer on a
    busy machine), every size above 128 KiB, malloc's initial mmap
    threshold, in a fresh process of its own."""
    small = [s for s in sizes if s <= 128 * KiB]
    return ([small] if small else []) + [[s] for s in sizes if s > 128 * KiB]


def measure(sizes=SIZES, repeat: int = 5) -> dict:
    """{setting: {size: record}}: every run's seconds and faults per call.

    Off glibc, only the default setting is measured (the variables are
    glibc's)."""
    settings = SETTINGS if GLIBC else {DEFAULT: {}}
    results: dict[str, dict[int, dict]] = {name: {} for name in settings}
    base = {k: v for k, v in os.environ.items()
            if k != "GODEBUG" and not k.startswith("MALLOC_")}
    for group in groups(sizes):
        for name, extra in settings.items():  # the settings side by side
            proc = subprocess.run(
                [sys.executable, str(Path(__file__)), "--child", ",".join(map(str, group)),
                 "--repeat", str(repeat)],
                env={**base, **extra}, capture_output=True, text=True, timeout=600)
            if proc.returncode != 0:
                raise RuntimeError(f"the child for {group} ({name}) failed "
                                   f"({proc.returncode}):\n{proc.stderr}")
            results[name].update({int(k): v for k, v in json.loads(proc.stdout).items()})
    return results


def size_label(size: int) -> str:
    for unit, scale in (("MiB", MiB), ("KiB", KiB)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size:,} B"


def table(results: dict) -> str:
    """µs per call (min and median of the runs) and page faults per call."""
    head1 = f"{'':>22}"
    head2 = f"{'name (UTF-8)':>13} {'GIL':>8}"
    for name in results:
        head1 += f" | {name:^34}"
        head2 += f" | {'µs min':>10} {'µs median':>10} {'faults':>11}"
    lines = [head1, head2]
    for size in sorted(results[DEFAULT]):
        rec = results[DEFAULT][size]
        row = f"{size_label(size):>13} {'released' if rec['gil_released'] else 'held':>8}"
        for by_size in results.values():
            r = by_size[size]
            row += (f" | {min(r['seconds']) * 1e6:>10,.2f} "
                    f"{statistics.median(r['seconds']) * 1e6:>10,.2f} "
                    f"{statistics.median(r['faults']):>11,.0f}")
        lines.append(row)
    return "\n".join(lines)


def _t(record: dict) -> float:
    return min(record["seconds"])


def _faults_per_call(record: dict) -> float:
    return statistics.median(record["faults"])


def findings(results: dict, small: int = 64 * KiB, big: int = MiB) -> list[str]:
    """What this run shows, in sentences computed from its numbers (mins)."""
    d = results[DEFAULT]
    lines = []
    if small - 1 in d and small in d:
        held, released = _t(d[small - 1]), _t(d[small])
        lines.append(
            f"At the GIL threshold, measured side by side: {size_label(small - 1)} (GIL held) "
            f"{held * 1e6:.2f} µs, {size_label(small)} (GIL released) {released * 1e6:.2f} µs "
            f"per call ({(released - held) * 1e6:+.2f} µs).")
    if small not in d or big not in d:
        return lines
    jump = _t(d[big]) / _t(d[small])
    lines.append(
        f"{size_label(small)} -> {size_label(big)}, x{big // small} bytes: x{jump:,.0f} per call "
        f"with glibc's defaults; {_faults_per_call(d[big]):,.0f} page faults per call "
        f"at {size_label(big)}, {_faults_per_call(d[small]):,.0f} at {size_label(small)}.")
    k = results.get(KEPT, {})
    if big not in k or small not in k:
        if not GLIBC:
            lines.append("Not glibc: the comparison with freed memory kept was skipped.")
        return lines
    kept = _t(k[big]) / _t(k[small])
    lines.append(
        f"With freed memory kept: x{kept:,.0f} per call, {_faults_per_call(k[big]):,.0f} page "
        f"faults per call; {_t(k[small]) * 1e9 / small:.3f} ns per byte at {size_label(small)}, "
        f"{_t(k[big]) * 1e9 / big:.3f} at {size_label(big)}.")
    extra_faults = _faults_per_call(d[big]) - _faults_per_call(k[big])
    saved = _t(d[big]) - _t(k[big])
    if extra_faults > 0 and saved > 0:
        lines.append(
            f"At {size_label(big)} the faults account for {saved * 1e6:,.0f} of "
            f"{_t(d[big]) * 1e6:,.0f} µs ({saved / _t(d[big]):.0%}): "
            f"{saved / extra_faults * 1e6:.2f} µs per fault.")
    else:
        lines.append(f"This run does not show the page faults costing time at {size_label(big)} "
                     f"({extra_faults:+,.0f} faults, {saved * 1e6:+,.0f} µs).")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", metavar="SIZE,...")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--min-time", type=float, default=MIN_RUN,
                        help="seconds a timed run lasts at least")
    args = parser.parse_args()
    if args.child is not None:
        sizes = [int(x) for x in args.child.split(",")]
        print(json.dumps(child(sizes, args.repeat, args.min_time)))
        return
    results = measure(SIZES, args.repeat)
    print(f"say_hello('x' * size): {args.repeat} runs of >= {MIN_RUN * 1000:.0f} ms each; "
          "each size above 128 KiB in a fresh process")
    print(table(results))
    print()
    print("\n".join(findings(results)))


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # Ctrl-C reaches the children too: one line, no tracebacks
        if "--child" not in sys.argv:
            print("interrupted", file=sys.stderr)
        sys.exit(130)
