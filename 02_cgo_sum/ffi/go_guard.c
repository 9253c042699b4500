/*
 * libgo_guard.so: common/go_guard.h for the Python-side loaders of this step
 * (ctypes and cffi's ABI mode load the Go core themselves, with no C glue).
 * Plain C: loading it starts no Go runtime. gocore.py calls epg_go_load
 * before ctypes.CDLL / ffi.dlopen, which then find the library already
 * loaded and start nothing new. The owner record and its lock are shared
 * with every C glue of the process (a STB_GNU_UNIQUE symbol, go_guard.h).
 */
#include "go_guard.h"

__attribute__((visibility("default"))) void *
epg_go_load(const char *module, const char *path, int *refused, char *err, size_t errlen)
{
    return epg_go_guard_open(module, path, NULL, refused, err, errlen);
}

/* go_runtimes() for the Python-side loaders (gocore.py): `count`
 * NUL-terminated paths in one malloc'ed block the caller frees, or NULL with
 * errno set. */
__attribute__((visibility("default"))) char *
epg_go_runtimes(size_t *count)
{
    return epg_go_runtime_list(count);
}

/* 1 in a fork()ed child of a process whose Go runtime had started through
 * any guard (gocore.check_fork). */
__attribute__((visibility("default"))) int
epg_go_forked(void)
{
    return epg_go_guard_forked();
}
