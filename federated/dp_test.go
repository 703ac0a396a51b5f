package federated

import (
	"errors"
	"math"
	"testing"
)

func TestClipL2(t *testing.T) {
	tests := []struct {
		v        []float32
		c        float64
		wantNorm float64
		want     []float32
	}{
		{[]float32{3, 4}, 10, 5, []float32{3, 4}},          // within: untouched
		{[]float32{3, 4}, 5, 5, []float32{3, 4}},           // exactly C: untouched
		{[]float32{3, 4}, 1, 5, []float32{0.6, 0.8}},       // scaled to C
		{[]float32{3, 4}, 0, 5, []float32{3, 4}},           // 0: no clipping
		{[]float32{3, 4}, math.Inf(1), 5, []float32{3, 4}}, // +Inf: no clipping
		{[]float32{0, 0}, 1, 0, []float32{0, 0}},
	}
	for _, tc := range tests {
		v := append([]float32(nil), tc.v...)
		if n := ClipL2(v, tc.c); n != tc.wantNorm {
			t.Errorf("ClipL2(%v, %v) norm %v, want %v", tc.v, tc.c, n, tc.wantNorm)
		}
		for i := range v {
			if math.Abs(float64(v[i]-tc.want[i])) > 1e-7 {
				t.Errorf("ClipL2(%v, %v) = %v, want %v", tc.v, tc.c, v, tc.want)
				break
			}
		}
		if tc.c > 0 && Norm(v) > tc.c*(1+1e-7) {
			t.Errorf("norm after clipping %v > %v", Norm(v), tc.c)
		}
	}
}

func TestAddGaussianIsSeededAndHasTheRightSpread(t *testing.T) {
	const n, std = 200_000, 0.5
	seed := [32]byte{1}
	a := make([]float32, n)
	b := make([]float32, n)
	AddGaussian(a, std, NewNoiseSource(seed))
	AddGaussian(b, std, NewNoiseSource(seed))
	var sum, sq float64
	for i := range a {
		if a[i] != b[i] {
			t.Fatal("same seed, different noise")
		}
		sum += float64(a[i])
		sq += float64(a[i]) * float64(a[i])
	}
	mean := sum / n
	sd := math.Sqrt(sq/n - mean*mean)
	// Standard errors: std/sqrt(n) = 0.0011 for the mean, ~0.0008 for sd.
	if math.Abs(mean) > 0.006 || math.Abs(sd-std) > 0.005 {
		t.Errorf("noise mean %v, sd %v; want 0, %v", mean, sd, std)
	}
	c := make([]float32, 4)
	AddGaussian(c, std, NewNoiseSource([32]byte{2}))
	if c[0] == a[0] && c[1] == a[1] {
		t.Error("another seed gave the same noise")
	}
	z := []float32{1, 2}
	AddGaussian(z, 0, nil)
	if z[0] != 1 || z[1] != 2 {
		t.Error("std 0 changed the vector")
	}
}

func TestCentralNoiseStd(t *testing.T) {
	if got := CentralNoiseStd(1.2, 0.5, []float64{1, 1, 1, 1}); math.Abs(got-1.2*0.5/4) > 1e-15 {
		t.Errorf("unweighted mean of 4: %v, want sigma*C/n = %v", got, 1.2*0.5/4)
	}
	// The heaviest site moves a weighted mean the most.
	if got := CentralNoiseStd(1, 1, []float64{1, 3}); got != 0.75 {
		t.Errorf("weights 1,3: %v, want 0.75", got)
	}
	if got := CentralNoiseStd(1, 1, nil); got != 0 {
		t.Errorf("no weights: %v", got)
	}
}

func TestDPPolicyValidate(t *testing.T) {
	for _, tc := range []struct {
		p  DPPolicy
		ok bool
	}{
		{DPPolicy{Mode: DPOff}, true},
		{DPPolicy{}, true},
		{DPPolicy{Mode: DPOff, Clip: 1}, false},
		{DPPolicy{Mode: DPLocal, Clip: 1, Sigma: 1}, true},
		{DPPolicy{Mode: DPLocal, Sigma: 1}, false},
		{DPPolicy{Mode: DPCentral, Clip: 1, Sigma: math.NaN()}, false},
		{DPPolicy{Mode: "both", Clip: 1}, false},
	} {
		if err := tc.p.Validate(); (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrPolicy)) {
			t.Errorf("%+v: %v", tc.p, err)
		}
	}
	if got := (DPPolicy{Mode: DPCentral, Clip: 2, Sigma: 1}).SiteParams(); got != (DPParams{Clip: 2}) {
		t.Errorf("central: sites clip only, got %+v", got)
	}
}

// TestSigmaForMeaningfulEpsilon is the table in the package doc (doc.go,
// "How much noise"), δ = 1e-5: q = 1 is local DP (every round a site takes
// part in is seen in full), q = 0.1 central DP with 10% of sites sampled
// per round. It fails when the doc and the accountant disagree.
func TestSigmaForMeaningfulEpsilon(t *testing.T) {
	for _, row := range []struct {
		rounds int
		eps    float64 // at sigma 1, q 1, as printed
	}{{10, 19.05}, {50, 57.30}, {100, 96.12}} {
		eps, _ := Epsilon([]Step{{Sigma: 1, Q: 1, Count: row.rounds}}, 1e-5, nil)
		if math.Abs(eps-row.eps) > 0.005 {
			t.Errorf("sigma 1 over %d rounds: eps %.3f, doc says %.2f", row.rounds, eps, row.eps)
		}
	}
	epsilons := []float64{1, 3, 8, 10}
	table := []struct {
		q      float64
		rounds int
		sigma  [4]float64 // for epsilons, as printed (3 decimals)
	}{
		{1, 10, [4]float64{12.793, 4.723, 2.017, 1.675}},
		{1, 50, [4]float64{28.613, 10.562, 4.509, 3.745}},
		{1, 100, [4]float64{40.469, 14.934, 6.377, 5.296}},
		{0.1, 10, [4]float64{1.924, 1.070, 0.664, 0.597}},
		{0.1, 50, [4]float64{3.186, 1.453, 0.857, 0.770}},
		{0.1, 100, [4]float64{4.280, 1.796, 0.993, 0.887}},
	}
	for _, row := range table {
		for i, eps := range epsilons {
			s, err := NoiseMultiplier(eps, 1e-5, row.q, row.rounds, 0.001)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(s-row.sigma[i]) > 0.0015 {
				t.Errorf("eps %v, q %v, %d rounds: sigma %.4f, doc says %.3f", eps, row.q, row.rounds, s, row.sigma[i])
			}
		}
	}
}
