// Package engine is the Go engine of the image cron job: it converts a list of
// jobs, each a file that Python has already probed (format, size, target size,
// orientation, draft scale, paths), on a bounded pool of goroutines. Per file:
//
//	open source -> decode -> check decoded size -> resize -> orient -> encode -> write temp -> rename
//
// Every failure is that file's result, with a category; the batch goes on.
// Pixels live in C memory; the codecs are C libraries, the resize is Go.
package engine

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Format of a job's file (and of its output).
type Format int

const (
	JPEG Format = 1
	PNG  Format = 2
)

// Job is one file, as the probe left it (core/piuma_api.h's piuma_job).
type Job struct {
	Source, Destination, Temp string
	Format                    Format
	Width, Height             int       // as stored in the file
	Scale                     int       // JPEG: decode at 1/Scale (1, 2, 4 or 8)
	OutWidth, OutHeight       int       // the resize target, in the stored orientation
	Orientation               int       // EXIF 1..8, applied after the resize
	Stamp                     [4]uint64 // the file probed: device, inode, size, ctime ns (0s: unchecked)
}

// Options of a batch.
type Options struct {
	Quality  int  // JPEG quality, 1..100
	Workers  int  // worker goroutines (<= 0: 1)
	Optimize bool // optimise in process: optimised Huffman tables, libimagequant
}

// Category says what went wrong with a file; the numbers are piuma_api.h's.
type Category int

const (
	OK Category = iota
	Empty
	NotImage
	TooLarge
	Truncated
	Damaged
	Unsupported
	Unreadable
	CannotWrite
	NoMemory
	Cancelled
	Internal
)

// Result of one job.
type Result struct {
	Category          Category
	Err               string // the details, in the decoder's own words ("" when OK)
	BytesIn, BytesOut int64
	Width, Height     int // output size, after orientation
	Seconds           float64
}

// Progress lets another thread watch and cancel a batch (concurrent calls).
type Progress interface {
	FileDone()       // after every file, whatever its result
	Cancelled() bool // checked before every file
}

// testHook, when a test sets it, is called at the start of every file's work.
var testHook func(*Job)

// slots: at most 4 workers a CPU convert at once in the process, whatever
// workers says and however many batches run (Python threads): more convert no
// faster, and each takes an OS thread, which Go keeps for the process's life.
var slots = make(chan struct{}, 4*runtime.GOMAXPROCS(0))

// Run converts every job and returns one result per job, index for index.
func Run(jobs []Job, opts Options, progress Progress) []Result {
	p := &pool{jobs: jobs, opts: opts, progress: progress, results: make([]Result, len(jobs))}
	for w := 0; w < min(max(opts.Workers, 1), len(jobs), cap(slots)); w++ {
		p.start()
	}
	p.wg.Wait()
	return p.results
}

// [excerpt: pool]

// pool: workers take job indexes from a counter, each result its own slot.
type pool struct {
	jobs     []Job
	opts     Options
	progress Progress
	results  []Result
	next     atomic.Int64
	wg       sync.WaitGroup
}

// start adds a worker. It keeps one OS thread (LockOSThread): glibc gives each
// thread that calls malloc an arena and keeps what is freed there, so a
// goroutine moving between threads spread the C buffers over every arena
// (measured when written: peak RSS 81 MB at 9 images, 260 MB at 900; locked,
// it stays flat, which test_piuma_case checks).
func (p *pool) start() {
	p.wg.Add(1)
	go func() {
		held := p.acquire()
		exited := true
		defer func() {
			if held {
				<-slots
			}
			// A Goexit in a file (its guard recorded it): a new worker takes over.
			if exited {
				p.start()
			}
			p.wg.Done()
		}()
		if held { // (a worker without a slot converts nothing: no thread of its own)
			runtime.LockOSThread()
		}
		for i := int(p.next.Add(1) - 1); i < len(p.jobs); i = int(p.next.Add(1) - 1) {
			p.guard(i)
		}
		runtime.UnlockOSThread()
		exited = false
	}()
}

// [/excerpt: pool]

// acquire waits for a slot, or for the batch's cancel (polled: other batches
// may hold every slot for seconds): without a slot, the worker only marks its
// files cancelled.
func (p *pool) acquire() bool {
	for {
		select {
		case slots <- struct{}{}:
			return true
		case <-time.After(10 * time.Millisecond):
			if p.progress != nil && p.progress.Cancelled() {
				return false
			}
		}
	}
}

// [excerpt: recover]

// guard runs the whole of job i's work. A panic in a goroutine would kill the
// process, here the user's interpreter: a panic, a panic(nil) (recover returns
// nil under GODEBUG=panicnil=1) or a runtime.Goexit becomes this file's
// internal error, told apart from a normal return by the returned flag. (A
// crash inside C, or a fatal Go error such as out of memory, cannot be caught.)
func (p *pool) guard(i int) {
	start := time.Now()
	returned := false
	defer func() {
		v := recover()
		if !returned || v != nil {
			msg := "a Go panic(nil) or runtime.Goexit"
			if v != nil {
				msg = fmt.Sprintf("a Go panic: %v", v)
			}
			p.results[i] = Result{Category: Internal, Err: msg}
		}
		p.results[i].Seconds = time.Since(start).Seconds()
	}()
	p.results[i] = p.file(&p.jobs[i])
	returned = true
}

// [/excerpt: recover]

// file is one job's work: the cancel check, the conversion, the progress.
func (p *pool) file(job *Job) Result {
	if p.progress != nil {
		defer p.progress.FileDone()
		if p.progress.Cancelled() {
			return Result{Category: Cancelled, Err: "the batch was cancelled"}
		}
	}
	if testHook != nil {
		testHook(job)
	}
	return convert(job, &p.opts)
}
