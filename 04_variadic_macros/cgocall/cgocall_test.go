package cgocall

import "testing"

func TestNext(t *testing.T) {
	for _, x := range []int{-1, 0, 41} {
		if NextC(x) != x+1 || NextGo(x) != x+1 {
			t.Errorf("NextC(%d) = %d, NextGo(%d) = %d; want %d", x, NextC(x), x, NextGo(x), x+1)
		}
	}
}

// go test -run '^$' -bench . ./cgocall
func BenchmarkGoToC(b *testing.B) {
	x := 0
	for i := 0; i < b.N; i++ {
		x = NextC(x)
	}
}

func BenchmarkGoToGo(b *testing.B) {
	x := 0
	for i := 0; i < b.N; i++ {
		x = NextGo(x)
	}
}
