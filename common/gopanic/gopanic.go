// Package gopanic keeps a Go panic from crossing into C.
//
// A panic that unwinds out of an exported (//export) function reaches cgo's
// C frames, and the Go runtime then aborts the whole process: for a Python
// extension, the interpreter dies with SIGABRT. So every exported function
// of this repository starts with
//
//	defer gopanic.Recover(unsafe.Pointer(report))
//
// where report is the caller's *C.epg_go_panic (common/go_panic.h). If the
// function panics, Recover stops the panic, writes the panic value and the
// goroutine's stack into *report as C strings (the caller frees them), and
// the function returns its zero values; the C glue then raises RuntimeError.
//
// recover only stops panics of its own goroutine: a goroutine the export
// starts must recover too and hand the value back (see Capture). Fatal
// runtime errors are not panics and cannot be recovered at all: out of
// memory, concurrent map writes, stack overflow, deadlock, cgocheck pointer
// violations. They still end the process.
package gopanic

/*
#cgo CFLAGS: -I${SRCDIR}/..
#include <stdlib.h>
#include "go_panic.h"
*/
import "C"

import (
	"fmt"
	"runtime/debug"
	"unsafe"
)

// Recover must be deferred directly by the exported function (recover only
// works in a function called by the deferring one). report is the caller's
// *C.epg_go_panic, as an unsafe.Pointer because every cgo package has its own
// C types; it must not be nil.
func Recover(report unsafe.Pointer) {
	r := recover()
	if r == nil {
		return
	}
	var stack []byte
	if p, ok := r.(*Panic); ok { // re-raised from another goroutine: keep its stack
		r, stack = p.Value, p.Stack
	} else {
		stack = debug.Stack()
	}
	rep := (*C.epg_go_panic)(report)
	rep.value = C.CString(fmt.Sprint(r))
	rep.stack = C.CString(string(stack))
}

// Panic is a panic caught in one goroutine, to be re-raised in another.
type Panic struct {
	Value any
	Stack []byte
}

func (p *Panic) Error() string { return fmt.Sprintf("panic: %v", p.Value) }

// Capture, deferred directly by a goroutine's function, stores a panic of
// that goroutine in *into (the first one wins if several goroutines share
// into through onPanic) instead of letting it kill the process. onPanic is
// called with the captured panic, and must be safe for concurrent use.
// The goroutine that waits for the workers then re-raises it with panic(p),
// so that the export's Recover reports it with the worker's stack.
func Capture(onPanic func(*Panic)) {
	if r := recover(); r != nil {
		onPanic(&Panic{Value: r, Stack: debug.Stack()})
	}
}

// take reads and frees a report (the C glue's job; here for the tests).
func take(report unsafe.Pointer) (value, stack string, ok bool) {
	rep := (*C.epg_go_panic)(report)
	if rep.value == nil {
		return "", "", false
	}
	value, stack = C.GoString(rep.value), C.GoString(rep.stack)
	C.free(unsafe.Pointer(rep.value))
	C.free(unsafe.Pointer(rep.stack))
	rep.value, rep.stack = nil, nil
	return value, stack, true
}
