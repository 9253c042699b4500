// Package countdown is the Go logic of step 05, free of cgo and of Python so
// that plain `go test` covers it: count n down, split across goroutines.
package countdown

import (
	"sync"
	"sync/atomic"
	"time"
)

// Chunk is how many decrements a worker does between two looks at the stop
// flag: large enough that the check costs nothing (one atomic load per
// million decrements), small enough that a stop request is honoured quickly
// (a chunk takes well under a millisecond on current CPUs).
const Chunk = 1 << 20

// MaxWorkers bounds the goroutines one call may start. Goroutines are cheap
// (a few KiB of stack each) but not free: a million of them is gigabytes.
const MaxWorkers = 10000

// PollInterval is how often Run asks its caller whether to stop
// (the C glue uses it to look for Ctrl-C).
const PollInterval = 50 * time.Millisecond

// Count decrements n to zero and returns how many decrements it performed.
// The loop body is the Python benchmark's `n -= 1` (plus the counter that is
// returned, so the work cannot be thrown away). //go:noinline keeps the loop
// in a function of its own, so the disassembly test can find it.
//
//go:noinline
func Count(n int64) (done int64) {
	for ; n > 0; n-- {
		done++
	}
	return done
}

// Split returns the share of worker i (0 <= i < workers) when n decrements
// are divided as evenly as possible: the first n % workers workers do one more.
func Split(n int64, workers, i int) int64 {
	share := n / int64(workers)
	if int64(i) < n%int64(workers) {
		share++
	}
	return share
}

// Run counts n down across `workers` goroutines and returns the total number
// of decrements performed: n, unless it was stopped early.
//
// If interrupted is not nil, Run calls it every PollInterval while the
// workers count, always from the goroutine that called Run, never from a
// worker. When it returns true the workers stop at their next chunk boundary
// and Run returns the partial count. (In the Go core that goroutine is the
// one running the exported function, which stays on the C caller's thread:
// the Python thread that released the GIL, and may take it back there.)
func Run(n int64, workers int, interrupted func() bool) int64 {
	if n <= 0 || workers < 1 {
		return 0
	}
	// A worker with nothing to do is not started: workers > n is fine.
	if int64(workers) > n {
		workers = int(n)
	}
	var (
		stop  atomic.Bool
		total atomic.Int64
		wg    sync.WaitGroup
	)
	for i := 0; i < workers; i++ {
		share := Split(n, workers, i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			var done int64
			for share > 0 && !stop.Load() {
				step := min(share, Chunk)
				done += Count(step)
				share -= step
			}
			total.Add(done)
		}()
	}
	if interrupted == nil {
		wg.Wait()
		return total.Load()
	}
	finished := make(chan struct{})
	go func() {
		wg.Wait()
		close(finished)
	}()
	ticker := time.NewTicker(PollInterval)
	defer ticker.Stop()
	for {
		select {
		case <-finished:
			return total.Load()
		case <-ticker.C:
			if interrupted() {
				stop.Store(true)
				<-finished
				return total.Load()
			}
		}
	}
}
