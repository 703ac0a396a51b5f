package federated

import (
	"errors"
	"math"
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

func site(i int) common.Address { return common.Address{19: byte(i)} }

// scoresWith makes n scores of the given divergences, anomaly 0, norm 0,
// sites 1..n.
func scoresWith(divs ...uint32) []Score {
	s := make([]Score, len(divs))
	for i, d := range divs {
		s[i] = Score{Site: site(i + 1), Divergence: d}
	}
	return s
}

func repsFor(n int, r uint16) map[common.Address]uint16 {
	m := map[common.Address]uint16{}
	for i := 1; i <= n; i++ {
		m[site(i)] = r
	}
	return m
}

func TestMedianU64(t *testing.T) {
	for _, tc := range []struct {
		x    []uint64
		want uint64
	}{
		{[]uint64{5}, 5},
		{[]uint64{3, 1, 2}, 2},
		{[]uint64{4, 1, 3, 2}, 2}, // floor((2+3)/2)
		{[]uint64{1, 2}, 1},       // floor(1.5)
		{[]uint64{math.MaxUint32, math.MaxUint32 - 1}, math.MaxUint32 - 1}, // no overflow
	} {
		if got := medianU64(tc.x); got != tc.want {
			t.Errorf("median(%v) = %d, want %d", tc.x, got, tc.want)
		}
	}
}

// TestBand: med = 100, |D−med| = {0, 10, 10, 5, 100} -> mad 10, band =
// 100 + 300*10/100 + slack.
func TestBand(t *testing.T) {
	th := DefaultThresholds()
	th.DivSlack = 7
	ev, err := Evaluate(th, repsFor(5, 50), scoresWith(100, 90, 110, 95, 200))
	if err != nil {
		t.Fatal(err)
	}
	if ev.DivergenceMedian != 100 || ev.DivergenceBand != 137 {
		t.Fatalf("med %d band %d, want 100 137", ev.DivergenceMedian, ev.DivergenceBand)
	}
	want := []Reason{0, 0, 0, 0, ReasonDivergence}
	for i, v := range ev.Verdicts {
		if v.Reasons != want[i] {
			t.Errorf("update %d: %v, want %v", i, v.Reasons, want[i])
		}
	}
	// floor(madK*mad/100): madK 150, mad 3 -> 4 (4.5 floored).
	th.MadK, th.DivSlack = 150, 0
	ev, _ = Evaluate(th, repsFor(3, 50), scoresWith(10, 13, 7))
	if ev.DivergenceBand != 10+4 {
		t.Errorf("band %d, want 14", ev.DivergenceBand)
	}
}

func TestRuleBoundaries(t *testing.T) {
	base := DefaultThresholds()
	tests := []struct {
		name   string
		th     func(*Thresholds)
		score  Score // for site 1; sites 2..5 are benign
		rep    uint16
		reason Reason
	}{
		{"anomaly == max accepted", nil, Score{Anomaly: 5000}, 50, 0},
		{"anomaly == max+1 rejected", nil, Score{Anomaly: 5001}, 50, ReasonAnomaly},
		// Others at divergence 0: med 0, mad 0, band = DivSlack = 10000.
		{"divergence == band accepted", nil, Score{Divergence: 10000}, 50, 0},
		{"divergence == band+1 rejected", nil, Score{Divergence: 10001}, 50, ReasonDivergence},
		{"norm unlimited when maxNorm 0", nil, Score{Norm: math.MaxUint32}, 50, 0},
		{"norm == max accepted", func(th *Thresholds) { th.MaxNorm = 1000 }, Score{Norm: 1000}, 50, 0},
		{"norm == max+1 rejected", func(th *Thresholds) { th.MaxNorm = 1000 }, Score{Norm: 1001}, 50, ReasonNorm},
		{"reputation == min accepted", nil, Score{}, 20, 0},
		{"reputation == min-1 rejected", nil, Score{}, 19, ReasonReputation},
		{"saturated divergence rejected", nil, Score{Divergence: math.MaxUint32}, 50, ReasonDivergence},
		{"all reasons", func(th *Thresholds) { th.MaxNorm = 1 }, Score{Anomaly: 10000, Divergence: math.MaxUint32, Norm: 2}, 0, ReasonAnomaly | ReasonDivergence | ReasonNorm | ReasonReputation},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			th := base
			if tc.th != nil {
				tc.th(&th)
			}
			reps := repsFor(5, 50)
			reps[site(1)] = tc.rep
			scores := scoresWith(0, 0, 0, 0, 0)
			tc.score.Site = site(1)
			scores[0] = tc.score
			ev, err := Evaluate(th, reps, scores)
			if err != nil {
				t.Fatal(err)
			}
			v := ev.Verdicts[0]
			if v.Reasons != tc.reason || v.Accepted != (tc.reason == 0) {
				t.Errorf("reasons %v accepted %v, want %v", v.Reasons, v.Accepted, tc.reason)
			}
		})
	}
}

