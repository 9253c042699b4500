/*
 * shims.h: the CPython API that cgo cannot call, behind plain C functions.
 *
 * cgo calls C functions with a fixed parameter list. It cannot call
 *   - variadic functions: PyArg_ParseTuple(args, "O", &o), PyErr_Format...
 *   - macros: PyList_Check, PyLong_Check, Py_TYPE, Py_INCREF...
 * (see testdata/ and README.md for the compile errors). Each shim is a real
 * function with a fixed signature that does the call in C.
 *
 * Real, non-variadic API functions (PyList_Size, PyList_GetItem,
 * PyLong_AsLongLong, PyBool_FromLong, PyErr_SetString...) need no shim: the
 * Go code calls them directly.
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

#endif /* MACRO_SHIMS_H */
