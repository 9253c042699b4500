"""common/exercise_ci.py's edited(): prove() skips the start's check only for
a start the reader changed, and says so; it must know a copy outside git
(a downloaded archive) from an edited file (`git diff` says 1 for both).
And common/exercise.mk: "not yet" only for a check that ran and failed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import exercise_ci

STEP = Path(__file__).resolve().parent / "03_cgo_strings"


def git(repo, *args):
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def test_edited_tells_a_changed_start_from_a_clean_one_and_from_no_checkout(tmp_path):
    (tmp_path / "start.c").write_text("int x;\n")
    assert exercise_ci.edited(tmp_path, "start.c") is None  # not a git checkout
    git(tmp_path, "init", "-q")  # a repository that does not track it (an archive inside one)
    assert exercise_ci.edited(tmp_path, "start.c") is None
    git(tmp_path, "add", "start.c")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "start")
    assert exercise_ci.edited(tmp_path, "start.c") is False
    (tmp_path / "start.c").write_text("int x = 1;\n")
    assert exercise_ci.edited(tmp_path, "start.c") is True


def test_a_check_that_cannot_run_is_not_called_a_wrong_answer(tmp_path):
    """A Python without pytest (a system python3), or a check pytest cannot
    run, said "not yet: read the comment": a right answer called wrong."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "bare")],
                   check=True)
    proc = exercise_ci.make_exercise(STEP, f"PYTHON={tmp_path / 'bare' / 'bin' / 'python'}",
                                     "EXERCISE=exercise/solution/hello.c",
                                     f"EXERCISE_BUILD={tmp_path / 'build'}")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout.startswith("cannot check: ")
    assert "has no pytest" in proc.stdout
    assert "not yet" not in proc.stdout + proc.stderr
    proc = exercise_ci.make_exercise(STEP, "EXERCISE=exercise/solution/hello.c",
                                     f"EXERCISE_BUILD={tmp_path / 'build'}",
                                     "EXERCISE_CHECK=exercise/no_such_check.py")
    assert proc.returncode == 2, proc.stdout + proc.stderr  # (make's, for any failure)
    assert "the check could not run (pytest's exit status 4, above)" in proc.stdout
    assert "not yet" not in proc.stdout + proc.stderr
