/*
 * cloop: the benchmark's loop in plain C, for reference (no Go here).
 *
 * Written naively, `for (; n > 0; n--) done++;` is folded by gcc -O2 into
 * `done = n`: no loop at all. The empty asm statement below tells the
 * compiler that `done` may have changed behind its back, so every iteration
 * really runs; it emits no instruction, and `done` stays in a register,
 * which is the loop Go's compiler produces for countdown.Count (the Go
 * compiler does not fold such loops; test_goroutines_gil.py checks both
 * disassemblies). Same loop, same work: a fair reference.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static long long
count(long long n)
{
    long long done = 0;
    for (; n > 0; n--) {
        done++;
        __asm__ volatile("" : "+r"(done)); /* opaque: no folding */
    }
    return done;
}

/* Kept as a symbol of its own so the disassembly can be inspected. */
__attribute__((noinline)) long long
cloop_count(long long n)
{
    return count(n);
}

static PyObject *
cloop_countdown(PyObject *Py_UNUSED(module), PyObject *arg)
{
    long long n = PyLong_AsLongLong(arg), done;
    if (n == -1 && PyErr_Occurred())
        return NULL;
    if (n < 0) {
        PyErr_Format(PyExc_ValueError, "countdown() argument must be >= 0, got %lld", n);
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    done = cloop_count(n);
    Py_END_ALLOW_THREADS
    return PyLong_FromLongLong(done);
}

static PyMethodDef cloop_methods[] = {
    {"countdown", cloop_countdown, METH_O,
     "countdown(n, /)\n--\n\nCount n down in C (one thread, GIL released); "
     "return n."},
    {NULL, NULL, 0, NULL}
};

static PyModuleDef_Slot cloop_slots[] = {
#ifdef Py_mod_multiple_interpreters
    /* No state at all: fine in any interpreter, with its own GIL or not. */
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
#ifdef Py_mod_gil
    /* Safe without the GIL: cloop_count works on C integers only. */
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL}
};

static struct PyModuleDef cloop_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "cloop",
    .m_doc = "Step 05: the countdown loop in plain C, the benchmark's reference.",
    .m_size = 0,
    .m_methods = cloop_methods,
    .m_slots = cloop_slots,
};

PyMODINIT_FUNC
PyInit_cloop(void)
{
    return PyModuleDef_Init(&cloop_module); /* multi-phase init (PEP 489) */
}
