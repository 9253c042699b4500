"""The build step of the piuma package (its metadata: pyproject.toml):
build_ext runs `go build -buildmode=c-shared` to put libpiuma_core.so beside
the extension (the glue finds it there), then compiles the glue, on the
limited API: one cp310-abi3 wheel (a free-threaded interpreter gets its own).
From a copy of this folder alone, set EPG_COMMON=/path/to/common.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
COMMON = os.path.abspath(os.environ.get("EPG_COMMON", os.path.join(HERE, "..", "common")))
FREE_THREADED = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))

# Licences of the C libraries a repaired wheel carries (auditwheel copies the
# libraries, not their licences), where this system has them (Debian's
# copyright files): they go into the package as piuma/licenses/.
THIRD_PARTY_LICENSES = {
    "libimagequant.copyright": "/usr/share/doc/libimagequant0/copyright",
    "libjpeg-turbo.copyright": "/usr/share/doc/libjpeg62-turbo/copyright",
    "libspng.copyright": "/usr/share/doc/libspng0/copyright",
    "GPL-3": "/usr/share/common-licenses/GPL-3",
}


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
        env = dict(os.environ, CGO_ENABLED="1",
                   CGO_LDFLAGS=os.environ.get("CGO_LDFLAGS", "-O2 -g") + defs,
                   CGO_CFLAGS=os.environ.get("CGO_CFLAGS", "-O2 -g") + f" -I{COMMON}")
        cmd = ["go", "build", "-buildmode=c-shared", "-o", core, "./core"]
        print(" ".join(cmd), flush=True)
        subprocess.run(cmd, cwd=HERE, env=env, check=True)
        # cgo writes libpiuma_core.h next to the library: move it out of the
        # package (it is a build input of the glue, not something to install).
        header = os.path.join(self.build_temp, "libpiuma_core.h")
        os.replace(os.path.join(out_dir, "libpiuma_core.h"), header)
        licenses = os.path.join(out_dir, "licenses")
        for name, path in THIRD_PARTY_LICENSES.items():
            if os.path.isfile(path):
                os.makedirs(licenses, exist_ok=True)
                shutil.copyfile(path, os.path.join(licenses, name))
        ext.include_dirs += [os.path.abspath(self.build_temp), os.path.join(HERE, "core"), COMMON]
        super().build_extension(ext)


limited = [] if FREE_THREADED else [("Py_LIMITED_API", "0x030A0000")]
setup(
    ext_modules=[Extension("piuma._piuma", ["piuma/_piuma.c"],
                           depends=["core/piuma_api.h"] + [os.path.join(COMMON, h) for h in (
                               "go_core.h", "go_guard.h", "go_panic.h")],
                           define_macros=limited, py_limited_api=not FREE_THREADED,
                           extra_compile_args=["-std=gnu11", "-Wall", "-Wextra", "-Werror"],
                           libraries=["dl"])],
    cmdclass={"build_ext": build_go_ext},
    options={"bdist_wheel": {"py_limited_api": False if FREE_THREADED else "cp310"},
             # setuptools' own build folders, apart from the step's build/images
             "build": {"build_base": "build/setuptools"}},
)
