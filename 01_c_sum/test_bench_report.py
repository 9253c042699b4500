"""bench.py's table, sentences and plot: what the notebook prints is computed
from the runs, and says so when a run contradicts the expected story."""

import matplotlib
import pytest

matplotlib.use("Agg")  # no display in the tests

import bench

EXPECTED = {"python": [42.0, 43.0, 45.0], "c-varargs": [73.0, 74.0, 80.0],
            "c-fastcall": [23.0, 23.5, 24.0]}


def test_findings_of_the_expected_story():
    lines = bench.findings(EXPECTED, version=(3, 11))
    assert lines[0] == "the tuple and the format string: sum - sum_fast = 50 ns per call " \
                       "(minimums), 68% of the talk's call"
    assert "sum_fast is faster than the talk's sum (23 vs 73 ns)" in lines
    assert "a pure Python def is faster than the talk's C sum (42 vs 73 ns)" in lines
    assert not any(line.startswith("!") for line in lines)


def test_findings_say_when_a_run_contradicts_the_story():
    disturbed = {"python": [90.0, 95.0], "c-varargs": [73.0, 80.0], "c-fastcall": [75.0, 85.0]}
    lines = bench.findings(disturbed, version=(3, 11))
    assert "sum_fast is slower than the talk's sum (75 vs 73 ns)" in lines
    assert lines[2].startswith("! this run was disturbed")
    assert "expected faster: other processes disturbed the runs" in lines[3]
    old = bench.findings(disturbed, version=(3, 10))
    assert "no specialising interpreter (3.11+)" in old[3]


@pytest.mark.parametrize(("x", "y", "said"), [
    ([1, 2], [3, 4], "faster than"), ([3, 4], [1, 2], "slower than"),
    ([1, 9, 9], [2, 3, 4], "not clearly different from")])
def test_compare_needs_the_minimum_and_the_median_to_agree(x, y, said):
    assert bench.compare(x, y) == said


def test_table_and_plot():
    number = {name: 1000 for name in EXPECTED}
    seconds = {name: [0.1, 0.2, 0.3] for name in EXPECTED}
    table = bench.table(EXPECTED, number, seconds, 0.1)
    assert "3 interleaved runs per engine" in table
    assert "(sum - sum_fast): 50.0 ns (mins)" in table
    fig = bench.plot(EXPECTED)
    assert fig.axes[0].get_title() == ("sum(5, 4): the fast call costs 0.32x the talk's call, "
                                       "a Python def 0.58x (fastest runs)")
