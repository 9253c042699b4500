"""make profile: where each engine spends its CPU, stage by stage.

    python profile_engines.py [--src DIR] [--repeat N]

The bench's job on one worker, optimisers on: the Python engine (tools, then in
process) under cProfile, plus the tools' CPU (getrusage); the Go engine under
pprof: BenchmarkJobs (engine/bench_test.go) on the jobs Python's probe decided.
build/profile/ gets each profile, jobs.json, and stages.txt (CPU ms per image in
each of STAGES, from the cumulative times of the functions that do it).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "build" / "profile"
STAGES = {  # stage: (Python functions, as (file, name); Go functions)
    "decode": ([("ImageFile.py", "load"), ("_pyengine.py", "_output_mode")],
               ["engine.decodeJPEG", "engine.decodePNG"]),
    "resize": ([("Image.py", "resize"), ("Image.py", "transpose")],
               ["engine.resize", "engine.orient"]),
    # Image.save as _pyengine.convert calls it (_pyoptimize's is optimising)
    "encode": ([("Image.py", "save", "_pyengine.py", "convert")],
               ["engine.encodeJPEG", "engine.encodePNG"]),
    # quantize writes the palette file itself (encodePalette): counted in it, once
    "optimise": ([("_pyoptimize.py", "optimize_png"), ("_pyengine.py", "optimize")],
                 ["engine.quantize"]),
}


def profile_python(src: Path, work: Path, repeat: int, optimizer: str) -> dict:
    """cProfile around the batch, run in this thread (optimize_dir runs
    the engine in a thread of its own, which cProfile would not see)."""
    import piuma

    opts = piuma.Options(width=800, height=800, engine="python", workers=1, optimizer=optimizer)
    names, _, folders = piuma._files.walk(str(src))

    def batch(dst: Path) -> int:
        dst.mkdir(parents=True)
        return len(piuma.convert(str(src), str(dst), names, opts, None, folders, supervise=False))

    batch(work / "warm")
    cpu0, tools0 = time.process_time(), sum(os.times()[2:4])  # (children: the tools)
    with cProfile.Profile(time.process_time) as prof:
        files = sum(batch(work / f"r{r}") for r in range(repeat))
    cpu, tool = time.process_time() - cpu0, sum(os.times()[2:4]) - tools0
    prof.dump_stats(OUT / f"python-{optimizer}.prof")
    stats = pstats.Stats(prof, stream=(text := io.StringIO()))

    def seconds(key: tuple) -> float:  # cumulative time of (file, function[, caller])
        total = 0.0
        for (f, _l, fn), (_c, _n, _t, ct, callers) in stats.stats.items():
            if f.endswith(key[0]) and fn == key[1]:
                total += ct if len(key) == 2 else sum(
                    c[3] for (cf, _cl, cfn), c in callers.items()
                    if cf.endswith(key[2]) and cfn == key[3])
        return total

    stages = {stage: 1000 * sum(map(seconds, keys)) / files
              for stage, (keys, _go) in STAGES.items()}
    stages["optimise"] += 1000 * tool / files
    stages["total"] = 1000 * (cpu + tool) / files
    stats.strip_dirs().sort_stats("tottime").print_stats(15)
    (OUT / f"python-{optimizer}.txt").write_text(text.getvalue())
    return stages


def write_jobs(src: Path, dst: Path) -> Path:
    """jobs.json: the jobs the Go engine would get for src -> dst (fit in
    800x800), as BenchmarkJobs reads them: piuma_job's fields."""
    from piuma import _files, _probe

    settings = _probe.Settings(800, 800, _probe.MAX_PIXELS, 1 << 62, True, True)
    jobs = []
    for name in _files.walk(str(src))[0]:
        d = dst / name
        d.parent.mkdir(parents=True, exist_ok=True)
        try:  # a profile of files that fail would time their refusal, not the job
            j = _probe.probe(str(src / name), str(d), f"{d}.profile.tmp", settings).__dict__
        except _files.FileError as exc:
            raise SystemExit(f"{src / name}: {exc} (profile files both engines convert)") from None
        jobs.append({**j, "format": j["format"].lower()})
    if not jobs:  # (nothing to divide the CPU by)
        raise SystemExit(f"no .jpg, .jpeg or .png under {src}")
    (path := OUT / "jobs.json").write_text(json.dumps(jobs, indent=1))
    return path


