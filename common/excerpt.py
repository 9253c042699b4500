"""Show the part of a real source file that a notebook cell talks about.

Like CPython's docs, which include marked parts of Doc/includes/ files: the
region between two marker comments, in any language,

    /* [excerpt: parse] */         // [excerpt: parse]         # [excerpt: parse]
    ...                            ...                         ...
    /* [/excerpt: parse] */        // [/excerpt: parse]        # [/excerpt: parse]

is shown (markers dropped, common indentation removed) with a link to the
whole file. `diff` shows how one version of a file became the next. Every
line shown is counted, and so is the notebook's own code: a notebook ends
with `budget(150, "NN_name.ipynb")`, which fails if the source it showed
plus the code of its own cells is more than a reader takes in. Plots and
sentences computed from a run belong in the step's bench.py (tested), not
in the notebook: a cell calls them.

    from excerpt import show, diff, budget
    show("../02_cgo_sum/newmath.c", "fastcall")
"""

from __future__ import annotations

import difflib
import html
import json
import os
import re
import textwrap
from pathlib import Path

__all__ = ["budget", "code_cells", "diff", "displayed", "own_code", "region", "show", "text"]

_MARK = re.compile(r"\[(?P<end>/)?excerpt:\s*(?P<name>[\w.-]+)\s*\]")
_LANG = {".c": "c", ".h": "c", ".go": "go", ".py": "python", ".mk": "makefile",
         "Makefile": "makefile", ".toml": "toml", ".sh": "bash"}
_shown = 0


def region(path: str | os.PathLike, name: str | None = None) -> tuple[str, int, int]:
    """(text, first line, last line) of the named region of path (1-based,
    inclusive), or of the whole file when name is None."""
    lines = Path(path).read_text().splitlines()
    if name is None:
        return "\n".join(lines), 1, len(lines)
    inside, kept, first, last = False, [], None, None
    for number, line in enumerate(lines, 1):
        mark = _MARK.search(line)
        if mark and mark["name"] == name:
            if mark["end"] and inside:
                last = number - 1
                break
            if not mark["end"]:
                inside, first = True, number + 1
            continue
        if mark:  # another region's marker inside this one
            continue
        if inside:
            kept.append(line)
    if first is None or last is None:
        raise LookupError(f"no region [excerpt: {name}] ... [/excerpt: {name}] in {path}")
    return textwrap.dedent("\n".join(kept)).strip("\n"), first, last


def _lang(path: Path) -> str:
    return _LANG.get(path.suffix, _LANG.get(path.name, ""))


def _display(markdown: str, plain: str) -> None:
    try:
        from IPython.display import Markdown, display
    except ImportError:  # outside Jupyter: plain text
        print(plain)
        return
    display(Markdown(markdown))


def text(path: str | os.PathLike, name: str | None = None) -> str:
    """The region's text, without displaying or counting it."""
    return region(path, name)[0]


def show(path: str | os.PathLike, name: str | None = None, *, lang: str | None = None) -> None:
    """Display a region of path (the whole file if name is None), with a link."""
    global _shown
    path = Path(path)
    body, first, last = region(path, name)
    _shown += body.count("\n") + 1
    where = f"{path.name}, lines {first}-{last}" if name else path.name
    link = f"[{html.escape(where)}]({path.as_posix()}#L{first}-L{last})"
    fence = "```"
    _display(f"{link}\n\n{fence}{lang or _lang(path)}\n{body}\n{fence}",
             f"--- {where}\n{body}")


def diff(old: str | os.PathLike, new: str | os.PathLike, name: str | None = None,
         *, context: int = 2) -> None:
    """Display how `old` became `new` (a region of each, or the whole files)."""
    global _shown
    a, b = region(old, name)[0].splitlines(), region(new, name)[0].splitlines()
    lines = list(difflib.unified_diff(a, b, str(old), str(new), n=context, lineterm=""))
    _shown += len(lines)
    body = "\n".join(lines) or "(no difference)"
    _display(f"```diff\n{body}\n```", body)


def displayed() -> int:
    """Lines of source shown so far in this process."""
    return _shown


def code_cells(notebook: str | os.PathLike) -> list[list[str]]:
    """The non-blank lines of each code cell of a notebook (.ipynb)."""
    cells = json.loads(Path(notebook).read_text())["cells"]
    return [[line for line in "".join(c["source"]).splitlines() if line.strip()]
            for c in cells if c["cell_type"] == "code"]


def own_code(notebook: str | os.PathLike) -> int:
    """Lines of the notebook's own code: every non-blank line of its code cells."""
    return sum(len(cell) for cell in code_cells(notebook))


def budget(lines: int, notebook: str | os.PathLike | None = None) -> None:
    """Fail if this notebook showed more than `lines` lines of source, counting
    the excerpts shown so far and, given the notebook's file, its own code."""
    own = own_code(notebook) if notebook is not None else 0
    if _shown + own > lines:
        raise AssertionError(f"this notebook shows {_shown} lines of excerpts and {own} of its "
                             f"own code, more than its budget of {lines}: show excerpts, not "
                             "files, and call tested helpers (bench.py) instead of writing "
                             "plots and sentences in cells")
    print(f"source in this notebook: {_shown} lines of excerpts + {own} of its own code = "
          f"{_shown + own} (budget {lines})")
