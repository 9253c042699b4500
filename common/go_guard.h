/*
 * go_guard.h: load a Go library (-buildmode=c-shared) only if the process
 * runs no other Go runtime. Plain C, no Python: the C glue of every step uses
 * it through go_core.h, and step 02's ctypes/cffi loaders through a tiny C
 * library (02_cgo_sum/ffi/go_guard.c).
 *
 * Why: every Go c-shared/c-archive library carries its own Go runtime, which
 * starts inside dlopen (an ELF constructor), and two runtimes in one process
 * are not supported (golang/go#65050, golang/go#18976). So the check must
 * happen BEFORE dlopen, and it must look at the process itself:
 *
 *   - what is loaded, not what we wrote down: a Go runtime may come from a
 *     third-party library, ctypes.CDLL, another interpreter of the process,
 *     or the main program itself (a Go program embedding Python). The scan
 *     walks every loaded object (dl_iterate_phdr) and looks for the Go build
 *     ID note, or for cgo's runtime hook x_cgo_init when a library was built
 *     without a build ID (-ldflags=-buildid=).
 *   - one decision at a time for the whole process: check-then-dlopen must
 *     be atomic, or two threads (free-threaded Python, two interpreters,
 *     ctypes releasing the GIL) could each see "no Go yet" and each load one.
 *     The lock is a process-wide object shared by every copy of this header:
 *     a STB_GNU_UNIQUE symbol, which the dynamic linker binds to ONE
 *     definition per process even across RTLD_LOCAL libraries (the same
 *     mechanism that keeps one copy of a C++ inline static). It also records
 *     which module loaded the runtime, for the error message. Nothing in sys
 *     or any Python object can switch this off.
 *
 * Limits: a loader that does not take this lock (a third-party library
 * calling dlopen on a Go library at the same moment) can still race us; the
 * scan catches it whenever it is earlier. glibc/ELF only (STB_GNU_UNIQUE,
 * dl_iterate_phdr); macOS falls back to a per-library lock.
 */
#ifndef EPG_GO_GUARD_H
#define EPG_GO_GUARD_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* dladdr, dl_iterate_phdr */
#endif
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#if defined(__ELF__)
#include <elf.h>
#include <link.h>
#endif

/* snprintf for messages: truncating a long path is fine, and vsnprintf does
 * not make GCC warn about it (-Wformat-truncation). */
__attribute__((format(printf, 3, 4))) static void
epg_fmt(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, size, fmt, ap);
    va_end(ap);
}

/* The process's Go runtime owner. Versioned name: a later, different layout
 * must never be unified with this one by the dynamic linker. */
typedef struct {
    pthread_mutex_t lock;
    char module[128]; /* the module that loaded it through this guard */
    char path[PATH_MAX];
    dev_t dev;
    ino_t ino;
} epg_go_owner_v1;

__attribute__((visibility("default"), used))
epg_go_owner_v1 epg_go_owner_state_v1 = {PTHREAD_MUTEX_INITIALIZER, "", "", 0, 0};
#if defined(__ELF__) && defined(__GNUC__)
__asm__(".type epg_go_owner_state_v1, %gnu_unique_object");
#endif

/* A function whose address the Go core exports: which object is it in? */
typedef struct {
    const char *name;
    void **slot;
} epg_go_symbol;

#if defined(__ELF__)
#define EPG_NT_GO_BUILDID 4 /* cmd/link: ELF_NOTE_GOBUILDID_TAG, owner "Go" */

/* Is [vaddr, vaddr + size) inside one of the object's loaded segments?
 * (Only mapped memory may be read.) */
static int
epg_is_loaded(const struct dl_phdr_info *info, ElfW(Addr) vaddr, ElfW(Xword) size)
{
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && vaddr >= ph->p_vaddr &&
            vaddr + size <= ph->p_vaddr + ph->p_filesz)
            return 1;
    }
    return 0;
}

