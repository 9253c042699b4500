/*
 * go_core.h: load a step's Go core (a -buildmode=c-shared library) from its
 * CPython extension module, with at most one Go runtime per process.
 *
 * Why the extension does not simply link the Go code in:
 *   a Go runtime starts as soon as the library that carries it is loaded
 *   (its ELF constructor runs during dlopen), i.e. *before* PyInit_<module>.
 *   A check in PyInit could refuse the module, but the second runtime would
 *   already be running and could not be unloaded. Two Go runtimes in one
 *   process are not supported (golang/go#65050, golang/go#18976).
 *   So the extension module is plain C; PyInit checks who owns the process's
 *   Go runtime and only then dlopen()s the Go core that sits beside it.
 *
 * The owner is recorded as sys._go_runtime_owner = (module, core path), so
 * the Python-side loaders (ctypes, cffi) of this repository honour it too.
 *
 * Usage, in the C glue:
 *     #include "libnewmath_core.h"         (cgo's generated header: the types)
 *     #include "go_core.h"
 *     EPG_GO_FUNC(Sum);                     (static __typeof__(Sum) *go_Sum)
 *     PyMODINIT_FUNC PyInit_newmath(void) {
 *         void *core = epg_go_core_open("newmath", "libnewmath_core.so",
 *                                       (const void *)&PyInit_newmath);
 *         if (core == NULL || EPG_GO_BIND(core, Sum) < 0) return NULL;
 *         ...
 * The core is never dlclose()d: a Go runtime cannot be shut down.
 */
#ifndef EPG_GO_CORE_H
#define EPG_GO_CORE_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* dladdr */
#endif
#include <Python.h>
#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define EPG_OWNER_ATTR "_go_runtime_owner"

/* A typed function pointer named go_<Name>, checked against cgo's header. */
#define EPG_GO_FUNC(Name) static __typeof__(Name) *go_##Name = NULL
#define EPG_GO_BIND(handle, Name) \
    epg_go_core_bind((handle), #Name, (void **)&go_##Name)

/* ImportError raised when another Go core already owns this process. */
static PyObject *
epg_second_runtime_error(const char *module, PyObject *owner_module,
                         PyObject *owner_path)
{
    PyErr_Format(PyExc_ImportError,
                 "cannot import %s: this process already runs the Go runtime "
                 "of module '%U' (%U). Go supports one runtime per process "
                 "(golang/go#65050), so two Go-backed extension modules cannot "
                 "share an interpreter; import %s in a separate Python process "
                 "instead (a new interpreter, subprocess, or multiprocessing "
                 "with the 'spawn' start method).",
                 module, owner_module, owner_path, module);
    return NULL;
}

/*
 * Locate core_name in the directory of the shared object that holds `anchor`
 * (any function of the extension module), check the one-runtime rule and
 * dlopen it. Returns the handle, or NULL with ImportError set.
 */
static void *
epg_go_core_open(const char *module, const char *core_name, const void *anchor)
{
    Dl_info info;
    char here[PATH_MAX], path[PATH_MAX];

    if (dladdr(anchor, &info) == 0 || info.dli_fname == NULL ||
        realpath(info.dli_fname, here) == NULL) {
        PyErr_Format(PyExc_ImportError,
                     "cannot import %s: cannot locate its own shared object",
                     module);
        return NULL;
    }
    char *slash = strrchr(here, '/');
    if (slash != NULL)
        *slash = '\0';
    if (snprintf(path, sizeof path, "%s/%s", here, core_name) >= (int)sizeof path) {
        PyErr_Format(PyExc_ImportError, "cannot import %s: path too long", module);
        return NULL;
    }

    PyObject *core_path = PyUnicode_DecodeFSDefault(path);
    if (core_path == NULL)
        return NULL;
    PyObject *owner = PySys_GetObject(EPG_OWNER_ATTR); /* borrowed, may be NULL */
    if (owner != NULL && owner != Py_None) {
        PyObject *owner_module = NULL, *owner_path = NULL;
        if (!PyTuple_Check(owner) ||
            !PyArg_ParseTuple(owner, "UU", &owner_module, &owner_path)) {
            PyErr_Format(PyExc_ImportError, "cannot import %s: sys."
                         EPG_OWNER_ATTR " must be a (module, path) tuple of str, "
                         "not %R", module, owner);
            Py_DECREF(core_path);
            return NULL;
        }
        int same = PyUnicode_Compare(owner_path, core_path) == 0;
        if (!same) {
            epg_second_runtime_error(module, owner_module, owner_path);
            Py_DECREF(core_path);
            return NULL;
        }
        /* Same library again (a reload): dlopen returns the loaded copy. */
    }

    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        const char *why = dlerror();
        PyErr_Format(PyExc_ImportError, "cannot import %s: %s (run `make` in "
                     "the step folder to build the Go core)", module,
                     why ? why : path);
        Py_DECREF(core_path);
        return NULL;
    }
    PyObject *record = Py_BuildValue("(sN)", module, core_path); /* steals */
    if (record == NULL || PySys_SetObject(EPG_OWNER_ATTR, record) < 0) {
        Py_XDECREF(record);
        return NULL;
    }
    Py_DECREF(record);
    return handle;
}

/* dlsym with an ImportError that names the missing export. */
static int
epg_go_core_bind(void *handle, const char *name, void **slot)
{
    *slot = dlsym(handle, name);
    if (*slot == NULL) {
        PyErr_Format(PyExc_ImportError,
                     "Go core does not export %s (is it built from this "
                     "source? run `make clean all`)", name);
        return -1;
    }
    return 0;
}

#endif /* EPG_GO_CORE_H */
