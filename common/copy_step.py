"""Copy one step into a project of your own: the files its README lists.

    python common/copy_step.py 03_cgo_strings ~/src/myproject

Each step README has a "Copying this step" section with three blocks:

    <!-- copy: files -->   the files to take, one a line ("path  what it is");
                           common/... paths go to a common/ folder in the copy
    <!-- copy: build -->   the shell commands that build it there, without this
                           repository's Makefiles
    <!-- copy: check -->   the command that shows it works

This script copies exactly the listed files and prints the two blocks to run.
test_copy_steps.py copies every step into a temporary folder outside the
repository, runs the build block there, then the check block.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_BLOCK = r"<!-- copy: {} -->\n```\w*\n(?P<body>.*?)```\n"


def block(step: Path, name: str) -> str:
    """The text of the README's <!-- copy: NAME --> block."""
    text = (step / "README.md").read_text()
    match = re.search(_BLOCK.format(re.escape(name)), text, re.S)
    if match is None:
        raise LookupError(f"{step.name}/README.md has no <!-- copy: {name} --> block")
    return match["body"]


def files(step: Path) -> list[str]:
    """The paths of the files block (first word of each line), as written."""
    return [line.split()[0] for line in block(step, "files").splitlines() if line.strip()]


def copy(step: Path, dest: Path) -> list[Path]:
    """Copy the listed files of step into dest (common/... into dest/common/)."""
    copied = []
    for path in files(step):
        source = (ROOT if path.startswith("common/") else step) / path
        target = dest / path
        if not source.exists():
            raise FileNotFoundError(f"{step.name}/README.md lists {path}, which does not exist")
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            # A package folder: its sources, not build outputs or caches.
            shutil.copytree(source, target, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.a", "build",
                                                          "lib*_core.h"))  # cgo's, generated
        else:
            shutil.copy2(source, target)
        copied.append(target)
    return copied


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    step, dest = (ROOT / argv[0]).resolve(), Path(argv[1]).expanduser().resolve()
    for target in copy(step, dest):
        print(f"copied {target}")
    print(f"\nthen, in {dest}:\n\n{block(step, 'build')}\n{block(step, 'check')}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
