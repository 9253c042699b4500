package countdown

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestCount(t *testing.T) {
	for _, n := range []int64{-5, 0, 1, 2, 1000, Chunk + 3} {
		want := max(n, 0)
		if got := Count(n); got != want {
			t.Errorf("Count(%d) = %d, want %d", n, got, want)
		}
	}
}

func TestSplit(t *testing.T) {
	for _, n := range []int64{0, 1, 2, 7, 10, 99, 1000003, 1 << 40} {
		for _, workers := range []int{1, 2, 3, 4, 7, 8, 16, 1000} {
			var sum int64
			lo, hi := int64(1<<62), int64(-1)
			for i := 0; i < workers; i++ {
				s := Split(n, workers, i)
				sum += s
				lo, hi = min(lo, s), max(hi, s)
			}
			if sum != n || hi-lo > 1 {
				t.Errorf("Split(%d, %d): sum %d, shares %d..%d", n, workers, sum, lo, hi)
			}
		}
	}
}

func TestRun(t *testing.T) {
	cases := []struct {
		n       int64
		workers int
	}{
		{0, 1}, {0, 8}, {1, 1}, {1, 2}, {3, 10}, {7, 3}, {10, 4},
		{Chunk - 1, 1}, {Chunk, 2}, {Chunk + 1, 2}, {3*Chunk + 5, 3},
		{1000003, 7}, {10_000_000, 2}, {12345, MaxWorkers},
		{40 * Chunk, 64}, // many more workers than CPU tokens, several chunks each
	}
	for _, c := range cases {
		for _, check := range []func() bool{nil, func() bool { return false }} {
			got, err := Run(c.n, c.workers, Hooks{Interrupted: check})
			if got != c.n || err != nil {
				t.Errorf("Run(%d, %d, check=%v) = %d, %v", c.n, c.workers, check != nil, got, err)
			}
		}
	}
}

// BeforeChunk sees every worker that was started, and only those.
func TestBeforeChunkSeesEveryWorker(t *testing.T) {
	for _, c := range []struct {
		n       int64
		workers int
	}{{5, 10}, {3 * Chunk, 3}, {100, MaxWorkers}} {
		var mu sync.Mutex
		seen := map[int]int{}
		Run(c.n, c.workers, Hooks{BeforeChunk: func(i int) {
			mu.Lock()
			seen[i]++
			mu.Unlock()
		}})
		started := int(min(int64(c.workers), c.n))
		if len(seen) != started {
			t.Errorf("Run(%d, %d): BeforeChunk saw %d workers, want %d", c.n, c.workers,
				len(seen), started)
		}
		for i := range seen {
			if i < 0 || i >= started {
				t.Errorf("Run(%d, %d): worker %d", c.n, c.workers, i)
			}
		}
	}
}

// TestRunStops: a count that would take decades returns once interrupted
// says so (a hang here is caught by go test's timeout), with a partial count.
func TestRunStops(t *testing.T) {
	before := runtime.NumGoroutine()
	var polls atomic.Int32
	n := int64(1) << 62
	got, err := Run(n, 2, Hooks{Interrupted: func() bool { return polls.Add(1) >= 2 }})
	if got <= 0 || got >= n || err != nil {
		t.Fatalf("Run stopped after %d decrements (%v), want 0 < done < %d", got, err, n)
	}
	if polls.Load() != 2 {
		t.Errorf("interrupted called %d times after returning true", polls.Load())
	}
	noneLeft(t, before)
}

// TestPollerIsNotStarved is the Ctrl-C bug of 10,000 workers: the poller
// (Interrupted) must get its turn while they count. It returns true at its
// first call, so every decrement Run reports was done before the poller ran
// (plus at most a chunk per worker holding a CPU token). With every worker
// runnable, as before the CPU tokens, the poller ran only after each worker
// had had 10 ms time slices (minutes, here): far more than one chunk per
// worker. With the tokens it runs after PollInterval, a few hundred chunks
// on 2 Ps, whatever the number of workers. No clock is read: the measure
// is the work done.
func TestPollerIsNotStarved(t *testing.T) {
	before := runtime.NumGoroutine()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2)) // 2 Ps, as on the workshop machine
	n := int64(1) << 62
	got, err := Run(n, MaxWorkers, Hooks{Interrupted: func() bool { return true }})
	if err != nil || got <= 0 {
		t.Fatalf("Run = %d, %v", got, err)
	}
	if limit := int64(MaxWorkers) * Chunk; got >= limit {
		t.Fatalf("the poller ran after %d decrements (%d chunks): starved behind %d workers",
			got, got/Chunk, MaxWorkers)
	}
	t.Logf("stopped after %d chunks with %d workers", got/Chunk, MaxWorkers)
	noneLeft(t, before)
}

