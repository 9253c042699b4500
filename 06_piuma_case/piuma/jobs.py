"""The jobs the Go engine would get for SRC -> DST, as JSON, for cmd/piumaprof
(the talk's separate Go main, to profile the engine with pprof):

    python -m piuma.jobs build/images/products /tmp/out > build/jobs.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from . import _files, _probe


def main(argv: list[str] | None = None) -> int:
    """python -m piuma.jobs SRC DST [--width W] [--height H]: the jobs the Go
    engine would get, as JSON (cmd/piumaprof reads them: the talk's separate
    Go main, for pprof)."""
    ap = argparse.ArgumentParser(prog="python -m piuma.jobs", description=main.__doc__)
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--width", type=int, default=800)
    ap.add_argument("--height", type=int, default=800)
    args = ap.parse_args(argv)
    src, dst = os.path.realpath(args.src), os.path.realpath(args.dst)
    s = _probe.Settings(args.width, args.height, _probe.MAX_PIXELS, 1 << 62, True, True)
    jobs = []
    for name in _files.walk(src)[0]:
        d = os.path.join(dst, name)
        os.makedirs(os.path.dirname(d), exist_ok=True)
        j = _probe.probe(os.path.join(src, name), d, d + ".piumaprof.tmp", s)
        jobs.append({k: (v.lower() if k == "format" else v) for k, v in j.__dict__.items()
                     if k != "bytes_in"})
    json.dump(jobs, sys.stdout, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
