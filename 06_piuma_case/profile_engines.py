"""make profile: where does each engine spend its time, stage by stage?

    python profile_engines.py --go-binary build/piumaprof [--src DIR] [--repeat N]

Four pipelines, one worker each, the bench's settings (fit in 800x800,
quality 85, draft), optimisers on:

- Python engine, the talk's pipeline (Pillow, then jpegoptim / pngquant) and
  in process (Pillow optimize=True, libimagequant): cProfile around the
  engine's batch function, run in this thread (optimize_dir runs batches in
  a worker thread, which cProfile would not see), timing with process CPU
  time. Reports: build/profile/python-<optimizer>.txt (pstats: top functions
  by own and by cumulative time), raw data python-<optimizer>.prof.
- Go engine, in process and with the tools: cmd/piumaprof, a separate Go
  main running the same engine package with runtime/pprof on (the Go core
  inside Python could not be profiled by cProfile, and a plain Go binary
  gives pprof its symbols). Reports: build/profile/go-<optimizer>.txt
  (`go tool pprof -top`), raw profiles go-<optimizer>.pprof.

Then one table: CPU milliseconds per image in each stage (decode, resize,
encode, optimise), summed from the profiles' cumulative times of the
functions that do each stage (STAGES below). A profile sees its own process
only: the tools' CPU (jpegoptim, pngquant) is taken from getrusage instead.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "build" / "profile"
STAGE_NAMES = ("decode", "resize", "encode", "optimise")

# Stage -> the functions whose cumulative time is that stage. Python: pstats
# keys (file name, function name), matched on both. Go: pprof function names.
PY_STAGES = {
    # Image.load (the decoders, draft included) and the mode conversions right
    # after it (CMYK/palette/gray to RGB/RGBA).
    "decode": [("ImageFile.py", "load"), ("_pyengine.py", "_png_mode")],
    "resize": [("Image.py", "resize"), ("Image.py", "transpose")],
    # Pillow's encoders, called by _pyengine.convert (JPEG: with optimised
    # Huffman tables in process: that pass is part of the encode).
    "encode": [("_pyengine.py", "convert", "Image.py", "save")],
    "optimise": [("_pyoptimize.py", "optimize_png")],  # + the tools' CPU
}
GO_STAGES = {
    "decode": ["engine.(*turbo).decode", "engine._Cfunc_piuma_tj_planes", "engine.libjpegDecode",
               "engine.decodeLossless", "engine.scanPNG", "engine.pngFast", "image/png.Decode",
               "image/jpeg.Decode"],
    "resize": ["engine.(*converter).resample", "engine.orient", "engine.premultiply",
               "engine.unpremultiply"],
    # libjpeg (with optimize_coding in process: that pass is part of the
    # encode) and the true-colour PNG (in process: only as far as the
    # --skip-if-larger rule needs it).
    "encode": ["engine.jpegCompress", "engine.pngTrueColor", "image/jpeg.Encode"],
    "optimise": ["engine.quantize", "engine.pngPaletted", "engine.optimize"],
}


def children_cpu() -> float:
    t = os.times()
    return t.children_user + t.children_system


def profile_python(src: Path, dst: Path, repeat: int, optimizer: str) -> tuple[str, dict]:
    sys.path.insert(0, str(HERE))
    import piuma
    from piuma import _pyengine

    tools = {}
    if optimizer == "tools":
        tools = dict(jpegoptim=shutil.which("jpegoptim"), pngquant=shutil.which("pngquant"))
    opts = _pyengine.Options(width=800, height=800, quality=85, max_pixels=piuma.MAX_PIXELS,
                             draft=True, optimize=True, jpegoptim=tools.get("jpegoptim"),
                             pngquant=tools.get("pngquant"), optimizer=optimizer)
    _pyengine.run(str(src), str(dst), opts, 1, _pyengine.Progress())  # warm-up
    prof = cProfile.Profile(time.process_time)
    files = 0
    cpu0, tools0 = time.process_time(), children_cpu()
    prof.enable()
    for _ in range(repeat):
        files += len(_pyengine.run(str(src), str(dst), opts, 1, _pyengine.Progress()))
    prof.disable()
    cpu, tool_cpu = time.process_time() - cpu0, children_cpu() - tools0
    prof.dump_stats(OUT / f"python-{optimizer}.prof")
    text = io.StringIO()
    stats = pstats.Stats(prof, stream=text)
    stages = {}
    for stage, keys in PY_STAGES.items():
        total = 0.0
        for key in keys:
            for (file, _line, func), (_cc, _nc, _tt, ct, callers) in stats.stats.items():
                if len(key) == 2 and file.endswith(key[0]) and func == key[1]:
                    total += ct
                elif len(key) == 4 and file.endswith(key[2]) and func == key[3]:
                    # only the calls made by one caller (file, function)
                    total += sum(c[3] for (cf, _cl, cfn), c in callers.items()
                                 if cf.endswith(key[0]) and cfn == key[1])
        stages[stage] = 1000 * total / files
    stages["optimise"] += 1000 * tool_cpu / files
    stages["total"] = 1000 * (cpu + tool_cpu) / files
    stats.strip_dirs()
    text.write("== by own time (tottime)\n")
    stats.sort_stats("tottime").print_stats(12)
    text.write("== by cumulative time\n")
    stats.sort_stats("cumulative").print_stats(15)
    text.write(f"process CPU {cpu:.3f}s, tool processes {tool_cpu:.3f}s, {files} files\n")
    return text.getvalue(), stages


def profile_go(binary: Path, src: Path, dst: Path, repeat: int,
               optimizer: str) -> tuple[str, dict]:
    prof = OUT / f"go-{optimizer}.pprof"
    run = subprocess.run([str(binary), "-src", str(src), "-dst", str(dst), "-workers", "1",
                          "-optimize", "-optimizer", optimizer, "-repeat", str(repeat),
                          "-cpuprofile", str(prof)], capture_output=True, text=True, check=True)
    files = int(re.search(r"^(\d+) files", run.stdout, re.M).group(1))
    cpu, tool_cpu = map(float, re.search(r"this process ([\d.]+)s, tool processes ([\d.]+)s",
                                         run.stdout).groups())
    top = subprocess.run(["go", "tool", "pprof", "-top", "-cum", "-nodecount=400", str(binary),
                          str(prof)], capture_output=True, text=True, check=True).stdout
    cum = {}
    row = re.compile(r"\s*[\d.]+(?:m?s)?\s+[\d.]+%\s+[\d.]+%\s+([\d.]+)(m?s)\s+[\d.]+%\s+(\S+)")
    for line in top.splitlines():
        m = row.match(line)
        if m:
            value = float(m.group(1)) / (1000 if m.group(2) == "ms" else 1)
            name = m.group(3).removeprefix("example.com/epg/06_piuma_case/")
            cum[name] = cum.get(name, 0.0) + value
    stages = {s: 1000 * sum(cum.get(f, 0.0) for f in funcs) / files
              for s, funcs in GO_STAGES.items()}
    stages["optimise"] += 1000 * tool_cpu / files
    stages["total"] = 1000 * (cpu + tool_cpu) / files
    head = subprocess.run(["go", "tool", "pprof", "-top", "-nodecount=25", str(binary),
                           str(prof)], capture_output=True, text=True, check=True).stdout
    return (f"{run.stdout}\n== by own time\n{head}\n== by cumulative time\n"
            + "\n".join(top.splitlines()[:40]) + "\n"), stages


def print_breakdown(columns: dict[str, dict]) -> str:
    out = io.StringIO()
    out.write(f"{'CPU ms per image, 1 worker':28}" + "".join(f"{c:>22}" for c in columns) + "\n")
    for stage in (*STAGE_NAMES, "other", "total"):
        out.write(f"{stage:28}")
        for col in columns.values():
            value = (col["total"] - sum(col[s] for s in STAGE_NAMES)) if stage == "other" \
                else col[stage]
            out.write(f"{value:22.1f}")
        out.write("\n")
    out.write("other: file I/O, writes and fsync, bookkeeping, and what the profiler costs.\n")
    return out.getvalue()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--go-binary", type=Path, default=HERE / "build" / "piumaprof")
    ap.add_argument("--src", type=Path, default=HERE / "build" / "images" / "products")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="piuma-profile-"))
    src = args.src.resolve()
    columns: dict[str, dict] = {}
    try:
        for optimizer in ("tools", "in-process"):
            text, stages = profile_python(src, work / f"py-{optimizer}", args.repeat, optimizer)
            (OUT / f"python-{optimizer}.txt").write_text(text)
            columns[f"python, {optimizer}"] = stages
        for optimizer in ("tools", "in-process"):
            text, stages = profile_go(args.go_binary.resolve(), src, work / f"go-{optimizer}",
                                      args.repeat, optimizer)
            (OUT / f"go-{optimizer}.txt").write_text(text)
            columns[f"go, {optimizer}"] = stages
    finally:
        shutil.rmtree(work, ignore_errors=True)
    table = print_breakdown(columns)
    (OUT / "stages.txt").write_text(table)
    print(table)
    print(f"reports: {OUT.relative_to(HERE)}/python-*.txt, go-*.txt, stages.txt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
