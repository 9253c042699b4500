"""The same extension, built by setuptools instead of the Makefile.

    make setuptools     # pip wheel: build/wheel/newmath-1.0-cp310-abi3-*.whl

On a free-threaded interpreter (3.13t) there is no limited API (until abi3t,
PEP 803, Python 3.15): the wheel is for that interpreter only
(newmath-1.0-cp313-cp313t-*.whl).
"""

import sysconfig

from setuptools import Extension, setup

FREE_THREADED = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))

# [excerpt: extension]
setup(
    ext_modules=[
        Extension(
            "newmath",
            sources=["newmath.c"],
            # Both are needed: the macro restricts the C code to the stable
            # ABI, py_limited_api names the file newmath.abi3.so.
            define_macros=[] if FREE_THREADED else [("Py_LIMITED_API", "0x030A0000")],
            py_limited_api=not FREE_THREADED,
            extra_compile_args=["-Wall", "-Wextra", "-Werror"],
        )
    ],
    options={} if FREE_THREADED else {"bdist_wheel": {"py_limited_api": "cp310"}},
)
# [/excerpt: extension]
