"""The same extension, built by setuptools instead of the Makefile.

    pip wheel --no-deps -w build/wheel .     # -> newmath-1.0-cp310-abi3-*.whl
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "newmath",
            sources=["newmath.c"],
            # Both are needed: the macro restricts the C code to the stable
            # ABI, py_limited_api names the file newmath.abi3.so.
            define_macros=[("Py_LIMITED_API", "0x030A0000")],
            py_limited_api=True,
            extra_compile_args=["-Wall", "-Wextra", "-Werror"],
        )
    ],
    options={"bdist_wheel": {"py_limited_api": "cp310"}},
)
