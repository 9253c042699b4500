"""common/exercise_ci.py's edited(): prove() skips the start's check only for
a start the reader changed, and says so; it must know a copy outside git
(a downloaded archive) from an edited file (`git diff` says 1 for both)."""

from __future__ import annotations

import subprocess

import exercise_ci


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
