package sum

import (
	"math"
	"math/big"
	"math/rand"
	"testing"
)

func TestAdd(t *testing.T) {
	cases := []struct {
		a, b, want int64
		ok         bool
	}{
		{5, 4, 9, true},
		{-7, 3, -4, true},
		{math.MaxInt64, 0, math.MaxInt64, true},
		{0, math.MinInt64, math.MinInt64, true},
		{math.MaxInt64, math.MinInt64, -1, true},
		{math.MaxInt64 - 1, 1, math.MaxInt64, true}, // exactly on the bounds: fits
		{1, math.MaxInt64 - 1, math.MaxInt64, true},
		{math.MinInt64 + 1, -1, math.MinInt64, true},
		{-1, math.MinInt64 + 1, math.MinInt64, true},
		{-(1 << 62), -(1 << 62), math.MinInt64, true},
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

// TestAddMatchesBigInt checks the overflow rule against exact arithmetic.
func TestAddMatchesBigInt(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	lo, hi := big.NewInt(math.MinInt64), big.NewInt(math.MaxInt64)
	for i := 0; i < 100000; i++ {
		a, b := int64(rng.Uint64()), int64(rng.Uint64())
		exact := new(big.Int).Add(big.NewInt(a), big.NewInt(b))
		fits := exact.Cmp(lo) >= 0 && exact.Cmp(hi) <= 0
		got, ok := Add(a, b)
		if ok != fits || (ok && got != exact.Int64()) {
			t.Fatalf("Add(%d, %d) = %d, %v; exact %s", a, b, got, ok, exact)
		}
	}
}

func TestAddAll(t *testing.T) {
	if got, at := AddAll(nil); got != 0 || at != -1 {
		t.Errorf("AddAll(nil) = %d, %d", got, at)
	}
	if got, at := AddAll([]int64{1, 2, 3, -10}); got != -4 || at != -1 {
		t.Errorf("AddAll = %d, %d", got, at)
	}
	if _, at := AddAll([]int64{1, math.MaxInt64, -5}); at != 1 {
		t.Errorf("overflow reported at %d, want 1", at)
	}
}
