"""A step reads in five minutes, and what it shows is what it does.

- Each step README's top part (everything before the first "Deep dive"
  heading) has the same sections — Goal, Run it, What you'll see, The one
  idea, Next — in about 80 lines; the root README's in about 100.
- Its "What you'll see" block is the real output of `make demo`
  (common/readme_demo.py), so it cannot drift from the code.
- Each step notebook says how to open it, keeps to its budget of displayed
  source (common/excerpt.py's budget() in its last cell) and ends with
  "What to notice".
"""

from __future__ import annotations

import json
import re
import sys
import sysconfig
from pathlib import Path

import pytest
import readme_demo

ROOT = Path(__file__).resolve().parent
STEPS = sorted(p.parent for p in ROOT.glob("[0-9][0-9]_*/Makefile"))
SECTIONS = ["Goal", "Run it", "What you'll see", "The one idea", "Next"]


def top_part(readme: Path) -> list[str]:
    lines = readme.read_text().splitlines()
    for number, line in enumerate(lines):
        if re.match(r"#+ .*deep dive", line, re.I):
            return lines[:number]
    return lines


@pytest.mark.parametrize("step", STEPS, ids=[s.name for s in STEPS])
def test_readme_top_part_reads_in_five_minutes(step):
    top = top_part(step / "README.md")
    assert len(top) <= 90, f"{step.name}: {len(top)} lines before the first Deep dive"
    assert top[0].startswith(f"# {step.name}: ")
    headings = [line[3:].strip() for line in top if line.startswith("## ")]
    assert headings == SECTIONS


def test_root_readme_top_part():
    top = top_part(ROOT / "README.md")
    assert len(top) <= 110


@pytest.mark.skipif(bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
                    reason="the READMEs show the demos of a regular CPython; on a "
                    "free-threaded one they print other facts (01: no abi3 module, 05: no "
                    "GIL for a call to hold)")
@pytest.mark.parametrize("step", STEPS, ids=[s.name for s in STEPS])
def test_readme_shows_the_real_demo_output(step):
    shown = readme_demo.normalise(readme_demo.block(step))
    real = readme_demo.normalise(readme_demo.demo_output(step, sys.executable))
    assert shown == real, "run `python common/readme_demo.py " + step.name + "`"


NOTEBOOKS = sorted((ROOT / "notebooks").glob("0[1-9]_*.ipynb"))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[n.stem for n in NOTEBOOKS])
def test_notebook_shape(notebook):
    cells = json.loads(notebook.read_text())["cells"]
    text = ["".join(c["source"]) for c in cells]
    assert text[0].startswith(f"# {notebook.stem}: ")
    assert "jupyter lab" in text[0]  # how to open it
    code = [t for c, t in zip(cells, text, strict=True) if c["cell_type"] == "code"]
    budget = re.search(r"\bbudget\((\d+)\)", code[-1])
    assert budget, "the last code cell checks the budget of displayed source"
    assert int(budget[1]) <= 150
    assert any(t.startswith("## What to notice") for t in text)
    assert all(not c.get("outputs") for c in cells if c["cell_type"] == "code")
