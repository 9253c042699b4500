"""A step README's "What you'll see" block is the real output of `make demo`.

    python common/readme_demo.py 03_cgo_strings           rewrite the block
    python common/readme_demo.py --check 03_cgo_strings   exit 1 if it drifted

The block is the fenced text between `<!-- demo output -->` and
`<!-- /demo output -->` in the step's README.md. The comparison ignores what
changes from run to run or machine to machine by nature: durations, rates
and ratios (0.42 s, 18.3 images/s, 1.95 cores, 158x), output sizes
(877.8 KiB, (96%): they follow the codecs' versions) and the checkout's own
path. test_readmes.py runs the check for every step, so a README never shows
output the code no longer prints.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"(<!-- demo output -->\n```text\n)(?P<body>.*?)(```\n<!-- /demo output -->)",
                   re.S)
_VARIES = re.compile(r"\d+(?:\.\d+)?(?:\s?(?:ns|µs|us|ms|s|min)\b|\s?images/s\b|\s?cores?\b|x\b)")
# Output sizes depend on the versions of the codecs installed (libjpeg-turbo,
# libimagequant, Pillow): step 06's byte counts and savings are masked too.
_SIZES = re.compile(r"\d+(?:\.\d+)?\s?(?:B|[KMG]i?B)\b|\(\d+%\)")


def demo_output(step: Path, python: str = sys.executable) -> str:
    """What `make demo` prints in step (make's own messages excluded)."""
    proc = subprocess.run(["make", "-s", "--no-print-directory", "-C", str(step), "demo",
                           f"PYTHON={python}"], capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        raise RuntimeError(f"make demo failed in {step.name}:\n{proc.stdout}{proc.stderr}")
    return proc.stdout.replace(str(ROOT), "…")


def normalise(text: str) -> str:
    """Mask what legitimately changes between runs."""
    return _SIZES.sub("…", _VARIES.sub("…", text))


def block(step: Path) -> str:
    match = BLOCK.search((step / "README.md").read_text())
    if match is None:
        raise LookupError(f"{step.name}/README.md has no <!-- demo output --> block")
    return match["body"]


def update(step: Path) -> None:
    readme = step / "README.md"
    text = readme.read_text()
    if BLOCK.search(text) is None:
        raise LookupError(f"{readme} has no <!-- demo output --> block")
    new = BLOCK.sub(lambda m: m[1] + demo_output(step) + m[3], text, count=1)
    readme.write_text(new)


def main(argv: list[str]) -> int:
    check = "--check" in argv
    steps = [ROOT / a for a in argv if not a.startswith("--")]
    status = 0
    for step in steps:
        if not check:
            update(step)
            print(f"updated {step.name}/README.md")
        elif normalise(block(step)) != normalise(demo_output(step)):
            print(f"{step.name}/README.md: the demo block differs from `make demo`")
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
