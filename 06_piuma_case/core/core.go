// Command core is the Go core of the piuma extension (-buildmode=c-shared),
// loaded by the C glue (piuma/_piuma.c), which owns every CPython object and
// calls PiumaRun, the one export, with the GIL released.
package main

/*
#include <stdlib.h>
#include "piuma_api.h"
#include "go_panic.h"

// progress is shared with another thread: C atomics on C memory, both sides.
static inline void piuma_file_done(piuma_progress *p) { __atomic_add_fetch(&p->done, 1, __ATOMIC_RELAXED); }
static inline int piuma_cancelled(piuma_progress *p) { return __atomic_load_n(&p->cancel, __ATOMIC_RELAXED); }
*/
import "C"

import (
	"unsafe"

	"example.com/epg/06_piuma_case/engine"
	"example.com/epg/gopanic"
)

type cProgress struct{ p *C.piuma_progress }

func (c cProgress) FileDone()       { C.piuma_file_done(c.p) }
func (c cProgress) Cancelled() bool { return C.piuma_cancelled(c.p) != 0 }

// [excerpt: export]

// PiumaRun converts jobs[0..n) and writes results[i] for jobs[i]: category,
// error (a C.CString the glue frees once, or NULL), sizes, seconds. progress
// may be NULL. A panic outside the per-file guards (which turn theirs into
// that file's PIUMA_INTERNAL) is reported in *report instead.
//
//export PiumaRun
func PiumaRun(jobs *C.piuma_job, n C.size_t, o *C.piuma_options, progress *C.piuma_progress,
	results *C.piuma_result, report *C.epg_go_panic) {
	done := false
	defer gopanic.Recover(unsafe.Pointer(report), &done)
	gopanic.Hook("PiumaRun")
	// [/excerpt: export]
	js := make([]engine.Job, int(n))
	for i, j := range unsafe.Slice(jobs, int(n)) {
		js[i] = engine.Job{Source: C.GoString(j.source), Destination: C.GoString(j.destination),
			Temp: C.GoString(j.temp), Format: engine.Format(j.format),
			Width: int(j.width), Height: int(j.height), Scale: int(j.scale),
			OutWidth: int(j.out_width), OutHeight: int(j.out_height), Orientation: int(j.orientation),
			Stamp: [4]uint64{uint64(j.stamp[0]), uint64(j.stamp[1]), uint64(j.stamp[2]), uint64(j.stamp[3])}}
	}
	opts := engine.Options{Quality: int(o.quality), Workers: int(o.workers),
		Optimize: o.optimize != 0}
	var p engine.Progress
	if progress != nil {
		p = cProgress{progress}
	}
	// C memory for C: every string handed over is a C.CString, never a Go pointer.
	// The engine's categories are piuma_api.h's numbers (core_test.go checks).
	out := unsafe.Slice(results, int(n))
	for i, r := range engine.Run(js, opts, p) {
		out[i] = C.piuma_result{category: C.int32_t(r.Category),
			bytes_in: C.int64_t(r.BytesIn), bytes_out: C.int64_t(r.BytesOut),
			width: C.int32_t(r.Width), height: C.int32_t(r.Height), seconds: C.double(r.Seconds)}
		if r.Err != "" {
			out[i].error = C.CString(r.Err)
		}
	}
	done = true
}

func main() {}
