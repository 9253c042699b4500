// Command variant_a is step 02's Go core, variant (a), as first shown in the
// talk: Go receives the PyObject* arguments and calls CPython itself.
//
// It works, but every CPython call needs a C shim (variadic functions and
// macros are out of cgo's reach), Go code now depends on Python.h, and it
// must only ever run with the GIL held. Variant (b) (../core) is simpler.
package main

/*
#include "shim.h"
#include "go_panic.h"
*/
import "C"

import (
	"unsafe"

	"example.com/epg/02_cgo_sum/sum"
	"example.com/epg/gopanic"
)

// [excerpt: export]

// Sum is called by the C glue's method table with the GIL held, exactly like
// a PyCFunction: it returns a new reference, or NULL with an exception set.
//
// A panic is reported in *report (the glue raises RuntimeError), and Sum
// returns nil.
//
//export Sum
func Sum(self, args *C.PyObject, report *C.epg_go_panic) *C.PyObject {
	done := false
	defer gopanic.Recover(unsafe.Pointer(report), &done)
	gopanic.Hook("Sum")
	var a, b C.longlong
	// &a and &b point to Go memory: allowed, C uses them only during the call.
	if C.parse_two_longlongs(args, &a, &b) == 0 {
		done = true
		return nil // TypeError or OverflowError set by PyArg_ParseTuple
	}
	s, ok := sum.Add(int64(a), int64(b))
	if !ok {
		C.raise_sum_overflow(a, b)
		done = true
		return nil
	}
	done = true
	return C.PyLong_FromLongLong(C.longlong(s))
}

// [/excerpt: export]

func main() {}
