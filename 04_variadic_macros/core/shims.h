/*
 * shims.h: the CPython API that cgo cannot call, behind plain C functions.
 *
 * cgo calls C functions with a fixed parameter list. It cannot call
 *   - variadic functions: PyArg_ParseTuple(args, "O", &o), PyErr_Format...;
 *   - function-like macros: PyList_Check and PyLong_Check are macros over
 *     Py_TYPE(op)->tp_flags on every Python this repo supports (3.10-3.13
 *     checked), so there is no function to call;
 * (see testdata/ and README.md for the compile errors). Each shim is a real
 * function with a fixed signature that does the call in C.
 *
 * Py_TYPE, Py_INCREF and Py_DECREF are static inline functions on 3.11+
 * (the same-named macros there only add a cast, and cgo, naming them without
 * parentheses, reaches the functions): Go can call them, testdata/inline
 * builds. On 3.10, which the repo still supports, Py_TYPE is a plain macro
 * and Py_INCREF/Py_DECREF are macros over _Py_INCREF/_Py_DECREF, so cgo
 * refuses them. Hence macro_type_name below rather than C.Py_TYPE in Go:
 * one shim that builds on 3.10 too. (The Go core releases the one new
 * reference it takes, list_sum's snapshot, with Py_DecRef: the function
 * form of Py_DECREF, exported by every version.)
 *
 * Real, non-variadic API functions (PyList_AsTuple, PyTuple_GetItem,
 * PyLong_AsLongLong, PyBool_FromLong, PyErr_SetString, Py_DecRef...) need no
 * shim: the Go code calls them directly.
 */
#ifndef MACRO_SHIMS_H
#define MACRO_SHIMS_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

/*
 * PyArg_ParseTuple(args, format, &obj) for a one-object format ("O:name").
 * Returns obj, a BORROWED reference (the args tuple owns it), or NULL with
 * a TypeError set when args does not hold exactly one object.
 */
PyObject *macro_parse_one_arg(PyObject *args, const char *format);

/* The formats, as C strings Go can pass as they are (no C.CString, no free).
 * ":name" makes PyArg_ParseTuple's TypeError name the function. */
extern const char *const macro_fmt_is_a_list;
extern const char *const macro_fmt_is_a_long;
extern const char *const macro_fmt_list_sum;

/* PyList_Check / PyLong_Check: 1 for a list / an int (subclasses included:
 * list subclasses, bool), else 0. They cannot fail. */
int macro_PyList_Check(PyObject *obj);
int macro_PyLong_Check(PyObject *obj);

/* Py_TYPE(obj)->tp_name: borrowed from the type, copy it before the object
 * can go away. */
const char *macro_type_name(PyObject *obj);

/*
 * The Python ABI this file was compiled for, "3.11" or "3.13t" (free-threaded):
 * the Go core reads objects through this Python's headers (PyLong_Check reads
 * a field at an offset that differs between 3.13 and 3.13t, for one), so the
 * glue refuses a core built for another interpreter, e.g. one left by
 * `make PYTHON=python3.13t`, instead of crashing on the first call.
 */
#ifdef Py_GIL_DISABLED
#define MACRO_PYTHON_ABI Py_STRINGIFY(PY_MAJOR_VERSION) "." Py_STRINGIFY(PY_MINOR_VERSION) "t"
#else
#define MACRO_PYTHON_ABI Py_STRINGIFY(PY_MAJOR_VERSION) "." Py_STRINGIFY(PY_MINOR_VERSION)
#endif
/* MACRO_PYTHON_ABI as the core was compiled: the glue compares it with its own. */
const char *macro_core_python_abi(void);

#endif /* MACRO_SHIMS_H */
