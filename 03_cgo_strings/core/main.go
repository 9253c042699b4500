// Command core is step 03's Go core, the correct version: strings cross the
// boundary as (pointer, length) pairs of UTF-8 bytes, in both directions, and
// only C memory ever crosses:
//
//   - name points to C memory owned by the caller; Go reads it during the
//     call and keeps no reference to it afterwards;
//   - the greeting is written into a buffer allocated with C malloc, which
//     is returned to the caller together with its length: from then on the
//     caller owns it and must free() it exactly once.
//
// No Go pointer is returned to C (cmd/cgo pointer-passing rules), and the
// explicit lengths let any byte, NUL included, round-trip. Built with
// -buildmode=c-shared; the C glue is ../hello.c.
package main

/*
#include <stddef.h>
#include "go_panic.h"
*/
import "C"

import (
	"unsafe"

	"example.com/epg/03_cgo_strings/greet"
	"example.com/epg/gopanic"
)

// [excerpt: export]

// SayHello returns "Hello " + the n bytes at name, in a new C buffer of
// *size bytes (no NUL terminator) that the caller must free() once. It
// returns NULL, leaving *size alone, when the buffer cannot be allocated,
// and NULL with *report filled if it panicked (common/gopanic), having
// freed the buffer itself.
//
//export SayHello
func SayHello(name *C.char, n C.size_t, size *C.size_t, report *C.epg_go_panic) *C.char {
	done := false
	defer gopanic.Recover(unsafe.Pointer(report), &done)
	gopanic.Hook("SayHello")
	total := greet.Size(int(n)) // -1 when too large (int(n) < 0 included)
	if total < 0 {
		done = true
		return nil
	}
	out := cMalloc(total)
	if out == nil {
		done = true
		return nil
	}
	// Until it is returned, the buffer is ours: if we stop early (a panic),
	// nobody else can free it.
	defer freeUnless(&done, out)
	gopanic.Hook("SayHello.copy") // tests: a panic once the buffer is allocated
	// Views on C memory (no copy, not retained): the only copy is Put's.
	dst := unsafe.Slice((*byte)(out), total)
	src := unsafe.Slice((*byte)(unsafe.Pointer(name)), int(n))
	greet.Put(dst, src)
	*size = C.size_t(total)
	done = true
	return (*C.char)(out)
}

// [/excerpt: export]

func main() {} // required by -buildmode=c-shared, never runs
