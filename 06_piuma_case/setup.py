"""pip install ./06_piuma_case: the piuma package, its Go core and its CLI.

The Go core is built by build_go_ext below (a small build_ext subclass, not
the deprecated setuptools-golang): `go build -buildmode=c-shared` writes
libpiuma_core.so next to where setuptools puts the extension module, because
the C glue finds its Go core beside itself (common/go_core.h uses dladdr).

The glue includes common/go_core.h from the repository, outside this folder:
pip (>= 21.3) builds a local folder in place, so ../common is there. Building
from a copy of this folder alone needs EPG_COMMON=/path/to/common.
Needs at build time: Go >= 1.21, a C compiler and libturbojpeg
(libturbojpeg0-dev). The Go core itself uses the standard library only.
"""

from __future__ import annotations

import os
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
COMMON = os.environ.get("EPG_COMMON", os.path.join(HERE, "..", "common"))


class build_go_ext(build_ext):
    """Build the Go core first, then the C glue against cgo's header."""

    def build_extension(self, ext: Extension) -> None:
        if not os.path.isfile(os.path.join(COMMON, "go_core.h")):
            sys.exit(f"common/go_core.h not found in {COMMON}: build from the repository "
                     "checkout (pip install ./06_piuma_case) or set EPG_COMMON")
        out_dir = os.path.dirname(os.path.abspath(self.get_ext_fullpath(ext.name)))
        os.makedirs(out_dir, exist_ok=True)
        os.makedirs(self.build_temp, exist_ok=True)
        core = os.path.join(out_dir, "libpiuma_core.so")
        # The core calls no CPython function: every symbol must resolve at
        # link time (a missing -l fails here, not at import).
        defs = "" if sys.platform == "darwin" else " -Wl,-z,defs"
        common = os.path.abspath(COMMON)
        env = dict(os.environ, CGO_ENABLED="1",
                   CGO_LDFLAGS=os.environ.get("CGO_LDFLAGS", "-O2 -g") + defs,
                   CGO_CFLAGS=os.environ.get("CGO_CFLAGS", "-O2 -g") + f" -I{common}")
        cmd = ["go", "build", "-buildmode=c-shared", "-o", core, "./core"]
        print(" ".join(cmd), flush=True)
        subprocess.run(cmd, cwd=HERE, env=env, check=True)
        # cgo writes libpiuma_core.h next to the library: move it out of the
        # package (it is a build input of the glue, not something to install).
        header = os.path.join(self.build_temp, "libpiuma_core.h")
        os.replace(os.path.join(out_dir, "libpiuma_core.h"), header)
        ext.include_dirs += [os.path.abspath(self.build_temp), os.path.join(HERE, "core"),
                             os.path.abspath(COMMON)]
        super().build_extension(ext)


setup(
    name="piuma",
    version="0.6.0",
    description="Resize and optimise a folder of product images (Python or Go engine)",
    license="MIT",
    python_requires=">=3.10",
    packages=["piuma"],
    install_requires=["Pillow>=10.0"],
    ext_modules=[Extension("piuma._piuma", ["piuma/_piuma.c"],
                           depends=["core/piuma_api.h"] + [os.path.join(COMMON, h) for h in (
                               "go_core.h", "go_guard.h", "go_panic.h")],
                           extra_compile_args=["-std=gnu11"], libraries=["dl"])],
    cmdclass={"build_ext": build_go_ext},
    entry_points={"console_scripts": ["piuma-optimize = piuma.cli:main"]},
)
