"""bench.py's view of a run for the notebook: its sentences are computed from
the runs (and say so when a run contradicts the expected story), its plots
draw every run."""

import matplotlib
import pytest

matplotlib.use("Agg")  # no display in the tests

import bench

CALLS = {  # ns per call: the README's story (Go behind the glue 1.4x the talk's C)
    "python": [42, 43, 44], "c-varargs": [72, 73, 75], "c-fastcall": [23, 23, 24],
    "bare-go": [74, 75, 77], "go-glue": [101, 103, 107], "go-variant-a": [300, 310, 320],
    "cffi-api": [1360, 1400, 1470], "cffi-api-raw": [700, 710, 720],
    "cffi-abi": [2040, 2050, 2060], "cffi-abi-raw": [900, 910, 920],
    "ctypes": [2150, 2200, 2370], "ctypes-raw": [1000, 1010, 1020],
}
BATCH = {  # ms per sum of 1,000,000 ints, page faults per sum
    "builtin": ([5.2, 5.3, 5.4], 0), "c-pairs": ([60, 61, 62], 0), "go-pairs": ([126, 130, 138], 0),
    "go-list": ([20.3, 20.5, 20.8], 3875), "go-tuple": ([4.4, 4.5, 4.5], 0),
    "go-array": ([1.0, 1.0, 1.1], 0),
}


def record(runs, faults=0):
    return {"runs": runs, "min": min(runs), "median": sorted(runs)[len(runs) // 2],
            "seconds": [0.1] * len(runs), "faults": faults, "per_run": 1000}


def result(calls=CALLS, batch=BATCH):
    calls = {e: record(r) for e, r in calls.items()}
    return {"repeat": 3, "min_time": 0.1, "size": 1_000_000,
            "call_ns": calls, "batch_ms": {e: record(r, f) for e, (r, f) in batch.items()},
            "labels": {e: e for e in [*calls, *batch]},
            "target_ratio": calls["go-glue"]["min"] / calls["c-varargs"]["min"]}


def test_calls_findings_of_the_readme_story():
    lines = bench.calls_findings(result(), version=(3, 11))
    assert not lines[0].startswith("**This run was disturbed")
    assert lines[0].startswith("a pure Python def is faster than the talk's C sum (42 vs 72 ns)")
    assert ("Go behind the fast glue costs 1.40x the talk's C sum (medians 1.41x): the crossing "
            "costs more than what the fast call saves (minimums 78 vs 49 ns, medians 80 vs "
            "50 ns); the target is NOT met") in lines
    assert "ctypes: 2150 ns with the argument checks, 1000 ns without; 21x the C glue" in lines


def test_calls_findings_say_when_noise_reversed_what_cannot_be_reversed():
    calls = dict(CALLS, **{"bare-go": [200, 210, 220]})  # a C loop slower than Python + glue
    lines = bench.calls_findings(result(calls), version=(3, 11))
    assert lines[0].startswith("**This run was disturbed by other processes**: bare-go was "
                               "not faster than go-glue")


def test_calls_findings_when_the_target_is_met_or_undecided():
    met = bench.calls_findings(result(dict(CALLS, **{"go-glue": [60, 61, 62]})))
    assert any(line.endswith("the target is met") for line in met)
    mixed = bench.calls_findings(result(dict(CALLS, **{"go-glue": [70, 80, 90]})))
    assert any("undecided (the minimum and the median disagree)" in line for line in mixed)


def test_batch_findings_explain_where_the_time_goes():
    lines = bench.batch_findings(result())
    assert lines[1] == "the builtin sum is faster than sum_list (5.2 vs 20.3 ms)"
    assert lines[2] == ("sum_list's 20.3 ms (minimums): the snapshot of the list 15.9 ms, "
                        "converting the items into a C array 3.4 ms, Go's additions 1.0 ms")
    assert "each sum_list call on a list faults 3,875 pages in (~16 MB" in lines[3]
    assert "where from:" in lines[3]
    assert lines[4] == "on a tuple, sum_list is faster than the builtin (4.4 vs 5.2 ms)"


@pytest.mark.parametrize("plot", [bench.plot_calls, bench.plot_batch])
def test_plots_draw_every_run(plot):
    fig = plot(result())
    ax = fig.axes[0]
    assert ax.get_title()
    assert len(ax.get_yticklabels()) == len(ax.texts)  # one annotated row per engine
