package cmem

import (
	"math"
	"syscall"
	"testing"
	"unsafe"
)

func TestStringCopiesEveryByte(t *testing.T) {
	for _, s := range []string{"", "Gophers", "a\x00b", "\x00", "Zoë 世界 🐹", "\xff\xfe"} {
		buf := []byte(s + "!") // a byte past the end that must not be read
		if got := String(unsafe.Pointer(unsafe.SliceData(buf)), uintptr(len(s))); got != s {
			t.Errorf("String(%q) = %q", s, got)
		}
	}
	if got := String(nil, 0); got != "" {
		t.Errorf("String(nil, 0) = %q", got)
	}
}

func TestStringIsACopy(t *testing.T) {
	buf := []byte("Gophers")
	s := String(unsafe.Pointer(&buf[0]), uintptr(len(buf)))
	buf[0] = 'g' // C reuses its memory after the call
	if s != "Gophers" {
		t.Errorf("the string changed with the memory it was read from: %q", s)
	}
}

// Lengths of 2 GiB and more, which a C int cannot hold: int32(1<<31) is
// negative and int32(1<<32+5) is 5. The memory is a sparse mapping (no page
// is committed until touched), so the test needs no 4 GiB of RAM.
func TestBytesTakesLengthsOf2GiBAndMore(t *testing.T) {
	for _, n := range []uintptr{math.MaxInt32, 1 << 31, 1<<32 + 5} {
		mem, err := syscall.Mmap(-1, 0, int(n), syscall.PROT_READ|syscall.PROT_WRITE,
			syscall.MAP_ANON|syscall.MAP_PRIVATE|syscall.MAP_NORESERVE)
		if err != nil {
			t.Skipf("cannot map %d bytes of address space: %v", n, err)
		}
		mem[0], mem[n-1] = 'a', 'z'
		view := Bytes(unsafe.Pointer(&mem[0]), n)
		if uintptr(len(view)) != n || &view[0] != &mem[0] || view[n-1] != 'z' {
			t.Errorf("Bytes(p, %d): len %d, first byte %q, last byte %q", n, len(view),
				view[0], view[len(view)-1])
		}
		if err := syscall.Munmap(mem); err != nil {
			t.Fatal(err)
		}
	}
}

func TestBytesPanicsOnImpossibleLengths(t *testing.T) {
	for _, n := range []uintptr{math.MaxInt64 + 1, math.MaxUint64} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Bytes(p, %d) did not panic", n)
				}
			}()
			var b byte
			Bytes(unsafe.Pointer(&b), n)
		}()
	}
}
