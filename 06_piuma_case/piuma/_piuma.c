/*
 * piuma._piuma: the C glue of the Go engine. Plain C, so that importing it
 * starts no Go runtime; its exec slot loads the Go core (libpiuma_core.so,
 * beside this module) through common/go_core.h, which enforces one Go
 * runtime per process. Every CPython object lives here: Go sees C types only.
 *
 *   run(jobs, *, quality=85, workers=1, optimize=False, progress=None): one
 *     batch; a job is core/piuma_api.h's piuma_job as a tuple (stamp optional),
 *     a result (category, details or None, bytes_in, bytes_out, width, height,
 *     seconds). Progress(): done, cancelled, cancel(); one batch at a time.
 *
 * One call into Go for the whole batch, with the GIL released. The limited
 * API (but on a free-threaded build): one _piuma.abi3.so for CPython 3.10+,
 * hence no PyBytes_AS_STRING-like macros, and Progress is a heap type.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "libpiuma_core.h" /* cgo's header: PiumaRun, piuma_api.h */
#include "go_core.h"

EPG_GO_FUNC(PiumaRun);
static const epg_go_symbol core_symbols[] = {EPG_GO_SYMBOL(PiumaRun), {NULL, NULL}};

/* Per module: the Progress type (made by each exec, no lazy global). */
typedef struct {
    PyTypeObject *progress_type;
} module_state;

/* ---- Progress --------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    piuma_progress p; /* Go updates it without the GIL: C atomics on both sides */
    int busy;         /* a batch uses p: a compare-and-swap takes it, with or without a GIL */
} ProgressObject;

