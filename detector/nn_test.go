package detector

import (
	"math"
	"testing"
)

// TestActivationAccuracy bounds the serving path's activation errors over
// and beyond the tabulated range.
func TestActivationAccuracy(t *testing.T) {
	var ws, wt float64
	for x := -40.0; x <= 40; x += 0.00037 {
		s := 1 / (1 + math.Exp(-x))
		ws = math.Max(ws, math.Abs(float64(sigmoidTab(float32(x)))-s))
		wt = math.Max(wt, math.Abs(float64(tanhTab(float32(x)))-math.Tanh(x)))
	}
	t.Logf("sigmoid %.3g, tanh %.3g", ws, wt)
	if ws > 5e-7 || wt > 1e-6 {
		t.Errorf("activation errors sigmoid %.3g (want <= 5e-7), tanh %.3g (<= 1e-6)", ws, wt)
	}
	for _, x := range []float32{0, 1e-30, 1, 2.5, 1e10} {
		if got, want := float64(logf(x)), math.Log(float64(max(x, 1.17549435e-38))); math.Abs(got-want) > 1e-6*math.Max(1, math.Abs(want)) {
			t.Errorf("logf(%g) = %g, want %g", x, got, want)
		}
	}
}
