// Package engine is the Go engine of the image cron job: it walks a source
// tree, and resizes and optimises every JPEG and PNG into a mirrored
// destination tree with a bounded pool of worker goroutines. Every per-file
// error is collected in the results; the batch always goes on.
//
// The Python engine (piuma/_pyengine.py) implements the same contract; the
// step's tests run both on the same files.
package engine

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"
)

// DefaultMaxPixels is Pillow's Image.MAX_IMAGE_PIXELS (1024*1024*1024/4/3):
// larger images are refused from their header, before any decoding.
const DefaultMaxPixels = 89_478_485

// DefaultMaxMemory is the memory budget when Options.MaxMemory is not set.
// piuma.optimize_dir always passes one (half of the machine's memory, see
// piuma/_budget.py); this default serves Go callers (cmd/piumaprof, tests).
const DefaultMaxMemory = 2 << 30

// Codec selects the JPEG decoder and encoder.
type Codec int

const (
	Turbo  Codec = iota // libjpeg-turbo through cgo, with DCT scaling
	Stdlib              // Go's image/jpeg: pure Go, no DCT scaling
)

// Options of a batch. The zero Width/Height means no bound on that axis.
type Options struct {
	Width, Height int
	Quality       int   // JPEG quality, 1..100
	Workers       int   // <= 0: one per CPU
	MaxPixels     int64 // <= 0: DefaultMaxPixels
	MaxMemory     int64 // bytes all workers may use for decoding at once; <= 0: DefaultMaxMemory
	JPEG          Codec
	Draft         bool   // DCT-domain downscaling when the target is >= 2x smaller (Turbo only)
	Filter        Filter // the resize kernel
	Optimize      bool   // optimise every output (Optimizer says how)
	Optimizer     Optimizer
	Jpegoptim     string // tool paths, for Optimizer == Tools
	Pngquant      string
}

// Optimizer selects how Options.Optimize optimises the outputs.
type Optimizer int

const (
	// InProcess: optimised Huffman tables at JPEG encode time (jpegenc.go),
	// libimagequant for PNGs (quantize.go, pngenc.go): no subprocess.
	InProcess Optimizer = iota
	// Tools: jpegoptim and pngquant as subprocesses, the talk's pipeline.
	Tools
)

// Result of one input file.
type Result struct {
	Source, Destination string
	Err                 error
	BytesIn, BytesOut   int64
	Width, Height       int // output size in pixels
	Duration            time.Duration

	relDir string // the destination's folder, relative to dst
}

// Progress lets a caller watch and cancel a batch from another thread.
// Implementations must be safe for concurrent use.
type Progress interface {
	Start(total int) // once, after the walk
	FileDone()       // after every file, ok or not
	Cancelled() bool // checked before every file
}

// ErrCancelled is the error of the files a cancelled batch did not process.
var ErrCancelled = errors.New("cancelled")

// IsImageName reports whether a file name has one of the extensions the job
// processes, in any case: .jpg, .jpeg, .png.
func IsImageName(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".jpg", ".jpeg", ".png":
		return true
	}
	return false
}

// plan walks src and returns one Result (Source, Destination) per file to
// process, and the results of directories that could not be listed.
// Symbolic links to files are followed (only read); directories are not
// entered through symbolic links, which also rules out loops.
func plan(src, dst string) (jobs []Result, failed []Result) {
	_ = filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		rel, relErr := filepath.Rel(src, path)
		if relErr != nil { // cannot happen: WalkDir paths start with src
			return relErr
		}
		r := Result{Source: path, Destination: filepath.Join(dst, rel), relDir: filepath.Dir(rel)}
		if err != nil { // a directory that cannot be listed
			r.Err = fmt.Errorf("cannot list directory: %s", plainError(err))
			failed = append(failed, r)
			return nil
		}
		if d.IsDir() || !IsImageName(d.Name()) {
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			if fi, err := os.Stat(path); err == nil && fi.IsDir() {
				return nil // a link to a directory: not entered
			}
		}
		jobs = append(jobs, r)
		return nil
	})
	return jobs, failed
}

