package countdown

import (
	"fmt"
	"sync/atomic"
	"testing"
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
	}
	for _, c := range cases {
		for _, check := range []func() bool{nil, func() bool { return false }} {
			if got := Run(c.n, c.workers, check); got != c.n {
				t.Errorf("Run(%d, %d, check=%v) = %d", c.n, c.workers, check != nil, got)
			}
		}
	}
}

// TestRunStops: a count that would take decades returns once interrupted
// says so (a hang here is caught by go test's timeout), with a partial count.
func TestRunStops(t *testing.T) {
	var polls atomic.Int32
	n := int64(1) << 62
	got := Run(n, 2, func() bool { return polls.Add(1) >= 2 })
	if got <= 0 || got >= n {
		t.Fatalf("Run stopped after %d decrements, want 0 < done < %d", got, n)
	}
	if polls.Load() != 2 {
		t.Errorf("interrupted called %d times after returning true", polls.Load())
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
				Run(50_000_000, workers, nil)
			}
		})
	}
}
