#include "shim.h"

/* Returns 1 on success, 0 with TypeError/OverflowError set (as the API). */
int
parse_two_longlongs(PyObject *args, long long *a, long long *b)
{
    return PyArg_ParseTuple(args, "LL:sum", a, b);
}

void
raise_sum_overflow(long long a, long long b)
{
    PyErr_Format(PyExc_OverflowError,
                 "sum(%lld, %lld) does not fit in a signed 64-bit integer", a, b);
}
