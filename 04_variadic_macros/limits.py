"""`make limits`: what the Go boundary cannot stop, each in a child process.

1. What `recover` cannot stop. The panic build of macro (`make panic-build`,
   EPG_GO_PANIC=ListSum:<mode>) stops list_sum() five ways: a panic and
   panic(nil) under GODEBUG=panicnil=1 become RuntimeError; runtime.Goexit
   (an export runs on the C caller's thread, which Go cannot end) and two
   fatal errors end the process.
2. A Go library loaded AFTER macro. The guard refuses a Go runtime that was
   there first; nothing can refuse a later dlopen (a package that loads its
   Go library on first use). It starts a second runtime, silently: ask
   macro.go_runtimes(). (The leaky build's core stands for any Go library:
   another file, so another runtime.)
"""

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

STEP = Path(__file__).resolve().parent
PANIC_BUILD = STEP / "build" / "epgpanic" / STEP.name
OTHER_GO = STEP / "build" / "leakyref" / "libmacro_core.so"
MODES = {  # EPG_GO_PANIC=ListSum:<mode> -> what the hook does
    "": "panic(...)",
    ":nil": "panic(nil), GODEBUG=panicnil=1",
    ":goexit": "runtime.Goexit()",
    ":fatal": "concurrent map writes",
    ":stack": "stack overflow",
}


def child(code: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("EPG_GO_PANIC", "GODEBUG")}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd,
                          env=environ | env, capture_output=True, text=True, timeout=120)


def relative(text: str) -> str:
    return text.replace(f"{STEP.parent}/", "")


print("1. list_sum([1, 2]) stopped inside Go, in the panic build:")
for mode, what in MODES.items():
    proc = child("""
        import macro
        try:
            print("returned", macro.list_sum([1, 2]))
        except RuntimeError as exc:
            print("RuntimeError:", exc)
    """, PANIC_BUILD, EPG_GO_PANIC=f"ListSum{mode}", GODEBUG="panicnil=1")
    if proc.returncode < 0:
        fatal = [line for line in proc.stderr.splitlines() if line.startswith("fatal error")]
        outcome = f"killed by {signal.Signals(-proc.returncode).name}: {fatal[0]}"
    else:
        outcome = proc.stdout.strip() or proc.stderr.strip()
    print(f"   {what:<32} -> {outcome}")

print("2. A Go library loaded after macro:")
proc = child(f"""
    import ctypes, os
    import macro
    def show(runtimes):
        return [os.path.relpath(path, {str(STEP.parent)!r}) for path in runtimes]
    print("   macro.go_runtimes()                 ->", show(macro.go_runtimes()))
    ctypes.CDLL({str(OTHER_GO)!r})  # nothing refuses it
    runtimes = macro.go_runtimes()
    print("   ctypes.CDLL(another Go library)     -> no error")
    print("   macro.go_runtimes()                 ->", show(runtimes))
    if len(runtimes) > 1:
        print("   two Go runtimes in one process: not supported (golang/go#65050);")
        print("   load that library in another process")
""", STEP)
print(relative(proc.stdout.rstrip() if proc.returncode == 0 else proc.stderr))
