// Command core is step 03's version 2, WRONG ON PURPOSE: it returns the
// greeting as C.CString(...), a copy in C memory allocated with malloc. That
// obeys the pointer rules, but the C glue (../hello.c) never frees it: every
// call leaks the greeting's length + 1 bytes (plus malloc's overhead).
package main

// #include "go_panic.h"
import "C"

import (
	"unsafe"

	"example.com/epg/03_cgo_strings/cmem"
	"example.com/epg/03_cgo_strings/greet"
	"example.com/epg/gopanic"
)

// [excerpt: export]

// SayHello returns a malloc'ed, NUL-terminated copy of the greeting. The
// caller must free it, and a NUL inside the greeting ends it early. (The
// name is read right, with its size_t length: see package cmem.)
//
//export SayHello
func SayHello(name *C.char, n C.size_t, report *C.epg_go_panic) *C.char {
	done := false
	defer gopanic.Recover(unsafe.Pointer(report), &done)
	done = true
	return C.CString(greet.Hello(cmem.String(unsafe.Pointer(name), uintptr(n))))
}

// [/excerpt: export]

func main() {}
