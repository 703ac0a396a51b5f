package ingest

import "testing"

// Risk is 50 at the threshold for every model, monotone, within [0, 100],
// and severity follows it.
func TestRiskScale(t *testing.T) {
	for _, c := range []struct {
		supervised       bool
		score, threshold float64
		risk             float64
		sev              Severity
	}{
		{true, 0.5, 0.5, 50, SeverityLow},
		{true, 0.6, 0.5, 60, SeverityMedium},
		{true, 0.8, 0.5, 80, SeverityHigh},
		{true, 0.999, 0.5, 99.9, SeverityCritical},
		{true, 1, 0.5, 100, SeverityCritical},
		{true, 0.2, 0.5, 20, SeverityLow},
		{false, 5400, 1000, 90.7, SeverityHigh},
		{false, 1000, 1000, 50, SeverityLow},
		{false, 1250, 1000, 60, SeverityMedium},
		{false, 2500, 1000, 80, SeverityHigh},
		{false, 10000, 1000, 95, SeverityCritical},
		{false, 1e12, 1000, 100, SeverityCritical},
		{false, 500, 1000, 25, SeverityLow},
		{false, -3, 1000, 0, SeverityLow},
		{false, 7, 0, 50, SeverityLow},
	} {
		r := Risk(c.supervised, c.score, c.threshold)
		if r != c.risk || SeverityOf(r) != c.sev {
			t.Errorf("Risk(%v, %v, %v) = %v (%s), want %v (%s)", c.supervised, c.score, c.threshold, r, SeverityOf(r), c.risk, c.sev)
		}
	}
	prev := -1.0
	for s := 0.0; s < 50; s += 0.01 {
		r := Risk(false, s, 3)
		if r < prev || r < 0 || r > 100 {
			t.Fatalf("Risk(%v) = %v after %v: not monotone in [0, 100]", s, r, prev)
		}
		prev = r
	}
}
