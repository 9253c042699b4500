/*
 * piuma._piuma: the C glue of the Go engine. Plain C, so that importing it
 * starts no Go runtime; its exec slot loads the Go core (libpiuma_core.so, beside
 * this module) through common/go_core.h, which enforces one Go runtime per
 * process. All CPython objects live here: the Go core only sees C types.
 *
 *   run(src, dst, *, width=0, height=0, quality=85, workers=0,
 *       max_pixels=89478485, stdlib_jpeg=False, draft=True, optimize=False,
 *       jpegoptim=None, pngquant=None, progress=None, max_memory=0,
 *       tools=False, lanczos=False) -> list of tuples
 *       (source, destination, error or None, bytes_in, bytes_out,
 *        width, height, seconds), sorted by source.
 *   Progress(): done / total counters a batch updates while it runs (read
 *       them from another thread), and cancel(). A batch resets the counters
 *       when it starts; one batch at a time per Progress.
 *
 * The whole batch runs with the GIL released: other Python threads keep
 * running while Go's worker goroutines use every core.
 *
 * optimize=True optimises in process (libjpeg's optimised Huffman tables,
 * libimagequant); with tools=True through jpegoptim and pngquant instead.
 * lanczos=True resizes with Lanczos instead of bicubic.
 *
 * The limited API: built with Py_LIMITED_API=0x030A0000 (the Makefile and
 * setup.py define it, except for a free-threaded interpreter, which has no
 * stable ABI yet), this file uses only the stable ABI, so one
 * _piuma.abi3.so serves CPython 3.10 and later: no PyBytes_AS_STRING or
 * PyList_SET_ITEM macros (they read object internals), and Progress is a
 * heap type made by PyType_FromSpec (static PyTypeObjects are not part of
 * the stable ABI).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "libpiuma_core.h" /* cgo's header: PiumaRun, PiumaFreeResults, piuma_api.h */
#include "go_core.h"

EPG_GO_FUNC(PiumaRun);
EPG_GO_FUNC(PiumaFreeResults);
static const epg_go_symbol core_symbols[] = {
    EPG_GO_SYMBOL(PiumaRun), EPG_GO_SYMBOL(PiumaFreeResults), {NULL, NULL}};

/* ---- Progress --------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    piuma_progress p; /* updated by Go without the GIL: atomic accesses only */
    int busy;         /* a batch is using p: taken and given back atomically, so
                         that two threads cannot both take it, with or without
                         a GIL (free-threaded builds) */
} ProgressObject;

static PyObject *
progress_get_done(ProgressObject *self, void *Py_UNUSED(closure))
{
    return PyLong_FromLongLong(__atomic_load_n(&self->p.done, __ATOMIC_RELAXED));
}

static PyObject *
progress_get_total(ProgressObject *self, void *Py_UNUSED(closure))
{
    return PyLong_FromLongLong(__atomic_load_n(&self->p.total, __ATOMIC_RELAXED));
}

static PyObject *
progress_get_cancelled(ProgressObject *self, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(__atomic_load_n(&self->p.cancel, __ATOMIC_RELAXED));
}

static PyObject *
progress_cancel(ProgressObject *self, PyObject *Py_UNUSED(ignored))
{
    __atomic_store_n(&self->p.cancel, 1, __ATOMIC_RELAXED);
    Py_RETURN_NONE;
}

