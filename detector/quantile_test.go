package detector

import (
	"testing"
	"time"
)

// Nearest rank, checked by hand: of 1..100, p50 is 50, p99 is 99, p100 is
// 100; of 1..10, p99 is 10 and p10 is 1.
func TestQuantileNearestRank(t *testing.T) {
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[len(hundred)-1-i] = i + 1 // unsorted on purpose
	}
	ten := []float64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}
	for _, c := range []struct {
		got, want float64
	}{
		{float64(Quantile(hundred, 0.5)), 50}, {float64(Quantile(hundred, 0.99)), 99}, {float64(Quantile(hundred, 1)), 100},
		{float64(Quantile(hundred, 0)), 1}, {Quantile(ten, 0.99), 10}, {Quantile(ten, 0.1), 1}, {Quantile(ten, 0.11), 2},
		{Quantile([]float64{}, 0.5), 0},
	} {
		if c.got != c.want {
			t.Errorf("got %v, want %v", c.got, c.want)
		}
	}
	if hundred[0] != 100 {
		t.Error("Quantile sorted its input")
	}
	if got := Quantile([]time.Duration{3, 1, 2}, 0.5); got != 2 {
		t.Errorf("durations: %v", got)
	}
}
