"""bench.py's view of a run for the notebook: the sentences say what a run
showed, whatever it was (parallelism or none, a free-threaded CPython or
none), and the plots draw every run. Built on made-up runs, so that every
branch is checked, not only the one this machine happens to take."""

import matplotlib
import pytest

matplotlib.use("Agg")  # no display in the tests

import bench

NS = {"py_sequential": [40, 41, 42], "py_threads_2": [44, 45, 46],
      "ft_sequential": [56, 57, 58], "ft_threads_2": [30, 31, 32],
      "py_processes_2": [25, 26, 27], "c_1": [0.5, 0.5, 0.5], "go_1": [0.40, 0.41, 0.42],
      "go_2": [0.21, 0.21, 0.22], "go_numcpu": [0.22, 0.22, 0.23]}


def engine(ns, cores, python="3.11.7", gil=True, n=1_000_000):
    times = [x * n / 1e9 for x in ns]
    return bench.summarize({"times": times, "counts": [n] * len(ns),
                            "cpu": [t * cores for t in times], "n": n, "python": python,
                            "gil": gil, "workers": 2, "num_cpu": 2, "gomaxprocs": 2})


def run(ns=NS, go_2_cores=1.95, free_threaded=True):
    engines = {}
    for name, values in ns.items():
        if name.startswith("ft") and not free_threaded:
            continue
        ft = name.startswith("ft")
        cores = go_2_cores if name in ("go_2", "ft_threads_2") else 1.0
        engines[name] = engine(values, cores, "3.13.5t" if ft else "3.11.7", gil=not ft)
    return {"n": 1_000_000, "repeat": 3, "min_run": 0.2, "cpu_count": 2,
            "free_threaded_python": "/x/python3.13t" if free_threaded else None,
            "free_threaded_looked_for": "~/.cache/epg/python3.13.*-ft/bin/python3.13t",
            "engines": engines}


def test_findings_when_two_cores_were_free():
    lines = bench.findings(run(), load=0.3)
    assert lines[0] == ("Two goroutines ran **1.95x** as fast as one (rounds: 1.90-1.95x): two "
                        "cores at work.")
    assert lines[1].startswith("Two GIL threads gained **nothing** from the second thread")
    assert "Two free-threaded threads ran **1.84x** as fast as one" in lines[2]
    assert lines[3].startswith("On one thread, free-threaded 3.13.5t took **1.39x** the time")
    assert not any("cannot show parallelism" in line for line in lines)
    assert lines[-1].startswith("The C loop, one thread, was 82x faster than a Python thread")


def test_findings_say_when_a_busy_run_cannot_show_parallelism():
    busy = dict(NS, go_2=[0.40, 0.41, 0.42], ft_threads_2=[56, 57, 58])
    lines = bench.findings(run(busy, go_2_cores=0.9), load=4.0, autogroups=True)
    assert lines[0].startswith("Two goroutines gained **nothing** from the second thread")
    (words,) = [line for line in lines if "cannot show parallelism" in line]
    assert "the process used 0.90 cores (CPU seconds per second), not 2. The machine was busy " \
           "(load average 4.0 on 2 CPUs). Linux shares a busy machine's CPUs between " \
           "sessions (autogroups)" in words
    (ft,) = [line for line in lines if line.startswith("2 free-threaded threads")]
    assert ft.endswith("there was no spare core in this run, so that parallelism factor says "
                       "nothing about free-threading.")


def test_findings_without_a_free_threaded_python():
    lines = bench.findings(run(free_threaded=False), load=0.3)
    assert lines[2].startswith("No free-threaded CPython here (~/.cache/epg/")
    assert lines[-2].startswith("So 2 GIL threads → 2 goroutines: **214x** = 100x (compiled vs "
                                "interpreted) x 2.14x (parallelism).")


def gil(held_asleep=0.9, split=True):
    phases = list(bench.GIL_PHASES)
    nan = float("nan")

    def share(values):
        return dict(zip(phases, values, strict=True))

    return {"mark_every": 16384, "marks": [0.1, 0.2, 0.3], "go_n": 10**9,
            "phases": [{"phase": p, "start": i, "end": i + 0.5} for i, p in enumerate(phases)],
            "of_solo": share([1, 0.99, 0.58, 0.05]), "on_cpu": share([0.99, 0.99, 0.66, 0.04]),
            "waiting_for_cpu": share([0.01, 0.01, 0.34, 0.02] if split else [nan] * 4),
            "asleep": share([0, 0, 0, held_asleep]),
            "per_cpu_of_solo": share([1, 1.0, 0.88, 1.2]),
            "process_cores": share([1.0, 1.95, 2.0, 1.0])}


def test_gil_findings_released_vs_held():
    words = bench.gil_findings(gil(), "load average 0.3 on 2 CPUs")
    assert words[0] == ("Held, the thread kept 5% of its solo pace and slept 90% of the call, "
                        "waiting for the GIL (it runs only at the edges of the call).")
    assert words[2].startswith("The GIL was free: whatever pace the thread lost, it lost waiting "
                               "for a CPU, and on one it counted as fast as alone")
    assert words[3] == ("The process used 1.95 cores: the goroutine and this thread had about "
                        "one each.")
    assert words[-1].endswith("The process used 2.00 cores: each busy goroutine is one more busy "
                              "thread for the same cores.")


def test_gil_findings_say_when_a_run_does_not_separate_the_causes():
    assert bench.gil_findings(gil(split=False), "")[-1].endswith(
        "(Linux's schedstat is not available here).")
    assert bench.gil_findings(gil(held_asleep=0.2), "")[-1].endswith(
        "barely slept during the held one: see the plot.")


@pytest.mark.parametrize("plot", [bench.plot_engines, bench.plot_speedups])
def test_plots_of_the_engines(plot):
    fig = plot(run())
    assert fig.axes[0].get_title()


def test_plot_of_the_python_thread():
    fig = bench.plot_gil(gil())
    assert fig.axes[0].get_title() == ("A Python thread's count: flat only while a Go call holds "
                                       "the GIL")
    assert len(fig.axes[1].patches) == 3 * len(bench.GIL_PHASES)  # on a CPU, waiting, asleep