static PyGetSetDef progress_getset[] = {
    {"done", (getter)progress_get_done, NULL, "files finished so far", NULL},
    {"total", (getter)progress_get_total, NULL, "files in the batch (0 until the walk ends)", NULL},
    {"cancelled", (getter)progress_get_cancelled, NULL, "whether cancel() was called", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMethodDef progress_methods[] = {
    {"cancel", (PyCFunction)progress_cancel, METH_NOARGS,
     "Ask the running batch to stop: files not started yet fail with 'cancelled'."},
    {NULL, NULL, 0, NULL},
};

/* Instances hold a reference to their heap type: release it with them. */
static void
progress_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    freefunc tp_free = (freefunc)PyType_GetSlot(tp, Py_tp_free);
    tp_free(self);
    Py_DECREF(tp);
}

static PyType_Slot progress_slots[] = {
    {Py_tp_doc, (void *)"Progress of a batch, shared with the Go core while it runs."},
    {Py_tp_new, (void *)PyType_GenericNew}, /* zero-filled: done = total = cancel = 0 */
    {Py_tp_dealloc, (void *)progress_dealloc},
    {Py_tp_getset, progress_getset},
    {Py_tp_methods, progress_methods},
    {0, NULL},
};

static PyType_Spec progress_spec = {
    .name = "piuma._piuma.Progress",
    .basicsize = sizeof(ProgressObject),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = progress_slots,
};

/* Made once, by the first exec (a heap type: see the top of this file); the
 * module runs in the main interpreter only. */
static PyTypeObject *ProgressType = NULL;

/* ---- run -------------------------------------------------------------- */

/* O& converter: a path (str, bytes, os.PathLike) or None -> bytes or NULL. */
static int
fs_or_none(PyObject *obj, void *out)
{
    if (obj == NULL) { /* cleanup call */
        Py_CLEAR(*(PyObject **)out);
        return 1;
    }
    if (obj == Py_None) {
        *(PyObject **)out = NULL;
        return 1;
    }
    return PyUnicode_FSConverter(obj, out);
}

static PyObject *
result_tuple(const piuma_result *r)
{
    PyObject *err = Py_None;
    Py_INCREF(err);
    if (r->error != NULL) {
        Py_DECREF(err);
        err = PyUnicode_DecodeFSDefault(r->error); /* like the paths: lossless */
        if (err == NULL)
            return NULL;
    }
    PyObject *src = PyUnicode_DecodeFSDefault(r->source);
    PyObject *dst = src ? PyUnicode_DecodeFSDefault(r->destination) : NULL;
    if (dst == NULL) {
        Py_XDECREF(src);
        Py_DECREF(err);
        return NULL;
    }
    /* N steals the references */
    return Py_BuildValue("(NNNLLiid)", src, dst, err, (long long)r->bytes_in,
                         (long long)r->bytes_out, (int)r->width, (int)r->height,
                         r->seconds);
}

static PyObject *
piuma_run(PyObject *Py_UNUSED(module), PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"src", "dst", "width", "height", "quality", "workers",
                             "max_pixels", "stdlib_jpeg", "draft", "optimize",
                             "jpegoptim", "pngquant", "progress", "max_memory", "tools",
                             "lanczos", NULL};
    PyObject *src = NULL, *dst = NULL, *jpegoptim = NULL, *pngquant = NULL;
    PyObject *progress = Py_None;
    int width = 0, height = 0, quality = 85, workers = 0;
    int stdlib_jpeg = 0, draft = 1, optimize = 0, tools = 0, lanczos = 0;
    long long max_pixels = 89478485, max_memory = 0;
    PyObject *list = NULL;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O&O&|$iiiiLpppO&O&OLpp:run", kwlist,
                                     PyUnicode_FSConverter, &src,
                                     PyUnicode_FSConverter, &dst, &width, &height,
                                     &quality, &workers, &max_pixels, &stdlib_jpeg,
                                     &draft, &optimize, fs_or_none, &jpegoptim,
                                     fs_or_none, &pngquant, &progress, &max_memory, &tools,
                                     &lanczos))
        goto done;
    if (width < 0 || height < 0) {
        PyErr_Format(PyExc_ValueError, "width and height must be >= 0 (0: no bound), "
                     "got %d and %d", width, height);
        goto done;
    }
    if (quality < 1 || quality > 100) {
        PyErr_Format(PyExc_ValueError, "quality must be in 1..100, got %d", quality);
        goto done;
    }
    if (workers < 0) {
        PyErr_Format(PyExc_ValueError, "workers must be >= 0 (0: one per CPU), got %d",
                     workers);
        goto done;
    }
    if (max_pixels < 1) {
        PyErr_Format(PyExc_ValueError, "max_pixels must be >= 1, got %lld", max_pixels);
        goto done;
    }
    if (max_memory < 0) {
        PyErr_Format(PyExc_ValueError, "max_memory must be >= 0 (0: default), got %lld",
                     max_memory);
        goto done;
    }
    if (optimize && tools && (jpegoptim == NULL || pngquant == NULL)) {
        PyErr_SetString(PyExc_ValueError,
                        "optimize=True, tools=True needs the paths of jpegoptim and pngquant");
        goto done;
    }
    if (progress != Py_None && !PyObject_TypeCheck(progress, ProgressType)) {
        /* tp_name is not in the limited API: the type's __qualname__ is. */
        PyObject *name = PyObject_GetAttrString((PyObject *)Py_TYPE(progress), "__qualname__");
        if (name != NULL) {
            PyErr_Format(PyExc_TypeError, "progress must be a piuma._piuma.Progress or None, "
                         "not %S", name);
            Py_DECREF(name);
        }
        goto done;
    }

    /* The bytes objects are ours (O& converters) and outlive the batch. */
    piuma_options opts = {
        .src = PyBytes_AsString(src),
        .dst = PyBytes_AsString(dst),
        .width = width, .height = height, .quality = quality, .workers = workers,
        .max_pixels = max_pixels, .max_memory = max_memory, .stdlib_jpeg = stdlib_jpeg,
        .draft = draft, .lanczos = lanczos,
        .optimize = optimize, .tools = tools,
        .jpegoptim = jpegoptim ? PyBytes_AsString(jpegoptim) : NULL,
        .pngquant = pngquant ? PyBytes_AsString(pngquant) : NULL,
    };
    if (opts.src == NULL || opts.dst == NULL)
        goto done;
    /* While the GIL is released, Go reads the option strings and writes into
     * the Progress object. src, dst and the tool paths are bytes objects this
     * function owns (O& converters). progress is a borrowed reference: take
     * our own, so that nothing another thread does to the caller's argument
     * dict can free the memory Go writes to. One batch per Progress at a time:
     * two would mix their counters. */
    piuma_progress *p = NULL;
    if (progress != Py_None) {
        ProgressObject *po = (ProgressObject *)progress;
        int idle = 0;
        if (!__atomic_compare_exchange_n(&po->busy, &idle, 1, 0, __ATOMIC_ACQUIRE,
                                         __ATOMIC_RELAXED)) {
            PyErr_SetString(PyExc_ValueError,
                            "this Progress is already used by a running batch");
            goto done;
        }
        Py_INCREF(progress);
        p = &po->p;
        /* A new batch counts from zero; a cancel() before it still counts. */
        __atomic_store_n(&p->done, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&p->total, 0, __ATOMIC_RELAXED);
    }
    /* [excerpt: gil] */
    piuma_result *results;
    size_t n = 0;
    epg_go_panic panic = {NULL, NULL};
    Py_BEGIN_ALLOW_THREADS
    results = go_PiumaRun(&opts, p, &n, &panic);
    Py_END_ALLOW_THREADS
    if (p != NULL) {
        __atomic_store_n(&((ProgressObject *)progress)->busy, 0, __ATOMIC_RELEASE);
        Py_DECREF(progress);
    }
    if (panic.value != NULL) {
        epg_raise_go_panic("run()", &panic); /* results is NULL */
        goto done;
    }

    list = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; list != NULL && i < n; i++) {
        PyObject *item = result_tuple(&results[i]);
        if (item == NULL || PyList_SetItem(list, (Py_ssize_t)i, item) < 0) /* steals item */
            Py_CLEAR(list);
    }
    /* Every C string freed once, by Go. (It cannot panic on an array that
     * PiumaRun made; if it did, the strings would leak, not crash.) */
    go_PiumaFreeResults(results, n, &panic);
    if (panic.value != NULL) {
        Py_CLEAR(list);
        epg_raise_go_panic("run() (freeing the results)", &panic);
    }
    /* [/excerpt: gil] */

