// Package sum is the Go logic of step 02, free of cgo and of Python so it can
// be tested with plain `go test`.
package sum

// [excerpt: add]

// Add returns a+b and whether it fits in an int64. Go, unlike Python, wraps
// silently on overflow (math.MaxInt64 + 1 == math.MinInt64), so the caller
// must be told: the C glue turns ok == false into OverflowError.
func Add(a, b int64) (sum int64, ok bool) {
	sum = a + b
	// Overflow happened iff a and b have the same sign and sum's sign differs.
	ok = (a >= 0) != (b >= 0) || (sum >= 0) == (a >= 0)
	return sum, ok
}

// [/excerpt: add]

// AddAll sums values, reporting the index of the first addition that
// overflows (or -1 when everything fits).
func AddAll(values []int64) (total int64, overflowAt int) {
	for i, v := range values {
		var ok bool
		if total, ok = Add(total, v); !ok {
			return 0, i
		}
	}
	return total, -1
}
