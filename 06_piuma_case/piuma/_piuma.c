/*
 * piuma._piuma: the C glue of the Go engine. Plain C, so that importing it
 * starts no Go runtime; its exec slot loads the Go core (libpiuma_core.so, beside
 * this module) through common/go_core.h, which enforces one Go runtime per
 * process. All CPython objects live here: the Go core only sees C types.
 *
 *   run(src, dst, *, width=0, height=0, quality=85, workers=0,
 *       max_pixels=89478485, stdlib_jpeg=False, draft=True, optimize=False,
 *       jpegoptim=None, pngquant=None, progress=None, max_memory=0) -> list of tuples
 *       (source, destination, error or None, bytes_in, bytes_out,
 *        width, height, seconds), sorted by source.
 *   Progress(): done / total counters a batch updates while it runs (read
 *       them from another thread), and cancel(). A batch resets the counters
 *       when it starts; one batch at a time per Progress.
 *
 * The whole batch runs with the GIL released: other Python threads keep
 * running while Go's worker goroutines use every core.
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

static PyTypeObject ProgressType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "piuma._piuma.Progress",
    .tp_basicsize = sizeof(ProgressObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Progress of a batch, shared with the Go core while it runs.",
    .tp_new = PyType_GenericNew, /* zero-filled: done = total = cancel = 0 */
    .tp_getset = progress_getset,
    .tp_methods = progress_methods,
};

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
                             "jpegoptim", "pngquant", "progress", "max_memory", NULL};
    PyObject *src = NULL, *dst = NULL, *jpegoptim = NULL, *pngquant = NULL;
    PyObject *progress = Py_None;
    int width = 0, height = 0, quality = 85, workers = 0;
    int stdlib_jpeg = 0, draft = 1, optimize = 0;
    long long max_pixels = 89478485, max_memory = 0;
    PyObject *list = NULL;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O&O&|$iiiiLpppO&O&OL:run", kwlist,
                                     PyUnicode_FSConverter, &src,
                                     PyUnicode_FSConverter, &dst, &width, &height,
                                     &quality, &workers, &max_pixels, &stdlib_jpeg,
                                     &draft, &optimize, fs_or_none, &jpegoptim,
                                     fs_or_none, &pngquant, &progress, &max_memory))
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
    if (optimize && (jpegoptim == NULL || pngquant == NULL)) {
        PyErr_SetString(PyExc_ValueError,
                        "optimize=True needs the paths of jpegoptim and pngquant");
        goto done;
    }
    if (progress != Py_None && !PyObject_TypeCheck(progress, &ProgressType)) {
        PyErr_Format(PyExc_TypeError, "progress must be a piuma._piuma.Progress or None, "
                     "not %.100s", Py_TYPE(progress)->tp_name);
        goto done;
    }

    piuma_options opts = {
        .src = PyBytes_AS_STRING(src),
        .dst = PyBytes_AS_STRING(dst),
        .width = width, .height = height, .quality = quality, .workers = workers,
        .max_pixels = max_pixels, .max_memory = max_memory, .stdlib_jpeg = stdlib_jpeg,
        .draft = draft,
        .optimize = optimize,
        .jpegoptim = jpegoptim ? PyBytes_AS_STRING(jpegoptim) : NULL,
        .pngquant = pngquant ? PyBytes_AS_STRING(pngquant) : NULL,
    };
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
        if (item == NULL)
            Py_CLEAR(list);
        else
            PyList_SET_ITEM(list, (Py_ssize_t)i, item);
    }
    /* Every C string freed once, by Go. (It cannot panic on an array that
     * PiumaRun made; if it did, the strings would leak, not crash.) */
    go_PiumaFreeResults(results, n, &panic);
    if (panic.value != NULL) {
        Py_CLEAR(list);
        epg_raise_go_panic("run() (freeing the results)", &panic);
    }

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
     "    pngquant=None, progress=None, max_memory=0) -> list of result tuples\n\n"
     "Low-level batch call with the GIL released; use piuma.optimize_dir()."},
    {NULL, NULL, 0, NULL},
};

static int
piuma_exec(PyObject *module)
{
    if (epg_go_core_load(module, "libpiuma_core.so", core_symbols) < 0)
        return -1;
    if (PyType_Ready(&ProgressType) < 0)
        return -1;
    Py_INCREF(&ProgressType);
    if (PyModule_AddObject(module, "Progress", (PyObject *)&ProgressType) < 0) {
        Py_DECREF(&ProgressType);
        return -1;
    }
    return 0;
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