done:
    Py_XDECREF(src);
    Py_XDECREF(dst);
    Py_XDECREF(jpegoptim);
    Py_XDECREF(pngquant);
    return list;
}

static PyMethodDef piuma_methods[] = {
    {"run", (PyCFunction)(void (*)(void))piuma_run, METH_VARARGS | METH_KEYWORDS,
     "run(src, dst, *, width=0, height=0, quality=85, workers=0, max_pixels=89478485,\n"
     "    stdlib_jpeg=False, draft=True, optimize=False, jpegoptim=None,\n"
     "    pngquant=None, progress=None, max_memory=0, tools=False,\n"
     "    lanczos=False) -> list of result tuples\n\n"
     "Low-level batch call with the GIL released; use piuma.optimize_dir()."},
    {NULL, NULL, 0, NULL},
};

static int
piuma_exec(PyObject *module)
{
    if (epg_go_core_load(module, "libpiuma_core.so", core_symbols) < 0)
        return -1;
    if (ProgressType == NULL) {
        ProgressType = (PyTypeObject *)PyType_FromSpec(&progress_spec);
        if (ProgressType == NULL)
            return -1;
    }
    return PyModule_AddObjectRef(module, "Progress", (PyObject *)ProgressType);
}

static PyModuleDef_Slot piuma_slots[] = {
    {Py_mod_exec, piuma_exec},
    EPG_SLOT_MAIN_INTERPRETER_ONLY
#ifdef Py_mod_gil
    /* Safe without the GIL: run() parses into objects it owns, and Go sees
     * only C memory; a Progress is shared with the Go workers through atomic
     * counters, and its busy flag is taken with a compare-and-swap, so two
     * threads cannot start batches on one Progress even without a GIL. */
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL}
};

static struct PyModuleDef piuma_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "piuma._piuma",
    .m_doc = "Go engine of the image cron job (C glue; the Go core is libpiuma_core.so).",
    .m_size = 0,
    .m_methods = piuma_methods,
    .m_slots = piuma_slots,
};

PyMODINIT_FUNC
PyInit__piuma(void)
{
    return PyModuleDef_Init(&piuma_module);
}
