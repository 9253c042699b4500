// Package listsum is the Go logic of step 04: sum integers that live
// somewhere else (in the Go core, a Python list read through C shims), with
// the overflow checks Go does not do by itself. No cgo and no Python here,
// so plain `go test` covers every rule and every error message.
package listsum

import "fmt"

// Problem says why an item could not be added to the sum.
type Problem int

const (
	// OK: the item is an int that fits in an int64.
	OK Problem = iota
	// NotInt: the item is not an int (a float, a str, None...).
	NotInt
	// ItemOverflow: the item is an int outside the int64 range.
	ItemOverflow
	// SumOverflow: the item fits, but the running sum would leave int64.
	SumOverflow
	// Failed: the source failed and has already reported why
	// (in the Go core: a Python exception is set, keep it).
	Failed
)

// Items is a list as Sum sees it.
type Items interface {
	// Len is the number of items.
	Len() int
	// Int64 returns item i, or the Problem that prevents it (never SumOverflow).
	Int64(i int) (int64, Problem)
	// TypeName names the type of item i, for the NotInt message.
	TypeName(i int) string
}

// Error is a failed sum: which item, and what was wrong with it.
type Error struct {
	Index    int
	Problem  Problem
	TypeName string // the item's type, for NotInt
}

func (e *Error) Error() string {
	switch e.Problem {
	case NotInt:
		return fmt.Sprintf("item %d must be an int, not %s", e.Index, e.TypeName)
	case ItemOverflow:
		return fmt.Sprintf("item %d does not fit in a signed 64-bit integer", e.Index)
	case SumOverflow:
		return fmt.Sprintf("the running sum does not fit in a signed 64-bit "+
			"integer once item %d is added", e.Index)
	default:
		return fmt.Sprintf("item %d could not be read", e.Index)
	}
}

// Add returns a+b and whether it fits in an int64. Go, unlike Python, wraps
// silently on overflow (math.MaxInt64 + 1 == math.MinInt64), so every
// addition is checked.
func Add(a, b int64) (sum int64, ok bool) {
	sum = a + b
	// Overflow happened iff a and b have the same sign and sum's sign differs.
	ok = (a >= 0) != (b >= 0) || (sum >= 0) == (a >= 0)
	return sum, ok
}

// Sum adds every item in order and stops at the first problem, which it
// returns as an *Error.
func Sum(items Items) (int64, error) {
	var total int64
	n := items.Len()
	for i := 0; i < n; i++ {
		v, problem := items.Int64(i)
		if problem == OK {
			var ok bool
			if total, ok = Add(total, v); ok {
				continue
			}
			problem = SumOverflow
		}
		err := &Error{Index: i, Problem: problem}
		if problem == NotInt {
			err.TypeName = items.TypeName(i)
		}
		return 0, err
	}
	return total, nil
}