def profile_go(test_binary: Path, jobs: Path, repeat: int) -> dict:
    """BenchmarkJobs under pprof: its CPU per image (getrusage), split by the
    stages' share of the profile's samples (Go also runs it once before the
    timed runs: a share does not depend on how many runs the profile saw)."""
    prof = OUT / "go.pprof"
    subprocess.run(["go", "test", "-c", "-o", str(test_binary), "./engine"], cwd=HERE, check=True)
    run = subprocess.run([str(test_binary), "-test.run", "^$", "-test.bench", "^BenchmarkJobs$",
                          "-test.benchtime", f"{repeat}x", "-test.cpuprofile", str(prof),
                          "-jobs", str(jobs), "-workers", "1"], capture_output=True, text=True)
    if run.returncode != 0:  # the benchmark's own words: which file, what failed
        raise SystemExit(f"BenchmarkJobs failed:\n{run.stdout[-3000:]}{run.stderr[-3000:]}")
    cpu_ms = float(re.search(r"([\d.]+) cpu-ms/image", run.stdout)[1])
    top = subprocess.run(["go", "tool", "pprof", "-top", "-cum", "-unit=ms", "-nodecount=400",
                          str(test_binary), str(prof)],
                         capture_output=True, text=True, check=True).stdout
    # Every time in ms ("Total samples = 0", no unit: a run shorter than the profiler's 10 ms).
    total = float(re.search(r"Total samples = ([\d.]+)", top)[1])
    cum: Counter[str] = Counter()  # the module's functions: flat flat% sum% cum cum% name
    for ms, name in re.findall(r"^\s*\S+\s+\S+%\s+\S+%\s+([\d.]+)(?:ms)?\s+\S+%\s+"
                               r"example\.com/epg/06_piuma_case/(\S+)", top, re.M):
        cum[name] += float(ms)
    # encodePalette (the optimiser's) writes its file with encodePNG: counted once, there
    cum["engine.encodePNG"] -= cum["engine.encodePalette"]
    stages = {stage: cpu_ms * sum(cum[f] for f in go) / (total or 1)
              for stage, (_py, go) in STAGES.items()}
    stages["total"] = cpu_ms
    (OUT / "go.txt").write_text(run.stdout + "\n" + "\n".join(top.splitlines()[:40]) + "\n")
    return stages


def breakdown(columns: dict[str, dict]) -> str:
    lines = [f"{'CPU ms per image, 1 worker':28}" + "".join(f"{c:>20}" for c in columns)]
    for stage in (*STAGES, "other", "total"):
        cells = [(col["total"] - sum(col[s] for s in STAGES)) if stage == "other"
                 else col[stage] for col in columns.values()]
        lines.append(f"{stage:28}" + "".join(f"{v:20.1f}" for v in cells))
    lines.append("other: reading and writing files, the probe, bookkeeping, the profiler.")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", type=Path, default=HERE / "build" / "images" / "products")
    ap.add_argument("--repeat", type=int, default=3, help="batches per engine, 1 or more")
    args = ap.parse_args()
    if args.repeat < 1:
        ap.error(f"--repeat must be 1 or more, not {args.repeat}")
    if not args.src.is_dir():
        ap.error(f"--src {args.src}: not a folder")
    OUT.mkdir(parents=True, exist_ok=True)
    src, columns = args.src.resolve(), {}
    jobs = write_jobs(src, OUT / "go-out")  # (first: it checks every file of src)
    with tempfile.TemporaryDirectory(prefix="piuma-profile-") as tmp:
        for optimizer in ("tools", "in-process"):
            columns[f"python, {optimizer}"] = profile_python(src, Path(tmp) / optimizer,
                                                             args.repeat, optimizer)
    columns["go, in-process"] = profile_go(HERE / "build" / "engine.test", jobs, args.repeat)
    (OUT / "stages.txt").write_text(table := breakdown(columns))
    print(table)
    print(f"reports: {OUT.relative_to(HERE)}/python-*.txt, go.txt, stages.txt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
