// Package gopanic keeps a Go panic from crossing into C.
//
// A panic that unwinds out of an exported (//export) function reaches cgo's
// C frames, and the Go runtime then aborts the whole process: for a Python
// extension, the interpreter dies with SIGABRT. So every exported function
// of this repository is written
//
//	done := false
//	defer gopanic.Recover(unsafe.Pointer(report), &done)
//	... body ...
//	done = true
//	return ...
//
// where report is the caller's *C.epg_go_panic (common/go_panic.h). If the
// function does not reach its end, Recover stops the panic, writes what
// happened and the goroutine's stack into *report as C strings (the caller
// frees them), and the function returns its zero values; the C glue then
// raises RuntimeError. Why a flag and not just recover() != nil: with
// GODEBUG=panicnil=1 (still honoured), panic(nil) makes recover() return nil,
// and a check of recover() alone would take it for success.
//
// What Recover cannot stop:
//   - runtime.Goexit. Deferred calls run, Recover reports it, but nothing can
//     cancel a Goexit, and on a thread Go did not create (every C caller's)
//     the runtime then aborts: "fatal error: runtime.Goexit called in a
//     thread that was not created by the Go runtime".
//   - fatal runtime errors, which are not panics: out of memory, concurrent
//     map writes, stack overflow, deadlock, cgocheck pointer violations.
//   - a panic in another goroutine: recover only stops panics of its own
//     goroutine. A goroutine the export starts defers Capture and hands what
//     happened back (a goroutine Go created may Goexit: Capture reports it).
package gopanic

/*
#cgo CFLAGS: -I${SRCDIR}/..
#include <stdlib.h>
#include "go_panic.h"
*/
import "C"

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"unsafe"
)

// What Recover and Capture report when a function stopped before its end
// without a panic value.
const (
	// GoexitValue: runtime.Goexit ran the deferred calls.
	GoexitValue = "runtime.Goexit called: the function stopped before its end"
	// NilPanicValue: panic(nil) under GODEBUG=panicnil=1 (recover() returned nil).
	NilPanicValue = "panic called with nil argument (GODEBUG=panicnil=1)"
	// NoDoneValue: a return that did not set done = true (a bug in the export).
	NoDoneValue = "the function returned without setting done = true"
)

// Recover must be deferred directly by the exported function (recover only
// works in a function called by the deferring one), with a pointer to the
// function's done flag, which the function sets to true right before each
// return. report is the caller's *C.epg_go_panic, as an unsafe.Pointer
// because every cgo package has its own C types; neither may be nil.
func Recover(report unsafe.Pointer, done *bool) {
	r := recover()
	if r == nil && *done {
		return // the function reached its end
	}
	value, stack := describe(r)
	rep := (*C.epg_go_panic)(report)
	rep.value = C.CString(value)
	rep.stack = C.CString(string(stack))
}

// Panic is a panic caught in one goroutine, to be re-raised in another.
type Panic struct {
	Value any
	Stack []byte
}

func (p *Panic) Error() string { return fmt.Sprintf("panic: %v", p.Value) }

// Capture, deferred directly by a goroutine's function with a pointer to its
// done flag (set to true right before the function returns), hands what
// stopped the goroutine early to onPanic instead of letting it kill the
// process: a panic, panic(nil) under GODEBUG=panicnil=1, or runtime.Goexit
// (which then still ends the goroutine: defer the signal the waiter waits
// for, e.g. wg.Done, before Capture). onPanic must be safe for concurrent
// use. The goroutine that waits for the workers then re-raises the first
// captured value with panic(p), so that the export's Recover reports it with
// the worker's stack.
func Capture(onPanic func(*Panic), done *bool) {
	r := recover()
	if r == nil && *done {
		return
	}
	if p, ok := r.(*Panic); ok { // already captured once (a nested worker)
		onPanic(p)
		return
	}
	value, stack := describe(r)
	onPanic(&Panic{Value: value, Stack: stack})
}

// describe says what stopped a function early: the panic value r (with the
// stack it was captured with, for a re-raised *Panic), or, when r is nil,
// which of Goexit, panic(nil) or a missing done = true it was. It runs inside
// the deferred Recover/Capture, so the frames that called it tell: Goexit
// and gopanic call the deferred functions themselves (through the compiler's
// ".deferwrap" closure); after a plain return, the function itself does.
func describe(r any) (string, []byte) {
	if p, ok := r.(*Panic); ok { // re-raised from another goroutine: keep its stack
		return fmt.Sprint(p.Value), p.Stack
	}
	stack := debug.Stack()
	if r != nil {
		return fmt.Sprint(r), stack
	}
	pcs := make([]uintptr, 16)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(3, pcs)])
	for {
		frame, more := frames.Next()
		switch {
		case frame.Function == "runtime.Goexit":
			return GoexitValue, stack
		case frame.Function == "runtime.gopanic":
			return NilPanicValue, stack
		case strings.Contains(frame.Function, ".deferwrap"):
		case !more, !strings.HasPrefix(frame.Function, "runtime."):
			return NoDoneValue, stack
		}
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
