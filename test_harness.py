"""The root harness (conftest.py) reports what each step's interpreter saw.

A fake repository with two fake steps is run through a copy of conftest.py:
every outcome a child interpreter can produce (pass, fail, skip, xfail, a
hard crash) must come back as the matching result of its own item, and a
crash must not stop the other steps.
"""

import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent

FAKE_TESTS = '''
import os

import pytest


def test_passes():
    assert True


def test_fails():
    assert 1 + 1 == 3


@pytest.mark.skip(reason="not today")
def test_skipped():
    pass


@pytest.mark.xfail(reason="known bug", strict=True)
def test_xfails():
    assert False


def test_runs_in_its_own_interpreter():
    import sys
    assert os.environ["EPG_STEP"] == "01_fake"
    assert "conftest" in sys.modules


def test_crashes():
    os.abort()  # what a Go runtime panic or a segfault does to the process


def test_after_crash():
    pass
'''


def make_fake_repo(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "conftest.py", tmp_path)
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    for step, tests in (("01_fake", FAKE_TESTS), ("02_other", "def test_other():\n    pass\n")):
        (tmp_path / step).mkdir()
        (tmp_path / step / "Makefile").write_text("all:\n\t@true\ngocheck:\n\t@echo go ok\n")
        (tmp_path / step / f"test_{step}.py").write_text(textwrap.dedent(tests))
    (tmp_path / "02_other" / "go.mod").write_text("module example.com/other\n\ngo 1.21\n")
    return tmp_path


def test_harness_reports_every_child_outcome(tmp_path):
    repo = make_fake_repo(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider"],
                          cwd=repo, capture_output=True, text=True, timeout=300)
    out = proc.stdout
    line = r"^(.+?) (PASSED|FAILED|SKIPPED|XFAIL|XPASS|ERROR)(?: \(.*\))? +\[ *\d+%\]$"
    status = dict(re.findall(line, out, re.M))
    assert status == {
        "01_fake/test_01_fake.py::test_passes": "PASSED",
        "01_fake/test_01_fake.py::test_fails": "FAILED",
        "01_fake/test_01_fake.py::test_skipped": "SKIPPED",
        "01_fake/test_01_fake.py::test_xfails": "XFAIL",
        "01_fake/test_01_fake.py::test_runs_in_its_own_interpreter": "PASSED",
        "01_fake/test_01_fake.py::test_crashes": "FAILED",
        "01_fake/test_01_fake.py::test_after_crash": "FAILED",
        "02_other/Makefile::[go: gofmt, vet, test]": "PASSED",
        "02_other/test_02_other.py::test_other": "PASSED",
    }, out
    assert proc.returncode == 1
    assert "assert (1 + 1) == 3" in out  # the child's own assertion report
    assert re.search(r"SKIPPED \[1\] .*01_fake/test_01_fake.py:\d+: Skipped: not today", out)
    # the crash: no result for the test, the child's exit status and output
    assert re.search(r"test_crashes did not finish: the step's interpreter exited "
                     r"with status -6", out), out
    assert "test_after_crash did not finish" in out


def test_harness_runs_a_named_step_file_in_the_steps_interpreter(tmp_path):
    repo = make_fake_repo(tmp_path)
    one = "01_fake/test_01_fake.py::test_runs_in_its_own_interpreter"  # asserts EPG_STEP
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", one],
                          cwd=repo, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 passed" in proc.stdout

    failing = "01_fake/test_01_fake.py::test_fails"
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", failing],
                          cwd=repo, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1
    assert "1 failed" in proc.stdout

    two_steps = ["01_fake/test_01_fake.py", "02_other/test_02_other.py"]
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           *two_steps], cwd=repo, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 4  # usage error, nothing imported
    assert "each step's tests run in their own interpreter" in proc.stderr


def test_harness_shows_a_failed_build_and_runs_the_other_steps(tmp_path):
    repo = make_fake_repo(tmp_path)
    broken = repo / "03_broken"
    broken.mkdir()
    (broken / "Makefile").write_text("all:\n\t@echo 'newmath.c:7: error: boom' >&2; exit 1\n")
    (broken / "test_03_broken.py").write_text("def test_never_runs():\n    pass\n")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "02_other", "03_broken"],
                          cwd=repo, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stdout
    assert "FAILED 03_broken/Makefile::[build]" in proc.stdout
    assert "newmath.c:7: error: boom" in proc.stdout  # the compiler's own words
    assert re.search(r"1 failed, 2 passed", proc.stdout), proc.stdout

    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "03_broken/test_03_broken.py"],
                          cwd=repo, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 4
    assert "newmath.c:7: error: boom" in proc.stderr
