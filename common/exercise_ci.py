"""CI's side of `make exercise` (common/exercise.mk): the shipped start of an
exercise fails its check, for the reason the exercise is about, and the
shipped solution (exercise/solution/) passes it. Each step's
test_exercise.py calls prove(), and rejects() for wrong solutions a check
once let through.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def make_exercise(step: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "--no-print-directory", "-C", str(step), "exercise",
                           f"PYTHON={sys.executable}", *args],
                          capture_output=True, text=True, timeout=900)


def edited(step: Path, path: str) -> bool | None:
    """Has the reader changed the exercise file (git says so)? None where no
    git checkout tracks it (a downloaded archive, even one unpacked inside
    another repository): nothing to compare it with."""
    tracked = subprocess.run(["git", "-C", str(step), "ls-files", "--error-unmatch", "--",
                              path], capture_output=True)
    if tracked.returncode != 0:  # (there `git diff` says 1, or 0 for a file it does not track)
        return None
    proc = subprocess.run(["git", "-C", str(step), "diff", "--quiet", "HEAD", "--", path],
                          capture_output=True)
    return proc.returncode == 1


def prove(step: Path, start: str, *, fails_with: list[str]) -> None:
    """`make exercise` fails on `start` (saying each of fails_with) and passes
    on exercise/solution/<its name>; each is built in its own folder."""
    solution = f"exercise/solution/{Path(start).name}"
    solved = make_exercise(step, f"EXERCISE={solution}",
                           "EXERCISE_BUILD=build/exercise-ci-solution")
    assert solved.returncode == 0, solved.stdout[-4000:] + solved.stderr[-2000:]
    assert f"done: {solution} passes" in solved.stdout
    if changed := edited(step, start):
        pytest.skip(f"{start} was edited (your solution?): its start is checked on a clean "
                    "checkout (`git stash` to check it here)")
    failed = make_exercise(step, "EXERCISE_BUILD=build/exercise-ci-start")
    out = failed.stdout + failed.stderr
    if changed is None and failed.returncode == 0:
        pytest.skip(f"{start} passes its check (your solution?): outside a git checkout an "
                    "edited start cannot be told from the shipped one")
    assert failed.returncode != 0, out[-4000:]
    assert f"not yet: read the comment at the top of {start}" in out, out[-4000:]
    assert "does not build" not in out, out[-4000:]  # it fails its check, not the compiler
    for text in fails_with:
        assert text in out, (text, out[-4000:])


def rejects(step: Path, start: str, old: str, new: str, folder: Path, *,
            fails_with: list[str]) -> None:
    """`make exercise` fails, saying each of fails_with, on the solution of
    `start` with `old` replaced by `new` (a wrong solution, written and built
    in folder): its check must catch the mistake, not only the start's."""
    text = (step / "exercise" / "solution" / Path(start).name).read_text()
    assert text.count(old) == 1, f"{old!r} is not once in the solution: update the test"
    wrong = folder / Path(start).name
    wrong.write_text(text.replace(old, new))
    proc = make_exercise(step, f"EXERCISE={wrong}", f"EXERCISE_BUILD={folder / 'build'}")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-4000:]
    assert "does not build" not in out, out[-4000:]  # it fails its check, not the compiler
    for line in fails_with:
        assert line in out, (line, out[-4000:])
