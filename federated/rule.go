package federated

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/ethereum/go-ethereum/common"
)

// This file is the bit-exact Go mirror of the on-chain acceptance rule
// S(w_i) (FL-BCID eq. 3) and reputation update (eq. 11) of
// docs/federated-rule.md. Integer arithmetic only, in the spec's order; the
// contract tests use it as their oracle, so any change here is a change of
// the spec first.

// MaxRoundUpdates is the most scores one round may submit (the contract's
// limit; the count is a uint8 loop bound there).
const MaxRoundUpdates = 255

// Score is one update's inputs to the rule, in the contract's units. Make
// it with Measurement.Score, the one conversion from real units.
type Score struct {
	Site       common.Address `json:"site"`
	UpdateHash common.Hash    `json:"update_hash"`
	// Anomaly is a_i in basis points, 0..10000.
	Anomaly uint16 `json:"anomaly_bp"`
	// Divergence is D_i in micro-units, saturating.
	Divergence uint32 `json:"divergence_micro"`
	// Norm is ‖Δ_i‖₂ in micro-units, saturating.
	Norm uint32 `json:"norm_micro"`
}

// Thresholds are the owner-set parameters of the rule.
type Thresholds struct {
	MaxAnomalyBp  uint16 `json:"max_anomaly_bp"`
	MadK          uint16 `json:"mad_k"`     // hundredths: 300 = 3.00
	DivSlack      uint32 `json:"div_slack"` // micro-units
	MaxNorm       uint32 `json:"max_norm"`  // micro-units; 0 = no limit
	MinReputation uint16 `json:"min_reputation"`
	RepInit       uint16 `json:"rep_init"`
	RepMax        uint16 `json:"rep_max"`
	DeltaPlus     uint16 `json:"delta_plus"`
	DeltaMinus    uint16 `json:"delta_minus"`
}

// DefaultThresholds are the contract's defaults.
func DefaultThresholds() Thresholds {
	return Thresholds{
		MaxAnomalyBp: 5000, MadK: 300, DivSlack: 10000, MaxNorm: 0,
		MinReputation: 20, RepInit: 50, RepMax: 100, DeltaPlus: 5, DeltaMinus: 20,
	}
}

// Validate applies the contract setter's constraints: RepInit <= RepMax,
// MinReputation <= RepMax, MaxAnomalyBp <= 10000 (ErrThresholds).
func (th Thresholds) Validate() error {
	if th.RepInit > th.RepMax || th.MinReputation > th.RepMax || th.MaxAnomalyBp > 10000 {
		return fmt.Errorf("%w: need rep_init (%d) <= rep_max (%d), min_reputation (%d) <= rep_max, max_anomaly_bp (%d) <= 10000",
			ErrThresholds, th.RepInit, th.RepMax, th.MinReputation, th.MaxAnomalyBp)
	}
	return nil
}

// Reason is the bitmask of why an update was not accepted.
type Reason uint8

// Reason bits, as the contract's Verdict event carries them.
const (
	ReasonAnomaly     Reason = 0x01 // anomaly > MaxAnomalyBp
	ReasonDivergence  Reason = 0x02 // divergence > band
	ReasonNorm        Reason = 0x04 // MaxNorm != 0 && norm > MaxNorm
	ReasonReputation  Reason = 0x08 // reputation at round start < MinReputation
	ReasonNotEnrolled Reason = 0x10 // mirror only: the contract reverts
	ReasonDuplicate   Reason = 0x20 // mirror only: the contract reverts

	// reasonInvalid are the bits that make the update itself invalid.
	reasonInvalid = ReasonAnomaly | ReasonDivergence | ReasonNorm
)

var reasonNames = []struct {
	bit  Reason
	name string
}{
	{ReasonAnomaly, "anomaly"}, {ReasonDivergence, "divergence"}, {ReasonNorm, "norm"},
	{ReasonReputation, "reputation"}, {ReasonNotEnrolled, "not_enrolled"}, {ReasonDuplicate, "duplicate"},
}

// String lists the set bits, "|"-separated ("ok" for none, unknown bits
// in hex).
func (r Reason) String() string {
	if r == 0 {
		return "ok"
	}
	var parts []string
	for _, n := range reasonNames {
		if r&n.bit != 0 {
			parts = append(parts, n.name)
			r &^= n.bit
		}
	}
	if r != 0 {
		parts = append(parts, fmt.Sprintf("0x%02x", uint8(r)))
	}
	return strings.Join(parts, "|")
}

// Verdict is the rule's decision on one score.
type Verdict struct {
	Site       common.Address `json:"site"`
	UpdateHash common.Hash    `json:"update_hash"`
	Reasons    Reason         `json:"reasons"`
	// Accepted: no reason at all; the update enters the aggregate.
	Accepted bool `json:"accepted"`
	// Valid: the update passed the score checks (anomaly, divergence,
	// norm); its site gains DeltaPlus even when not accepted.
	Valid bool `json:"valid"`
	// Reputation is the site's reputation after the round (the contract's
	// Verdict event); 0 for a site not enrolled.
	Reputation uint16 `json:"reputation"`
}

