/* shims.c: see shims.h. Compiled by cgo into the Go core. */
#include "shims.h"

const char *const macro_fmt_is_a_list = "O:is_a_list";
const char *const macro_fmt_is_a_long = "O:is_a_long";
const char *const macro_fmt_list_sum = "O:list_sum";

/* [excerpt: shims] */
PyObject *
macro_parse_one_arg(PyObject *args, const char *format)
{
    PyObject *obj = NULL;

    /* "O" stores a borrowed reference: no Py_INCREF, so no Py_DECREF later. */
    if (!PyArg_ParseTuple(args, format, &obj))
        return NULL;
    return obj;
}

int
macro_PyList_Check(PyObject *obj)
{
    return PyList_Check(obj);
}

int
macro_PyLong_Check(PyObject *obj)
{
    return PyLong_Check(obj);
}
/* [/excerpt: shims] */

const char *
macro_type_name(PyObject *obj)
{
    return Py_TYPE(obj)->tp_name;
}

const char *
macro_core_python_abi(void)
{
    return MACRO_PYTHON_ABI;
}
