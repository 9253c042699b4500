"""`make demo`: the three versions of say_hello, side by side.

Version 3 (`hello`) runs in this process; versions 1 and 2 carry their own Go
runtime, so each runs in a child process (one Go runtime per process,
golang/go#65050). Every verdict printed is computed from what the run did.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

STEP = Path(__file__).resolve().parent
CALLS, NAME_CHARS = 100_000, 200
MiB = 1024 * 1024


def child(args: list[str], folder: str = ".") -> subprocess.CompletedProcess:
    # Without GODEBUG: cgocheck=0 there would hide version 1's error.
    env = {k: v for k, v in os.environ.items() if k != "GODEBUG"}
    return subprocess.run([sys.executable, *args], cwd=STEP / folder, env=env,
                          capture_output=True, text=True, timeout=300)


def rss_verdict(folder: str) -> str:
    """What CALLS calls did to the RSS of a child process (rss_probe.py)."""
    proc = child([str(STEP / "rss_probe.py"), str(STEP / folder), str(CALLS),
                  str(NAME_CHARS), "4"])
    proc.check_returncode()
    run = json.loads(proc.stdout)
    growth = run["rss"][-1] - run["rss"][0]
    per_call = growth / CALLS / (run["greeting_bytes"] + 1)
    head = f"{CALLS:,} calls ({run['greeting_bytes']}-byte greeting): RSS "
    if growth < MiB:
        return head + "flat (grew < 1 MiB)"
    if per_call >= 0.9:
        return head + "grew by one greeting + NUL per call or more: the leak"
    return head + f"grew by {per_call:.2f} x (greeting + NUL) per call"


def show(call: str, outcome: str) -> None:
    print(f"  {call:<24} -> {outcome}")


def version3() -> None:
    sys.path.insert(0, str(STEP))
    from hello import say_hello

    print("version 3, hello (this process):")
    for name in ("Gophers", "Zoë, 世界 🐍🐹", "a\x00b", b"Gophers", "\ud800"):
        try:
            outcome = repr(say_hello(name))
        except (TypeError, UnicodeEncodeError) as exc:
            outcome = f"{type(exc).__name__}: {exc}"
        show(f"say_hello({name!r})", outcome)
    print("  " + rss_verdict("."))


def version2() -> None:
    print("version 2, v2_leak/ (a child process):")
    proc = child(["-c", "import hello; print(repr(hello.say_hello('a\\x00b')))"], "v2_leak")
    proc.check_returncode()
    show("say_hello('a\\x00b')", proc.stdout.strip() + "   cut at the NUL")
    print("  " + rss_verdict("v2_leak"))


def version1() -> subprocess.CompletedProcess:
    """Version 1 in a child process: what it printed and how it died."""
    print("version 1, v1_gostring/ (a child process):")
    proc = child(["-c", "import hello; print(hello.say_hello('Gophers'))"], "v1_gostring")
    died = (f"killed by {signal.Signals(-proc.returncode).name}" if proc.returncode < 0
            else f"exit status {proc.returncode}")
    show("say_hello('Gophers')", f"no result, the process was {died}; it said:")
    # The runtime's verdict: `panic: ...` (cgocheck) or `fatal error: ...` (cgocheck2).
    lines = proc.stderr.splitlines()
    verdict = next((line for line in lines if line.startswith(("panic:", "fatal error:"))),
                   lines[0] if lines else "(nothing)")
    print("  " + verdict.replace(str(STEP) + os.sep, ""))
    return proc


def frames(stderr: str, export: str = "SayHello") -> list[str]:
    """The functions on the stack of the goroutine that made the call to
    `export` (from a Go traceback), innermost first."""
    stack = next((block for block in stderr.split("\n\n")
                  if block.startswith("goroutine ") and f"_{export}(" in block), "")
    return re.findall(r"^(\S+)\(", stack, re.MULTILINE)


if __name__ == "__main__":
    version1()
    version2()
    version3()
