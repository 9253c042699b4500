"""Build ffi/_newmath_cffi (cffi API mode) against the Go core's header.

    python ffi/build_cffi.py libnewmath_core.h ffi/_newmath_cffi<EXT_SUFFIX>

cffi writes the CPython glue itself; we give it a few lines of C. The Go core
is NOT linked in: a library that carries a Go runtime starts it as soon as it
is loaded, so `import _newmath_cffi` would start one before anything could
check for another (golang/go#65050). Instead load_core() loads
libnewmath_core.so through common/go_guard.h, like every C glue of this
repository; newmath_cffi_api.py calls it at import. Including cgo's header
makes the C compiler check the function pointer against what Go exported.
"""

import shutil
import sys
from pathlib import Path

from cffi import FFI

header, target = (Path(p).resolve() for p in sys.argv[1:3])
common = Path(__file__).resolve().parents[2] / "common"
build = target.parent.parent / "build"

ffibuilder = FFI()
ffibuilder.cdef("""
    typedef struct { char *value; char *stack; } epg_go_panic;
    int load_core(const char *path, int *refused, char *err, size_t errlen);
    int sum(long long a, long long b, long long *result, epg_go_panic *report);
    void free(void *);
""")
ffibuilder.set_source("_newmath_cffi", r"""
#include <stdlib.h>
#include "libnewmath_core.h"  /* cgo's header: Sum's exact C signature */
#include "go_guard.h"

static __typeof__(Sum) *go_Sum;
static const epg_go_symbol core_symbols[] = {{"Sum", (void **)&go_Sum}, {NULL, NULL}};

/* 0, or -1 with a message in err (*refused = 1: another Go runtime runs). */
static int load_core(const char *path, int *refused, char *err, size_t errlen)
{
    void *core = epg_go_guard_open("newmath_cffi_api", path, core_symbols,
                                   refused, err, errlen);
    return core != NULL ? 0 : -1;
}

/* -2 until load_core() succeeded: `import _newmath_cffi` alone loads no Go. */
static int sum(long long a, long long b, long long *result, epg_go_panic *report)
{
    return go_Sum != NULL ? go_Sum(a, b, result, report) : -2;
}
""", include_dirs=[str(header.parent), str(common)], libraries=["dl"])
built = ffibuilder.compile(tmpdir=str(build / "cffi"), verbose=False)
shutil.copy(built, target)
print(f"built {target.name}", file=sys.stderr)  # stdout is make demo's output
