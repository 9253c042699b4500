/*
 * go_panic.h: how a Go export reports a panic to its C caller.
 *
 * A Go panic that unwinds into cgo's C frames kills the process, so every
 * exported function of this repository recovers (common/gopanic) and fills
 * this struct instead. Both strings are malloc'ed by Go (C.CString) and
 * belong to the caller, which frees each once; both NULL when nothing
 * panicked. The C glue turns it into a Python RuntimeError (go_core.h).
 */
#ifndef EPG_GO_PANIC_H
#define EPG_GO_PANIC_H

typedef struct {
    char *value; /* fmt "%v" of the panic value */
    char *stack; /* the panicking goroutine's stack (runtime/debug.Stack) */
} epg_go_panic;

#endif /* EPG_GO_PANIC_H */
