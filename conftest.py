"""One step, one interpreter: the root test harness.

Every Go-backed extension carries its own Go runtime and Go supports one
runtime per process (golang/go#65050, golang/go#18976). So a root `pytest`
never imports a step's module itself. For each step folder it:

1. builds the step (`make -C <step>` with this interpreter) while collecting,
2. adds an item for the step's Go checks (`make -C <step> gocheck`),
3. asks a child interpreter for the step's test ids (`--collect-only`),
4. runs all the selected tests of that step in ONE child interpreter
   (environment EPG_STEP=<step>) and reports each child result as its own
   item here: pass, fail (with the child's traceback), skip, xfail.

A child that crashes (a Go panic, a segfault) fails the tests it had not
finished, with its exit status and output; a step that does not build is one
failed item with the compiler's output; either way the other steps still run.
Notebooks are run by nbmake, each in its own kernel process.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
STEP_ENV = "EPG_STEP"
REPORT_ENV = "EPG_STEP_REPORT"
CHILD_TIMEOUT = 3600  # seconds; a hung step must not hang CI forever

# jupyter_core warns (DeprecationWarning, an error here) unless this is set.
os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")

# Jupyter is not installed on a free-threaded CPython 3.13 (see
# requirements-free-threaded.txt): its notebooks are reported as skipped, not
# silently missing.
NO_JUPYTER = importlib.util.find_spec("nbmake") is None


def _step_of(path: Path) -> Path | None:
    """The step folder (NN_name/ with a Makefile) that holds path, if any."""
    path = Path(path).resolve()
    for candidate in (path, *path.parents):
        if candidate.parent == ROOT and candidate.name[:2].isdigit():
            return candidate if (candidate / "Makefile").is_file() else None
    return None


def _tail(text: str, lines: int = 60) -> str:
    return "\n".join(text.splitlines()[-lines:])


class StepFailure(Exception):
    """A failure reported by a step's own interpreter (text already formatted)."""


def _make(step: Path, *targets: str, tail: int = 60) -> None:
    """`make -C step [targets]` with this interpreter; StepFailure with its output."""
    cmd = ["make", "--no-print-directory", "-C", str(step), *targets,
           f"PYTHON={sys.executable}"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise StepFailure(f"`{' '.join(cmd)}` failed ({proc.returncode}):\n"
                          + _tail(proc.stdout + proc.stderr, tail))


class _ShowsStepFailure:
    """Report a StepFailure as its text alone, not as a harness traceback."""

    def repr_failure(self, excinfo):
        if excinfo.errisinstance(StepFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo)


# --------------------------------------------------------------------------
# Child mode: inside one step's interpreter, report every result as JSON.
# --------------------------------------------------------------------------
if os.environ.get(STEP_ENV):

    def pytest_runtest_logreport(report: pytest.TestReport) -> None:
        report_path = os.environ.get(REPORT_ENV)
        if not report_path:
            return
        if report.skipped and isinstance(report.longrepr, tuple):
            file, lineno, reason = report.longrepr  # where the child skipped
            text = f"{file}:{lineno + 1}: {reason}"
        else:
            text = report.longreprtext
        record = {
            "nodeid": report.nodeid,
            "when": report.when,
            "outcome": report.outcome,
            "text": text,
            "wasxfail": getattr(report, "wasxfail", None),
            "duration": report.duration,
        }
        with open(report_path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")

# --------------------------------------------------------------------------
# Root mode: one StepFile per step folder, one item per child test.
# --------------------------------------------------------------------------
else:

    def pytest_ignore_collect(collection_path: Path, config: pytest.Config):
        step = _step_of(collection_path)
        if step is None or collection_path.resolve() in (step, step / "Makefile"):
            return None
        return True  # the step's own files are collected by its interpreter

    def pytest_configure(config: pytest.Config) -> None:
        # Notebooks run through nbmake wherever it is installed (make test-cgocheck2
        # turns it off with -p no:nbmake).
        if config.pluginmanager.hasplugin("nbmake"):
            config.option.nbmake = True

    def pytest_collect_file(file_path: Path, parent: pytest.Collector):
        if file_path.name == "Makefile" and _step_of(file_path) == file_path.parent:
            return StepFile.from_parent(parent, path=file_path)
        if file_path.suffix == ".ipynb" and NO_JUPYTER:
            return UnrunnableNotebook.from_parent(parent, path=file_path)
        return None

    def pytest_cmdline_main(config: pytest.Config):
        """`pytest 03_cgo_strings/test_cgo_strings.py::test_x` names a step's
        own file: run the whole command in that step's interpreter instead of
        importing the step's Go core into this one."""
        here = config.invocation_params.dir
        inside = {}
        for arg in config.args:
            path = (here / arg.split("::")[0]).resolve()
            step = _step_of(path)
            inside[arg] = step if step is not None and path != step else None
        steps = {step for step in inside.values() if step is not None}
        if not steps:
            return None
        if len(steps) > 1 or None in inside.values():
            raise pytest.UsageError(
                "each step's tests run in their own interpreter (one Go runtime per "
                "process): name files of one step at a time, or whole step folders")
        (step,) = steps
        try:
            _make(step)
        except StepFailure as exc:
            raise pytest.UsageError(str(exc)) from None
        capture = config.pluginmanager.getplugin("capturemanager")
        if capture is not None:
            capture.suspend_global_capture(in_=True)
        child = subprocess.run([sys.executable, "-m", "pytest", *config.invocation_params.args],
                               cwd=here, env=_child_env(step))
        return child.returncode

    def pytest_sessionfinish(session: pytest.Session) -> None:
        # The harness itself must never have loaded a Go runtime.
        try:
            from go_runtimes import go_runtimes  # common/ is on pytest's pythonpath
        except ImportError:  # a repository without it (test_harness.py's fake one)
            return
        if sys.platform.startswith("linux") and (loaded := go_runtimes()):
            session.exitstatus = pytest.ExitCode.INTERNAL_ERROR  # pragma: no cover
            print(f"\nroot pytest process loaded a Go runtime: {loaded}", file=sys.stderr)


def _child_env(step: Path, report: str | None = None) -> dict[str, str]:
    env = dict(os.environ, **{STEP_ENV: step.name})
    env.pop(REPORT_ENV, None)
    if report:
        env[REPORT_ENV] = report
    return env


class StepFile(_ShowsStepFailure, pytest.File):
    """A step folder, seen through its Makefile."""

    def collect(self):
        # A step that does not build (or collect) is one failed item, not a
        # collection error: pytest would stop the whole session for that.
        step = self.path.parent
        try:
            _make(step)
        except StepFailure as exc:
            yield BrokenStepItem.from_parent(self, name="[build]", failure=exc)
            return
        if (step / "go.mod").is_file():
            yield GoCheckItem.from_parent(self, name="[go: gofmt, vet, test]")

        listing = subprocess.run(
            [sys.executable, "-m", "pytest", "--collect-only", "-q",
             "-p", "no:cacheprovider", str(step)],
            cwd=ROOT, env=_child_env(step), capture_output=True, text=True,
        )
        ids = [line.strip() for line in listing.stdout.splitlines() if "::" in line]
        if listing.returncode not in (0, 5) or (listing.returncode == 0 and not ids):
            failure = StepFailure(f"collecting {step.name} in its interpreter failed "
                                  f"({listing.returncode}):\n"
                                  + _tail(listing.stdout + listing.stderr))
            yield BrokenStepItem.from_parent(self, name="[collect]", failure=failure)
            return
        for nodeid in ids:
            # Reported under the child's own node id (file::test).
            yield StepTestItem.from_parent(self, name=nodeid.split("::", 1)[1],
                                           nodeid=nodeid, child_id=nodeid)

    def child_results(self) -> dict[str, dict]:
        """Run this step's selected tests once, in one child interpreter."""
        cached = getattr(self, "_results", None)
        if cached is not None:
            return cached
        step = self.path.parent
        selected = [item.child_id for item in self.session.items
                    if isinstance(item, StepTestItem) and item.parent is self]
        fd, report = tempfile.mkstemp(prefix=f"{step.name}-", suffix=".jsonl")
        os.close(fd)
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                 *selected],
                cwd=ROOT, env=_child_env(step, report), capture_output=True,
                text=True, timeout=CHILD_TIMEOUT,
            )
            status, output = proc.returncode, proc.stdout + proc.stderr
        except subprocess.TimeoutExpired as exc:
            status = f"timeout after {CHILD_TIMEOUT}s"
            output = exc.stdout or ""  # bytes here, even with text=True
            if isinstance(output, bytes):
                output = output.decode(errors="replace")
        results: dict[str, dict] = {}
        with open(report, encoding="utf-8") as fh:
            for line in fh:
                rec = json.loads(line)
                results.setdefault(rec["nodeid"], {})[rec["when"]] = rec
        os.unlink(report)
        self._results = results
        self._child_status = status
        self._child_output = output
        return results


