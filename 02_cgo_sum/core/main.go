// Command core is step 02's Go core, variant (b), "the better and simpler
// approach": plain C types in and out, no Python anywhere. The C glue
// (../newmath.c) owns every CPython call. Built with -buildmode=c-shared.
package main

/*
#include <stddef.h>
#include "go_panic.h"
*/
import "C"

import (
	"unsafe"

	"example.com/epg/02_cgo_sum/sum"
	"example.com/epg/gopanic"
)

// [excerpt: export]

// Sum stores a+b in *result and returns 1, or returns 0 on overflow.
// result points to C memory owned by the caller (Go only writes to it).
// If Sum does not reach its end (a panic), *report says why instead of the
// panic crossing into C, and Sum returns its zero value, 0: a failure, never
// a success with an unwritten result (every export does the same, see
// common/gopanic).
//
//export Sum
func Sum(a, b C.longlong, result *C.longlong, report *C.epg_go_panic) C.int {
	done := false
	defer gopanic.Recover(unsafe.Pointer(report), &done)
	gopanic.Hook("Sum") // panics on demand in test builds only
	s, ok := sum.Add(int64(a), int64(b))
	if !ok {
		done = true
		return 0
	}
	*result = C.longlong(s)
	done = true
	return 1
}

// [/excerpt: export]

// SumArray sums n values of a C array in one call. It returns -1 on success
// or the index of the value at which the running total overflowed.
//
//export SumArray
func SumArray(values *C.longlong, n C.size_t, result *C.longlong, report *C.epg_go_panic) C.longlong {
	done := false
	defer gopanic.Recover(unsafe.Pointer(report), &done)
	gopanic.Hook("SumArray")
	if n == 0 {
		*result = 0
		done = true
		return -1
	}
	// A view on the caller's C array: no copy, nothing retained after return.
	vals := unsafe.Slice((*int64)(unsafe.Pointer(values)), int(n))
	total, at := sum.AddAll(vals)
	*result = C.longlong(total)
	done = true
	return C.longlong(at)
}

func main() {} // required by -buildmode=c-shared, never runs