// Run processes every image under src into dst and returns one result per
// file, sorted by source path (byte order). src and dst must not overlap
// (the Python layer checks; cmd/piumaprof too); dst is created.
func Run(src, dst string, opts Options, progress Progress) []Result {
	if opts.Workers <= 0 {
		opts.Workers = runtime.NumCPU()
	}
	if opts.MaxPixels <= 0 {
		opts.MaxPixels = DefaultMaxPixels
	}
	if opts.MaxMemory <= 0 {
		opts.MaxMemory = DefaultMaxMemory
	}
	jobs, results := plan(src, dst)
	out := newOutputs(dst, src)
	defer out.close()
	mem := newBudget(opts.MaxMemory)
	if progress != nil {
		progress.Start(len(jobs))
	}
	workers := min(opts.Workers, len(jobs))

	// [excerpt: pool]
	// A bounded pool: `workers` goroutines take job indexes from a channel
	// and write their result into their own slot (no lock needed).
	done := make([]Result, len(jobs))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// One OS thread per worker: its C libraries' per-thread state
			// stays with it. glibc gives each thread that calls malloc an
			// arena and keeps what is freed there; a goroutine that moved
			// from thread to thread spread its C buffers (libimagequant,
			// libjpeg-turbo) over every arena: peak RSS grew from 81 to 260
			// MB between 9 and 900 images with 2 workers, 146 MB locked.
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			c := &converter{opts: &opts, out: out, budget: mem}
			var setupErr error
			if opts.JPEG == Turbo {
				t, err := newTurbo()
				if err == nil {
					defer func() { t.close() }()
				}
				c.turbo, setupErr = t, err
			}
			for i := range next {
				r := jobs[i]
				switch {
				case setupErr != nil:
					r.Err = setupErr
				case progress != nil && progress.Cancelled():
					r.Err = ErrCancelled
				default:
					c.process(&r)
				}
				done[i] = r
				if progress != nil {
					progress.FileDone()
				}
			}
		}()
	}
	for i := range jobs {
		next <- i
	}
	close(next)
	wg.Wait()
	// [/excerpt: pool]

	results = append(results, done...)
	// Byte order of the paths, whatever their encoding; the Python engine
	// sorts the same way (by os.fsencode of the path).
	sort.Slice(results, func(i, j int) bool { return results[i].Source < results[j].Source })
	return results
}

// process converts one file; r.Err says what went wrong, if anything.
func (c *converter) process(r *Result) {
	start := time.Now()
	// [excerpt: recover]
	defer func() {
		r.Duration = time.Since(start)
		// A panic in a goroutine would kill the whole process, and here that
		// process is the user's Python interpreter: a bug met on one file
		// becomes that file's error (crashes inside C cannot be caught).
		if p := recover(); p != nil {
			r.Err, r.BytesOut, r.Width, r.Height = fmt.Errorf("internal error: %v", p), 0, 0, 0
		}
	}()
	// [/excerpt: recover]
	f, size, err := openSource(r.Source)
	switch {
	case errors.Is(err, errNotRegular):
		r.Err = err
		return
	case err != nil:
		r.Err = fmt.Errorf("cannot read file: %s", plainError(err))
		return
	}
	defer f.Close()
	r.BytesIn = size
	out, err := c.convertFile(f, size)
	if err != nil {
		r.Err = err
		return
	}
	if c.opts.Optimize && c.opts.Optimizer == Tools {
		if out.data, err = optimize(out.data, out.isPNG, c.opts); err != nil {
			r.Err = err
			return
		}
	}
	if err := c.out.write(r.relDir, r.Destination, out.data); err != nil {
		if errors.Is(err, errInsideSource) {
			r.Err = fmt.Errorf("cannot write output: the output folder %s is inside the source folder (a symbolic link leads there)",
				filepath.Dir(r.Destination))
		} else {
			r.Err = fmt.Errorf("cannot write output: %s", plainError(err))
		}
		return
	}
	r.BytesOut = int64(len(out.data))
	r.Width, r.Height = out.width, out.height
}
