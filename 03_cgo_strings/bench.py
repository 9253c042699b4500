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


# ---------------------------------------------------------------------------
# The notebook's view: the leak measured, the GIL probed, the cost plotted,
# and the sentences computed from the runs. Tested in test_bench_report.py.
# ---------------------------------------------------------------------------
LEAK_RUNS = {"version 2 (v2_leak)": "v2_leak", "version 3 (hello)": "."}


def rss_runs(calls: int = 200_000, name_chars: int = 200, samples: int = 20) -> dict:
    """rss_probe.py for versions 2 and 3, each in a child process of its own:
    {label: its JSON (calls done, RSS after each batch, greeting bytes)}."""
    env = {k: v for k, v in os.environ.items() if k != "GODEBUG"}
    runs = {}
    for label, folder in LEAK_RUNS.items():
        proc = subprocess.run([sys.executable, str(STEP / "rss_probe.py"), str(STEP / folder),
                               str(calls), str(name_chars), str(samples)],
                              env=env, capture_output=True, text=True, timeout=300, check=True)
        runs[label] = json.loads(proc.stdout)
    return runs


def rss_findings(runs: dict) -> list[str]:
    """How much each version's RSS grew, per call and per (greeting + NUL)."""
    lines = []
    for label, run in runs.items():
        growth, calls = run["rss"][-1] - run["rss"][0], run["calls"][-1]
        lines.append(f"{label}: RSS {growth / MiB:+.1f} MiB after {calls:,} calls = "
                     f"{growth / calls:.0f} bytes per call = "
                     f"{growth / calls / (run['greeting_bytes'] + 1):.2f} x (greeting + NUL), "
                     f"a greeting being {run['greeting_bytes']} bytes of UTF-8")
    return lines


def plot_rss(runs: dict):
    """Each version's RSS growth against the calls made."""
    import matplotlib.pyplot as plt  # only the notebook plots: make bench prints

    fig, ax = plt.subplots(figsize=(8, 4.5))
    growth = {}
    for label, run in runs.items():
        growth[label] = (run["rss"][-1] - run["rss"][0]) / MiB
        ax.plot([c / 1000 for c in run["calls"]], [(r - run["rss"][0]) / MiB for r in run["rss"]],
                marker="o", label=f"{label}: {growth[label]:+.1f} MiB")
    ax.set_xlabel("thousands of say_hello calls")
    ax.set_ylabel("RSS growth since the first sample (MiB)")
    calls = max(run["calls"][-1] for run in runs.values())
    ax.set_title(f"After {calls:,} calls the RSS grew by "
                 + " and ".join(f"{g:+.1f} MiB ({label.split(' (')[0]})"
                                for label, g in growth.items()))
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left")
    return fig


def gil_probe(say_hello, sizes: list[int], calls: int = 20_000) -> list[str]:
    """For each name size: does another thread run during say_hello? With the
    switch interval at 1000 s a thread waiting for the GIL gets it only when
    the holder releases it; a helper counts (and sleeps after each step, which
    gives the GIL back). Greets one name up to `calls` times, and stops as soon
    as the helper's count moves: it can only move if say_hello released the GIL."""
    import threading

    count, stop = [0], threading.Event()

    def spin() -> None:
        while not stop.is_set():
            count[0] += 1
            time.sleep(0.0002)  # releases the GIL: the caller gets it back

    lines = []
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1000)
    helper = threading.Thread(target=spin, daemon=True)
    try:
        helper.start()
        while count[0] == 0:
            time.sleep(0.001)
        for size in sizes:
            name, before, done = "x" * size, count[0], 0
            while count[0] == before and done < calls:
                say_hello(name)
                done += 1
            lines.append(f"{size:>10,} bytes: the helper ran during call {done:,} -> GIL released"
                         if count[0] != before else
                         f"{size:>10,} bytes: the helper never ran in {done:,} calls -> GIL held")
    finally:
        stop.set()
        helper.join()
        sys.setswitchinterval(interval)
    return lines