func TestReputationUpdate(t *testing.T) {
	tests := []struct {
		name  string
		th    func(*Thresholds)
		start uint16
		valid bool
		want  uint16
	}{
		{"valid gains deltaPlus", nil, 50, true, 55},
		{"valid capped at repMax", nil, 98, true, 100},
		{"at repMax stays", nil, 100, true, 100},
		{"invalid loses deltaMinus", nil, 50, false, 30},
		{"invalid floors at 0", nil, 15, false, 0},
		{"invalid at exactly deltaMinus -> 0", nil, 20, false, 0},
		{"deltaMinus 0 is the paper's rule", func(th *Thresholds) { th.DeltaMinus = 0 }, 50, false, 50},
		{"valid below min still gains (redemption)", nil, 10, true, 15},
		{"repMax lowered below R: valid clamps down", func(th *Thresholds) { th.RepMax = 60; th.RepInit = 50 }, 80, true, 60},
		{"no overflow near 65535", func(th *Thresholds) { th.RepMax = 65535; th.DeltaPlus = 65535 }, 65000, true, 65535},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			th := DefaultThresholds()
			if tc.th != nil {
				tc.th(&th)
			}
			reps := repsFor(3, 50)
			reps[site(1)] = tc.start
			scores := scoresWith(0, 0, 0)
			if !tc.valid {
				scores[0].Anomaly = 10000
			}
			ev, err := Evaluate(th, reps, scores)
			if err != nil {
				t.Fatal(err)
			}
			if got := ev.Reputations[site(1)]; got != tc.want || ev.Verdicts[0].Reputation != tc.want {
				t.Errorf("reputation %d (verdict %d), want %d", got, ev.Verdicts[0].Reputation, tc.want)
			}
			if ev.Verdicts[0].Valid != tc.valid {
				t.Errorf("valid %v, want %v", ev.Verdicts[0].Valid, tc.valid)
			}
			if reps[site(1)] != tc.start {
				t.Error("Evaluate modified its input")
			}
		})
	}
}

// TestVerdictsUseReputationsAtRoundStart: a site that falls below the
// minimum this round was still judged on its reputation at round start.
func TestVerdictsUseReputationsAtRoundStart(t *testing.T) {
	th := DefaultThresholds()
	reps := repsFor(3, 25)
	reps[site(4)] = 77 // enrolled, not in this round
	scores := scoresWith(0, 0, 0)
	scores[0].Anomaly = 9000
	ev, err := Evaluate(th, reps, scores)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Verdicts[0].Reasons != ReasonAnomaly || ev.Reputations[site(1)] != 5 {
		t.Errorf("site 1: %v rep %d", ev.Verdicts[0].Reasons, ev.Reputations[site(1)])
	}
	if ev.Accepted != 2 || ev.Reputations[site(2)] != 30 || ev.Reputations[site(4)] != 77 {
		t.Errorf("accepted %d, reps %v", ev.Accepted, ev.Reputations)
	}
}

func TestMirrorOnlyReasons(t *testing.T) {
	th := DefaultThresholds()
	reps := repsFor(2, 50)
	scores := []Score{
		{Site: site(1)},
		{Site: site(9), Anomaly: 10000}, // not enrolled
		{Site: site(1)},                 // duplicate
		{Site: site(2)},
	}
	ev, err := Evaluate(th, reps, scores)
	if err != nil {
		t.Fatal(err)
	}
	want := []Reason{0, ReasonNotEnrolled, ReasonDuplicate, 0}
	for i, v := range ev.Verdicts {
		if v.Reasons != want[i] {
			t.Errorf("score %d: %v, want %v", i, v.Reasons, want[i])
		}
	}
	if ev.Reputations[site(1)] != 55 {
		t.Errorf("a duplicate must not count twice: rep %d", ev.Reputations[site(1)])
	}
	if _, ok := ev.Reputations[site(9)]; ok || ev.Verdicts[1].Reputation != 0 {
		t.Error("a site not enrolled has no reputation")
	}
}

func TestEvaluateRefuses(t *testing.T) {
	if _, err := Evaluate(DefaultThresholds(), nil, nil); !errors.Is(err, ErrRoundSize) {
		t.Errorf("no scores: %v", err)
	}
	if _, err := Evaluate(DefaultThresholds(), nil, make([]Score, 256)); !errors.Is(err, ErrRoundSize) {
		t.Errorf("256 scores: %v", err)
	}
	if _, err := Evaluate(DefaultThresholds(), nil, make([]Score, 255)); err != nil {
		t.Errorf("255 scores: %v", err)
	}
	for _, f := range []func(*Thresholds){
		func(th *Thresholds) { th.RepInit = th.RepMax + 1 },
		func(th *Thresholds) { th.MinReputation = th.RepMax + 1 },
		func(th *Thresholds) { th.MaxAnomalyBp = 10001 },
	} {
		th := DefaultThresholds()
		f(&th)
		if _, err := Evaluate(th, nil, scoresWith(0)); !errors.Is(err, ErrThresholds) {
			t.Errorf("%+v: %v", th, err)
		}
	}
}

func TestBandEventSaturates(t *testing.T) {
	th := DefaultThresholds()
	ev, _ := Evaluate(th, repsFor(2, 50), scoresWith(math.MaxUint32, math.MaxUint32))
	if ev.DivergenceBand != math.MaxUint32+10000 || ev.BandEvent() != math.MaxUint32 {
		t.Errorf("band %d, event %d", ev.DivergenceBand, ev.BandEvent())
	}
}

func TestReasonString(t *testing.T) {
	for r, want := range map[Reason]string{
		0:                                   "ok",
		ReasonAnomaly:                       "anomaly",
		ReasonDivergence | ReasonNorm:       "divergence|norm",
		ReasonReputation | 0x80:             "reputation|0x80",
		ReasonNotEnrolled | ReasonDuplicate: "not_enrolled|duplicate",
	} {
		if got := r.String(); got != want {
			t.Errorf("%#x: %q, want %q", uint8(r), got, want)
		}
	}
}

func TestTrustWeights(t *testing.T) {
	w := TrustWeights([]uint16{50, 25, 25, 0})
	want := []float64{0.5, 0.25, 0.25, 0}
	for i := range want {
		if w[i] != want[i] {
			t.Fatalf("got %v, want %v", w, want)
		}
	}
	for _, x := range TrustWeights([]uint16{0, 0}) {
		if x != 0 {
			t.Fatal("all-zero reputations give zero weights")
		}
	}
}
