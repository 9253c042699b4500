//go:build exercise

// A solution of exercise/sum.go (step 02's sum/sum.go is the same code).
package sum

// Add returns a+b and whether it fits in an int64. Go, unlike Python, wraps
// silently on overflow (math.MaxInt64 + 1 == math.MinInt64), so the caller
// must be told: the C glue turns ok == false into OverflowError.
func Add(a, b int64) (sum int64, ok bool) {
	sum = a + b
	// Numbers of opposite signs never overflow. Numbers of the same sign
	// overflow iff the (wrapped) sum has the other sign.
	ok = (a >= 0) != (b >= 0) || (sum >= 0) == (a >= 0)
	return sum, ok
}

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
