"""Build the Go programs of testdata/ and return what cgo says.

Go cannot call a variadic C function nor a function-like C macro: those are
the calls that need a C shim (core/shims.c). A static inline function is fine.
Each program is built in a temporary directory with the interpreter's include
directory and the Go core's linker flags (CPython symbols left undefined).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

STEP = Path(__file__).resolve().parent
# The linker flag of common/step.mk's GO_UNDEFINED: the interpreter provides
# the CPython symbols when the library is loaded.
UNDEFINED_OK = ("-undefined dynamic_lookup" if sys.platform == "darwin"
                else "-Wl,--unresolved-symbols=ignore-all")
PROGRAMS = {
    # name: (the call it makes, what Go prints today: see README.md)
    "variadic": ("C.PyArg_ParseTuple(args, C.CString(\"O\"), &obj)", "unexpected type: ..."),
    "macro": ("C.PyList_Check(obj)", "could not determine what C.PyList_Check refers to"),
}
# Static inline functions build (on Python >= 3.11, see testdata/inline/main.go).
BUILDS = {"inline": "C.Py_INCREF(obj); C.Py_DECREF(obj); C.Py_TYPE(obj)"}


def build(name: str) -> subprocess.CompletedProcess[str]:
    """`go build` testdata/<name>/main.go; the result holds cgo's output."""
    source = STEP / "testdata" / name / "main.go"
    include = sysconfig.get_paths()["include"]
    with tempfile.TemporaryDirectory(prefix=f"cgo-{name}-") as tmp:
        shutil.copy(source, Path(tmp) / "main.go")
        (Path(tmp) / "go.mod").write_text(f"module example.com/{name}\n\ngo 1.21\n")
        env = dict(os.environ, CGO_ENABLED="1", CGO_CFLAGS=f"-I{include}",
                   CGO_LDFLAGS=UNDEFINED_OK,
                   GOTOOLCHAIN="local", GOFLAGS="-buildvcs=false", GOPROXY="off")
        return subprocess.run(
            ["go", "build", "-o", os.devnull, "."],
            cwd=tmp, env=env, capture_output=True, text=True, timeout=300,
        )


def main() -> None:
    calls = {name: call for name, (call, _) in PROGRAMS.items()} | BUILDS
    for name, call in calls.items():
        result = build(name)
        print(f"$ go build  # testdata/{name}/main.go calls {call}")
        output = (result.stdout + result.stderr).rstrip()
        if output:
            print(output)
        print(f"(exit status {result.returncode})\n")


if __name__ == "__main__":
    main()
