/*
 * C shims for what cgo cannot call: PyArg_ParseTuple and PyErr_Format are
 * variadic, and cgo can only call C functions with a fixed parameter list.
 */
#ifndef NEWMATH_SHIM_H
#define NEWMATH_SHIM_H
#define PY_SSIZE_T_CLEAN
#include <Python.h>

int parse_two_longlongs(PyObject *args, long long *a, long long *b);
void raise_sum_overflow(long long a, long long b);
#endif
