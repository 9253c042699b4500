"""Command line of the image cron job (installed as `piuma-optimize`).

    python 06_piuma_case/optimize.py SRC DST --width 800 --height 800 \\
        --quality 85 --engine go --workers 2 [--json]

Exit status: 0 every file succeeded, 1 some failed (the others are written)
or the report could not be written, 2 no batch (a bad option, src, dst or
cluster), 130 interrupted (Ctrl-C). An undecodable file name is never lost:
the summary writes its bytes, the JSON report its surrogate escapes.
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import dataclasses
import errno
import json
import os
import re
import sys
import time
import warnings
from typing import TextIO

from . import DEFAULT_OPTIMIZER, ENGINES, MAX_PIXELS, OPTIMIZERS, Options, optimize_dir
from ._probe import human_bytes


def _names_errors(exc: UnicodeError) -> tuple[str | bytes, int]:
    """Encoding errors of the summary: an undecodable byte of a file name
    (a surrogate escape) is written as that byte, anything else the stream
    cannot encode as a backslash escape. Never an exception."""
    try:
        if "a".encode(exc.encoding) == b"a":  # (a byte alone breaks UTF-16's code units)
            return codecs.lookup_error("surrogateescape")(exc)
    except UnicodeError:
        pass
    return codecs.backslashreplace_errors(exc)


def _say(text: str) -> None:
    """A line on stderr, if there is one to write to (2>&-: None; a full disk):
    the exit status says it anyway, and print(file=None) would write stdout."""
    with contextlib.suppress(OSError):
        if sys.stderr is not None:
            print(text, file=sys.stderr, flush=True)


codecs.register_error("piuma.names", _names_errors)


_CONTROL = {c: f"\\x{c:02x}" for c in [*range(0x20), *range(0x7F, 0xA0)]} | {
    0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t"}  # (0x80..0x9F: C1 controls, CSI 0x9B)
_CONTROL |= {0xDC00 + c: f"\\x{c:02x}" for c in range(0x80, 0xA0)}  # as undecodable bytes


def _printable(name: str) -> str:
    """A name (or an error, which may name a folder) whose control characters
    are written as escapes: a newline or a carriage return in a file name
    cannot forge or hide a line of the summary (`ls` quotes such names too)."""
    return name.translate(_CONTROL)


class ProgressBar:
    """A one-line bar on a terminal; nothing at all when not a terminal.
    The line ends with the with block, before anything else is printed."""

    def __init__(self, stream: TextIO, width: int = 30) -> None:
        self.stream, self.width, self.shown = stream, width, False

    def __call__(self, done: int, total: int) -> None:
        if total <= 0 or self.stream is None or not self.stream.isatty():  # (2>&-: None)
            return
        bar = ("#" * (self.width * done // total)).ljust(self.width, "-")
        print(f"\r[{bar}] {done}/{total}", end="", file=self.stream, flush=True)
        self.shown = True

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.shown:
            print(file=self.stream, flush=True)


def _size(text: str) -> int:
    """A number of bytes, with an optional binary suffix: 512M, 2G, 2GiB."""
    if not (m := re.fullmatch(r"([0-9]+)([KMGT]?)(?:I?B)?", text.strip().upper())):
        raise argparse.ArgumentTypeError(f"invalid size: {text!r} (a number of bytes, or "
                                         "with K, M, G, T)")
    return int(m[1]) << {"": 0, "K": 10, "M": 20, "G": 30, "T": 40}[m[2]]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="optimize.py",
        description="Resize and optimise every JPEG/PNG under SRC into DST "
                    "(same tree, same names, same formats).")
    p.add_argument("src", metavar="SRC", help="folder of source images (never modified)")
    p.add_argument("dst", metavar="DST", help="output folder (created; must not overlap SRC)")
    p.add_argument("--width", type=int, default=0, help="maximum width, 0: no bound")
    p.add_argument("--height", type=int, default=0, help="maximum height, 0: no bound")
    p.add_argument("--quality", type=int, default=85, help="JPEG quality 1..100 (85)")
    p.add_argument("--engine", choices=ENGINES, default="go", help="engine (go)")
    p.add_argument("--workers", type=int, default=0,
                   help="parallel workers, 0: one per CPU (0)")
    p.add_argument("--no-optimize", dest="optimize", action="store_false",
                   help="write the encoders' output as it is")
    defaults = ", ".join(f"{e}: {o}" for e, o in DEFAULT_OPTIMIZER.items())
    p.add_argument("--optimizer", choices=OPTIMIZERS, default=None,
                   help="optimise in process (optimised Huffman tables, libimagequant) or "
                        f"with the jpegoptim and pngquant commands ({defaults})")
    p.add_argument("--no-draft", dest="draft", action="store_false",
                   help="no JPEG DCT-domain downscaling")
    p.add_argument("--max-pixels", type=int, default=MAX_PIXELS,
                   help=f"refuse larger images, from their header ({MAX_PIXELS})")
    p.add_argument("--max-memory", type=_size, default=0, metavar="BYTES",
                   help="memory the files at once may use (on a cluster: each worker); "
                        "K, M, G suffixes (default: half of the memory, or of a worker's)")
    p.add_argument("--cluster", metavar="ADDRESS|local|local:N", default=None,
                   help="run on a Dask cluster: local[:N] starts N worker processes here "
                        "(default one per CPU), else a scheduler's address or file")
    p.add_argument("--json", action="store_true",
                   help="print the per-file report as JSON on stdout")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # exits with status 2 on bad options
    # Pillow's warnings about a file ("Corrupt EXIF data", a decompression
    # bomb) are not the report: each file's result says what matters.
    warnings.filterwarnings("ignore", category=UserWarning, module="PIL")
    warnings.filterwarnings("ignore", message="Image size .* could be decompression bomb")
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="piuma.names")
    # The options' names are optimize_dir's keywords.
    options = {k: v for k, v in vars(args).items() if k not in ("src", "dst", "json")}
    start, cpu = time.perf_counter(), os.times()
    try:
        with ProgressBar(sys.stderr) as bar:
            results = optimize_dir(args.src, args.dst, **options, progress=bar)
    except (ValueError, TypeError, OSError, ImportError, RuntimeError) as exc:  # (no batch)
        parser.exit(2, f"{parser.prog}: error: {exc}\n")
    except KeyboardInterrupt:
        _say(f"{parser.prog}: interrupted")
        return 130
    elapsed = time.perf_counter() - start
    # CPU: every thread of this process, and its finished children (the tools,
    # a local cluster's workers): on a busy machine the figure that compares.
    cpu = sum(os.times()[:4]) - sum(cpu[:4])

    ok = [r for r in results if r.ok]
    failed = [r for r in results if not r.ok]
    bytes_in = sum(r.bytes_in for r in ok)
    bytes_out = sum(r.bytes_out for r in ok)
    summary = {"engine": args.engine, "files": len(results), "ok": len(ok),
               "failed": len(failed), "bytes_in": bytes_in,
               "bytes_out": bytes_out, "bytes_saved": bytes_in - bytes_out,
               "seconds": round(elapsed, 3), "cpu_seconds": round(cpu, 3)}
    try:
        if sys.stdout is None:  # (>&-: print would write nothing, and say nothing)
            raise OSError(errno.EBADF, "no standard output")
        if args.json:
            files = [{**dataclasses.asdict(r), "category": r.category,
                      "seconds": round(r.seconds, 4)} for r in results]
            print(json.dumps({"summary": summary, "files": files}, indent=2))
        else:
            src = os.path.realpath(args.src)
            for r in failed:  # names relative to SRC: the line stays readable
                print(f"FAILED {_printable(os.path.relpath(r.source, src))}: {_printable(r.error)}")
            pct = 100 * (bytes_in - bytes_out) / bytes_in if bytes_in else 0.0
            o = Options(engine=args.engine, optimize=args.optimize, optimizer=args.optimizer)
            how = f"{o.engine} engine"
            if o.tools:
                how += " + jpegoptim, pngquant"
            elif o.in_process and o.engine == "python":  # (the Go engine's only way)
                how += ", in process"
            if args.cluster:
                how += f", on Dask {args.cluster}"
            print(f"{len(ok)} ok, {len(failed)} failed ({how}) in {elapsed:.2f}s, CPU "
                  f"{cpu:.2f}s ({1000 * cpu / max(len(results), 1):.0f} ms a file); "
                  f"{human_bytes(bytes_in)} -> {human_bytes(bytes_out)}, "
                  f"saved {human_bytes(bytes_in - bytes_out)} ({pct:.0f}%)")
    except OSError as exc:  # the report: its reader left (`| head`), quietly; a full disk
        if sys.stdout is not None:  # (no more writes at exit)
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        if not isinstance(exc, BrokenPipeError):
            _say(f"{parser.prog}: cannot write the report: {exc}")
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
