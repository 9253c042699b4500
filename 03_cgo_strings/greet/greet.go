// Package greet is the Go logic of step 03, free of cgo and of Python so it
// can be tested with plain `go test`.
//
// Strings cross the C boundary as UTF-8 bytes plus a length, so the package
// works on byte slices: it never needs the bytes to be valid UTF-8 or free of
// NULs, it copies them through unchanged.
package greet

// Prefix starts every greeting.
const Prefix = "Hello "

// Hello returns the greeting for name, as a Go string (for Go callers).
func Hello(name string) string {
	return Prefix + name
}

// Size returns the length in bytes of the greeting for a name of n bytes,
// or -1 if it would not fit in an int.
func Size(n int) int {
	if n < 0 || n > maxInt-len(Prefix) {
		return -1
	}
	return len(Prefix) + n
}

// [excerpt: put]

// Put writes the greeting for name into dst and returns the number of bytes
// written. dst must have room for Size(len(name)) bytes: Put never allocates,
// so dst may be memory owned by C.
func Put(dst, name []byte) int {
	n := copy(dst, Prefix)
	return n + copy(dst[n:], name)
}

// [/excerpt: put]

const maxInt = int(^uint(0) >> 1)