/* Does this loaded object carry a Go build ID note? */
static int
epg_has_go_note(const struct dl_phdr_info *info)
{
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE || !epg_is_loaded(info, ph->p_vaddr, ph->p_memsz))
            continue;
        const char *p = (const char *)(info->dlpi_addr + ph->p_vaddr);
        const char *end = p + ph->p_memsz;
        size_t align = ph->p_align == 8 ? 8 : 4;
        while ((size_t)(end - p) >= sizeof(ElfW(Nhdr))) {
            const ElfW(Nhdr) *n = (const ElfW(Nhdr) *)p;
            const char *name = p + sizeof *n;
            size_t name_sz = (n->n_namesz + align - 1) & ~(align - 1);
            size_t desc_sz = (n->n_descsz + align - 1) & ~(align - 1);
            if ((size_t)(end - name) < name_sz + desc_sz)
                break;
            if (n->n_type == EPG_NT_GO_BUILDID && n->n_namesz == 3 &&
                memcmp(name, "Go", 3) == 0)
                return 1;
            p = name + name_sz + desc_sz;
        }
    }
    return 0;
}

typedef struct {
    char (*names)[PATH_MAX]; /* objects without a Go note, to look up later */
    size_t n, cap;
    char found[PATH_MAX];    /* first object with a Go note ("" if none) */
} epg_scan;

static int
epg_scan_object(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    epg_scan *s = data;
    const char *name = info->dlpi_name ? info->dlpi_name : "";
    if (epg_has_go_note(info)) {
        if (s->found[0] == '\0')
            epg_fmt(s->found, sizeof s->found, "%s", name[0] ? name : "the main program");
        return 0;
    }
    /* Remember it: dlopen/dlsym must not be called from inside this
     * callback (it runs under the loader's lock). */
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        void *grown = realloc(s->names, cap * sizeof *s->names);
        if (grown == NULL)
            return 1; /* stop: handled as "cannot check" */
        s->names = grown;
        s->cap = cap;
    }
    epg_fmt(s->names[s->n++], PATH_MAX, "%s", name);
    return 0;
}

/* Has the object called `name` ("" for the main program) cgo's runtime hook
 * x_cgo_init as its own symbol (not one of its dependencies')? */
static int
epg_has_cgo_runtime(const char *name)
{
    void *h = dlopen(name[0] ? name : NULL, RTLD_LAZY | RTLD_NOLOAD);
    if (h == NULL)
        return 0; /* e.g. the vDSO */
    void *sym = dlsym(h, "x_cgo_init");
    Dl_info where, self;
    int own = 0;
    if (sym != NULL && dladdr(sym, &where) && where.dli_fname != NULL) {
        if (name[0] == '\0') {
            /* the main program: its own address space starts at dlopen(NULL)'s */
            void *main_sym = dlsym(h, "main");
            own = main_sym != NULL && dladdr(main_sym, &self) &&
                  self.dli_fbase == where.dli_fbase;
        } else {
            struct stat a, b;
            own = stat(name, &a) == 0 && stat(where.dli_fname, &b) == 0 &&
                  a.st_dev == b.st_dev && a.st_ino == b.st_ino;
        }
    }
    dlclose(h); /* drops the reference RTLD_NOLOAD took */
    return own;
}

/* Find a loaded object that carries a Go runtime. Returns 1 and its name in
 * out, 0 if none, -1 if the scan itself failed (out of memory). */
static int
epg_find_go_runtime(char *out, size_t outlen)
{
    epg_scan s = {NULL, 0, 0, ""};
    int stopped = dl_iterate_phdr(epg_scan_object, &s);
    int result = 0;
    if (s.found[0] != '\0') {
        epg_fmt(out, outlen, "%s", s.found);
        result = 1;
    }
    else if (stopped) {
        result = -1;
    }
    else {
        for (size_t i = 0; i < s.n; i++) {
            if (epg_has_cgo_runtime(s.names[i])) {
                epg_fmt(out, outlen, "%s", s.names[i][0] ? s.names[i] : "the main program");
                result = 1;
                break;
            }
        }
    }
    free(s.names);
    return result;
}
#else
static int
epg_find_go_runtime(char *out, size_t outlen)
{
    (void)out; (void)outlen;
    return 0; /* no scan off ELF: only the owner record below protects */
}
#endif /* __ELF__ */

