//go:debug panicnil=1

// (panicnil=1: panic(nil) is the old kind, whose recover() returns nil, so
// that the guard's "returned normally" flag is what catches it.)

package engine

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// counter is a Progress that counts.
type counter struct {
	done   atomic.Int64
	cancel atomic.Bool
}

func (c *counter) FileDone()       { c.done.Add(1) }
func (c *counter) Cancelled() bool { return c.cancel.Load() }

// jobs returns n jobs on small good JPEGs of distinct sizes.
func jobs(t *testing.T, n int) []Job {
	dir := t.TempDir()
	var js []Job
	for i := 0; i < n; i++ {
		js = append(js, newJob(t, dir, encodeJPEGBytes(t, photo(20+i, 10+i, false, int64(i)), 90), 0, 0))
	}
	return js
}

// A panic, a panic(nil) and a runtime.Goexit in one file's work are that
// file's internal error; every other file converts, index for index, and
// every file counts as done.
func TestAFilesPanicOrGoexitIsItsOwnError(t *testing.T) {
	js := jobs(t, 9)
	testHook = func(j *Job) {
		switch filepath.Base(j.Source) {
		case filepath.Base(js[1].Source):
			panic("boom")
		case filepath.Base(js[4].Source):
			panic(nil)
		case filepath.Base(js[7].Source):
			runtime.Goexit()
		}
	}
	defer func() { testHook = nil }()
	var p counter
	res := Run(js, Options{Quality: 80, Workers: 2}, &p)
	for i, r := range res {
		switch i {
		case 1, 4, 7:
			want := map[int]string{1: "a Go panic: boom", 4: "a Go panic(nil) or runtime.Goexit",
				7: "a Go panic(nil) or runtime.Goexit"}[i]
			if r.Category != Internal || r.Err != want {
				t.Errorf("file %d: category %d, %q", i, r.Category, r.Err)
			}
		default:
			if r.Category != OK || r.Width != 20+i || r.Height != 10+i {
				t.Errorf("file %d: category %d (%s), %dx%d", i, r.Category, r.Err, r.Width, r.Height)
			}
		}
	}
	if p.done.Load() != 9 {
		t.Errorf("%d files done, want 9", p.done.Load())
	}
}

