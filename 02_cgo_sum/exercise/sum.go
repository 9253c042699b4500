//go:build exercise

// EXERCISE (make exercise): Go's integers wrap around silently.
//
// This is package sum as a first try writes it: Add returns a + b and says
// it always fits. But an int64 holds -2**63 .. 2**63-1, and Go, unlike
// Python, wraps on overflow without a word: math.MaxInt64 + 1 ==
// math.MinInt64. Built into newmath, this file makes
//
//	newmath.sum(2**63 - 1, 1) == -9223372036854775808
//
// where step 01's contract says OverflowError. Make Add return ok == false
// whenever a + b does not fit, and only then. The glue already turns
// ok == false into OverflowError, and AddAll (newmath.sum_list) uses Add.
//
// Rules: no math/big, no wider type (there is none), no recover. Hint: when
// can adding two numbers overflow at all? Think about their signs.
//
// `make exercise` builds newmath with this file in place of sum/sum.go (in
// build/exercise/, never the step's own module) and runs
// exercise/check_sum.py. (The `go:build exercise` line keeps this file out
// of the step's own `go vet` and `go test`.)
package sum

// Add returns a+b and whether it fits in an int64.
func Add(a, b int64) (sum int64, ok bool) {
	return a + b, true
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