class UnrunnableNotebook(pytest.File):
    """A notebook on an interpreter without Jupyter: one skipped item."""

    def collect(self):
        yield SkippedNotebook.from_parent(self, name=self.path.name)


class SkippedNotebook(pytest.Item):
    def runtest(self):
        pytest.skip("Jupyter is not installed for this interpreter: on a free-threaded "
                    "CPython 3.13 it cannot be (jupyter_server needs argon2-cffi, and CFFI "
                    "supports free-threaded builds only from CPython 3.14)")

    def reportinfo(self):
        return self.path, None, self.name


class _StepLevelItem(_ShowsStepFailure, pytest.Item):
    """An item about the whole step rather than one of its tests."""

    def reportinfo(self):
        return self.path, None, f"{self.path.parent.name} {self.name}"


class BrokenStepItem(_StepLevelItem):
    """Stands for a step that did not build or collect; fails with why."""

    def __init__(self, *, failure: StepFailure, **kwargs):
        super().__init__(**kwargs)
        self.failure = failure

    def runtest(self):
        raise self.failure


class GoCheckItem(_StepLevelItem):
    def runtest(self):
        _make(self.path.parent, "gocheck", tail=80)


class StepTestItem(_ShowsStepFailure, pytest.Item):
    def __init__(self, *, child_id: str, **kwargs):
        super().__init__(**kwargs)
        self.child_id = child_id

    def runtest(self):
        parent: StepFile = self.parent
        phases = parent.child_results().get(self.child_id)
        if not phases or "teardown" not in phases:
            raise StepFailure(
                f"{self.child_id} did not finish: the step's interpreter exited "
                f"with status {parent._child_status}.\n"
                + _tail(parent._child_output)
            )
        for when in ("setup", "call", "teardown"):
            rec = phases.get(when)
            if rec is None:
                continue
            if rec["outcome"] == "failed":
                raise StepFailure(f"[{when}] {rec['text']}")
            if rec["outcome"] == "skipped":
                if rec["wasxfail"] is not None:
                    pytest.xfail(rec["wasxfail"] or rec["text"])
                pytest.skip(rec["text"])

    def reportinfo(self):
        file = self.child_id.split("::", 1)[0]
        return ROOT / file, None, self.name
