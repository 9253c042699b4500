"""Both engines over a corpus nobody here made: Pillow's own test images.

    python corpus_table.py --extract pillow-X.Y.Z.tar.gz build/corpus   (make corpus)
    python corpus_table.py build/corpus                                  the table

Every .jpg/.jpeg/.png of Pillow's source release (real-world files, broken
ones, PngSuite-style ones, fuzzer finds) goes through both engines, fitted in
300x300 without optimisers (the optimisers' choices are compared elsewhere).
The table counts the outcomes of each engine (its category) and, where both
converted a file, how close the pictures are (PSNR, colour premultiplied).
"""

from __future__ import annotations

import os
import sys
import tarfile
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import piuma
from PIL import Image


def extract(archive: str, out: Path) -> int:
    """The JPEG and PNG files of a source release, flattened into out."""
    out.mkdir(parents=True, exist_ok=True)
    n = 0
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            if member.isfile() and piuma.is_image_name(member.name):
                data = tar.extractfile(member).read()
                (out / member.name.split("/", 1)[1].replace("/", "__")).write_bytes(data)
                n += 1
    return n


def _pixels(path: str) -> np.ndarray:
    with Image.open(path) as im:
        a = np.asarray(im.convert("RGBA"), dtype=np.float64)
    a[..., :3] *= a[..., 3:] / 255
    return a


@dataclass
class Table:
    files: int = 0
    same_outcome: int = 0
    outcomes: Counter = field(default_factory=Counter)  # (go, python) -> files
    psnr: list[float] = field(default_factory=list)
    low_psnr: list[tuple[str, float]] = field(default_factory=list)
    differ: list[tuple[str, str | None, str | None]] = field(default_factory=list)

    def text(self) -> str:
        lines = [f"{self.files} files, {self.same_outcome} with the same outcome in both engines",
                 f"{'go engine':<20} {'python engine':<20} files"]
        for (g, p), n in sorted(self.outcomes.items(), key=lambda kv: -kv[1]):
            lines.append(f"{g or 'ok':<20} {p or 'ok':<20} {n}")
        if self.psnr:
            q = np.percentile(self.psnr, [0, 50, 100])
            lines.append(f"both converted {len(self.psnr)}: PSNR go vs python, min {q[0]:.1f} "
                         f"dB, median {q[1]:.1f} dB, max {q[2]:.1f} dB")
        lines += [f"  differs: {name}: go {g}, python {p}" for name, g, p in self.differ]
        lines += [f"  low PSNR: {name}: {v:.1f} dB" for name, v in self.low_psnr]
        return "\n".join(lines)


def compare(corpus: Path, work: Path, min_psnr: float = 30.0) -> Table:
    runs = {}
    for engine in ("go", "python"):
        results = piuma.optimize_dir(corpus, work / engine, engine=engine, width=300,
                                     height=300, optimize=False)
        runs[engine] = {os.path.basename(r.source): r for r in results}
    t = Table()
    for name, g in runs["go"].items():
        p = runs["python"][name]
        t.files += 1
        t.outcomes[g.category, p.category] += 1
        if g.category == p.category:
            t.same_outcome += 1
        else:
            t.differ.append((name, g.error, p.error))
        if g.ok and p.ok:
            a, b = _pixels(g.destination), _pixels(p.destination)
            mse = float(np.mean((a - b) ** 2)) if a.shape == b.shape else 255.0**2
            v = 99.0 if mse == 0 else 10 * np.log10(255**2 / mse)
            t.psnr.append(v)
            if v < min_psnr:
                t.low_psnr.append((name, v))
    return t


def main(argv: list[str]) -> int:
    if len(argv) == 4 and argv[1] == "--extract":
        print(f"{extract(argv[2], Path(argv[3]))} files in {argv[3]}")
        return 0
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as work:
        print(compare(Path(argv[1]), Path(work)).text())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
