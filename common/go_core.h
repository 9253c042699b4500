/*
 * go_core.h: what the C glue of every Go-backed module shares.
 *
 *  1. Loading the step's Go core (a -buildmode=c-shared library beside the
 *     module) from the module's Py_mod_exec slot, with at most one Go runtime
 *     per process (go_guard.h says how that is checked).
 *  2. Refusing subinterpreters: the Go runtime and the function pointers
 *     below are per process, so the module is loaded in the main
 *     interpreter only (Py_mod_multiple_interpreters on 3.12+, a check of
 *     the interpreter on every version).
 *  3. Turning a Go panic report (go_panic.h) into a Python RuntimeError.
 *  4. go_runtimes(), the check a user can call: is a second Go runtime
 *     mapped now (one loaded after the module, which nothing can refuse)?
 *  5. fork(): epg_go_check_fork(), before every call into Go, raises in a
 *     fork()ed child of a process in which any guard had started a Go
 *     runtime (go_guard.h's process-wide mark, not this module's own).
 *
 * Why the extension does not simply link the Go code in: a Go runtime starts
 * as soon as the library that carries it is loaded (its ELF constructor runs
 * during dlopen), i.e. before any code of the module runs. A check could
 * refuse the module, but the second runtime would already be running and
 * could not be unloaded. So the extension module is plain C; it checks the
 * process, and only then dlopen()s the Go core that sits beside it.
 *
 * Usage, in the C glue (multi-phase initialisation, PEP 489):
 *     #include "libnewmath_core.h"          cgo's generated header: the types
 *     #include "go_core.h"
 *     EPG_GO_FUNC(Sum);                      static __typeof__(Sum) *go_Sum
 *     static const epg_go_symbol core_symbols[] = {EPG_GO_SYMBOL(Sum), {NULL, NULL}};
 *     static int newmath_exec(PyObject *m) {
 *         return epg_go_core_load(m, "libnewmath_core.so", core_symbols);
 *     }
 *     static PyModuleDef_Slot slots[] = {{Py_mod_exec, newmath_exec},
 *                                        EPG_SLOT_MAIN_INTERPRETER_ONLY ... {0, NULL}};
 *     static PyMethodDef methods[] = {..., EPG_GO_RUNTIMES_METHOD {NULL, NULL, 0, NULL}};
 * The core is never dlclose()d: a Go runtime cannot be shut down.
 * Everything here is in the limited API (step 06 builds an abi3 module).
 */
#ifndef EPG_GO_CORE_H
#define EPG_GO_CORE_H

#include <Python.h>

#include "go_guard.h"
#include "go_panic.h"

/* A typed function pointer named go_<Name>, checked against cgo's header,
 * and its entry in the table epg_go_core_load binds. */
#define EPG_GO_FUNC(Name) static __typeof__(Name) *go_##Name = NULL
#define EPG_GO_SYMBOL(Name) {#Name, (void **)&go_##Name}

/* Slot: import in a subinterpreter fails before the module is created. */
#ifdef Py_mod_multiple_interpreters
#define EPG_SLOT_MAIN_INTERPRETER_ONLY \
    {Py_mod_multiple_interpreters, Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED},
#else
#define EPG_SLOT_MAIN_INTERPRETER_ONLY /* 3.10, 3.11, abi3: checked in exec */
#endif

/* ---- fork(): a Go runtime does not survive it ----------------------------- */

/*
 * A fork()ed child has one thread, the one that called fork(): none of the Go
 * runtime's, which the copied runtime still counts on, so its next call into
 * Go may wait forever (golang/go#15538). The guard's atfork handler marks
 * every child of a process in which a Go core had started through any guard
 * (go_guard.h: one process-wide mark, whichever module or loader started it;
 * a pid alone can repeat: PID 1 of a new PID namespace); a core loaded past
 * every guard (ctypes.CDLL) is seen by the child's first guard if the child
 * still has its one thread. epg_go_check_fork() makes its calls raise.
 */
/* Before every call into Go: 0, or -1 with RuntimeError in a forked child. */
__attribute__((unused)) static int
epg_go_check_fork(void)
{
    if (!epg_go_guard_forked())
        return 0;
    PyErr_SetString(PyExc_RuntimeError,
                    "this process was fork()ed from one that runs a Go runtime, which does "
                    "not survive fork() (golang/go#15538): start child processes with "
                    "'spawn' (multiprocessing.get_context('spawn'), subprocess)");
    return -1;
}

/*
 * For the module's Py_mod_exec slot: refuse a subinterpreter, then load
 * core_name from the directory of this extension module under the
 * process-wide guard and bind `symbols` (NULL-terminated). Returns 0, or -1
 * with ImportError set.
 */
