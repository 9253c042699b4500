"""What every notebook does the same way, so that its cells stay short.

    import sys; sys.path.insert(0, "../common")
    import nb
    STEP = nb.step("02_cgo_sum")   # build it with this kernel's Python; print the build
    nb.outcomes(["sum(5, 4)", "sum(2**63, 0)"], {"sum": newmath.sum})
    nb.child("import hello; print(hello.say_hello('Go'))", cwd=STEP / "v2_leak")

A step's own plots and sentences (computed from its benchmark's runs) live
in its bench.py, tested; this module holds what several steps share, tested
by test_notebook_helpers.py. Paths are printed relative to the repository
("..", as seen from notebooks/).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import os
import signal
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ERRORS = (TypeError, ValueError, OverflowError, ImportError, UnicodeEncodeError, RuntimeError)


def here(text: object) -> str:
    """text with the repository's path shown as ".." (as from notebooks/)."""
    return str(text).replace(str(ROOT), "..")


def step(name: str, *targets: str, show: tuple[str, ...] = ("CGO_", "cc "),
         width: int = 86, paths: tuple[str, ...] = ()) -> Path:
    """Build step `name` with this interpreter (quietly), put it, its
    subfolders `paths` and common/ on sys.path, and print the commands `make`
    runs for `targets` (all of them if none): the lines starting with one of
    `show`."""
    folder = ROOT / name
    make = ["make", "--no-print-directory", "-C", str(folder), f"PYTHON={sys.executable}"]
    subprocess.run(make, check=True, capture_output=True)
    for path in (str(ROOT / "common"), *(str(folder / p) for p in paths), str(folder)):
        if path not in sys.path:
            sys.path.insert(0, path)
    commands = subprocess.run([*make, "-n", "-B", *targets], check=True, capture_output=True,
                              text=True).stdout.splitlines()
    for line in commands:
        if line.startswith(show):
            print(" \\\n    ".join(textwrap.wrap(here(line), width, break_on_hyphens=False)))
    return folder


def ext_suffix() -> str:
    """This interpreter's extension-module suffix (.cpython-311-x86_64-linux-gnu.so)."""
    return sysconfig.get_config_var("EXT_SUFFIX")


def go_runtimes() -> list[str]:
    """The files mapped in this process that carry a Go runtime (go_runtimes.py)."""
    from go_runtimes import go_runtimes as mapped

    return mapped()


def load(name: str, folder: Path):
    """Import module `name` from `folder` under its own name, beside any module
    of that name already imported (its exec slot runs: a Go-backed module's
    loads its Go core there, or refuses with ImportError)."""
    spec = importlib.machinery.PathFinder.find_spec(name, [str(folder)])
    if spec is None:
        raise ImportError(f"no module {name} in {here(folder)}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def outcomes(calls: list[str], namespace: dict, width: int = 30) -> None:
    """Evaluate each call; print its result, or the exception it raised."""
    for call in calls:
        try:
            outcome = repr(eval(call, dict(namespace)))
        except ERRORS as exc:
            outcome = f"{type(exc).__name__}: {here(exc)}"
        print(f"{call:<{width}} -> {outcome}")


def exit_status(returncode: int) -> str:
    """How a child process ended, in words."""
    if returncode < 0:
        return f"killed by {signal.Signals(-returncode).name}"
    return f"exit status {returncode}"


def child(code: str | None = None, *, args: list[str] | None = None, cwd: Path = ROOT,
          env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run this interpreter on `code` (or on `args`) in another process: each
    Go-backed module carries a Go runtime, and a process holds only one.
    GODEBUG is removed (cgocheck=0 there would hide the pointer checks)."""
    base = {k: v for k, v in os.environ.items() if k not in ("GODEBUG", "EPG_GO_PANIC")}
    argv = [sys.executable, *(["-c", code] if code is not None else args or [])]
    return subprocess.run(argv, cwd=cwd, env={**base, **(env or {})}, capture_output=True,
                          text=True, timeout=timeout)


def child_json(code: str | None = None, **kwargs) -> dict:
    """child(...) whose output is one JSON object: that object (RuntimeError
    with its stderr if the child failed)."""
    proc = child(code, **kwargs)
    if proc.returncode != 0:
        raise RuntimeError(f"the child failed ({exit_status(proc.returncode)}):\n"
                           + here(proc.stderr[-3000:]))
    return json.loads(proc.stdout)


def in_panic_build(folder: Path, code: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `code` in a child, inside the copy of `folder`'s step built with
    gopanic's test hook live (`make panic-build`: build/epgpanic/, where
    EPG_GO_PANIC=<Go function> makes that export panic)."""
    subprocess.run(["make", "--no-print-directory", "-C", str(folder), "panic-build",
                    f"PYTHON={sys.executable}"], check=True, capture_output=True)
    tree = folder / "build" / "epgpanic" / folder.name
    return child(code, cwd=tree, env={"PYTHONPATH": str(ROOT / "common")}, timeout=timeout)


def go_run(program: str) -> str:
    """`go run` a one-file Go program; its output."""
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "main.go").write_text(program)
        return subprocess.run(["go", "run", "main.go"], cwd=tmp, capture_output=True,
                              text=True, check=True).stdout


def compare(x: list[float], y: list[float]) -> str:
    """How runs x did against runs y (times: lower is faster): faster or slower
    when the minimum and the median agree, else not clearly different."""
    low, mid = min(x) < min(y), statistics.median(x) < statistics.median(y)
    if low and mid:
        return "faster than"
    if not (low or mid):
        return "slower than"
    return "not clearly different from"


def runs_plot(ax, runs: dict[str, list[float]], unit: str, *, log: bool = False) -> None:
    """One row per engine: a diamond at its fastest run, a dot for every run,
    a line at the median, and the figures beside them."""
    for i, values in enumerate(runs.values()):
        low, mid = min(values), statistics.median(values)
        ax.plot([low], [i], "D", color="C0", markersize=7)
        ax.plot(values, [i + 0.15 * ((k % 3) - 1) for k in range(len(values))], "o",
                color="C0", markersize=3.5, alpha=0.7)
        ax.plot([mid] * 2, [i - 0.38, i + 0.38], color="k", linewidth=1.2)
        digits = 0 if low >= 10 else 1 if low >= 1 else 2
        ax.annotate(f"{low:.{digits}f} {unit} (median {mid:.{digits}f})", (max(values), i),
                    xytext=(8, 0), textcoords="offset points", va="center", fontsize=9)
    ax.set_yticks(range(len(runs)), list(runs))
    ax.invert_yaxis()
    high = max(max(v) for v in runs.values())
    if log:
        ax.set_xscale("log")
        ax.set_xlim(min(min(v) for v in runs.values()) * 0.6, high * 10)
    else:
        ax.set_xlim(0, high * 1.5)


def say(lines: list[str]) -> None:
    """Sentences computed from a run, as a bulleted list."""
    text = "\n".join(f"- {line}" for line in lines)
    try:
        from IPython.display import Markdown, display
    except ImportError:  # outside Jupyter
        print(text)
        return
    display(Markdown(text))
