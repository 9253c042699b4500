"""A step reads in five minutes, and what it shows is what it does.

- Each step README's top part (everything before "Deep dive: copying this step" or the
  first "Deep dive" heading) has the same sections — Goal, Run it, What
  you'll see, The one idea, Next — in about 80 lines; the root README's in
  about 100.
- Its "What you'll see" block is the real output of `make demo`
  (common/readme_demo.py), so it cannot drift from the code.
- Right after the top part, "Deep dive: copying this step" lists the files to take (and
  the common/ pieces, each with what it does), the build command outside
  this repository, and the check to run (common/copy_step.py reads them;
  test_copy_steps.py runs them on a copy).
- A step with an exercise/ folder says `make exercise` in its README and in
  its notebook.
- Each step notebook says how to open it, keeps every code cell short, keeps
  its excerpts plus its own code within its budget (common/excerpt.py's
  budget(150, "<the notebook>") in its last cell: plots and sentences belong
  in the step's tested bench.py, not in cells) and ends with "What to
  notice".
"""

from __future__ import annotations

import json
import re
import sys
import sysconfig
from pathlib import Path

import copy_step
import pytest
import readme_demo
from excerpt import code_cells, own_code

ROOT = Path(__file__).resolve().parent
STEPS = sorted(p.parent for p in ROOT.glob("[0-9][0-9]_*/Makefile"))
SECTIONS = ["Goal", "Run it", "What you'll see", "The one idea", "Next"]
CELL_LINES = 25  # a code cell longer than this is a program: put it in bench.py, tested
NOTEBOOK_BUDGET = 150  # lines of excerpts + the notebook's own code



def top_part(readme: Path) -> list[str]:
    lines = readme.read_text().splitlines()
    for number, line in enumerate(lines):
        if re.match(r"#+ .*(deep dive|copying this step)", line, re.I):
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


@pytest.mark.parametrize("step", STEPS, ids=[s.name for s in STEPS])
def test_readme_says_how_to_copy_the_step(step):
    lines = (step / "README.md").read_text().splitlines()
    top = top_part(step / "README.md")
    assert lines[len(top)] == "## Deep dive: copying this step", "right after the top part"
    files = copy_step.files(step)
    assert files, "the files block lists the files to take"
    for line in copy_step.block(step, "files").splitlines():
        path, *what = line.split(maxsplit=1)
        where = ROOT if path.startswith("common/") else step
        assert (where / path).exists(), f"{path} is listed but does not exist"
        if path.startswith("common/"):
            assert what, f"{path}: say what this common/ piece does"
    assert copy_step.block(step, "build").strip()
    assert copy_step.block(step, "check").strip()


@pytest.mark.parametrize("step", STEPS, ids=[s.name for s in STEPS])
def test_an_exercise_is_pointed_at(step):
    if not (step / "exercise").is_dir():
        pytest.skip("no exercise in this step")
    assert "make exercise" in "\n".join(top_part(step / "README.md")), "README: Run it"
    notebook = ROOT / "notebooks" / f"{step.name}.ipynb"
    assert "make exercise" in notebook.read_text(), notebook.name


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
    assert any(t.startswith("## What to notice") for t in text)
    assert all(not c.get("outputs") for c in cells if c["cell_type"] == "code")
    # The last cell counts what the notebook showed, when it runs (nbmake):
    # its excerpts plus its own code, which it reads from this very file.
    budget = re.fullmatch(r'budget\((\d+), "([^"]+)"\)', code[-1].strip())
    assert budget, f'the last code cell is budget({NOTEBOOK_BUDGET}, "{notebook.name}")'
    assert int(budget[1]) <= NOTEBOOK_BUDGET
    assert budget[2] == notebook.name
    assert own_code(notebook) <= int(budget[1]), "its own code alone is over the budget"
    long_cells = [cell[0] for cell in code_cells(notebook) if len(cell) > CELL_LINES]
    assert not long_cells, (f"cells over {CELL_LINES} lines (move their code into the "
                            f"step's bench.py, tested, and call it): {long_cells}")


def test_the_overview_notebook_keeps_its_cells_short():
    notebook = ROOT / "notebooks" / "00_overview.ipynb"
    assert all(len(cell) <= CELL_LINES for cell in code_cells(notebook))
    assert own_code(notebook) <= NOTEBOOK_BUDGET


def test_the_talk_is_named():
    """The talk this repository follows is identified, at the root and in 00."""
    for where in (ROOT / "README.md", ROOT / "notebooks" / "00_overview.ipynb"):
        text = where.read_text()
        for fact in ("Extending Python with Go", "Andrea Stagi", "Napoli", "15 September 2018",
                     "astagi/pygoexamples", "astagi/pypiuma"):
            assert fact in text, f"{where.name} does not say {fact!r}"