static PyObject *
progress_get_done(ProgressObject *self, void *Py_UNUSED(closure))
{
    return PyLong_FromLongLong(__atomic_load_n(&self->p.done, __ATOMIC_RELAXED));
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
    {"cancelled", (getter)progress_get_cancelled, NULL, "whether cancel() was called", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMethodDef progress_methods[] = {
    {"cancel", (PyCFunction)progress_cancel, METH_NOARGS,
     "Ask the running batch to stop: files not started yet fail as 'cancelled'."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot progress_slots[] = {
    {Py_tp_doc, (void *)"Progress of a batch, shared with the Go core while it runs."},
    {Py_tp_new, (void *)PyType_GenericNew}, /* zero-filled: done = cancel = busy = 0 */
    {Py_tp_getset, progress_getset},
    {Py_tp_methods, progress_methods},
    /* no tp_dealloc: a heap type's default frees the object, then releases
     * the reference each instance holds to its type */
    {0, NULL},
};

static PyType_Spec progress_spec = {
    .name = "piuma._piuma.Progress",
    .basicsize = sizeof(ProgressObject),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = progress_slots,
};

/* ---- run -------------------------------------------------------------- */

/* Fill one piuma_job from its tuple; its three paths become bytes objects
 * kept in keep[0..2] (owned by the caller) for the whole call. */
static int
parse_job(PyObject *item, piuma_job *job, PyObject **keep)
{
    if (!PyTuple_Check(item)) { /* (PyArg_ParseTuple would raise SystemError) */
        PyErr_SetString(PyExc_TypeError, "a job is a tuple");
        return -1;
    }
    /* K: no range check, fine for the stamp (os.stat's numbers, from piuma's probe). */
    if (!PyArg_ParseTuple(item, "O&O&O&iiiiiii|(KKKK);a job is (source, destination, temp, "
                          "format, width, height, scale, out_width, out_height, orientation"
                          "[, (device, inode, size, ctime_ns)])",
                          PyUnicode_FSConverter, &keep[0], PyUnicode_FSConverter, &keep[1],
                          PyUnicode_FSConverter, &keep[2], &job->format, &job->width,
                          &job->height, &job->scale, &job->out_width, &job->out_height,
                          &job->orientation, &job->stamp[0], &job->stamp[1], &job->stamp[2],
                          &job->stamp[3]))
        return -1;
    job->source = PyBytes_AsString(keep[0]);
    job->destination = PyBytes_AsString(keep[1]);
    job->temp = PyBytes_AsString(keep[2]);
    if (job->format != PIUMA_JPEG && job->format != PIUMA_PNG) {
        PyErr_Format(PyExc_ValueError, "a job's format must be 1 (JPEG) or 2 (PNG), got %d",
                     (int)job->format);
        return -1;
    }
    /* No upscale: the decoded image (Go checks it is the file's) bounds what Go
     * allocates for the output, as in the probe's memory budget. */
    if (job->width < 1 || job->height < 1 || job->out_width < 1 || job->out_height < 1 ||
        (job->scale != 1 && job->scale != 2 && job->scale != 4 && job->scale != 8) ||
        job->out_width > (job->width - 1) / job->scale + 1 ||
        job->out_height > (job->height - 1) / job->scale + 1 ||
        job->orientation < 1 || job->orientation > 8) {
        PyErr_SetString(PyExc_ValueError, "a job's sizes must be >= 1, its output within the "
                        "decoded size (no upscale), its scale 1, 2, 4 or 8 and its "
                        "orientation 1..8");
        return -1;
    }
    return 0;
}

static PyObject *
result_tuple(const piuma_result *r)
{
    PyObject *details;
    if (r->error != NULL)
        details = PyUnicode_DecodeFSDefault(r->error); /* lossless, as the paths */
    else if (r->category != PIUMA_OK)
        details = PyUnicode_FromString("not processed"); /* the preset: Go never got to it */
    else
        details = Py_NewRef(Py_None);
    if (details == NULL)
        return NULL;
    return Py_BuildValue("(iNLLiid)", (int)r->category, details, (long long)r->bytes_in,
                         (long long)r->bytes_out, (int)r->width, (int)r->height, r->seconds);
}

static PyObject *
piuma_run(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"jobs", "quality", "workers", "optimize", "progress", NULL};
    PyObject *jobs_list, *progress = Py_None;
    int quality = 85, workers = 1, optimize = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!|$iipO:run", kwlist, &PyList_Type,
                                     &jobs_list, &quality, &workers, &optimize, &progress))
        return NULL;

    /* A snapshot: an item's __fspath__ (or, free-threaded, another thread)
     * may change the list while it is read. */
    PyObject *snapshot = PyList_AsTuple(jobs_list), *list = NULL, **keep = NULL;
    piuma_job *jobs = NULL;
    piuma_result *results = NULL;
    Py_ssize_t n = snapshot != NULL ? PyTuple_Size(snapshot) : 0;
    ProgressObject *po = NULL;
    module_state *st = PyModule_GetState(module);

    if (snapshot == NULL)
        goto done;
    if (quality < 1 || quality > 100 || workers < 1) {
        PyErr_Format(PyExc_ValueError, "quality must be in 1..100 and workers >= 1, got %d "
                     "and %d", quality, workers);
        goto done;
    }
    if (progress != Py_None && !PyObject_TypeCheck(progress, st->progress_type)) {
        PyErr_SetString(PyExc_TypeError, "progress must be a piuma._piuma.Progress or None");
        goto done;
    }
    /* The jobs are copied into C memory (and their paths into bytes objects
     * this call owns) before the GIL is released: nothing Go reads can change. */
    jobs = PyMem_Calloc(n ? n : 1, sizeof *jobs);
    keep = PyMem_Calloc(3 * (n ? n : 1), sizeof *keep);
    results = PyMem_Calloc(n ? n : 1, sizeof *results);
    if (jobs == NULL || keep == NULL || results == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (parse_job(PyTuple_GetItem(snapshot, i), &jobs[i], &keep[3 * i]) < 0)
            goto done; /* (the snapshot holds the item) */
        results[i].category = PIUMA_INTERNAL; /* until Go says otherwise */
    }
    if (epg_go_check_fork() < 0) /* a fork()ed child (go_core.h); after __fspath__, __index__ */
        goto done;
    piuma_options opts = {
        .quality = quality, .workers = workers, .optimize = optimize,
    };
    /* Go writes into the Progress while the GIL is released: hold our own
     * reference (the argument is borrowed), and take it for this batch only. */
    piuma_progress *p = NULL;
    if (progress != Py_None) {
        int idle = 0;
        po = (ProgressObject *)Py_NewRef(progress);
        if (!__atomic_compare_exchange_n(&po->busy, &idle, 1, 0, __ATOMIC_ACQUIRE,
                                         __ATOMIC_RELAXED)) {
            Py_CLEAR(po);
            PyErr_SetString(PyExc_ValueError, "this Progress is used by a running batch");
            goto done;
        }
        p = &po->p;
        __atomic_store_n(&p->done, 0, __ATOMIC_RELAXED); /* a cancel() before still counts */
    }
    /* [excerpt: gil] */
    epg_go_panic panic = {NULL, NULL};
    Py_BEGIN_ALLOW_THREADS
    go_PiumaRun(jobs, (size_t)n, &opts, p, results, &panic);
    Py_END_ALLOW_THREADS
    if (po != NULL)
        __atomic_store_n(&po->busy, 0, __ATOMIC_RELEASE);
    if (panic.value != NULL) {
        epg_raise_go_panic("run()", &panic);
        goto done;
    }
    list = PyList_New(n);
    for (Py_ssize_t i = 0; list != NULL && i < n; i++) {
        PyObject *item = result_tuple(&results[i]);
        if (item == NULL || PyList_SetItem(list, i, item) < 0) /* steals item */
            Py_CLEAR(list);
    }
    /* [/excerpt: gil] */

done:
    if (results != NULL)
        for (Py_ssize_t i = 0; i < n; i++)
            free(results[i].error); /* Go's C.CString: malloc'ed, freed once, here */
    if (keep != NULL)
        for (Py_ssize_t i = 0; i < 3 * n; i++)
            Py_XDECREF(keep[i]);
    PyMem_Free(results);
    PyMem_Free(keep);
    PyMem_Free(jobs);
    Py_XDECREF(po);
    Py_XDECREF(snapshot);
    return list;
}

static PyMethodDef piuma_methods[] = {
    {"run", (PyCFunction)(void (*)(void))piuma_run, METH_VARARGS | METH_KEYWORDS,
     "run(jobs, *, quality=85, workers=1, optimize=False, progress=None)\n"
     "    -> list of result tuples\n\n"
     "One batch in Go with the GIL released; use piuma.optimize_dir()."},
    EPG_GO_RUNTIMES_METHOD /* is a second Go runtime mapped now? (go_core.h) */
    {NULL, NULL, 0, NULL},
};

static int
piuma_exec(PyObject *module)
{
    if (epg_go_core_load(module, "libpiuma_core.so", core_symbols) < 0)
        return -1;
    module_state *st = PyModule_GetState(module);
    st->progress_type = (PyTypeObject *)PyType_FromSpec(&progress_spec);
    if (st->progress_type == NULL)
        return -1;
    return PyModule_AddObjectRef(module, "Progress", (PyObject *)st->progress_type);
}

static int
piuma_traverse(PyObject *module, visitproc visit, void *arg)
{
    module_state *st = PyModule_GetState(module);
    Py_VISIT(st ? st->progress_type : NULL);
    return 0;
}

static int
piuma_clear(PyObject *module)
{
    module_state *st = PyModule_GetState(module);
    if (st != NULL)
        Py_CLEAR(st->progress_type);
    return 0;
}

static PyModuleDef_Slot piuma_slots[] = {
    {Py_mod_exec, piuma_exec},
    EPG_SLOT_MAIN_INTERPRETER_ONLY
#ifdef Py_mod_gil
    /* Safe without the GIL: run() copies its arguments into memory it owns
     * before Go reads them, and shares a Progress with Go through C atomics
     * only; a compare-and-swap gives a Progress to one batch at a time. */
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL}
};

static struct PyModuleDef piuma_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "piuma._piuma",
    .m_doc = "Go engine of the image cron job (C glue; the Go core is libpiuma_core.so).",
    .m_size = sizeof(module_state),
    .m_methods = piuma_methods,
    .m_slots = piuma_slots,
    .m_traverse = piuma_traverse,
    .m_clear = piuma_clear,
};

PyMODINIT_FUNC
PyInit__piuma(void)
{
    return PyModuleDef_Init(&piuma_module);
}
