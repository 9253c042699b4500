"""The ImportError a Go-backed module of this repository raises when another
Go runtime already runs in the process: written by common/go_guard.h (for the
C glue and step 02's ctypes/cffi loaders), checked by the tests.

`owner` is the module that loaded the running runtime through the guard, or
None when something else loaded it (ctypes.CDLL, a third-party library).
"""

import re

REFUSAL = re.compile(
    r"cannot import (?P<new>[\w.]+): this process already runs a Go runtime, from "
    r"(?P<path>.+?) \((?:module '(?P<owner>[\w.]+)'|(?P<foreign>not loaded by a module of "
    r"this repository))\)\. Go supports one runtime per process \(golang/go#65050\), so two "
    r"Go-backed extension modules cannot share an interpreter; import (?P=new) in a separate "
    r"Python process instead"
)
