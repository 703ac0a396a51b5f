package federated

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// DPMode is where a round's differential-privacy noise is added.
type DPMode string

const (
	// DPOff: no clipping, no noise.
	DPOff DPMode = "off"
	// DPLocal: each site clips its delta to C and adds N(0, σ²C²I) before it
	// leaves the site (FL-BCID eq. 7-8). Nobody, the coordinator included,
	// sees an unnoised delta. The mechanism is applied once per round the
	// site takes part in, seen in full: account it with q = 1.
	DPLocal DPMode = "local"
	// DPCentral: sites clip their deltas to C; the coordinator adds the
	// noise once to the aggregate (CentralNoiseStd). Far less noise for the
	// same ε, but the coordinator sees clipped, unnoised deltas. With sites
	// sampled at rate q each round, every site is accounted with q every
	// round, sampled or not.
	DPCentral DPMode = "central"
)

// DPPolicy is a round's differential-privacy setting.
type DPPolicy struct {
	Mode DPMode `json:"mode"`
	// Clip is the L2 norm C each delta is clipped to.
	Clip float64 `json:"clip,omitempty"`
	// Sigma is the noise multiplier σ: the noise standard deviation is σ·C
	// (local) or σ·C times the largest aggregation weight (central).
	Sigma float64 `json:"sigma,omitempty"`
}

// Validate checks the mode and that clip and sigma are finite, positive
// where the mode needs them, and zero where it does not.
func (p DPPolicy) Validate() error {
	switch p.Mode {
	case DPOff, "":
		if p.Clip != 0 || p.Sigma != 0 {
			return fmt.Errorf("%w: dp off with clip %v, sigma %v", ErrPolicy, p.Clip, p.Sigma)
		}
	case DPLocal, DPCentral:
		if !(p.Clip > 0) || math.IsInf(p.Clip, 0) {
			return fmt.Errorf("%w: dp %s needs a clip norm > 0, got %v", ErrPolicy, p.Mode, p.Clip)
		}
		if !(p.Sigma >= 0) || math.IsInf(p.Sigma, 0) {
			return fmt.Errorf("%w: dp %s needs a noise multiplier >= 0, got %v", ErrPolicy, p.Mode, p.Sigma)
		}
	default:
		return fmt.Errorf("%w: unknown dp mode %q", ErrPolicy, p.Mode)
	}
	return nil
}

// SiteParams are the DP parameters a site applies and declares in its
// Update: clip and noise for local DP, clip only for central DP.
func (p DPPolicy) SiteParams() DPParams {
	switch p.Mode {
	case DPLocal:
		return DPParams{Clip: p.Clip, Sigma: p.Sigma}
	case DPCentral:
		return DPParams{Clip: p.Clip}
	}
	return DPParams{}
}

// ClipL2 scales v in place so that its L2 norm is at most c, and returns
// the norm before clipping. Vectors already within c are left untouched;
// c <= 0 or +Inf means no clipping.
func ClipL2(v []float32, c float64) float64 {
	norm := Norm(v)
	if c > 0 && !math.IsInf(c, 1) && norm > c {
		s := c / norm
		for i := range v {
			v[i] = float32(float64(v[i]) * s)
		}
	}
	return norm
}

// NewNoiseSource returns the random source for Gaussian noise: ChaCha8 (a
// cryptographically strong generator) keyed by seed. Real sites draw seed
// from crypto/rand and never reveal it: noise whose seed is known can be
// subtracted. Tests pass fixed seeds to get reproducible noise.
func NewNoiseSource(seed [32]byte) *rand.Rand {
	return rand.New(rand.NewChaCha8(seed))
}

// AddGaussian adds independent N(0, std²) noise to every coordinate of v, in
// index order, drawing from rng (rand.Rand.NormFloat64, the ziggurat
// method, in float64, rounded to float32 once added). std = σ·C for local
// DP. std == 0 leaves v untouched.
func AddGaussian(v []float32, std float64, rng *rand.Rand) {
	if std == 0 {
		return
	}
	for i := range v {
		v[i] = float32(float64(v[i]) + std*rng.NormFloat64())
	}
}

// CentralNoiseStd is the noise standard deviation for central DP on a
// weighted average Σ w_i Δ_i / Σ w_i of deltas clipped to clip: one site
// moves the average by at most clip · max_i w_i / Σ w_i, so the std is σ
// times that. For n equal weights (an unweighted mean) it is σ·C/n. Zero or
// empty weights give 0 (nothing to protect).
func CentralNoiseStd(sigma, clip float64, weights []float64) float64 {
	var sum, mx float64
	for _, w := range weights {
		sum += w
		mx = max(mx, w)
	}
	if sum <= 0 {
		return 0
	}
	return sigma * clip * mx / sum
}
