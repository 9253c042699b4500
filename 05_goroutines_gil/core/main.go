// Command core is step 05's Go core: countdown across goroutines, plain C
// types in and out, no Python anywhere. The C glue (../countdown.c) owns
// every CPython call and the GIL. Built with -buildmode=c-shared.
package main

/*
#include <stddef.h>

// The glue's "should I stop?" callback (it looks for Ctrl-C). cgo cannot
// call a C function pointer directly, hence the tiny trampoline (inline:
// this preamble also lands in the header the glue includes).
typedef int (*countdown_check_fn)(void);

static inline int call_check(countdown_check_fn check) { return check(); }

#include "go_panic.h"
*/
import "C"

import (
	"errors"
	"runtime"
	"unsafe"

	"example.com/epg/05_goroutines_gil/countdown"
	"example.com/epg/gopanic"
)

// Countdown counts n down across `workers` goroutines and returns the number
// of decrements performed (n unless check asked to stop). The caller has
// validated 0 <= n and 1 <= workers <= MaxWorkers.
//
// check may be NULL. Otherwise it is called from this goroutine only, never
// from a worker (why the glue may take the GIL in it: check_signals in
// ../countdown.c).
//
// A panic, here or in a worker, is reported in *report (common/gopanic) and
// Countdown returns 0.
//
//export Countdown
func Countdown(n C.longlong, workers C.int, check C.countdown_check_fn, report *C.epg_go_panic) C.longlong {
	done := false
	defer gopanic.Recover(unsafe.Pointer(report), &done)
	gopanic.Hook("Countdown")
	last := int(min(int64(workers), int64(n))) - 1 // Run starts min(workers, n) workers
	hooks := countdown.Hooks{
		// Test builds only (-tags epgpanic): EPG_GO_PANIC=CountdownWorker
		// makes the last worker panic (:goexit, :nil: stop otherwise)
		// while the others count.
		BeforeChunk: func(worker int) {
			if worker == last {
				gopanic.Hook("CountdownWorker")
			}
		},
	}
	if check != nil {
		hooks.Interrupted = func() bool { return C.call_check(check) != 0 }
	}
	// [excerpt: repanic]
	decrements, err := countdown.Run(int64(n), int(workers), hooks)
	var p *countdown.WorkerPanic
	if errors.As(err, &p) {
		// Run recovered it in the worker (recover cannot reach into another
		// goroutine) and stopped the others: re-raise it here, where the
		// deferred Recover reports it with the worker's own stack.
		panic(&gopanic.Panic{Value: p.Value, Stack: p.Stack})
	}
	// [/excerpt: repanic]
	done = true
	return C.longlong(decrements)
}

// MaxWorkers is the largest `workers` Countdown accepts.
//
//export MaxWorkers
func MaxWorkers(report *C.epg_go_panic) C.int {
	done := false
	defer gopanic.Recover(unsafe.Pointer(report), &done)
	done = true
	return countdown.MaxWorkers
}

// NumCPU is runtime.NumCPU(): the logical CPUs this process may use.
//
//export NumCPU
func NumCPU(report *C.epg_go_panic) C.int {
	done := false
	defer gopanic.Recover(unsafe.Pointer(report), &done)
	done = true
	return C.int(runtime.NumCPU())
}

// GoMaxProcs is runtime.GOMAXPROCS(0): how many OS threads may run Go code
// at the same time (the P in Go's M:N scheduler).
//
//export GoMaxProcs
func GoMaxProcs(report *C.epg_go_panic) C.int {
	done := false
	defer gopanic.Recover(unsafe.Pointer(report), &done)
	done = true
	return C.int(runtime.GOMAXPROCS(0))
}

func main() {} // required by -buildmode=c-shared, never runs
