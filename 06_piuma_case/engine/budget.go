package engine

import (
	"fmt"
	"math"
	"sync"
)

// No allocation is sized by an untrusted number without a bound. A file's
// header says how many pixels it has; before anything is read or decoded,
// the engine estimates the memory the file needs (estimateMemory) and
// reserves it from a budget that all the workers of a batch share
// (Options.MaxMemory). A file that needs more than the whole budget is a
// per-file error; one that needs more than what is free waits until other
// workers release theirs. The Go runtime cannot recover from running out of
// memory (it aborts the process, here the user's Python interpreter), so this
// check is the only protection: it must come before the allocation.
//
// The Python engine (piuma/_budget.py) uses the same estimate, so both
// engines refuse the same files with the same words.

// budget is a weighted semaphore with first-come, first-served order: a
// large request is not overtaken forever by small ones.
type budget struct {
	mu      sync.Mutex
	limit   int64
	used    int64
	waiters []*budgetWaiter
}

type budgetWaiter struct {
	n     int64
	ready chan struct{}
}

func newBudget(limit int64) *budget { return &budget{limit: limit} }

// acquire reserves n bytes, waiting while other workers hold too much. The
// caller has checked n <= limit (otherwise it would wait forever).
func (b *budget) acquire(n int64) {
	b.mu.Lock()
	if len(b.waiters) == 0 && b.used+n <= b.limit {
		b.used += n
		b.mu.Unlock()
		return
	}
	w := &budgetWaiter{n: n, ready: make(chan struct{})}
	b.waiters = append(b.waiters, w)
	b.mu.Unlock()
	<-w.ready // release() has added n to used for us
}

// release returns n bytes and wakes the waiters that now fit, in order.
func (b *budget) release(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used -= n
	for len(b.waiters) > 0 && b.used+b.waiters[0].n <= b.limit {
		w := b.waiters[0]
		b.waiters = b.waiters[1:]
		b.used += w.n
		close(w.ready)
	}
}

// Memory estimates, in bytes. They are upper bounds of what either engine
// allocates for one file (the larger of Go's and Pillow's needs), so that
// one number decides for both engines; piuma/_budget.py has the same code.
const (
	memOverhead = 8 << 20 // codec state, Huffman tables, row buffers, encoder
	mib         = 1 << 20
)

// imageKind describes a file for estimateMemory.
type imageKind struct {
	png         bool
	channels    int  // JPEG components (1, 3, 4); PNG: samples per pixel (1..4)
	sixteen     bool // PNG with 16-bit samples
	progressive bool // progressive JPEG (whole-image coefficient buffer)
	lossless    bool // lossless JPEG (decoded into 16-bit planes)
	interlaced  bool // Adam7 PNG
	quantized   bool // PNG quantised in process (quantize.go)
}

// satMul and satAdd saturate at math.MaxInt64: the inputs come from files.
func satMul(a, b int64) int64 {
	if a == 0 || b == 0 {
		return 0
	}
	if a > math.MaxInt64/b {
		return math.MaxInt64
	}
	return a * b
}

func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// estimateMemory is the peak memory one file may need: its bytes, the
// decoded image, one converted copy of it, the resize's intermediate image
// (or its box-reduced copy), the output (resized, then oriented) and its
// encoding. w x h is the stored size; tw x th the largest target (in either
// orientation).
func estimateMemory(fileSize int64, w, h, tw, th int, k imageKind) int64 {
	px := satMul(int64(w), int64(h))
	// Decoded bytes per pixel, the larger of the two engines: Pillow keeps
	// RGB, RGBA and CMYK in 4 bytes per pixel, Go's image/png keeps 16-bit
	// colour in 8 and 16-bit gray in 2 (Pillow converts that to 4, then to
	// 1, in several steps: counted as 16).
	dec, work := int64(4), int64(4) // work: a converted copy (RGBA, RGB, CMYK -> RGB)
	switch {
	case k.channels == 1 && !k.sixteen:
		dec, work = 1, 1
	case k.png && k.channels == 1 && k.sixteen:
		dec = 16
	case k.png && k.sixteen:
		dec = 8
	}
	perPixel := dec + work
	if k.progressive {
		perPixel += 4 * int64(k.channels) // coefficients of every block (image/jpeg: int32)
	}
	if k.lossless {
		perPixel += 2 * int64(k.channels)
	}
	if k.interlaced {
		perPixel += dec // Adam7 passes, decoded apart then merged
	}
	// The file's bytes, and as much again: a copy for Pillow (JPEG, EXIF
	// renamed) or the EXIF segments joined.
	need := satAdd(satMul(fileSize, 2), satMul(px, perPixel))
	// When both axes are resized, the intermediate image has the width of
	// one side and the height of the other (each engine does one axis first).
	if tw != w && th != h {
		need = satAdd(need, satMul(max(satMul(int64(tw), int64(h)), satMul(int64(w), int64(th))), work))
	}
	if bigTable(w, tw) || bigTable(h, th) {
		need = satAdd(need, satMul(px, work)/2) // the box-reduced copy (see resample)
	}
	if k.png { // the decoders' current and previous rows (PNG filters refer to the row above)
		row := satMul(int64(w), int64(k.channels))
		if k.sixteen {
			row = satMul(row, 2)
		}
		need = satAdd(need, satMul(row, 2))
	}
	// Pillow keeps a pointer per row (8 bytes) for each image: the decoded
	// one, its converted copy and the resize's intermediate, all h rows high
	// at most. A 1 x 80,000,000 PNG took 1.4 GB for 160 MB of pixels.
	need = satAdd(need, satMul(int64(h), 24))
	// Output: resized, oriented, encoded.
	need = satAdd(need, satMul(satMul(int64(tw), int64(th)), 12))
	if k.quantized {
		need = satAdd(need, quantizeMemory(satMul(int64(tw), int64(th))))
	}
	return satAdd(need, memOverhead)
}

// quantizeMemory bounds what quantising a px-pixel output in process adds:
// libimagequant keeps a float copy of the image (16 bytes a pixel) while it
// is under 64 MiB, plus maps and the indices (measured: 17 MB for 800x533,
// 96 MB for 2000x1333, 49 MB for 3000x2000, where it stops keeping the copy);
// the Python engine's conversions add up to 10 bytes a pixel more.
func quantizeMemory(px int64) int64 {
	return satAdd(satMul(px, 24), min(satMul(px, 32), 128*mib))
}

// maxFileBytes is the largest file accepted for a batch whose images may
// have up to maxPixels pixels: 32 bytes per pixel (an uncompressed 16-bit
// RGBA PNG needs 8, a JPEG at quality 100 of pure noise about 10) plus 64
// MiB of metadata. A larger file cannot be such an image; it is refused from
// its size, before it is read.
func maxFileBytes(maxPixels int64) int64 {
	return satAdd(satMul(maxPixels, 32), 64*mib)
}

// humanBytes prints a size in binary units, one decimal: "3.2 GiB".
// piuma/_budget.py's human_bytes prints the same.
func humanBytes(n int64) string {
	units := []string{"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	if n < 1024 {
		return fmt.Sprintf("%d bytes", n)
	}
	v, i := float64(n), 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}
