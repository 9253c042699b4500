package engine

// A file's pixels live in C memory, freed as soon as they are done with: the
// Go heap stays small, and the OS gets the memory back without waiting for GC.

/*
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

// cgo's C.malloc aborts the process (here, the user's interpreter) when
// malloc returns NULL: this one may fail, and the file says so.
static void *piuma_alloc(size_t n) { return malloc(n ? n : 1); }

// The decoders' FILE*, on a close-on-exec copy of fd (no subprocess inherits
// it; fclose closes the copy, the os.File keeps its own).
static FILE *piuma_fdopen(int fd) {
	int fd2 = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	FILE *fp = fd2 < 0 ? NULL : fdopen(fd2, "rb");
	if (fp == NULL && fd2 >= 0) close(fd2);
	return fp;
}
*/
import "C"

import (
	"math"
	"os"
	"runtime"
	"unsafe"
)

// decode reads f, the job's file, with the decoder of its format, which
// checks it has the size the probe saw (a JPEG's at 1/Scale).
func decode(f *os.File, job *Job) (image, error) {
	fp, err := C.piuma_fdopen(C.int(f.Fd()))
	runtime.KeepAlive(f) // its descriptor was in use until now
	if fp == nil {
		return image{}, fail(Unreadable, "%s", plainError(err))
	}
	defer C.fclose(fp)
	if s := job.Scale; job.Format == JPEG { // libjpeg's DCT scaling rounds up
		return decodeJPEG(fp, s, (job.Width+s-1)/s, (job.Height+s-1)/s)
	}
	return decodePNG(fp, job.Width, job.Height)
}

// calloc returns n bytes of C memory (not zeroed), or a NoMemory error.
func calloc(n int) ([]byte, error) {
	p := C.piuma_alloc(C.size_t(n))
	if p == nil {
		return nil, fail(NoMemory, "cannot allocate %d bytes", n)
	}
	return unsafe.Slice((*byte)(p), n), nil
}

// cfree frees what calloc (or a C library's malloc) returned.
func cfree(s []byte) { C.free(unsafe.Pointer(unsafe.SliceData(s))) }

// image is w x h pixels of bpp bytes (gray, RGB, RGBA) in C memory.
type image struct {
	pix       []byte
	w, h, bpp int
}

// newImage: w, h in 1..2^31-1 (the glue checks the jobs), so w*h < 2^62 fits.
func newImage(w, h, bpp int) (image, error) {
	if w*h > math.MaxInt64/bpp {
		return image{}, fail(NoMemory, "cannot allocate %dx%dx%d bytes", w, h, bpp)
	}
	pix, err := calloc(w * h * bpp)
	return image{pix: pix, w: w, h: h, bpp: bpp}, err
}

func (m image) row(y int) []byte { return m.pix[y*m.w*m.bpp : (y+1)*m.w*m.bpp] }

// free releases the pixels (again: free(NULL), a no-op).
func (m *image) free() { cfree(m.pix); m.pix = nil }
