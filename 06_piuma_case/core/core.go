// Command core is the Go core of the piuma extension module, built with
// -buildmode=c-shared into libpiuma_core.so and loaded by the C glue
// (piuma/_piuma.c) through common/go_core.h. It exports a C ABI only: the
// glue owns every CPython object and calls PiumaRun with the GIL released.
package main

/*
#include <stdlib.h>
#include "piuma_api.h"
#include "go_panic.h"
*/
import "C"

import (
	"sync/atomic"
	"unsafe"

	"example.com/epg/06_piuma_case/engine"
	"example.com/epg/gopanic"
)

// cProgress publishes a batch's progress through the C struct the caller
// passed (C memory, so Go may keep the pointer for the duration of the call).
// Another thread reads it while the batch runs: every access is atomic.
type cProgress struct{ p *C.piuma_progress }

func (c cProgress) Start(total int) {
	atomic.StoreInt64((*int64)(unsafe.Pointer(&c.p.total)), int64(total))
}

func (c cProgress) FileDone() {
	atomic.AddInt64((*int64)(unsafe.Pointer(&c.p.done)), 1)
}

func (c cProgress) Cancelled() bool {
	return atomic.LoadInt32((*int32)(unsafe.Pointer(&c.p.cancel))) != 0
}

// [excerpt: export]

// PiumaRun runs one batch and returns its results in a C array of *n
// entries, allocated with C.malloc, to be released with PiumaFreeResults.
// progress may be NULL. A panic outside the per-file workers (which turn
// theirs into per-file errors) is reported in *report and PiumaRun returns
// NULL.
//
//export PiumaRun
func PiumaRun(o *C.piuma_options, progress *C.piuma_progress, n *C.size_t, report *C.epg_go_panic) *C.piuma_result {
	done := false
	defer gopanic.Recover(unsafe.Pointer(report), &done)
	gopanic.Hook("PiumaRun")
	// [/excerpt: export]
	opts := engine.Options{
		Width:     int(o.width),
		Height:    int(o.height),
		Quality:   int(o.quality),
		Workers:   int(o.workers),
		MaxPixels: int64(o.max_pixels),
		MaxMemory: int64(o.max_memory),
		Draft:     o.draft != 0,
		Optimize:  o.optimize != 0,
	}
	if o.lanczos != 0 {
		opts.Filter = engine.Lanczos
	}
	if o.stdlib_jpeg != 0 {
		opts.JPEG = engine.Stdlib
	}
	if opts.Optimize && o.tools != 0 {
		opts.Optimizer = engine.Tools
		opts.Jpegoptim = C.GoString(o.jpegoptim)
		opts.Pngquant = C.GoString(o.pngquant)
	}
	var p engine.Progress
	if progress != nil {
		p = cProgress{progress}
	}
	results := engine.Run(C.GoString(o.src), C.GoString(o.dst), opts, p)

	// C memory for C: Go must not hand Go pointers to C (cgo pointer rules).
	// C.malloc never returns NULL (cgo crashes on out-of-memory instead).
	size := C.size_t(len(results)) * C.size_t(unsafe.Sizeof(C.piuma_result{}))
	arr := (*C.piuma_result)(C.malloc(size))
	out := unsafe.Slice(arr, len(results))
	for i, r := range results {
		out[i] = C.piuma_result{
			source:      C.CString(r.Source),
			destination: C.CString(r.Destination),
			bytes_in:    C.int64_t(r.BytesIn),
			bytes_out:   C.int64_t(r.BytesOut),
			width:       C.int32_t(r.Width),
			height:      C.int32_t(r.Height),
			seconds:     C.double(r.Duration.Seconds()),
		}
		if r.Err != nil {
			out[i].error = C.CString(r.Err.Error())
		}
	}
	*n = C.size_t(len(results))
	done = true
	return arr
}

// PiumaFreeResults releases what PiumaRun returned: each C string once, then
// the array.
//
//export PiumaFreeResults
func PiumaFreeResults(arr *C.piuma_result, n C.size_t, report *C.epg_go_panic) {
	done := false
	defer gopanic.Recover(unsafe.Pointer(report), &done)
	if arr == nil {
		done = true
		return
	}
	for _, r := range unsafe.Slice(arr, int(n)) {
		C.free(unsafe.Pointer(r.source))
		C.free(unsafe.Pointer(r.destination))
		C.free(unsafe.Pointer(r.error)) // free(NULL) is a no-op
	}
	C.free(unsafe.Pointer(arr))
	done = true
}

func main() {}
