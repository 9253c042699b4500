// Command core is step 03's version 1, WRONG ON PURPOSE: the exported
// function returns a Go string, i.e. a pointer into the Go heap, to C.
// The cgo pointer-passing rules forbid it (once the call returns, the garbage
// collector may free and reuse that memory while C still reads it), and the
// runtime's cgocheck aborts the whole process on the first call. Never silence it with
// GODEBUG=cgocheck=0: that turns a clean crash into memory corruption.
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

// SayHello returns the greeting as a Go string: a Go pointer. Do not copy.
// (The name is read right, with its size_t length: see package cmem.)
//
// The deferred Recover cannot save this one: cgo checks the result in its
// wrapper of SayHello, after SayHello returned, and no recover is on the
// stack there. The panic kills the process (SIGABRT).
//
//export SayHello
func SayHello(name *C.char, n C.size_t, report *C.epg_go_panic) string {
	done := false
	defer gopanic.Recover(unsafe.Pointer(report), &done)
	done = true
	return greet.Hello(cmem.String(unsafe.Pointer(name), uintptr(n)))
}

// [/excerpt: export]

func main() {}