def plot(results: dict):
    """µs per call by name size (every run a dot, medians joined) in both
    settings, and page faults per call."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullFormatter

    d = results[DEFAULT]
    sizes = sorted(d)
    limit = next(iter(d.values()))["nogil_min_bytes"]
    colors = {DEFAULT: "tab:red", KEPT: "tab:blue"}
    fig, (cost, faults) = plt.subplots(1, 2, figsize=(13, 4.8), width_ratios=(1.1, 1))
    for setting, by_size in results.items():
        xs = sorted(by_size)
        for x in xs:  # every run, as a dot
            cost.scatter([x] * len(by_size[x]["seconds"]),
                         [t * 1e6 for t in by_size[x]["seconds"]], s=12, alpha=0.5,
                         color=colors[setting])
        cost.plot(xs, [statistics.median(by_size[x]["seconds"]) * 1e6 for x in xs], marker="o",
                  color=colors[setting], label=f"{setting}: median, dots = every run")
    cost.axvline(limit, color="grey", linestyle=":")
    cost.text(limit * 1.1, 0.04, "GIL released\nfrom here", color="grey", fontsize=9,
              transform=cost.get_xaxis_transform())
    cost.set_xscale("log")
    cost.set_yscale("log")
    cost.xaxis.set_major_locator(FixedLocator([x for x in sizes if x != limit - 1]))
    cost.xaxis.set_major_formatter(FuncFormatter(lambda v, _: size_label(round(v))))
    cost.xaxis.set_minor_formatter(NullFormatter())
    cost.yaxis.set_major_locator(LogLocator(base=10))
    cost.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,g}"))
    cost.set_xlabel("name size (UTF-8 bytes, log scale)")
    cost.set_ylabel("µs per say_hello call (log scale)")
    cost.grid(True, which="major", alpha=0.3)
    cost.legend(loc="upper left", fontsize=9)
    width = 0.4
    for i, (setting, by_size) in enumerate(results.items()):
        values = [statistics.median(by_size[x]["faults"]) for x in sizes]
        bars = faults.bar([j + (i - 0.5) * width for j in range(len(sizes))], values, width,
                          color=colors[setting], label=setting)
        faults.bar_label(bars, labels=[f"{v:,.0f}" for v in values], fontsize=8, padding=2)
    faults.set_xticks(range(len(sizes)), [size_label(x) for x in sizes], rotation=30)
    faults.set_xlabel("name size (UTF-8 bytes)")
    faults.set_ylabel("minor page faults per call (median of the runs)")
    faults.set_title("Page faults per call")
    faults.legend(loc="upper left", fontsize=9)
    faults.margins(y=0.12)
    small, big = 64 * KiB, MiB
    title = (f"64 KiB → 1 MiB (16x the bytes), fastest runs: x{_t(d[big]) / _t(d[small]):,.0f} "
             "per call with glibc's defaults")
    if KEPT in results:
        k = results[KEPT]
        title += f",\nx{_t(k[big]) / _t(k[small]):,.0f} with freed memory kept"
    cost.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def verdicts(results: dict, page: int = 4096) -> list[str]:
    """Which cause of the jump from 64 KiB to 1 MiB this run shows: the GIL
    release, page faults, or neither clearly (computed from its runs)."""
    d = results[DEFAULT]
    small, big = 64 * KiB, MiB
    limit = next(iter(d.values()))["nogil_min_bytes"]
    t = {size: _t(rec) for size, rec in d.items()}
    held, released = d[limit - 1]["seconds"], d[limit]["seconds"]
    spread = max(max(held) - min(held), max(released) - min(released))
    gap = min(released) - min(held)
    lines = [f"The GIL: the {gap * 1e6:+.2f} µs between keeping and releasing it is within the "
             f"spread of the runs ({spread * 1e6:.2f} µs): the release is not the jump."
             if abs(gap) <= spread else
             f"The GIL: releasing it changed the call by {gap * 1e6:+.2f} µs, more than the "
             f"spread of the runs ({spread * 1e6:.2f} µs), against "
             f"{(t[big] - t[small]) * 1e6:,.0f} µs from 64 KiB to 1 MiB."]
    seen = d[big]["faults"]
    if KEPT not in results:
        lines.append("Not glibc: the two settings could not be compared; faults per call at "
                     f"1 MiB: {', '.join(f'{f:.0f}' for f in seen)}")
        return lines
    k = results[KEPT]
    kept_faults = statistics.median(k[big]["faults"])
    expected = 2 * big / page - 128 * KiB / page
    if min(seen) > 0 and kept_faults == 0 and _t(k[big]) < t[big] / 2:
        lo, hi = round(min(seen)), round(max(seen))
        made = (f"{lo:,} faults per call in every run" if lo == hi
                else f"{lo:,} to {hi:,} faults per call")
        lines.append(f"This run: the jump is page faults. At 1 MiB, {made} (2 x size / page - "
                     f"128 KiB / page = {expected:,.0f}); with freed memory kept, none, and the "
                     f"call was x{t[big] / _t(k[big]):.1f} cheaper.")
    elif max(seen) == 0:
        lines.append("This run: no page faults at 1 MiB with glibc's defaults (glibc kept its "
                     "heap this time, which depends on the heap's history), so no fault cost to "
                     f"explain: x{t[big] / t[small]:.0f} from 64 KiB to 1 MiB.")
    else:
        lines.append(f"This run does not separate the causes cleanly: {min(seen):,.0f} to "
                     f"{max(seen):,.0f} faults per call at 1 MiB with the defaults, "
                     f"{kept_faults:,.0f} with freed memory kept; {t[big] * 1e6:,.0f} vs "
                     f"{_t(k[big]) * 1e6:,.0f} µs.")
    per_byte = [_t(k[x]) * 1e9 / x for x in (small, big)]
    lines.append(f"Without faults, a byte costs {per_byte[0]:.3f} ns at 64 KiB and "
                 f"{per_byte[1]:.3f} ns at 1 MiB (x{per_byte[1] / per_byte[0]:.2f}): the copies "
                 "and the decoding, which this machine gives no cache counters to break down "
                 "further.")
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
