/*
 * newmath: the talk's first extension, in plain C, made correct, and the
 * same function with the fast calling convention beside it.
 *
 *   sum(a, b)       METH_VARARGS + PyArg_ParseTuple, the talk's shape
 *   sum_fast(a, b)  METH_FASTCALL: the same contract, without the argument
 *                   tuple and the format string
 *
 * Built against the limited API (stable ABI): the build defines
 * Py_LIMITED_API=0x030A0000 (Makefile, setup.py), so one newmath.abi3.so
 * works on every CPython >= 3.10. Except on a free-threaded interpreter
 * (3.13t): it has no limited API yet (abi3t, PEP 803, is planned for 3.15),
 * so the build there is version-specific and leaves the macro out.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <limits.h>

/* The limited API, or a free-threaded build: never a version-specific build
 * by accident, which the Makefile would name newmath.abi3.so. */
#if !defined(Py_LIMITED_API) && !defined(Py_GIL_DISABLED)
#error "build with -DPy_LIMITED_API=0x030A0000 (see Makefile and setup.py)"
#endif

/* [excerpt: add-fits] */
/*
 * a + b into *result, or 0 if it does not fit. C's signed overflow is
 * undefined behaviour, so test before adding, in plain C (no compiler
 * builtin: this compiles with any C compiler; GCC and Clang turn it into
 * an add and a jump on overflow anyway). C23 names this ckd_add().
 */
static int
add_fits(long long a, long long b, long long *result)
{
    if ((b > 0 && a > LLONG_MAX - b) || (b < 0 && a < LLONG_MIN - b))
        return 0;
    *result = a + b;
    return 1;
}
/* [/excerpt: add-fits] */

static PyObject *
raise_sum_overflow(const char *name, long long a, long long b)
{
    PyErr_Format(PyExc_OverflowError,
                 "%s(%lld, %lld) does not fit in a signed 64-bit integer", name, a, b);
    return NULL;
}

/* [excerpt: talk-call] */
/*
 * The talk's version. It declared `const long a, b` and parsed them with
 * "LL". Two problems: PyArg_ParseTuple writes through &a and &b, and writing
 * to a const object is undefined behaviour; and "L" writes a long long, 8
 * bytes, where long is 4 (Windows): 4 bytes too many. Here a and b are long
 * long: "L" converts a Python int to 64 bits everywhere, and raises
 * OverflowError when the int does not fit.
 *
 * METH_VARARGS: the interpreter packs the arguments into a new tuple for
 * every call, and PyArg_ParseTuple interprets the format string "LL:sum" at
 * every call. Both cost more than the addition (see make bench).
 */
static PyObject *
newmath_sum(PyObject *Py_UNUSED(module), PyObject *args)
{
    long long a, b, result;

    if (!PyArg_ParseTuple(args, "LL:sum", &a, &b))
        return NULL;    /* TypeError or OverflowError already set */
    if (!add_fits(a, b, &result))
        return raise_sum_overflow("sum", a, b);
    return PyLong_FromLongLong(result);
}
/* [/excerpt: talk-call] */

/* [excerpt: fast-call] */
/*
 * The same with METH_FASTCALL (stable ABI since 3.10): the caller's
 * arguments arrive as a C array, no tuple is built, and each is converted
 * directly. PyArg_ParseTuple's count check and messages are ours to write:
 * they are the same words, so both functions meet one contract.
 */
static PyObject *
newmath_sum_fast(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    long long a, b, result;

    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError,
                     "sum_fast() takes exactly 2 arguments (%zd given)", nargs);
        return NULL;
    }
    /* As "L" does: __index__, TypeError for a non-int, OverflowError. */
    a = PyLong_AsLongLong(args[0]);
    if (a == -1 && PyErr_Occurred())
        return NULL;
    b = PyLong_AsLongLong(args[1]);
    if (b == -1 && PyErr_Occurred())
        return NULL;
    if (!add_fits(a, b, &result))
        return raise_sum_overflow("sum_fast", a, b);
    return PyLong_FromLongLong(result);
}
/* [/excerpt: fast-call] */

/* "sum($module, a, b, /)\n--\n\n" is the text signature inspect reads. */
PyDoc_STRVAR(newmath_sum_doc,
"sum($module, a, b, /)\n--\n\n"
"Return a + b for two integers that fit in a signed 64-bit C long long.\n\n"
"Raises OverflowError when an argument or the result does not fit.");

PyDoc_STRVAR(newmath_sum_fast_doc,
"sum_fast($module, a, b, /)\n--\n\n"
"sum(a, b) called with METH_FASTCALL: the same contract, a cheaper call.\n\n"
"Raises OverflowError when an argument or the result does not fit.");

/* [excerpt: methods] */
static PyMethodDef newmath_methods[] = {
    {"sum", newmath_sum, METH_VARARGS, newmath_sum_doc},
    /* A PyMethodDef holds a PyCFunction: cast through void (*)(void), which
     * -Wcast-function-type accepts; METH_FASTCALL tells how to call it. */
    {"sum_fast", (PyCFunction)(void (*)(void))newmath_sum_fast, METH_FASTCALL,
     newmath_sum_fast_doc},
    {NULL, NULL, 0, NULL}
};
/* [/excerpt: methods] */

/*
 * Multi-phase initialisation (PEP 489). The module has no state at all (no
 * globals, no objects of its own), so each interpreter gets its own module
 * object and nothing is shared between them, or between threads.
 */
static PyModuleDef_Slot newmath_slots[] = {
    /* The abi3 build targets 3.10, whose limited API has neither slot (3.12
     * added the first, 3.13 the second): it cannot declare them, and gets the
     * default, "subinterpreters that share the main GIL only". (Py_mod_gil
     * would not matter there: a free-threaded interpreter cannot load abi3.)
     * The version-specific free-threaded build declares both. */
#ifdef Py_mod_multiple_interpreters
    /* No state: fine in subinterpreters that have their own GIL too. */
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
#ifdef Py_mod_gil
    /* No state, and ints are immutable: safe without the GIL on a
     * free-threaded build. */
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL}
};

static struct PyModuleDef newmath_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "newmath",
    .m_doc = "Step 01: integer sum in C, METH_VARARGS and METH_FASTCALL.",
    .m_size = 0,
    .m_methods = newmath_methods,
    .m_slots = newmath_slots,
};

PyMODINIT_FUNC
PyInit_newmath(void)
{
    return PyModuleDef_Init(&newmath_module);
}
