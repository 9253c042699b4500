"""The ImportError a Go-backed module of this repository raises when another
Go core already runs in the process: written by common/go_core.h (C glue) and
02_cgo_sum/ffi/gocore.py (ctypes/cffi loaders), checked by the tests."""

import re

REFUSAL = re.compile(
    r"cannot import (?P<new>[\w.]+): this process already runs the Go runtime of module "
    r"'(?P<old>[\w.]+)' \((?P<path>[^)]+)\)\. Go supports one runtime per process "
    r"\(golang/go#65050\), so two Go-backed extension modules cannot share an "
    r"interpreter; import (?P=new) in a separate Python process instead"
)
