"""bench.py's and demo.py's helpers for the notebook: the sentences are
computed from the runs (and say which cause a run shows, or that it shows
none clearly), the plots draw every run, the GIL probe tells released from
held."""

import sysconfig

import hello
import matplotlib
import pytest

matplotlib.use("Agg")  # no display in the tests

import bench
import demo

KiB, MiB = 1024, 1024 * 1024
LIMIT = hello.NOGIL_MIN_BYTES


def record(seconds, faults, size):
    return {"size": size, "seconds": seconds, "faults": faults, "nogil_min_bytes": LIMIT}


def results(big_faults=(480, 480), kept_big=2e-4, default_big=3e-3):
    sizes = {7: 1e-7, 64 * KiB - 1: 7e-6, 64 * KiB: 7.2e-6, MiB: default_big}
    default = {s: record([t, t * 1.1], [0, 0], s) for s, t in sizes.items()}
    default[MiB]["faults"] = list(big_faults)
    kept = {s: record([t, t * 1.1], [0, 0], s) for s, t in sizes.items()}
    kept[MiB]["seconds"] = [kept_big, kept_big * 1.1]
    return {bench.DEFAULT: default, bench.KEPT: kept}


def test_verdicts_when_the_jump_is_page_faults():
    lines = bench.verdicts(results())
    assert lines[0].startswith("The GIL: the +0.20 µs between keeping and releasing it is "
                               "within the spread")
    assert lines[1] == ("This run: the jump is page faults. At 1 MiB, 480 faults per call in "
                        "every run (2 x size / page - 128 KiB / page = 480); with freed memory "
                        "kept, none, and the call was x15.0 cheaper.")
    assert lines[2].startswith("Without faults, a byte costs")


def test_verdicts_when_the_run_shows_no_faults_or_no_clear_cause():
    assert bench.verdicts(results(big_faults=(0, 0)))[1].startswith(
        "This run: no page faults at 1 MiB with glibc's defaults")
    assert bench.verdicts(results(kept_big=2.9e-3))[1].startswith(
        "This run does not separate the causes cleanly")


def test_rss_findings_per_greeting():
    runs = {"v2": {"calls": [0, 100], "rss": [0, 100 * 301], "greeting_bytes": 300},
            "v3": {"calls": [0, 100], "rss": [4096, 4096], "greeting_bytes": 300}}
    lines = bench.rss_findings(runs)
    assert "= 301 bytes per call = 1.00 x (greeting + NUL)" in lines[0]
    assert "RSS +0.0 MiB after 100 calls = 0 bytes per call" in lines[1]
    assert bench.plot_rss(runs).axes[0].get_title() == (
        "After 100 calls the RSS grew by +0.0 MiB (v2) and +0.0 MiB (v3)")


def test_plot_draws_every_run():
    fig = bench.plot(results())
    assert fig.axes[0].get_title().endswith(
        "x417 per call with glibc's defaults,\nx28 with freed memory kept")


@pytest.mark.skipif(bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
                    reason="free-threaded build: there is no GIL to hold or release")
def test_gil_probe_tells_released_from_held():
    lines = bench.gil_probe(hello.say_hello, [1024, LIMIT], calls=20_000)
    assert lines[0] == "     1,024 bytes: the helper never ran in 20,000 calls -> GIL held"
    assert lines[1].endswith("-> GIL released")


def test_frames_of_the_goroutine_that_made_the_call():
    stderr = ("panic: runtime error: ...\n\ngoroutine 17 [running, locked to thread]:\n"
              "runtime.cgoCheckResult({0x1, 0x2})\n\t/go/src/runtime/cgocall.go:1\n"
              "main._cgoexp_abc_SayHello(0xc)\n\t_cgo_gotypes.go:2\n\ngoroutine 2 [idle]:\n"
              "runtime.gopark(0x0)\n")
    assert demo.frames(stderr) == ["runtime.cgoCheckResult", "main._cgoexp_abc_SayHello"]
