// Package cmem reads memory that C owns, with C's own lengths (size_t).
//
// Versions 1 and 2 of SayHello need the name as a Go string. The talk
// writes C.GoStringN(name, C.int(n)), but C.int is 32 bits and n is a
// size_t: a name of 2 GiB or more is cut short (4 GiB + 5 bytes become 5
// bytes) or, with a negative C.int, makes GoStringN panic. C.GoBytes takes
// a C.int too. String takes the length as it is.
package cmem

import "unsafe"

// Bytes returns the n bytes at p as a slice, without copying: the memory is
// still C's, so the slice is valid only while C keeps it and must not be
// retained. It panics (a recoverable runtime error) if n does not fit in an
// int or p is nil with n > 0.
func Bytes(p unsafe.Pointer, n uintptr) []byte {
	return unsafe.Slice((*byte)(p), n)
}

// String returns a Go copy of the n bytes at p, which C may free afterwards.
// Any byte is copied, NUL included.
func String(p unsafe.Pointer, n uintptr) string {
	return string(Bytes(p, n))
}
