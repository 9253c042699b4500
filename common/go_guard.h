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
 *   - what is mapped, not names on disk. /proc/self/maps lists every file
 *     mapped in the process, whoever mapped it: dlopen by any path (relative
 *     ones included), dlmopen into another link-map namespace (which
 *     dl_iterate_phdr does not list), the kernel for the main program, a
 *     file deleted since ("(deleted)"). One loaded copy of an object is its
 *     mapping at file offset 0 (the ELF header) and the mappings of the same
 *     file (device, inode) after it. A copy with executable code carries a
 *     Go runtime if, read from memory (/proc/self/mem: an unreadable page is
 *     an error, never a SIGBUS):
 *       - a PT_NOTE segment holds Go's build ID note: owner "Go\0\0"
 *         (n_namesz 4), type 4, what `readelf -n` shows; or, for a library
 *         built without one (-ldflags=-buildid=),
 *       - a writable PT_LOAD segment holds Go's build info, "\xff Go
 *         buildinf:" at a 16-byte boundary: what `go version` reads when a
 *         file has no section table. Every Go linker since 1.13 writes it;
 *         -buildid=, -s -w, strip, version scripts and --exclude-libs keep it.
 *     Symbols are not used (cgo's x_cgo_init): a version script or
 *     -Wl,--exclude-libs,ALL hides them.
 *   - one decision at a time for the whole process: check-then-dlopen must
 *     be atomic, or two threads (free-threaded Python, two interpreters,
 *     ctypes releasing the GIL) could each see "no Go yet" and each load one.
 *     The lock is a process-wide object shared by every copy of this header
 *     (see epg_go_owner_state_v2 below). It also records which module loaded
 *     the runtime, for the error message. Nothing in sys or any Python object
 *     can switch this off.
 *
 * Limits: nothing can refuse a Go library loaded AFTER ours (a later dlopen
 * by another library): epg_go_runtime_list() tells, and every Go-backed
 * module exposes it as go_runtimes(). A loader that does not take this lock
 * can race us; one that copies code into anonymous memory, mapping no file,
 * is not seen. Linux only (/proc, ELF); elsewhere only the owner record
 * protects (one module of this repository refuses another).
 */
#ifndef EPG_GO_GUARD_H
#define EPG_GO_GUARD_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* dlinfo, pread */
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#if defined(__linux__)
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

/* ---- the process-wide owner record ------------------------------------- */

/* Versioned name: a different layout must never be unified with this one. */
typedef struct {
    pthread_mutex_t lock;
    char module[128];  /* the module that loaded a runtime through this guard */
    char path[PATH_MAX];
    uintptr_t address; /* an address inside the copy it loaded */
} epg_go_owner_v2;

#if defined(__ELF__) && defined(__GNUC__)
/*
 * ONE record per process, whichever library and translation unit includes
 * this header. Defined in assembly the way a C++ compiler defines an inline
 * variable: in a COMDAT group (every translation unit that includes this
 * header may define it; the static linker keeps one copy per library) with
 * STB_GNU_UNIQUE binding (the dynamic linker binds every library of the
 * process to the first copy it loaded, even across RTLD_LOCAL). All zero
 * bytes: an all-zero pthread_mutex_t is PTHREAD_MUTEX_INITIALIZER (glibc,
 * musl).
 */
extern epg_go_owner_v2 epg_go_owner_state_v2 __attribute__((visibility("default")));
_Static_assert(sizeof(epg_go_owner_v2) <= 8192, "grow the .zero below");
__asm__(".pushsection .bss.epg_go_owner_state_v2,\"awG\",%nobits,epg_go_owner_state_v2,comdat\n\t"
        ".globl epg_go_owner_state_v2\n\t"
        ".type epg_go_owner_state_v2, %gnu_unique_object\n\t"
        ".size epg_go_owner_state_v2, 8192\n\t"
        ".balign 64\n"
        "epg_go_owner_state_v2:\n\t"
        ".zero 8192\n\t"
        ".popsection");
/*
 * The fork mark, process-wide like the owner record (one per process, every
 * loader of every core reads the same one): `started` once a guard is about
 * to dlopen a Go runtime, `forked` in a fork()ed child of such a process
 * (set by the guard's atfork child handler, cleared when a child that runs
 * no Go runtime starts one of its own).
 */
typedef struct {
    int started, forked;
} epg_go_fork_v1;
extern epg_go_fork_v1 epg_go_fork_state_v1 __attribute__((visibility("default")));
__asm__(".pushsection .bss.epg_go_fork_state_v1,\"awG\",%nobits,epg_go_fork_state_v1,comdat\n\t"
        ".globl epg_go_fork_state_v1\n\t"
        ".type epg_go_fork_state_v1, %gnu_unique_object\n\t"
        ".size epg_go_fork_state_v1, 64\n\t"
        ".balign 64\n"
        "epg_go_fork_state_v1:\n\t"
        ".zero 64\n\t"
        ".popsection");
#else
static epg_go_owner_v2 epg_go_owner_state_v2 = {PTHREAD_MUTEX_INITIALIZER, "", "", 0};
static struct { int started, forked; } epg_go_fork_state_v1;
#endif

/* 1 in a fork()ed child of a process in which a Go runtime had started
 * through any guard (any module, any loader): its calls into Go must raise. */
__attribute__((unused)) static int
epg_go_guard_forked(void)
{
    return __atomic_load_n(&epg_go_fork_state_v1.forked, __ATOMIC_RELAXED);
}

/* A function whose address the Go core exports: which object is it in? */
typedef struct {
    const char *name;
    void **slot;
} epg_go_symbol;

/* One loaded copy of an object that carries a Go runtime. */
typedef struct {
    uintptr_t start, end; /* the addresses its mappings span */
    const char *path;     /* as /proc/self/maps names it, "(deleted)" included */
} epg_go_runtime;

/* Called for each Go runtime found; returns nonzero to stop the scan. */
typedef int (*epg_go_found)(const epg_go_runtime *load, void *ctx);

#if defined(__linux__)

/* ---- 1. Go's ELF note (fuzzed by test_go_guard.py) ---------------------- */

#define EPG_NT_GO_BUILDID 4 /* cmd/link: ELF_NOTE_GOBUILDID_TAG, owner "Go" */
#define EPG_ELFCLASS (__ELF_NATIVE_CLASS == 64 ? ELFCLASS64 : ELFCLASS32)

/*
 * Does the content of one PT_NOTE segment (size bytes, p_align `align`)
 * hold Go's build ID note? Each note: three 32-bit words (namesz, descsz,
 * type), the name, the descriptor; name and descriptor each end at a
 * multiple of the alignment, counted from the note's start (as glibc's
 * ELF_NOTE_NEXT_OFFSET: 8-aligned notes pad 12 + namesz, not namesz).
 */
static int
epg_notes_have_go(const unsigned char *notes, size_t size, uint64_t align)
{
    uint64_t a = align == 8 ? 8 : 4, at = 0; /* 64-bit: no overflow */
    while (size - at >= 12) {
        uint32_t word[3]; /* namesz, descsz, type */
        memcpy(word, notes + at, sizeof word);
        uint64_t desc = (at + 12 + word[0] + a - 1) & ~(a - 1);
        uint64_t next = (desc + word[1] + a - 1) & ~(a - 1);
        if (next > size)
            return 0; /* truncated: stop */
        if (word[2] == EPG_NT_GO_BUILDID && word[0] == 4 &&
            memcmp(notes + at + 12, "Go\0\0", 4) == 0)
            return 1;
        at = next;
    }
    return 0;
}

/* ---- 2. what is mapped -------------------------------------------------- */

typedef struct {
    uintptr_t start, end;
    uint64_t offset, inode; /* file offset mapped at start; inode 0: no file */
    unsigned dev_major, dev_minor;
    char perms[5];          /* "r-xp" */
    const char *path;
} epg_map;

typedef struct {
    char *text;  /* /proc/self/maps, each line NUL-terminated */
    epg_map *map;
    size_t n;
    int mem;     /* /proc/self/mem */
} epg_maps;

/* Read n bytes at addr; 0, or -1 if any of them is not readable. */
static int
epg_read(const epg_maps *m, uintptr_t addr, void *buf, size_t n)
{
    for (size_t got = 0; got < n;) {
        ssize_t r = pread(m->mem, (char *)buf + got, n - got, (off_t)(addr + got));
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

static void
epg_maps_free(epg_maps *m)
{
    free(m->text);
    free(m->map);
    if (m->mem >= 0)
        close(m->mem);
}

/* Read /proc/self/maps and open /proc/self/mem. 0, or -1 with errno. */
static int
epg_maps_read(epg_maps *m)
{
    *m = (epg_maps){NULL, NULL, 0, -1};
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t len = 0, cap = 0;
    ssize_t r = 1;
    while (r > 0) {
        if (cap - len < 4096) {
            char *grown = realloc(m->text, cap = 2 * cap + (1 << 16));
            if (grown == NULL) {
                errno = ENOMEM;
                r = -1;
                break;
            }
            m->text = grown;
        }
        r = read(fd, m->text + len, cap - len - 1);
        if (r > 0)
            len += (size_t)r;
        else if (r < 0 && errno == EINTR)
            r = 1;
    }
    int saved = errno;
    close(fd);
    if (r < 0)
        goto fail;
    m->text[len] = '\0';
    size_t lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += m->text[i] == '\n';
    m->map = calloc(lines + 1, sizeof *m->map);
    if (m->map == NULL) {
        saved = ENOMEM;
        goto fail;
    }
    /* "start-end perms offset major:minor inode   path" */
    for (char *line = m->text, *eol; (eol = strchr(line, '\n')) != NULL; line = eol + 1) {
        *eol = '\0';
        unsigned long long start, end, offset, inode;
        unsigned major, minor;
        char perms[5];
        int path = 0;
        if (sscanf(line, "%llx-%llx %4s %llx %x:%x %llu %n", &start, &end, perms,
                   &offset, &major, &minor, &inode, &path) == 7 &&
            inode != 0 && end > start) {
            epg_map *x = &m->map[m->n++];
            *x = (epg_map){(uintptr_t)start, (uintptr_t)end, offset, inode, major, minor,
                           "", line + path};
            memcpy(x->perms, perms, sizeof perms);
        }
    }
    m->mem = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
    if (m->mem >= 0)
        return 0;
    saved = errno;
fail:
    epg_maps_free(m);
    errno = saved;
    return -1;
}

static int
epg_same_file(const epg_map *a, const epg_map *b)
{
    return a->inode == b->inode && a->dev_major == b->dev_major &&
           a->dev_minor == b->dev_minor;
}

/* The mappings of the copy whose ELF header is mapped at map[first]: up to
 * the next mapping of the same file at offset 0 (another copy). Returns the
 * index after its last mapping. */
static size_t
epg_load_end(const epg_maps *m, size_t first)
{
    size_t last = first;
    for (size_t i = first + 1; i < m->n; i++) {
        if (!epg_same_file(&m->map[i], &m->map[first]))
            continue;
        if (m->map[i].offset == 0)
            break;
        last = i;
    }
    return last + 1;
}

/* Read [offset, offset + n) of the file of load [first, end) from one of
 * its readable mappings. 0, or -1 if no mapping holds it all. */
static int
epg_read_file(const epg_maps *m, size_t first, size_t end, uint64_t offset,
              void *buf, size_t n)
{
    for (size_t i = first; i < end; i++) {
        const epg_map *x = &m->map[i];
        uint64_t size = x->end - x->start;
        if (epg_same_file(x, &m->map[first]) && x->perms[0] == 'r' &&
            offset >= x->offset && n <= size && offset - x->offset <= size - n)
            return epg_read(m, x->start + (uintptr_t)(offset - x->offset), buf, n);
    }
    return -1;
}

/* Does [from, to) of the load's file hold Go's build info at a 16-byte
 * boundary? Read through every readable mapping that covers part of it. */
static int
epg_has_buildinfo(const epg_maps *m, size_t first, size_t end, uint64_t from, uint64_t to)
{
    static const char magic[14] = "\xff Go buildinf:";
    enum { CHUNK = 1 << 16 };
    unsigned char *chunk = malloc(CHUNK);
    int found = 0;
    for (size_t i = first; i < end && chunk != NULL && !found; i++) {
        const epg_map *x = &m->map[i];
        uint64_t lo = from > x->offset ? from : x->offset;
        uint64_t hi = x->offset + (x->end - x->start);
        hi = to < hi ? to : hi;
        if (!epg_same_file(x, &m->map[first]) || x->perms[0] != 'r')
            continue;
        /* addresses and file offsets agree modulo a page, so modulo 16 */
        for (lo = (lo + 15) & ~(uint64_t)15; lo + sizeof magic <= hi && !found; lo += CHUNK) {
            size_t n = hi - lo < CHUNK ? (size_t)(hi - lo) : CHUNK;
            if (epg_read(m, x->start + (uintptr_t)(lo - x->offset), chunk, n) != 0)
                break;
            for (size_t k = 0; k + sizeof magic <= n && !found; k += 16)
                found = memcmp(chunk + k, magic, sizeof magic) == 0;
        }
    }
    free(chunk);
    return found;
}

/* Does the copy of an object whose ELF header is mapped at map[first] carry
 * a Go runtime? */
static int
epg_load_has_go(const epg_maps *m, size_t first, size_t end)
{
    ElfW(Ehdr) eh;
    if (epg_read_file(m, first, end, 0, &eh, sizeof eh) != 0 ||
        memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != EPG_ELFCLASS ||
        eh.e_phentsize != sizeof(ElfW(Phdr)) || eh.e_phnum == 0 || eh.e_phnum == PN_XNUM)
        return 0;
    ElfW(Phdr) *ph = calloc(eh.e_phnum, sizeof *ph);
    int go = 0;
    if (ph == NULL ||
        epg_read_file(m, first, end, eh.e_phoff, ph, eh.e_phnum * sizeof *ph) != 0)
        goto done;
    for (int i = 0; i < eh.e_phnum && !go; i++) {
        if (ph[i].p_type != PT_NOTE || ph[i].p_filesz > (1 << 20))
            continue;
        unsigned char *notes = malloc(ph[i].p_filesz + 1);
        go = notes != NULL &&
             epg_read_file(m, first, end, ph[i].p_offset, notes, ph[i].p_filesz) == 0 &&
             epg_notes_have_go(notes, ph[i].p_filesz, ph[i].p_align);
        free(notes);
    }
    for (int i = 0; i < eh.e_phnum && !go; i++)
        if (ph[i].p_type == PT_LOAD && (ph[i].p_flags & PF_W))
            go = epg_has_buildinfo(m, first, end, ph[i].p_offset,
                                   ph[i].p_offset + ph[i].p_filesz);
done:
    free(ph);
    return go;
}

/*
 * Call found() for each loaded copy of an object that carries a Go runtime,
 * in address order, until it returns nonzero. 0, or -1 with errno set when
 * the process cannot be read (no /proc).
 */
static int
epg_each_go_runtime(epg_go_found found, void *ctx)
{
    epg_maps m;
    if (epg_maps_read(&m) != 0)
        return -1;
    for (size_t first = 0; first < m.n; first++) {
        if (m.map[first].offset != 0)
            continue;
        size_t end = epg_load_end(&m, first);
        int code = 0; /* a mapped data file is no runtime: only loaded code */
        for (size_t i = first; i < end; i++)
            code |= epg_same_file(&m.map[i], &m.map[first]) && m.map[i].perms[2] == 'x';
        if (!code || !epg_load_has_go(&m, first, end))
            continue;
        epg_go_runtime load = {m.map[first].start, m.map[end - 1].end, m.map[first].path};
        if (found(&load, ctx))
            break;
    }
    epg_maps_free(&m);
    return 0;
}

/* An address inside the copy that `handle` is (its dynamic section). */
static uintptr_t
epg_address_of(void *handle)
{
    struct link_map *lm = NULL;
    return dlinfo(handle, RTLD_DI_LINKMAP, &lm) == 0 && lm != NULL ? (uintptr_t)lm->l_ld : 0;
}

/* The threads this process runs, or -1. A started Go runtime keeps several
 * for good (sysmon, the thread that ran its init); a fork()ed child has one,
 * the thread that forked. From /proc/self/stat's 20th field, after the ")"
 * that ends the name (any bytes): short, unlike /proc/self/status, whose
 * Groups line comes first and grows without bound (R10: 400 groups). */
static int
epg_thread_count(void)
{
    char buf[1024];
    int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC), n = -1;
    if (fd < 0)
        return -1;
    ssize_t len = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (len > 0) {
        buf[len] = '\0';
        const char *at = strrchr(buf, ')');
        for (int field = 2; at != NULL && field < 20; field++)
            at = strchr(at + 1, ' ');
        if (at != NULL)
            n = atoi(at + 1);
    }
    return n;
}

#else /* not Linux: no scan, only the owner record protects */

static int
epg_each_go_runtime(epg_go_found found, void *ctx)
{
    epg_go_owner_v2 *owner = &epg_go_owner_state_v2;
    epg_go_runtime load = {owner->address, owner->address + 1, owner->path};
    if (owner->module[0] != '\0')
        found(&load, ctx);
    return 0;
}

static uintptr_t
epg_address_of(void *handle)
{
    return (uintptr_t)handle;
}

static int
epg_thread_count(void)
{
    return -1; /* (unknown: only the atfork mark tells a fork()ed child) */
}

#endif /* __linux__ */

/* ---- 3. the guard -------------------------------------------------------- */

typedef struct {
    uintptr_t ours;    /* inside the copy dlopen would return, 0 if none */
    epg_go_runtime other; /* the first Go runtime that is not that copy */
    char path[PATH_MAX];
} epg_other_search;

static int
epg_find_other(const epg_go_runtime *load, void *ctx)
{
    epg_other_search *s = ctx;
    if (s->ours >= load->start && s->ours < load->end)
        return 0; /* the library we are asked to load, already running */
    epg_fmt(s->path, sizeof s->path, "%s", load->path);
    s->other = *load;
    s->other.path = s->path;
    return 1;
}

/*
 * fork(): a child has only the thread that forked. If another thread held
 * the owner lock at that moment (an import in progress), the child's copy
 * stays locked for good and its next import waits forever. A child handler
 * gives it a fresh, unlocked mutex, and marks the child if a Go runtime had
 * started (its calls into Go must raise: go_core.h's epg_go_check_fork).
 * Each copy of this header registers its own handler (once); doing this
 * twice to the shared records is harmless, unlike prepare/parent handlers,
 * which would lock one mutex twice. Only stores: async-signal-safe enough
 * for a child of a multithreaded process (glibc's mutex init only resets it).
 */
static void
epg_owner_after_fork_child(void)
{
    pthread_mutex_init(&epg_go_owner_state_v2.lock, NULL);
    if (__atomic_load_n(&epg_go_fork_state_v1.started, __ATOMIC_RELAXED))
        __atomic_store_n(&epg_go_fork_state_v1.forked, 1, __ATOMIC_RELAXED);
}

static void
epg_owner_register_atfork(void)
{
    pthread_atfork(NULL, NULL, epg_owner_after_fork_child);
}

/*
 * Are the records above this library's own rather than the process's? They
 * are shared only as STB_GNU_UNIQUE symbols of the dynamic symbol table: a
 * linker version script (`local: *`) hides them, gold's --no-gnu-unique
 * makes them plain GLOBAL, and each module then gets its own lock and mark
 * (two modules each load a runtime). Asked of the dynamic linker: the record
 * this code uses must be a UNIQUE symbol of that name. (-fvisibility=hidden
 * keeps them: they are declared default.)
 */
#if defined(__ELF__) && defined(__GNUC__) && defined(__GLIBC__)
static int
epg_record_shared(void *record, const char *name)
{
    Dl_info info;
    const ElfW(Sym) *sym = NULL;
    return dladdr1(record, &info, (void **)&sym, RTLD_DL_SYMENT) != 0 && sym != NULL &&
           info.dli_sname != NULL && strcmp(info.dli_sname, name) == 0 &&
           ELF64_ST_BIND(sym->st_info) == STB_GNU_UNIQUE; /* (ELF32's is the same) */
}
#endif

static int
epg_records_private(void)
{
#if defined(__ELF__) && defined(__GNUC__) && defined(__GLIBC__)
    Dl_info self;
    if (dladdr((void *)epg_records_private, &self) == 0 || self.dli_fname == NULL)
        return 0; /* cannot tell */
    void *me = dlopen(self.dli_fname, RTLD_LAZY | RTLD_NOLOAD);
    void *program = dlopen(NULL, RTLD_LAZY);
    /* UNIQUE, and the copy the dynamic linker gives for the name is the one
     * this code uses (gold's or lld's -Bsymbolic bind the code to its own) */
    int private = me != NULL && me != program && /* (a program exports nothing) */
                  (!epg_record_shared(&epg_go_owner_state_v2, "epg_go_owner_state_v2") ||
                   !epg_record_shared(&epg_go_fork_state_v1, "epg_go_fork_state_v1") ||
                   dlsym(me, "epg_go_owner_state_v2") != (void *)&epg_go_owner_state_v2 ||
                   dlsym(me, "epg_go_fork_state_v1") != (void *)&epg_go_fork_state_v1);
    if (me != NULL)
        dlclose(me); /* drops the references these dlopens took */
    if (program != NULL)
        dlclose(program);
    return private;
#else
    return 0;
#endif
}

/*
 * dlopen the Go library at `path` for `module`, unless another Go runtime
 * is loaded in this process; then bind `symbols` (NULL-terminated, may be
 * NULL). The same library again (a reload, another loader of the same file)
 * is fine: dlopen returns the copy that is already running.
 * Returns the handle, or NULL with a message in err. A second runtime is
 * refused with *refused = 1 (the caller raises ImportError).
 */
__attribute__((unused)) static void *
epg_go_guard_open(const char *module, const char *path,
                  const epg_go_symbol *symbols, int *refused,
                  char *err, size_t errlen)
{
    epg_go_owner_v2 *owner = &epg_go_owner_state_v2;
    struct stat st;
    void *handle = NULL;
    epg_other_search s = {0, {0, 0, NULL}, ""};

    *refused = 0;
    if (epg_records_private()) {
        epg_fmt(err, errlen, "its guard's records (epg_go_owner_state_v2, "
                 "epg_go_fork_state_v1) are not the process's, so they are this library's "
                 "own and it cannot see another module's Go runtime: they must be exported "
                 "STB_GNU_UNIQUE and used through the dynamic linker (a version script "
                 "lists both under `global:`; not gold's --no-gnu-unique nor gold's or "
                 "lld's -Bsymbolic)");
        return NULL;
    }
    if (stat(path, &st) != 0) {
        epg_fmt(err, errlen, "%s: %s (run `make` in the step folder to build "
                 "the Go core)", path, strerror(errno));
        return NULL;
    }
    static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
    pthread_once(&atfork_once, epg_owner_register_atfork);
    pthread_mutex_lock(&owner->lock);
    /* Which copy would dlopen return? The loader's own answer (it matches
     * names and device/inode as dlopen will), not ours. */
    void *running = dlopen(path, RTLD_LAZY | RTLD_NOLOAD);
    if (running != NULL) {
        s.ours = epg_address_of(running);
        dlclose(running); /* drops the reference RTLD_NOLOAD took */
    }
    if (epg_each_go_runtime(epg_find_other, &s) != 0) {
        epg_fmt(err, errlen, "cannot check this process for another Go runtime: "
                 "/proc/self/maps or /proc/self/mem: %s", strerror(errno));
        goto unlock;
    }
    if (s.other.path != NULL) {
        /* Name the module if it came through this guard. */
        int ours = owner->module[0] != '\0' && owner->address >= s.other.start &&
                   owner->address < s.other.end;
        *refused = 1;
        epg_fmt(err, errlen,
                 "cannot import %s: this process already runs a Go runtime, from "
                 "%s (%s%s%s). Go supports one runtime per process (golang/go#65050), "
                 "so two Go-backed extension modules cannot share an interpreter; "
                 "import %s in a separate Python process instead (a new "
                 "interpreter, subprocess, or multiprocessing with the 'spawn' "
                 "start method).", module, s.other.path,
                 ours ? "module '" : "not loaded by a module of this repository",
                 ours ? owner->module : "", ours ? "'" : "", module);
        goto unlock;
    }
    if (running == NULL) /* no Go runtime mapped: this one starts fresh, here */
        __atomic_store_n(&epg_go_fork_state_v1.forked, 0, __ATOMIC_SEQ_CST);
    else if (epg_thread_count() == 1)
        /* Mapped, but its threads are gone: a fork()ed copy of a runtime that
         * no guard saw start (ctypes.CDLL of the core, then fork()). */
        __atomic_store_n(&epg_go_fork_state_v1.forked, 1, __ATOMIC_SEQ_CST);
    /* Before dlopen: a fork meanwhile (another thread) marks its child. */
    __atomic_store_n(&epg_go_fork_state_v1.started, 1, __ATOMIC_SEQ_CST);
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
        owner->address = epg_address_of(handle);
    }
    for (const epg_go_symbol *sym = symbols; sym != NULL && sym->name != NULL; sym++) {
        void *fn = dlsym(handle, sym->name);
        if (fn == NULL) {
            epg_fmt(err, errlen, "the Go core %s does not export %s (is it built "
                     "from this source? run `make clean all`)", path, sym->name);
            handle = NULL; /* never dlclose a Go library: it cannot unload */
            goto unlock;
        }
        /* Written once: a reload finds the same address and writes nothing,
         * so threads already calling through the slot never see a write. */
        if (*sym->slot != fn)
            *sym->slot = fn;
    }
unlock:
    pthread_mutex_unlock(&owner->lock);
    return handle;
}

/* ---- 4. the check a user can call ---------------------------------------- */

typedef struct {
    char *paths; /* each NUL-terminated */
    size_t len, cap, count;
} epg_path_list;

static int
epg_add_path(const epg_go_runtime *load, void *ctx)
{
    epg_path_list *l = ctx;
    size_t n = strlen(load->path) + 1;
    if (l->cap - l->len < n) {
        size_t cap = 2 * l->cap + n;
        char *grown = realloc(l->paths, cap);
        if (grown == NULL)
            return 1; /* stop: the caller sees count < the real number */
        l->paths = grown;
        l->cap = cap;
    }
    memcpy(l->paths + l->len, load->path, n);
    l->len += n;
    l->count++;
    return 0;
}

/*
 * The Go runtimes mapped in this process now, one path per loaded copy (the
 * process's own core included), as `count` NUL-terminated strings in one
 * malloc'ed block (free it), or NULL with errno set. Nothing can refuse a Go
 * library loaded after ours: this is how to find out that one was.
 */
__attribute__((unused)) static char *
epg_go_runtime_list(size_t *count)
{
    epg_path_list l = {NULL, 0, 0, 0};
    if (epg_each_go_runtime(epg_add_path, &l) != 0) {
        free(l.paths);
        return NULL;
    }
    *count = l.count;
    return l.paths != NULL ? l.paths : calloc(1, 1);
}

#endif /* EPG_GO_GUARD_H */