// Every file ends its worker goroutine: new workers take over, and Run
// returns (a pool that shrank to nothing would hang).
func TestEveryFileGoexits(t *testing.T) {
	js := jobs(t, 6)
	testHook = func(*Job) { runtime.Goexit() }
	defer func() { testHook = nil }()
	done := make(chan []Result)
	go func() { done <- Run(js, Options{Quality: 80, Workers: 2}, nil) }()
	select {
	case res := <-done:
		for i, r := range res {
			if r.Category != Internal {
				t.Errorf("file %d: category %d", i, r.Category)
			}
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run hangs")
	}
}

// A cancelled batch: the files not started are cancelled, and counted.
func TestCancel(t *testing.T) {
	js := jobs(t, 5)
	var p counter
	p.cancel.Store(true)
	for i, r := range Run(js, Options{Quality: 80, Workers: 2}, &p) {
		if r.Category != Cancelled || r.Err != "the batch was cancelled" {
			t.Errorf("file %d: category %d, %q", i, r.Category, r.Err)
		}
		if _, err := os.Stat(js[i].Destination); err == nil {
			t.Errorf("file %d was written", i)
		}
	}
	if p.done.Load() != 5 {
		t.Errorf("%d done", p.done.Load())
	}
}

// A batch cancelled while other batches hold every slot ends at once: its
// workers waited for a slot before they looked at the cancel (seconds, with
// another thread's large files converting).
func TestCancelWithoutASlot(t *testing.T) {
	for i := 0; i < cap(slots); i++ {
		slots <- struct{}{}
	}
	defer func() {
		for i := 0; i < cap(slots); i++ {
			<-slots
		}
	}()
	var p counter
	done := make(chan []Result)
	go func() { done <- Run(jobs(t, 3), Options{Quality: 80, Workers: 2}, &p) }()
	time.Sleep(50 * time.Millisecond)
	p.cancel.Store(true)
	select {
	case rs := <-done:
		for i, r := range rs {
			if r.Category != Cancelled {
				t.Errorf("file %d: category %d, %q", i, r.Category, r.Err)
			}
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the cancelled batch waited for a slot")
	}
}

// The output replaces what was there, with mode 0644 whatever the umask, and
// no temp file is left; a failed rename removes the temp file.
func TestWrite(t *testing.T) {
	dir := t.TempDir()
	dst, tmp := filepath.Join(dir, "out.jpg"), filepath.Join(dir, ".out.jpg.tmp")
	os.WriteFile(dst, []byte("old"), 0o600)
	old := syscall.Umask(0o077)
	err := write(tmp, dst, []byte("new"))
	syscall.Umask(old)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(dst)
	fi, _ := os.Stat(dst)
	if string(data) != "new" || fi.Mode().Perm() != 0o644 {
		t.Errorf("%q, mode %v", data, fi.Mode())
	}
	// A folder (not empty) in the way of the rename: a plain error, no temp left.
	os.Remove(dst)
	os.MkdirAll(filepath.Join(dst, "x"), 0o755)
	err = write(tmp, dst, []byte("new"))
	if err == nil || err.Error() != "a folder with the output's name is in the way" {
		t.Errorf("error %v", err)
	}
	if _, err := os.Lstat(tmp); err == nil {
		t.Error("the temp file is left")
	}
	// A temp name that exists (a link, even) is never written through.
	os.Symlink(filepath.Join(dir, "elsewhere"), tmp)
	if err := write(tmp, filepath.Join(dir, "b.jpg"), []byte("x")); err == nil || err.Error() != "file exists" {
		t.Errorf("an existing temp name: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "elsewhere")); err == nil {
		t.Error("followed the link")
	}
}

// A FIFO where the probe saw a file: refused at once, never opened for a
// read that would block.
func TestSourceThatIsAFIFO(t *testing.T) {
	j := jobs(t, 1)[0]
	os.Remove(j.Source)
	if err := syscall.Mkfifo(j.Source, 0o644); err != nil {
		t.Skip("no FIFO here:", err)
	}
	done := make(chan Result)
	go func() { done <- Run([]Job{j}, Options{Quality: 80}, nil)[0] }()
	select {
	case r := <-done:
		if r.Category != Unreadable || r.Err != "not a regular file" {
			t.Errorf("category %d, %q", r.Category, r.Err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("blocked on the FIFO")
	}
}

func TestSourceErrorsInPlainWords(t *testing.T) {
	j := jobs(t, 1)[0]
	os.Remove(j.Source)
	r := convertOne(t, j, Options{}, Unreadable)
	if r.Err != "no such file or directory" {
		t.Errorf("%q", r.Err)
	}
	os.WriteFile(j.Source, nil, 0o644)
	if r := convertOne(t, j, Options{}, Empty); r.Err != "empty file" {
		t.Errorf("%q", r.Err)
	}
	// A file swapped for another image since the probe.
	os.WriteFile(j.Source, encodeJPEGBytes(t, photo(30, 30, false, 1), 80), 0o644)
	if r := convertOne(t, j, Options{}, Unreadable); !strings.Contains(r.Err, "changed since it was probed") {
		t.Errorf("%q", r.Err)
	}
}

// An allocation that fails is the file's "not enough memory", never an
// aborted process (cgo's C.malloc aborts when malloc returns NULL).
func TestAllocationFailureIsNoMemory(t *testing.T) {
	_, err := calloc(1 << 50) // a PiB
	if fe, ok := err.(*fileError); !ok || fe.cat != NoMemory || fe.msg != "cannot allocate 1125899906842624 bytes" {
		t.Errorf("%v", err)
	}
	if _, err := newImage(1<<31-1, 1<<31-1, 4); err == nil || err.(*fileError).cat != NoMemory {
		t.Errorf("a 2^31 x 2^31 RGBA image: %v", err)
	}
}