// Evaluation is the outcome of one round.
type Evaluation struct {
	Verdicts []Verdict `json:"verdicts"` // in the order of the scores
	// Reputations are the reputations after the round of every enrolled
	// site given (a new map; sites not in the round keep theirs).
	Reputations map[common.Address]uint16 `json:"reputations"`
	Accepted    int                       `json:"accepted"`
	// DivergenceMedian and DivergenceBand are the round's med and band.
	DivergenceMedian uint32 `json:"divergence_median"`
	DivergenceBand   uint64 `json:"divergence_band"`
}

// BandEvent is DivergenceBand as the RoundEvaluated event carries it:
// saturated at 2^32−1.
func (e Evaluation) BandEvent() uint32 {
	return uint32(min(e.DivergenceBand, math.MaxUint32))
}

// Evaluate runs the acceptance rule on one round's scores. reps holds the
// reputation at round start of every enrolled site (a site absent from it
// is not enrolled) and is not modified. Steps, as docs/federated-rule.md:
//
//  1. med = median of all n divergences; mad = median of |D_i − med|;
//     band = med + ⌊MadK·mad/100⌋ + DivSlack, in uint64.
//  2. Per score, the reason bits; accepted = no bit, valid = no
//     anomaly/divergence/norm bit.
//  3. From the reputations at round start: valid R = min(RepMax,
//     R + DeltaPlus); invalid R = R > DeltaMinus ? R − DeltaMinus : 0.
//
// Mirror-only cases (the contract reverts the whole transaction): a site
// not in reps gets ReasonNotEnrolled alone (no reputation check, no
// reputation change); the second and later scores of one site get
// ReasonDuplicate and change no reputation. Their divergences still count
// in med and mad. n must be 1..MaxRoundUpdates (ErrRoundSize) and th valid
// (ErrThresholds).
func Evaluate(th Thresholds, reps map[common.Address]uint16, scores []Score) (Evaluation, error) {
	if err := th.Validate(); err != nil {
		return Evaluation{}, err
	}
	if n := len(scores); n == 0 || n > MaxRoundUpdates {
		return Evaluation{}, fmt.Errorf("%w: %d scores, want 1..%d", ErrRoundSize, n, MaxRoundUpdates)
	}
	divs := make([]uint64, len(scores))
	for i, s := range scores {
		divs[i] = uint64(s.Divergence)
	}
	med := medianU64(divs)
	for i, s := range scores {
		d := uint64(s.Divergence)
		if d >= med {
			divs[i] = d - med
		} else {
			divs[i] = med - d
		}
	}
	mad := medianU64(divs)
	band := med + uint64(th.MadK)*mad/100 + uint64(th.DivSlack)

	ev := Evaluation{
		Verdicts:         make([]Verdict, len(scores)),
		Reputations:      make(map[common.Address]uint16, len(reps)),
		DivergenceMedian: uint32(med),
		DivergenceBand:   band,
	}
	for a, r := range reps {
		ev.Reputations[a] = r
	}
	seen := make(map[common.Address]bool, len(scores))
	for i, s := range scores {
		v := Verdict{Site: s.Site, UpdateHash: s.UpdateHash}
		if s.Anomaly > th.MaxAnomalyBp {
			v.Reasons |= ReasonAnomaly
		}
		if uint64(s.Divergence) > band {
			v.Reasons |= ReasonDivergence
		}
		if th.MaxNorm != 0 && s.Norm > th.MaxNorm {
			v.Reasons |= ReasonNorm
		}
		start, enrolled := reps[s.Site]
		switch {
		case !enrolled:
			v.Reasons = ReasonNotEnrolled
		case seen[s.Site]:
			v.Reasons |= ReasonDuplicate
		case start < th.MinReputation:
			v.Reasons |= ReasonReputation
		}
		v.Accepted = v.Reasons == 0
		v.Valid = v.Reasons&reasonInvalid == 0 && enrolled
		if enrolled && !seen[s.Site] {
			ev.Reputations[s.Site] = nextReputation(th, start, v.Valid)
		}
		if enrolled {
			seen[s.Site] = true
		}
		if v.Accepted {
			ev.Accepted++
		}
		ev.Verdicts[i] = v
	}
	for i := range ev.Verdicts {
		ev.Verdicts[i].Reputation = ev.Reputations[ev.Verdicts[i].Site]
	}
	return ev, nil
}

// nextReputation is eq. 11 bounded to [0, RepMax]: valid gains DeltaPlus,
// invalid loses DeltaMinus (0 is the paper's rule).
func nextReputation(th Thresholds, r uint16, valid bool) uint16 {
	if valid {
		return uint16(min(uint32(th.RepMax), uint32(r)+uint32(th.DeltaPlus)))
	}
	if r > th.DeltaMinus {
		return r - th.DeltaMinus
	}
	return 0
}

// medianU64 is the spec's median: sort ascending; odd n the middle value;
// even n ⌊(a[n/2−1] + a[n/2])/2⌋ (values are below 2^33, so the sum does
// not overflow). It sorts a copy.
func medianU64(x []uint64) uint64 {
	s := slices.Clone(x)
	slices.Sort(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

// TrustWeights are T_i = R_i / Σ_j R_j (eq. 13) over the given reputations
// (the round's sites at round start). All zeros when the sum is 0.
func TrustWeights(reps []uint16) []float64 {
	var sum uint64
	for _, r := range reps {
		sum += uint64(r)
	}
	out := make([]float64, len(reps))
	if sum == 0 {
		return out
	}
	for i, r := range reps {
		out[i] = float64(r) / float64(sum)
	}
	return out
}
