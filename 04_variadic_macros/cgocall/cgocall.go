// Package cgocall measures what one crossing from Go into C costs, with a C
// function that does nothing: the price the Go core pays for every shim and
// every CPython call (three per list item in list_sum). No Python involved.
package cgocall

/*
// [excerpt: next]
static int next(int x) { return x + 1; }
// [/excerpt: next]
*/
import "C"

// NextC returns x+1, computed in C: one Go-to-C call.
func NextC(x int) int {
	return int(C.next(C.int(x)))
}

// NextGo returns x+1 in Go, not inlined: the cost of a plain function call.
//
//go:noinline
func NextGo(x int) int {
	return x + 1
}
