"""A step copied into a project of your own builds and runs there.

Each step README's "Copying this step" section lists the files to take, the
shell commands that build them without this repository's Makefiles, and a
check to run (common/copy_step.py reads them). Here exactly those files are
copied into a temporary folder outside the repository, the build block runs
there with `python` being this interpreter, then the check block: whatever
the copy forgot to list, or the build forgot to say, fails here.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import copy_step
import pytest

ROOT = Path(__file__).resolve().parent
STEPS = sorted(p.parent for p in ROOT.glob("[0-9][0-9]_*/Makefile"))
FREE_THREADED = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def run(block: str, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-euo", "pipefail", "-c", block], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("step", STEPS, ids=[s.name for s in STEPS])
def test_a_copy_of_the_step_builds_and_runs_outside_the_repository(step):
    if FREE_THREADED and step.name == "01_c_sum":
        pytest.skip("01's copy builds the limited-API module, which a free-threaded CPython "
                    "has not (its README's Deep dive says what to build there)")
    with tempfile.TemporaryDirectory(prefix=f"copy-{step.name}-") as tmp:
        dest = Path(tmp) / "project"
        assert ROOT not in dest.resolve().parents  # outside the repository
        copied = copy_step.copy(step, dest)
        assert copied
        # `python` is this interpreter; nothing of the repository is on any path.
        bin_dir = Path(tmp) / "bin"
        bin_dir.mkdir()
        # (a script, not a link: a link to a venv's python outside the venv is
        # the base interpreter, without the venv's packages, Pillow for 06)
        (bin_dir / "python").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
        (bin_dir / "python").chmod(0o755)
        env = {k: v for k, v in os.environ.items()
               if k not in ("PYTHONPATH", "EPG_STEP", "EPG_STEP_REPORT", "GODEBUG")}
        env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
        # A block's pip install finds what this interpreter has, never the network.
        env |= {"PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
        for kind in ("build", "check"):  # bash -e ignores a failure left of && or ||
            assert not {"&&", "||"} & set(copy_step.block(step, kind).split()), kind
        build = run(copy_step.block(step, "build"), dest, env)
        assert build.returncode == 0, f"the build block failed:\n{build.stdout}{build.stderr}"
        check = run(copy_step.block(step, "check"), dest, env)
        assert check.returncode == 0, f"the check failed:\n{check.stdout}{check.stderr}"
        assert check.stdout.strip(), "the check printed nothing"
        # It ran the copy, not the repository's build.
        assert str(ROOT) not in check.stdout + check.stderr
