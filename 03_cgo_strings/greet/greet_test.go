package greet

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

var names = []string{
	"Gophers",
	"",
	"Zoë, François, Ångström",
	"世界",
	"🐍❤️🐹",
	"a\x00b",   // embedded NUL: copied through, never a terminator
	"\xff\xfe", // not UTF-8: bytes are copied, not interpreted
	strings.Repeat("é", 1<<19),
}

func TestHello(t *testing.T) {
	if got := Hello("Gophers"); got != "Hello Gophers" {
		t.Errorf("Hello(%q) = %q", "Gophers", got)
	}
	for _, name := range names {
		if got := Hello(name); got != Prefix+name {
			t.Errorf("Hello(%.20q) = %.30q", name, got)
		}
	}
}

func TestPutMatchesHello(t *testing.T) {
	for _, name := range names {
		size := Size(len(name))
		// One spare byte that Put must not touch.
		dst := bytes.Repeat([]byte{0xAA}, size+1)
		if n := Put(dst[:size], []byte(name)); n != size {
			t.Fatalf("Put(%.20q) wrote %d bytes, want %d", name, n, size)
		}
		if got := string(dst[:size]); got != Hello(name) {
			t.Errorf("Put(%.20q) = %.30q, want %.30q", name, got, Hello(name))
		}
		if dst[size] != 0xAA {
			t.Errorf("Put(%.20q) wrote past the greeting", name)
		}
		if utf8.ValidString(name) && !utf8.Valid(dst[:size]) {
			t.Errorf("Put(%.20q) produced invalid UTF-8", name)
		}
	}
}

func TestSize(t *testing.T) {
	cases := []struct{ n, want int }{
		{0, len(Prefix)},
		{7, len(Prefix) + 7},
		{-1, -1},
		{maxInt - len(Prefix), maxInt},
		{maxInt - len(Prefix) + 1, -1},
		{maxInt, -1},
	}
	for _, c := range cases {
		if got := Size(c.n); got != c.want {
			t.Errorf("Size(%d) = %d, want %d", c.n, got, c.want)
		}
	}
}

func TestPutDoesNotAllocate(t *testing.T) {
	name := []byte("Gophers")
	dst := make([]byte, Size(len(name)))
	if allocs := testing.AllocsPerRun(100, func() { Put(dst, name) }); allocs != 0 {
		t.Errorf("Put allocates %v times per call, want 0", allocs)
	}
}
