package gopanic

import (
	"runtime"
	"strings"
	"sync"
	"testing"
	"unsafe"
)

// report has the layout of C's epg_go_panic (two pointers).
type report struct{ value, stack unsafe.Pointer }

// exported is written as every export of the repository is; how says how
// its body ends.
//
//go:noinline
func exported(rep *report, how string) (result int) {
	done := false
	defer Recover(unsafe.Pointer(rep), &done)
	switch how {
	case "panic":
		var m map[string]int
		m["boom"] = 1 // assignment to entry in nil map
	case "nil":
		panic(nil) // recover() returns nil under GODEBUG=panicnil=1
	case "goexit":
		runtime.Goexit()
	case "no done":
		return 7 // forgot done = true
	}
	done = true
	return 42
}

// onGoroutine runs exported on a goroutine of its own (Goexit on a thread
// Go did not create aborts the process: not something a test can run).
func onGoroutine(rep *report, how string) (result int) {
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		result = exported(rep, how)
	}()
	<-finished
	return result
}

func TestRecoverReportsThePanic(t *testing.T) {
	var rep report
	if got := exported(&rep, "panic"); got != 0 {
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
	if got := exported(&rep, ""); got != 42 {
		t.Fatalf("got %d", got)
	}
	if _, _, ok := take(unsafe.Pointer(&rep)); ok {
		t.Fatal("a report without a panic")
	}
}

// The default (panicnil=0): panic(nil) is a *runtime.PanicNilError.
func TestNilPanicIsReported(t *testing.T) {
	var rep report
	exported(&rep, "nil")
	if value, _, ok := take(unsafe.Pointer(&rep)); !ok || value != "panic called with nil argument" {
		t.Fatalf("value = %q, ok = %v", value, ok)
	}
}

// The old behaviour, still honoured: recover() returns nil. The done flag
// tells that the function did not reach its end.
func TestNilPanicUnderPanicnil1IsReported(t *testing.T) {
	t.Setenv("GODEBUG", "panicnil=1") // the runtime rereads GODEBUG on Setenv
	var rep report
	if got := exported(&rep, "nil"); got != 0 {
		t.Fatalf("got %d", got)
	}
	value, stack, ok := take(unsafe.Pointer(&rep))
	if !ok || value != NilPanicValue {
		t.Fatalf("value = %q, ok = %v", value, ok)
	}
	if !strings.Contains(stack, "gopanic.exported") {
		t.Fatalf("the stack does not show where it panicked:\n%s", stack)
	}
}

func TestGoexitIsReported(t *testing.T) {
	var rep report
	if got := onGoroutine(&rep, "goexit"); got != 0 {
		t.Fatalf("got %d", got)
	}
	if value, _, ok := take(unsafe.Pointer(&rep)); !ok || value != GoexitValue {
		t.Fatalf("value = %q, ok = %v", value, ok)
	}
}

func TestAReturnWithoutDoneIsReported(t *testing.T) {
	var rep report
	exported(&rep, "no done")
	if value, _, ok := take(unsafe.Pointer(&rep)); !ok || value != NoDoneValue {
		t.Fatalf("value = %q, ok = %v", value, ok)
	}
}

//go:noinline
func workerPanics() { panic("worker failed") }

// workers starts 4 goroutines, worker 2 ending as `how` says, and re-raises
// what the first one captured, as an export does.
func workers(rep *report, how string) {
	done := false
	defer Recover(unsafe.Pointer(rep), &done)
	var (
		first *Panic
		once  sync.Once
		wg    sync.WaitGroup
	)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done() // before Capture: runs even after a Goexit
			finished := false
			defer Capture(func(p *Panic) { once.Do(func() { first = p }) }, &finished)
			if i == 2 {
				switch how {
				case "panic":
					workerPanics()
				case "nil":
					panic(nil)
				case "goexit":
					runtime.Goexit()
				}
			}
			finished = true
		}(i)
	}
	wg.Wait()
	if first != nil {
		panic(first)
	}
	done = true
}

// A worker's panic, captured and re-raised by the goroutine that waits,
// reaches the export's Recover with the worker's own stack.
func TestCaptureCarriesTheWorkersStack(t *testing.T) {
	var rep report
	workers(&rep, "panic")
	value, stack, ok := take(unsafe.Pointer(&rep))
	if !ok || value != "worker failed" {
		t.Fatalf("value = %q, ok = %v", value, ok)
	}
	if !strings.Contains(stack, "gopanic.workerPanics") {
		t.Fatalf("not the worker's stack:\n%s", stack)
	}
}

// A worker that ends by Goexit, or by panic(nil) under panicnil=1, is
// reported too: never taken for a worker that finished, never a hang.
func TestCaptureReportsGoexitAndNilPanic(t *testing.T) {
	for how, want := range map[string]string{"goexit": GoexitValue, "nil": NilPanicValue} {
		t.Run(how, func(t *testing.T) {
			t.Setenv("GODEBUG", "panicnil=1")
			var rep report
			workers(&rep, how)
			if value, _, ok := take(unsafe.Pointer(&rep)); !ok || value != want {
				t.Fatalf("value = %q, ok = %v", value, ok)
			}
		})
	}
	var rep report
	workers(&rep, "")
	if _, _, ok := take(unsafe.Pointer(&rep)); ok {
		t.Fatal("a report without a panic")
	}
}
