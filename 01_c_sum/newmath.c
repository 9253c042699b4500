/*
 * newmath: the talk's first extension, in plain C, made correct.
 *
 * Built against the limited API (stable ABI): one newmath.abi3.so works on
 * every CPython >= 3.10 of the same platform.
 */
#define Py_LIMITED_API 0x030A0000
#define PY_SSIZE_T_CLEAN
#include <Python.h>

/*
 * The talk declared `const long a, b` and parsed them with "ll" (one "l" per
 * long). Two problems: PyArg_ParseTuple writes through &a and &b, and writing
 * to a const object is undefined behaviour; and long is 32 bits on Windows.
 * "L" converts a Python int to long long (64 bits everywhere) and raises
 * OverflowError when the int does not fit.
 */
static PyObject *
newmath_sum(PyObject *Py_UNUSED(module), PyObject *args)
{
    long long a, b, result;

    if (!PyArg_ParseTuple(args, "LL:sum", &a, &b))
        return NULL;    /* TypeError or OverflowError already set */

    /* C's signed overflow is undefined behaviour: check, never wrap. */
    if (__builtin_add_overflow(a, b, &result)) {
        PyErr_Format(PyExc_OverflowError,
                     "sum(%lld, %lld) does not fit in a signed 64-bit integer",
                     a, b);
        return NULL;
    }
    return PyLong_FromLongLong(result);
}

/* "sum($module, a, b, /)\n--\n\n" is the text signature inspect reads. */
PyDoc_STRVAR(newmath_sum_doc,
"sum($module, a, b, /)\n--\n\n"
"Return a + b for two integers that fit in a signed 64-bit C long long.\n\n"
"Raises OverflowError when an argument or the result does not fit.");

static PyMethodDef newmath_methods[] = {
    {"sum", newmath_sum, METH_VARARGS, newmath_sum_doc},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef newmath_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "newmath",
    .m_doc = "Step 01: integer sum in C (limited API).",
    .m_size = -1,
    .m_methods = newmath_methods,
};

PyMODINIT_FUNC
PyInit_newmath(void)
{
    return PyModule_Create(&newmath_module);
}
