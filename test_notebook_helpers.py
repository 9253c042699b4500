"""common/nb.py, what every notebook calls: each helper does what it says.
(A root test: nothing here loads a Go runtime; children run Python only.)"""

from __future__ import annotations

import signal
import sys

import matplotlib
import pytest

matplotlib.use("Agg")  # no display in the tests

import nb
from matplotlib import pyplot as plt


@pytest.mark.parametrize(("x", "y", "said"), [
    ([1, 2, 3], [4, 5, 6], "faster than"),
    ([4, 5, 6], [1, 2, 3], "slower than"),
    ([1, 9, 9], [2, 3, 4], "not clearly different from"),  # min and median disagree
])
def test_compare_needs_the_minimum_and_the_median_to_agree(x, y, said):
    assert nb.compare(x, y) == said


def test_outcomes_print_results_and_exceptions(capsys):
    nb.outcomes(["int('5') + 1", "int('x')", "divmod(7, 2)"], {}, width=14)
    assert capsys.readouterr().out.splitlines() == [
        "int('5') + 1   -> 6",
        "int('x')       -> ValueError: invalid literal for int() with base 10: 'x'",
        "divmod(7, 2)   -> (3, 1)",
    ]
    with pytest.raises(ZeroDivisionError):  # not a bad input: a bug, not hidden
        nb.outcomes(["1 / 0"], {})


def test_paths_are_shown_relative_to_the_repository():
    assert nb.here(f"{nb.ROOT}/02_cgo_sum/x.so") == "../02_cgo_sum/x.so"


def test_exit_status_in_words():
    assert nb.exit_status(-signal.SIGABRT) == "killed by SIGABRT"
    assert nb.exit_status(3) == "exit status 3"


def test_child_runs_another_interpreter_without_godebug(monkeypatch):
    monkeypatch.setenv("GODEBUG", "cgocheck=0")
    proc = nb.child("import os, sys; print(sys.executable, os.environ.get('GODEBUG'))",
                    env={"X": "1"})
    assert proc.returncode == 0
    assert proc.stdout.split() == [sys.executable, "None"]


def test_runs_plot_draws_every_run():
    fig, ax = plt.subplots()
    nb.runs_plot(ax, {"a": [1.0, 2.0, 3.0], "b": [10.0, 11.0]}, "ns", log=True)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b"]
    assert ax.get_xscale() == "log"
    assert [t.get_text() for t in ax.texts] == ["1.0 ns (median 2.0)", "10 ns (median 10)"]
    plt.close(fig)


def test_say_prints_a_list_outside_jupyter(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "IPython.display", None)  # import fails
    nb.say(["one", "two"])
    assert capsys.readouterr().out == "- one\n- two\n"
