package gopanic

import (
	"strings"
	"sync"
	"testing"
	"unsafe"
)

// report has the layout of C's epg_go_panic (two pointers).
type report struct{ value, stack unsafe.Pointer }

//go:noinline
func exported(rep *report, fail bool) (result int) {
	defer Recover(unsafe.Pointer(rep))
	if fail {
		var m map[string]int
		m["boom"] = 1 // assignment to entry in nil map
	}
	return 42
}

func TestRecoverReportsThePanic(t *testing.T) {
	var rep report
	if got := exported(&rep, true); got != 0 {
		t.Fatalf("a recovered export returns its zero value, got %d", got)
	}
	value, stack, ok := take(unsafe.Pointer(&rep))
	if !ok || value != "assignment to entry in nil map" {
		t.Fatalf("value = %q, ok = %v", value, ok)
	}
	if !strings.Contains(stack, "gopanic.exported") {
		t.Fatalf("the stack does not show where it panicked:\n%s", stack)
	}
}

func TestNoPanicNoReport(t *testing.T) {
	var rep report
	if got := exported(&rep, false); got != 42 {
		t.Fatalf("got %d", got)
	}
	if _, _, ok := take(unsafe.Pointer(&rep)); ok {
		t.Fatal("a report without a panic")
	}
}

//go:noinline
func workerPanics() { panic("worker failed") }

// A worker's panic, captured and re-raised by the goroutine that waits,
// reaches the export's Recover with the worker's own stack.
func TestCaptureCarriesTheWorkersStack(t *testing.T) {
	var rep report
	func() {
		defer Recover(unsafe.Pointer(&rep))
		var (
			first *Panic
			once  sync.Once
			wg    sync.WaitGroup
		)
		for i := 0; i < 4; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				defer Capture(func(p *Panic) { once.Do(func() { first = p }) })
				if i == 2 {
					workerPanics()
				}
			}(i)
		}
		wg.Wait()
		if first != nil {
			panic(first)
		}
	}()
	value, stack, ok := take(unsafe.Pointer(&rep))
	if !ok || value != "worker failed" {
		t.Fatalf("value = %q, ok = %v", value, ok)
	}
	if !strings.Contains(stack, "gopanic.workerPanics") {
		t.Fatalf("not the worker's stack:\n%s", stack)
	}
}
