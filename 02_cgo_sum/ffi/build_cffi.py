"""Build ffi/_newmath_cffi (cffi API mode) around the Go archive.

    python ffi/build_cffi.py build/libnewmath_go.a ffi/_newmath_cffi<EXT_SUFFIX>

cffi writes the C glue itself; including cgo's header makes the C compiler
check that the cdef below matches what Go exported.
"""

import shutil
import sys
from pathlib import Path

from cffi import FFI

archive, target = (Path(p).resolve() for p in sys.argv[1:3])
build = archive.parent

ffibuilder = FFI()
ffibuilder.cdef("int Sum(long long a, long long b, long long *result);")
ffibuilder.set_source(
    "_newmath_cffi",
    '#include "libnewmath_go.h"',
    include_dirs=[str(build)],
    extra_objects=[str(archive)],  # the Go runtime and Sum, linked in
    libraries=["pthread"],
)
built = ffibuilder.compile(tmpdir=str(build / "cffi"), verbose=False)
shutil.copy(built, target)
print(f"built {target.name}")