//go:noinline
func failInWorker(i int) { panic(fmt.Sprintf("worker %d failed", i)) }

// A worker's panic is recovered in the worker, stops the others (n would
// take decades), and comes back from Run with the worker's stack.
func TestWorkerPanicStopsTheOthers(t *testing.T) {
	before := runtime.NumGoroutine()
	n := int64(1) << 62
	for _, workers := range []int{1, 2, 8, MaxWorkers} {
		for _, check := range []func() bool{nil, func() bool { return false }} {
			last := workers - 1
			got, err := Run(n, workers, Hooks{Interrupted: check, BeforeChunk: func(i int) {
				if i == last {
					failInWorker(i)
				}
			}})
			var p *WorkerPanic
			if !errors.As(err, &p) {
				t.Fatalf("workers=%d: Run = %d, %v; want a *WorkerPanic", workers, got, err)
			}
			want := fmt.Sprintf("worker %d failed", last)
			if p.Worker != last || p.Value != want || err.Error() != "panic in worker "+
				fmt.Sprint(last)+": "+want {
				t.Errorf("workers=%d: %+v", workers, p)
			}
			stack := string(p.Stack)
			if !strings.Contains(stack, "countdown.failInWorker") ||
				!strings.Contains(stack, "created by example.com/epg/05_goroutines_gil/countdown.Run") {
				t.Errorf("workers=%d: not the worker's stack:\n%s", workers, stack)
			}
			if got >= n {
				t.Errorf("workers=%d: %d decrements", workers, got)
			}
			noneLeft(t, before)
		}
	}
}

// A worker that ends without a panic value (runtime.Goexit, or panic(nil)
// under GODEBUG=panicnil=1) is reported as ErrStopped: its share was not
// counted, so Run must neither return the short count as complete nor hang.
func TestWorkerGoexitAndNilPanicAreReported(t *testing.T) {
	t.Setenv("GODEBUG", "panicnil=1") // the runtime rereads GODEBUG on Setenv
	before := runtime.NumGoroutine()
	n := int64(1) << 40
	for name, stop := range map[string]func(){
		"goexit": runtime.Goexit,
		"nil":    func() { panic(nil) },
	} {
		for _, workers := range []int{1, 4} {
			got, err := Run(n, workers, Hooks{BeforeChunk: func(i int) {
				if i == workers-1 {
					stop()
				}
			}})
			var p *WorkerPanic
			if !errors.As(err, &p) || p.Value != ErrStopped || p.Worker != workers-1 {
				t.Fatalf("%s, workers=%d: Run = %d, %v; want ErrStopped", name, workers, got, err)
			}
			if got >= n {
				t.Errorf("%s, workers=%d: %d decrements", name, workers, got)
			}
			noneLeft(t, before)
		}
	}
}

// A panic in Interrupted (the caller's own goroutine) unwinds out of Run,
// but only after every worker has stopped.
func TestPanicInInterruptedStopsTheWorkers(t *testing.T) {
	before := runtime.NumGoroutine()
	defer noneLeft(t, before)
	defer func() {
		if r := recover(); r != "poller failed" {
			t.Fatalf("recovered %v", r)
		}
	}()
	Run(1<<62, 16, Hooks{Interrupted: func() bool { panic("poller failed") }})
	t.Fatal("Run returned")
}

// noneLeft fails unless the goroutines Run started are gone (before: the
// count at the start of the test). (The one that
// closes `finished` may still be on its way out: give it a moment.)
func noneLeft(t *testing.T, before int) {
	t.Helper()
	for i := 0; i < 1000 && runtime.NumGoroutine() > before; i++ {
		time.Sleep(time.Millisecond)
	}
	if got := runtime.NumGoroutine(); got > before {
		t.Fatalf("%d goroutines left behind", got-before)
	}
}

// BenchmarkCount reports the cost of one decrement: about a CPU cycle if the
// loop runs, ~0 if the compiler had folded it away (it does not: see also
// test_loop_is_compiled_as_a_loop in ../test_goroutines_gil.py). The time
// grows with n: run `go test -bench Count ./countdown`.
func BenchmarkCount(b *testing.B) {
	for _, n := range []int64{1 << 16, 1 << 20, 1 << 24} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if Count(n) != n {
					b.Fatal("miscount")
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(int64(b.N)*n), "ns/decrement")
		})
	}
}

func BenchmarkRun(b *testing.B) {
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				Run(50_000_000, workers, Hooks{})
			}
		})
	}
}
