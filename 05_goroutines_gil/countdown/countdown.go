// Package countdown is the Go logic of step 05, free of cgo and of Python so
// that plain `go test` covers it: count n down, split across goroutines.
package countdown

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// Chunk is how many decrements a worker does between two looks at the stop
// signal: large enough that the check costs nothing (a few channel
// operations per million decrements), small enough that a stop request is
// honoured quickly (a chunk takes about a millisecond or less).
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

// Hooks are Run's optional callbacks.
type Hooks struct {
	// Interrupted, if not nil, is called every PollInterval while the
	// workers count, always from the goroutine that called Run, never from
	// a worker. When it returns true the workers stop at their next chunk
	// boundary and Run returns the partial count.
	Interrupted func() bool
	// BeforeChunk, if not nil, is called by worker i (0 <= i <
	// min(workers, n)) before each chunk it counts. The Go core puts its
	// test-only panic hook there.
	BeforeChunk func(worker int)
}

// WorkerPanic is a panic recovered in a worker goroutine. recover only
// stops a panic in its own goroutine, so Run cannot let a worker's panic
// unwind: it recovers it in the worker, stops the other workers and returns
// it, with the worker's stack. The caller decides what a panic becomes (the
// Go core re-panics it as a gopanic.Panic, which the C glue raises as a
// Python RuntimeError).
type WorkerPanic struct {
	Worker int    // which worker panicked (the first one, if several did)
	Value  any    // what it panicked with
	Stack  []byte // its stack, at the panic (runtime/debug.Stack)
}

// ErrStopped is a WorkerPanic's Value when a worker stopped before its end
// without a panic value: it called runtime.Goexit, or panic(nil) with
// GODEBUG=panicnil=1 (recover() then returns nil). Either way its share was
// not counted: Run reports it, it never returns a short count as complete.
var ErrStopped = errors.New("a worker stopped before its end: runtime.Goexit, " +
	"or panic(nil) with GODEBUG=panicnil=1")

func (p *WorkerPanic) Error() string {
	return fmt.Sprintf("panic in worker %d: %v", p.Worker, p.Value)
}

// Run counts n down across `workers` goroutines (a worker with nothing to
// do is not started: workers > n is fine) and returns the number of
// decrements performed: n, unless it was stopped early, in which case err
// is nil after an interruption or a *WorkerPanic after a worker's panic.
// No worker outlives the call, whatever happens.
//
// At most GOMAXPROCS workers count at any moment: each takes a CPU token
// for a chunk and gives it back after, the others wait for one, parked.
// That is what keeps a stop request prompt. Go's scheduler has no
// priorities: a goroutine that wakes up (the poller, on its ticker) or
// comes back from a cgo call (the glue's check_signals) is queued behind
// the runnable goroutines, and a CPU-bound goroutine runs until it is
// preempted, after 10 ms. With 10,000 runnable workers on 2 Ps, one trip
// through the queue took minutes. A parked goroutine is in no queue, so
// with the tokens the poller waits behind a handful of goroutines at most.
// The tokens cost nothing while workers <= GOMAXPROCS (nobody waits), and a
// hand-over per chunk beyond that (a microsecond per millisecond of work).
func Run(n int64, workers int, hooks Hooks) (int64, error) {
	if n <= 0 || workers < 1 {
		return 0, nil
	}
	if int64(workers) > n {
		workers = int(n)
	}
	var (
		total    atomic.Int64
		wg       sync.WaitGroup
		stopOnce sync.Once
		failOnce sync.Once
		failure  *WorkerPanic
	)
	stop := make(chan struct{}) // closed: every worker returns at its next chunk
	halt := func() { stopOnce.Do(func() { close(stop) }) }
	tokens := make(chan struct{}, runtime.GOMAXPROCS(0))

	// [excerpt: worker]
	work := func(i int, share int64) {
		defer wg.Done() // first in, last out: runs even after a runtime.Goexit
		done := false
		defer func() { // must be deferred here: recover works in its own goroutine only
			r := recover()
			if r == nil && done {
				return
			}
			if r == nil { // Goexit, or panic(nil) under GODEBUG=panicnil=1
				r = ErrStopped
			}
			failOnce.Do(func() {
				failure = &WorkerPanic{Worker: i, Value: r, Stack: debug.Stack()}
			})
			halt()
		}()
		for share > 0 {
			if hooks.BeforeChunk != nil {
				hooks.BeforeChunk(i)
			}
			select { // a stop wins over a free token (select picks at random)
			case <-stop:
				done = true
				return
			default:
			}
			select {
			case tokens <- struct{}{}: // wait, parked, for a CPU token
			case <-stop:
				done = true
				return
			}
			step := min(share, Chunk)
			total.Add(Count(step))
			<-tokens
			share -= step
		}
		done = true
	}
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go work(i, Split(n, workers, i))
	}
	// [/excerpt: worker]

	finished := make(chan struct{})
	go func() {
		wg.Wait()
		close(finished)
	}()
	// On every way out, a panic in Interrupted included: stop and wait for
	// the workers (a leftover one would count for decades).
	defer func() {
		halt()
		<-finished
	}()
	if hooks.Interrupted != nil {
		ticker := time.NewTicker(PollInterval)
		defer ticker.Stop()
	poll:
		for {
			select {
			case <-finished:
				break poll
			case <-ticker.C:
				if hooks.Interrupted() {
					halt()
					break poll
				}
			}
		}
	}
	<-finished
	if failure != nil {
		return total.Load(), failure
	}
	return total.Load(), nil
}