static int
epg_go_core_load(PyObject *module, const char *core_name, const epg_go_symbol *symbols)
{
    const char *name = PyModule_GetName(module);
    if (name == NULL)
        return -1;
    /* The main interpreter's ID is 0. (Python 3.12+ stops earlier, at the
     * slot, but an abi3 build or 3.10/3.11 cannot declare it.) */
    if (PyInterpreterState_GetID(PyInterpreterState_Get()) != 0) {
        PyErr_Format(PyExc_ImportError,
                     "cannot import %s in a subinterpreter: its Go runtime and "
                     "its state are per process, shared by every interpreter; "
                     "import %s in the main interpreter", name, name);
        return -1;
    }

    /* The core sits beside the shared object that holds `symbols`. */
    Dl_info info;
    char here[PATH_MAX], path[PATH_MAX];
    if (dladdr((const void *)symbols, &info) == 0 || info.dli_fname == NULL ||
        realpath(info.dli_fname, here) == NULL) {
        PyErr_Format(PyExc_ImportError,
                     "cannot import %s: cannot locate its own shared object", name);
        return -1;
    }
    char *slash = strrchr(here, '/');
    if (slash != NULL)
        *slash = '\0';
    if (snprintf(path, sizeof path, "%s/%s", here, core_name) >= (int)sizeof path) {
        PyErr_Format(PyExc_ImportError, "cannot import %s: path too long", name);
        return -1;
    }

    char err[PATH_MAX + 1024];
    int refused;
    void *handle;
    /* dlopen starts the Go runtime (threads, signal handlers): no Python
     * object is touched meanwhile, so let other threads run. */
    Py_BEGIN_ALLOW_THREADS
    handle = epg_go_guard_open(name, path, symbols, &refused, err, sizeof err);
    Py_END_ALLOW_THREADS
    if (handle == NULL) {
        if (refused)
            PyErr_SetString(PyExc_ImportError, err);
        else
            PyErr_Format(PyExc_ImportError, "cannot import %s: %s", name, err);
        return -1;
    }
    return 0;
}

/* ---- the check a user can call: module.go_runtimes() --------------------- */

/*
 * A method every Go-backed module lists in its method table
 * (EPG_GO_RUNTIMES_METHOD): the Go runtimes mapped in this process now, one
 * path per loaded copy, its own core included. The guard refuses a second
 * runtime loaded BEFORE a module, but nothing can refuse one loaded AFTER
 * (a later dlopen, e.g. a library that loads its Go code on first use):
 * `len(module.go_runtimes()) == 1` is how to find out. It reads the process
 * map (about a millisecond), with the GIL released.
 */
__attribute__((unused)) static PyObject *
epg_go_runtimes(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(ignored))
{
    size_t count = 0;
    char *paths;
    Py_BEGIN_ALLOW_THREADS
    paths = epg_go_runtime_list(&count);
    Py_END_ALLOW_THREADS
    if (paths == NULL)
        return PyErr_SetFromErrnoWithFilename(PyExc_OSError, "/proc/self/maps");
    PyObject *list = PyList_New(0);
    const char *path = paths;
    for (size_t i = 0; list != NULL && i < count; i++, path += strlen(path) + 1) {
        PyObject *item = PyUnicode_DecodeFSDefault(path);
        if (item == NULL || PyList_Append(list, item) < 0)
            Py_CLEAR(list);
        Py_XDECREF(item);
    }
    free(paths);
    return list;
}

#define EPG_GO_RUNTIMES_METHOD                                                  \
    {"go_runtimes", epg_go_runtimes, METH_NOARGS,                              \
     "go_runtimes($module, /)\n--\n\n"                                          \
     "The Go runtimes mapped in this process: one path per loaded copy, this\n" \
     "module's own Go core included. More than one: a Go library was loaded\n"  \
     "after this module, and nothing could refuse it (golang/go#65050)."},

/* ---- exceptions: the 3.12 API where the build allows it ------------------ */

#if (!defined(Py_LIMITED_API) && PY_VERSION_HEX >= 0x030C0000) || \
    (defined(Py_LIMITED_API) && Py_LIMITED_API + 0 >= 0x030C0000)
#define epg_err_take() PyErr_GetRaisedException()
#define epg_err_restore(exc) PyErr_SetRaisedException(exc)
#else
/* PyErr_Fetch/PyErr_Restore, deprecated since 3.12, on older targets. */
static PyObject *
epg_err_take(void)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    if (type == NULL)
        return NULL;
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb != NULL)
        PyException_SetTraceback(value, tb);
    Py_DECREF(type);
    Py_XDECREF(tb);
    return value;
}

static void
epg_err_restore(PyObject *exc)
{
    if (exc == NULL)
        return;
    PyObject *tb = PyException_GetTraceback(exc);
    PyErr_Restore(PyObject_Type(exc), exc, tb);
}
#endif

/*
 * Raise RuntimeError("Go panic in <where>: <value>") for a report filled by
 * gopanic.Recover, with the Go stack as a note (3.11+), and free the report's
 * strings. An exception that was already set (Go code that raised, then
 * panicked) becomes its __context__. Returns NULL, for `return epg_...;`.
 */
static PyObject *
epg_raise_go_panic(const char *where, epg_go_panic *report)
{
    PyObject *earlier = epg_err_take();
    PyErr_Format(PyExc_RuntimeError, "Go panic in %s: %s", where,
                 report->value ? report->value : "(no value)");
    PyObject *exc = epg_err_take();
    if (earlier != NULL)
        PyException_SetContext(exc, earlier); /* steals `earlier` */
    if (report->stack != NULL && PyObject_HasAttrString(exc, "add_note")) {
        PyObject *r = PyObject_CallMethod(exc, "add_note", "s", report->stack);
        if (r == NULL)
            PyErr_Clear(); /* the exception itself matters more than its note */
        Py_XDECREF(r);
    }
    epg_err_restore(exc);
    free(report->value); /* malloc'ed by Go's C.CString: freed once, here */
    free(report->stack);
    report->value = report->stack = NULL;
    return NULL;
}

#endif /* EPG_GO_CORE_H */