/* Same file? (a path may be relative, or reach the file through a link) */
static int
epg_same_file(const char *path, dev_t dev, ino_t ino)
{
    struct stat st;
    return stat(path, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
}

/*
 * dlopen the Go library at `path` for `module`, unless another Go runtime
 * is loaded in this process; then bind `symbols` (NULL-terminated, may be
 * NULL). The same library again (a reload, another loader of the same file)
 * is fine: dlopen returns the copy that is already running.
 * Returns the handle, or NULL with a message in err. A second runtime is
 * refused with *refused = 1 (the caller raises ImportError).
 */
static void *
epg_go_guard_open(const char *module, const char *path,
                  const epg_go_symbol *symbols, int *refused,
                  char *err, size_t errlen)
{
    epg_go_owner_v1 *owner = &epg_go_owner_state_v1;
    struct stat st;
    char other[PATH_MAX];
    void *handle = NULL;

    *refused = 0;
    if (stat(path, &st) != 0) {
        epg_fmt(err, errlen, "%s: %s (run `make` in the step folder to build "
                 "the Go core)", path, strerror(errno));
        return NULL;
    }
    pthread_mutex_lock(&owner->lock);
    int found = epg_find_go_runtime(other, sizeof other);
    if (found < 0) {
        epg_fmt(err, errlen, "cannot check the loaded libraries for a Go runtime "
                 "(out of memory)");
        goto unlock;
    }
    if (found && !epg_same_file(other, st.st_dev, st.st_ino)) {
        /* Name the module if it came through this guard. */
        int ours = owner->module[0] != '\0' && epg_same_file(other, owner->dev, owner->ino);
        *refused = 1;
        epg_fmt(err, errlen,
                 "cannot import %s: this process already runs a Go runtime, from "
                 "%s (%s%s%s). Go supports one runtime per process (golang/go#65050), "
                 "so two Go-backed extension modules cannot share an interpreter; "
                 "import %s in a separate Python process instead (a new "
                 "interpreter, subprocess, or multiprocessing with the 'spawn' "
                 "start method).", module, other,
                 ours ? "module '" : "not loaded by a module of this repository",
                 ours ? owner->module : "", ours ? "'" : "", module);
        goto unlock;
    }
    handle = dlopen(path, RTLD_NOW | RTLD_LOCAL); /* the Go runtime starts here */
    if (handle == NULL) {
        const char *why = dlerror();
        epg_fmt(err, errlen, "%s", why ? why : path);
        goto unlock;
    }
    /* This runtime now runs for good (a Go library cannot be unloaded). */
    if (owner->module[0] == '\0') {
        epg_fmt(owner->module, sizeof owner->module, "%s", module);
        epg_fmt(owner->path, sizeof owner->path, "%s", path);
        owner->dev = st.st_dev;
        owner->ino = st.st_ino;
    }
    for (const epg_go_symbol *s = symbols; s != NULL && s->name != NULL; s++) {
        void *fn = dlsym(handle, s->name);
        if (fn == NULL) {
            epg_fmt(err, errlen, "the Go core %s does not export %s (is it built "
                     "from this source? run `make clean all`)", path, s->name);
            handle = NULL; /* never dlclose a Go library: it cannot unload */
            goto unlock;
        }
        /* Written once: a reload finds the same address and writes nothing,
         * so threads already calling through the slot never see a write. */
        if (*s->slot != fn)
            *s->slot = fn;
    }
unlock:
    pthread_mutex_unlock(&owner->lock);
    return handle;
}

#endif /* EPG_GO_GUARD_H */
