//go:build epgpanic

package gopanic

// #include <stdlib.h>
import "C"

import (
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"unsafe"
)

// Hook, in a core built with -tags epgpanic (tests only), fails on demand so
// the tests can drive a real export through a real panic:
//
//	EPG_GO_PANIC=Name          panic("EPG_GO_PANIC=Name") in the function that calls Hook("Name")
//	EPG_GO_PANIC=Name:fatal    a fatal error instead (concurrent map writes): recover cannot stop it
//	EPG_GO_PANIC=Name:stack    a fatal stack overflow (also unrecoverable)
//	EPG_GO_PANIC=Name:nil      panic(nil): with GODEBUG=panicnil=1, recover() returns nil
//	EPG_GO_PANIC=Name:nilptr   a nil pointer dereference: a SIGSEGV that Go's handler makes a panic
//	EPG_GO_PANIC=Name:goexit   runtime.Goexit(): aborts the process on a thread Go did not create
//
// The variable is read at each call with C's getenv, not os.Getenv: Go
// copies the environment when its runtime starts, and a test sets the
// variable later (os.environ in Python), to try several calls in one process.
func Hook(name string) {
	key := C.CString("EPG_GO_PANIC")
	defer C.free(unsafe.Pointer(key))
	spec := C.GoString(C.getenv(key))
	fn, mode, _ := strings.Cut(spec, ":")
	if fn != name {
		return
	}
	switch mode {
	case "fatal":
		concurrentMapWrites()
	case "stack":
		debug.SetMaxStack(1 << 20)
		recurse(0)
	case "nil":
		panic(nil)
	case "nilptr":
		_ = *nilInt
	case "goexit":
		runtime.Goexit()
	default:
		panic("EPG_GO_PANIC=" + spec)
	}
}

// concurrentMapWrites writes one map from several goroutines until the
// runtime notices: "fatal error: concurrent map writes".
func concurrentMapWrites() {
	m := map[int]int{}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				m[i%1024] = i
			}
		}()
	}
	wg.Wait()
}

//go:noinline
func recurse(n int) int { return recurse(n+1) + 1 }

var nilInt *int // (a variable: the compiler cannot prove the dereference faults)
