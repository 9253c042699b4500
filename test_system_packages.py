"""One source of truth for system packages, and no archive host written down.

common/check-system.sh holds the list, per distribution; `make` and .ci/run
both run it, so CI installs exactly what a reader's machine is checked for.
common/free-threaded-python.sh takes CPython's source from the machine's own
package sources, and its build packages from check-system.sh.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
CHECK = ROOT / "common" / "check-system.sh"


def listed(group: str, distribution: str) -> list[str]:
    out = subprocess.run(["bash", str(CHECK), "--list", group, distribution],
                         capture_output=True, text=True, check=True).stdout
    return out.split()


def tracked_files() -> list[Path]:
    out = subprocess.run(["git", "-C", str(ROOT), "ls-files"], capture_output=True, text=True)
    if out.returncode != 0:  # not a git checkout: every file but build outputs
        return [p for p in ROOT.rglob("*") if p.is_file() and ".venv" not in p.parts
                and "build" not in p.parts and ".git" not in p.parts]
    return [ROOT / line for line in out.stdout.splitlines() if (ROOT / line).is_file()]


@pytest.mark.parametrize(("distribution", "jpeg"), [("debian", "libjpeg62-turbo-dev"),
                                                    ("ubuntu", "libjpeg-turbo8-dev")])
def test_one_list_per_distribution(distribution, jpeg):
    packages = listed("workshop", distribution)
    for name in ("build-essential", "python3-dev", "python3-venv", "pngquant", "jpegoptim",
                 jpeg, "libspng-dev", "libimagequant-dev", "libjpeg-turbo-progs"):
        assert name in packages, (distribution, name, packages)
    assert len(packages) == len(set(packages))
    assert "libssl-dev" in listed("cpython-build", distribution)


def test_homebrew_has_its_own_names():
    assert set(listed("workshop", "brew")) >= {"pngquant", "jpegoptim", "jpeg-turbo", "libspng",
                                                "libimagequant"}


def test_ci_and_make_install_through_the_one_list():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "common/check-system.sh" in ci
    assert not re.search(r"apt-get\s+install|\bbrew\s+install", ci), "CI names no package"
    assert "./common/check-system.sh" in (ROOT / "Makefile").read_text()
    ft = (ROOT / "common" / "free-threaded-python.sh").read_text()
    assert "check-system.sh\" cpython-build" in ft
    assert not re.search(r"apt-get\s+install", ft)


def test_no_other_file_names_system_packages():
    names = set(listed("workshop", "debian")) | set(listed("workshop", "ubuntu"))
    names -= {"make", "pngquant", "jpegoptim"}  # also the names of the tools themselves
    found = []
    for path in tracked_files():
        rel = path.relative_to(ROOT)
        if path == CHECK or rel.name.startswith("test_"):
            continue
        try:
            text = path.read_text()
        except (UnicodeDecodeError, OSError):
            continue
        found += [f"{rel}: {name}" for name in names if re.search(rf"\b{re.escape(name)}\b",
                                                                   text)]
    assert not found, found


def test_no_archive_host_is_written_down():
    host = re.compile(r"\b(deb|security|archive|ports)\.(debian|ubuntu)\.(org|com)\b|"
                      r"ppa\.launchpad|snapshot\.debian\.org|^\s*deb(-src)?\s+\S*https?://",
                      re.M)
    hits = [str(p.relative_to(ROOT)) for p in tracked_files()
            if p.suffix not in {".png", ".jpg", ".so"} and host.search(
                p.read_text(errors="replace"))]
    assert not hits, hits


STEPS = sorted(p.name for p in ROOT.glob("0[1-6]_*") if (p / "Makefile").is_file())


@pytest.mark.parametrize("step", STEPS)
def test_a_python_that_does_not_run_is_named_and_clean_keeps_the_sources(step):
    """make PYTHON=x, where x does not run (not on PATH, a dangling venv):
    the build stops and names it; clean still works (a broken venv must be
    removable) and names no source: with an empty EXT_SUFFIX, 05's clean
    removed its countdown/ and cloop/ folders."""
    build = subprocess.run(["make", "-C", str(ROOT / step), "PYTHON=/nonexistent/python"],
                           capture_output=True, text=True)
    assert build.returncode != 0
    assert "/nonexistent/python does not run a Python" in build.stderr
    dry = subprocess.run(["make", "-n", "-C", str(ROOT / step), "PYTHON=/nonexistent/python",
                          "clean"], capture_output=True, text=True)
    assert dry.returncode == 0, dry.stderr
    sources = {str(p.relative_to(ROOT / step)) for p in tracked_files()
               if (ROOT / step) in p.parents}
    folders = {str(Path(s).parent) for s in sources} - {"."}
    removed = set(dry.stdout.split())
    assert not removed & (sources | folders), removed & (sources | folders)
