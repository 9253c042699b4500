package listsum

import (
	"errors"
	"math"
	"math/big"
	"math/rand"
	"testing"
)

// item is one element of a fake list: a value, or a problem reading it.
type item struct {
	v       int64
	problem Problem
	typ     string
}

type fakeList []item

func (l fakeList) Len() int                     { return len(l) }
func (l fakeList) Int64(i int) (int64, Problem) { return l[i].v, l[i].problem }
func (l fakeList) TypeName(i int) string        { return l[i].typ }
func ints(vs ...int64) (l fakeList) {
	for _, v := range vs {
		l = append(l, item{v: v, typ: "int"})
	}
	return l
}

func TestSum(t *testing.T) {
	cases := []struct {
		name string
		list fakeList
		want int64
	}{
		{"empty", nil, 0},
		{"one", ints(42), 42},
		{"talk", ints(5, 4), 9},
		{"mixed signs", ints(1, -2, 3, -4), -2},
		{"max", ints(math.MaxInt64), math.MaxInt64},
		{"min", ints(math.MinInt64), math.MinInt64},
		{"back in range", ints(math.MaxInt64, math.MinInt64, 1), 0},
	}
	for _, c := range cases {
		got, err := Sum(c.list)
		if err != nil || got != c.want {
			t.Errorf("%s: Sum = %d, %v; want %d, nil", c.name, got, err, c.want)
		}
	}
}

func TestSumErrors(t *testing.T) {
	cases := []struct {
		name string
		list fakeList
		want Error
		msg  string
	}{
		{"not an int", append(ints(1, 2), item{problem: NotInt, typ: "str"}),
			Error{Index: 2, Problem: NotInt, TypeName: "str"},
			"item 2 must be an int, not str"},
		{"item too big", append(ints(1), item{problem: ItemOverflow}),
			Error{Index: 1, Problem: ItemOverflow},
			"item 1 does not fit in a signed 64-bit integer"},
		{"sum too big", ints(1, math.MaxInt64, -5),
			Error{Index: 1, Problem: SumOverflow},
			"the running sum does not fit in a signed 64-bit integer once item 1 is added"},
		{"sum too small", ints(-1, math.MinInt64),
			Error{Index: 1, Problem: SumOverflow},
			"the running sum does not fit in a signed 64-bit integer once item 1 is added"},
		{"source failed", append(ints(7), item{problem: Failed}),
			Error{Index: 1, Problem: Failed},
			"item 1 could not be read"},
		{"first problem wins", append(ints(1), item{problem: NotInt, typ: "float"},
			item{problem: ItemOverflow}),
			Error{Index: 1, Problem: NotInt, TypeName: "float"},
			"item 1 must be an int, not float"},
	}
	for _, c := range cases {
		got, err := Sum(c.list)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%s: Sum = %d, %v; want *Error", c.name, got, err)
			continue
		}
		if *e != c.want || e.Error() != c.msg || got != 0 {
			t.Errorf("%s: Sum = %d, %+v (%q); want 0, %+v (%q)", c.name, got, *e, e, c.want, c.msg)
		}
	}
}

// TestSumMatchesBigInt checks the overflow rule against exact arithmetic.
func TestSumMatchesBigInt(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	lo, hi := big.NewInt(math.MinInt64), big.NewInt(math.MaxInt64)
	for trial := 0; trial < 20000; trial++ {
		list := make(fakeList, rng.Intn(8))
		exact, overflowAt := new(big.Int), -1
		for i := range list {
			// Mostly huge values, so that overflows are frequent.
			v := int64(rng.Uint64())
			if rng.Intn(2) == 0 {
				v >>= rng.Intn(64)
			}
			list[i] = item{v: v, typ: "int"}
			exact.Add(exact, big.NewInt(v))
			if overflowAt < 0 && (exact.Cmp(lo) < 0 || exact.Cmp(hi) > 0) {
				overflowAt = i
			}
		}
		got, err := Sum(list)
		if overflowAt < 0 {
			if err != nil || got != exact.Int64() {
				t.Fatalf("Sum(%v) = %d, %v; want %s", list, got, err, exact)
			}
			continue
		}
		var e *Error
		if !errors.As(err, &e) || e.Problem != SumOverflow || e.Index != overflowAt {
			t.Fatalf("Sum(%v) = %d, %v; want SumOverflow at %d", list, got, err, overflowAt)
		}
	}
}

func TestAdd(t *testing.T) {
	cases := []struct {
		a, b, want int64
		ok         bool
	}{
		{5, 4, 9, true},
		{math.MaxInt64, math.MinInt64, -1, true},
		{math.MaxInt64, 1, 0, false},
		{math.MinInt64, -1, 0, false},
		{math.MinInt64, math.MinInt64, 0, false},
	}
	for _, c := range cases {
		got, ok := Add(c.a, c.b)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("Add(%d, %d) = %d, %v; want %d, %v", c.a, c.b, got, ok, c.want, c.ok)
		}
	}
}
