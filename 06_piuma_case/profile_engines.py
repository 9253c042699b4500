"""make profile: where does each engine spend its time?

    python profile_engines.py --go-binary build/piumaprof [--src DIR] [--repeat N]

Python engine: cProfile around the engine's batch function, run in this
thread (optimize_dir runs batches in a worker thread, which cProfile would not
see), one worker, the bench's settings. Report: build/profile/python.txt
(pstats, top functions by own time and by cumulative time), raw data in
build/profile/python.prof (open it with snakeviz or pstats).

Go engine: cmd/piumaprof, a separate Go main running the same engine package
with runtime/pprof on (the Go core inside Python could not be profiled by
cProfile, and a plain Go binary gives pprof its symbols). Report:
build/profile/go.txt from `go tool pprof -top`, raw profile build/profile/go.pprof.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "build" / "profile"


def profile_python(src: Path, dst: Path, repeat: int) -> str:
    sys.path.insert(0, str(HERE))
    from piuma import _pyengine

    opts = _pyengine.Options(width=800, height=800, quality=85, max_pixels=89_478_485,
                             draft=True, optimize=False, jpegoptim=None, pngquant=None)
    _pyengine.run(str(src), str(dst), opts, 1, _pyengine.Progress())  # warm-up
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(repeat):
        _pyengine.run(str(src), str(dst), opts, 1, _pyengine.Progress())
    prof.disable()
    prof.dump_stats(OUT / "python.prof")
    text = io.StringIO()
    stats = pstats.Stats(prof, stream=text).strip_dirs()
    text.write("== by own time (tottime)\n")
    stats.sort_stats("tottime").print_stats(12)
    text.write("== by cumulative time\n")
    stats.sort_stats("cumulative").print_stats(12)
    return text.getvalue()


def profile_go(binary: Path, src: Path, dst: Path, repeat: int) -> str:
    prof = OUT / "go.pprof"
    subprocess.run([str(binary), "-src", str(src), "-dst", str(dst), "-workers", "1",
                    "-repeat", str(repeat), "-cpuprofile", str(prof)], check=True)
    top = subprocess.run(["go", "tool", "pprof", "-top", "-nodecount=20", str(binary),
                          str(prof)], capture_output=True, text=True, check=True)
    return top.stdout


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--go-binary", type=Path, default=HERE / "build" / "piumaprof")
    ap.add_argument("--src", type=Path, default=HERE / "build" / "images" / "products")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="piuma-profile-"))
    try:
        py = profile_python(args.src.resolve(), work / "py", args.repeat)
        (OUT / "python.txt").write_text(py)
        print("==== Python engine (cProfile, 1 worker) ====")
        print(py)
        go = profile_go(args.go_binary.resolve(), args.src.resolve(), work / "go", args.repeat)
        (OUT / "go.txt").write_text(go)
        print("==== Go engine (pprof, cmd/piumaprof, 1 worker) ====")
        print(go)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"reports: {OUT.relative_to(HERE)}/python.txt, go.txt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
