package main

/*
#include <stdlib.h>

// [excerpt: malloc]
// cgo's own C.malloc never returns NULL: it crashes the whole process when
// memory runs out. Through this plain wrapper a failed allocation comes back
// as NULL, and the C glue turns it into MemoryError. (It lives in a file
// without //export: cgo copies the preamble of a file with //export into
// two C files, so that preamble may only declare, never define.)
static void *hello_malloc(size_t size) { return malloc(size); }
// [/excerpt: malloc]
*/
import "C"

import "unsafe"

// cMalloc allocates size bytes of C memory with the C library's malloc
// (the caller releases it with free), or returns nil.
func cMalloc(size int) unsafe.Pointer {
	return C.hello_malloc(C.size_t(size))
}

// freeUnless frees p unless *done: deferred by an export that allocated p
// for its caller, it releases p when the export stops before handing it over.
func freeUnless(done *bool, p unsafe.Pointer) {
	if !*done {
		C.free(p)
	}
}
