"""bench.py's view of a run for the notebook: the verdicts are computed from
the runs, size by size, and say when the expected story does not hold; the
plot draws every run."""

import matplotlib

matplotlib.use("Agg")  # no display in the tests

import bench

COSTS = {"GoToC": [31.0, 35.0, 51.0], "GoToGo": [1.0, 1.1, 1.2]}


def results(list_sum_10k=(2_000_000, 2_200_000), per_pair_10k=(1_500_000, 1_600_000)):
    """ns per call (not per item) of each engine at 1 and 10,000 items."""
    return {bench.LIST_SUM: {1: [300, 310], 10_000: list(list_sum_10k)},
            bench.PER_PAIR: {1: [200, 210], 10_000: list(per_pair_10k)},
            bench.SUM_LIST: {1: [100, 110], 10_000: [60_000, 70_000]},
            bench.BUILTIN: {1: [50, 55], 10_000: [50_000, 55_000]}}


def test_verdicts_when_one_call_per_pair_wins():
    lines = bench.verdicts(results(), COSTS)
    assert lines[0] == ("One crossing per list beat one call per pair (by both measures) at "
                        "no size, lost at 1, 10,000 items; min and median disagreed at no size.")
    assert lines[1].startswith("At 10,000 items the expected story does not hold on this run")
    assert lines[2] == ("The builtin sum beat list_sum by both measures (x40.0 by the fastest "
                        "runs at 10,000 items).")


def test_verdicts_when_the_expected_story_holds_or_cannot_be_told():
    held = bench.verdicts(results(list_sum_10k=(1_000_000, 1_100_000)), COSTS)
    assert held[1].startswith("At 10,000 items the expected story holds on this run: Go's "
                              "three Go-to-C calls per item (93 ns by cgocall)")
    mixed = bench.verdicts(results(list_sum_10k=(1_400_000, 1_700_000)), COSTS)
    assert mixed[1].startswith("At 10,000 items this run cannot tell them apart")


def test_plot_draws_every_run():
    fig = bench.plot(results(), COSTS)
    assert fig.axes[1].get_title() == "At 10,000 items, list_sum costs x40.0 the builtin sum " \
                                      "per item"
