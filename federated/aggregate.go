package federated

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/ethereum/go-ethereum/common"
)

// RuleKind names an aggregation rule.
type RuleKind string

const (
	// RuleFedAvg: Σ |D_i| Δ_i / Σ |D_i|, weights = sample counts (eq. 2).
	RuleFedAvg RuleKind = "fedavg"
	// RuleFedAvgTrust: as FedAvg with weights |D_i|·T_i, T_i = R_i/Σ R_j
	// (eq. 13).
	RuleFedAvgTrust RuleKind = "fedavg-trust"
	// RuleMedian: the coordinate-wise median.
	RuleMedian RuleKind = "median"
	// RuleTrimmedMean: per coordinate, drop the ⌊β·n⌋ largest and smallest
	// values and average the rest (Yin et al. 2018).
	RuleTrimmedMean RuleKind = "trimmed"
	// RuleKrum: the one update closest to its n−f−2 nearest neighbours
	// (Blanchard et al. 2017).
	RuleKrum RuleKind = "krum"
	// RuleMultiKrum: the unweighted mean of the M updates with the best
	// Krum scores.
	RuleMultiKrum RuleKind = "multikrum"
)

// Rule is an aggregation rule and its parameters. Its text form (String,
// ParseRule, and JSON) is "fedavg", "fedavg-trust", "median",
// "trimmed:<β>", "krum:<f>" or "multikrum:<f>:<m>".
type Rule struct {
	Kind RuleKind
	// Beta is the fraction trimmed from each end (trimmed), in (0, 0.5).
	Beta float64
	// F is the number of Byzantine updates tolerated (krum, multikrum).
	F int
	// M is the number of updates averaged (multikrum), >= 1.
	M int
}

// ParseRule parses a rule's text form; errors wrap ErrRule.
func ParseRule(s string) (Rule, error) {
	parts := strings.Split(s, ":")
	bad := func(why string) (Rule, error) {
		return Rule{}, fmt.Errorf("%w: %q: %s (want fedavg, fedavg-trust, median, trimmed:<beta>, krum:<f> or multikrum:<f>:<m>)", ErrRule, s, why)
	}
	atoi := func(p string) (int, bool) {
		v, err := strconv.Atoi(p)
		return v, err == nil && strconv.Itoa(v) == p
	}
	r := Rule{Kind: RuleKind(parts[0])}
	switch r.Kind {
	case RuleFedAvg, RuleFedAvgTrust, RuleMedian:
		if len(parts) != 1 {
			return bad("takes no parameter")
		}
	case RuleTrimmedMean:
		if len(parts) != 2 {
			return bad("needs beta")
		}
		b, err := strconv.ParseFloat(parts[1], 64)
		if err != nil {
			return bad("beta is not a number")
		}
		r.Beta = b
	case RuleKrum:
		var ok bool
		if len(parts) != 2 {
			return bad("needs f")
		}
		if r.F, ok = atoi(parts[1]); !ok {
			return bad("f is not an integer")
		}
	case RuleMultiKrum:
		var okF, okM bool
		if len(parts) != 3 {
			return bad("needs f and m")
		}
		r.F, okF = atoi(parts[1])
		r.M, okM = atoi(parts[2])
		if !okF || !okM {
			return bad("f and m must be integers")
		}
	default:
		return bad("unknown rule")
	}
	if err := r.Validate(); err != nil {
		return Rule{}, err
	}
	return r, nil
}

// Validate checks the parameters: 0 < β < 0.5, f >= 0, m >= 1; and that
// fields a kind does not use are zero.
func (r Rule) Validate() error {
	ok := true
	switch r.Kind {
	case RuleFedAvg, RuleFedAvgTrust, RuleMedian:
		ok = r.Beta == 0 && r.F == 0 && r.M == 0
	case RuleTrimmedMean:
		ok = r.Beta > 0 && r.Beta < 0.5 && r.F == 0 && r.M == 0
	case RuleKrum:
		ok = r.F >= 0 && r.M == 0 && r.Beta == 0
	case RuleMultiKrum:
		ok = r.F >= 0 && r.M >= 1 && r.Beta == 0
	default:
		return fmt.Errorf("%w: unknown rule %q", ErrRule, r.Kind)
	}
	if !ok {
		return fmt.Errorf("%w: %s with beta=%v f=%d m=%d (trimmed needs 0 < beta < 0.5; krum f >= 0; multikrum f >= 0, m >= 1)", ErrRule, r.Kind, r.Beta, r.F, r.M)
	}
	return nil
}

// String is the rule's text form.
func (r Rule) String() string {
	switch r.Kind {
	case RuleTrimmedMean:
		return fmt.Sprintf("%s:%s", r.Kind, strconv.FormatFloat(r.Beta, 'g', -1, 64))
	case RuleKrum:
		return fmt.Sprintf("%s:%d", r.Kind, r.F)
	case RuleMultiKrum:
		return fmt.Sprintf("%s:%d:%d", r.Kind, r.F, r.M)
	}
	return string(r.Kind)
}

// MarshalText encodes the rule as its text form.
func (r Rule) MarshalText() ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return []byte(r.String()), nil
}

// UnmarshalText parses the text form (ParseRule).
func (r *Rule) UnmarshalText(b []byte) error {
	p, err := ParseRule(string(b))
	if err != nil {
		return err
	}
	*r = p
	return nil
}

// MinUpdates is the smallest n the rule accepts: 2f+3 for Krum and
// Multi-Krum (and n−f >= m), ⌈1/β⌉ for the trimmed mean (so at least one
// value is trimmed from each end), 1 otherwise.
func (r Rule) MinUpdates() int {
	switch r.Kind {
	case RuleKrum:
		return 2*r.F + 3
	case RuleMultiKrum:
		return max(2*r.F+3, r.M+r.F)
	case RuleTrimmedMean:
		return int(math.Ceil(1/r.Beta - 1e-9))
	}
	return 1
}

// Contribution is one accepted update as the aggregation sees it.
type Contribution struct {
	Site  common.Address
	Delta []float32
	// Samples is |D_i| (Update.Samples), the FedAvg weight.
	Samples uint64
	// Trust is T_i (TrustWeights), used by fedavg-trust only.
	Trust float64
}

// Result is an aggregated delta and the sites whose updates entered it.
type Result struct {
	Delta []float32
	// Selected are the sites whose deltas the aggregate is made of, in
	// address order: all of them, except for Krum and Multi-Krum (best
	// score first).
	Selected []common.Address
	// Weights are the normalised weights (summing to 1) of Selected in a
	// weighted mean: FedAvg's w_i/Σw, Multi-Krum's 1/m. Nil for median and
	// trimmed mean, which are not weighted means. Central DP's noise is
	// CentralNoiseStd(σ, C, Weights).
	Weights []float64
}

// Aggregate combines the contributions with rule r. The contributions are
// taken in site-address order whatever order they come in, and sums run
// in float64 in a fixed order, so the same contributions give the same bits.
// It refuses, with an error that names the rule, n and its parameters,
// fewer contributions than r.MinUpdates (ErrTooFew), deltas of different
// lengths (ErrShape), and FedAvg weights summing to zero (ErrNoWeight).
// The inputs are not modified.
func Aggregate(r Rule, cs []Contribution) (Result, error) {
	if err := r.Validate(); err != nil {
		return Result{}, err
	}
	n := len(cs)
	if n < max(1, r.MinUpdates()) {
		return Result{}, tooFew(r, n)
	}
	cs = slices.Clone(cs)
	sort.SliceStable(cs, func(i, j int) bool { return bytes.Compare(cs[i].Site[:], cs[j].Site[:]) < 0 })
	deltas := make([][]float32, n)
	for i, c := range cs {
		deltas[i] = c.Delta
	}
	if _, err := checkVectors(deltas); err != nil {
		return Result{}, err
	}
	all := make([]common.Address, n)
	for i, c := range cs {
		all[i] = c.Site
	}
	switch r.Kind {
	case RuleFedAvg, RuleFedAvgTrust:
		w := make([]float64, n)
		for i, c := range cs {
			w[i] = float64(c.Samples)
			if r.Kind == RuleFedAvgTrust {
				w[i] *= c.Trust
			}
		}
		d, err := WeightedMean(deltas, w)
		if err != nil {
			return Result{}, err
		}
		return Result{Delta: d, Selected: all, Weights: normalise(w)}, nil
	case RuleMedian:
		d, err := Median(deltas)
		return Result{Delta: d, Selected: all}, err
	case RuleTrimmedMean:
		t := int(r.Beta * float64(n))
		if t < 1 {
			return Result{}, tooFew(r, n)
		}
		return Result{Delta: trimmedMean(deltas, t), Selected: all}, nil
	}
	// Krum and Multi-Krum.
	m := 1
	if r.Kind == RuleMultiKrum {
		m = r.M
	}
	best := krumSelect(deltas, r.F, m)
	chosen := make([][]float32, len(best))
	sel := make([]common.Address, len(best))
	for j, i := range best {
		chosen[j], sel[j] = deltas[i], all[i]
	}
	d, err := WeightedMean(chosen, nil)
	if err != nil {
		return Result{}, err
	}
	return Result{Delta: d, Selected: sel, Weights: normalise(make([]float64, len(sel)))}, nil
}

// normalise returns w / Σw; all-zero w gives equal weights.
func normalise(w []float64) []float64 {
	var sum float64
	for _, x := range w {
		sum += x
	}
	out := make([]float64, len(w))
	for i, x := range w {
		if sum > 0 {
			out[i] = x / sum
		} else {
			out[i] = 1 / float64(len(w))
		}
	}
	return out
}

func tooFew(r Rule, n int) error {
	switch r.Kind {
	case RuleKrum:
		return fmt.Errorf("%w: %s needs n >= 2f+3 = %d updates, have n=%d", ErrTooFew, r, 2*r.F+3, n)
	case RuleMultiKrum:
		return fmt.Errorf("%w: %s needs n >= 2f+3 = %d and n >= m+f = %d updates, have n=%d", ErrTooFew, r, 2*r.F+3, r.M+r.F, n)
	case RuleTrimmedMean:
		return fmt.Errorf("%w: %s trims floor(beta*n) = %d per side at n=%d; it needs n >= %d to trim any", ErrTooFew, r, int(r.Beta*float64(n)), n, r.MinUpdates())
	}
	return fmt.Errorf("%w: %s needs at least 1 update, have n=%d", ErrTooFew, r, n)
}

// WeightedMean is Σ w_i v_i / Σ w_i, summed in float64 in index order. nil
// weights mean equal weights. Weights must be finite and >= 0 with a
// positive sum (ErrNoWeight), vectors of one length (ErrShape).
func WeightedMean(vectors [][]float32, weights []float64) ([]float32, error) {
	n, err := checkVectors(vectors)
	if err != nil {
		return nil, err
	}
	if weights == nil {
		weights = make([]float64, len(vectors))
		for i := range weights {
			weights[i] = 1
		}
	}
	if len(weights) != len(vectors) {
		return nil, fmt.Errorf("%w: %d weights for %d vectors", ErrShape, len(weights), len(vectors))
	}
	var total float64
	for i, w := range weights {
		if !(w >= 0) || math.IsInf(w, 0) {
			return nil, fmt.Errorf("%w: weight %d is %v", ErrNoWeight, i, w)
		}
		total += w
	}
	if total <= 0 {
		return nil, fmt.Errorf("%w: %d weights", ErrNoWeight, len(weights))
	}
	acc := make([]float64, n)
	for i, v := range vectors {
		w := weights[i] / total
		if w == 0 {
			continue
		}
		for j, x := range v {
			acc[j] += w * float64(x)
		}
	}
	out := make([]float32, n)
	for j, x := range acc {
		out[j] = float32(x)
	}
	return out, nil
}

// trimmedMean drops the t smallest and t largest values of each coordinate
// and averages the rest.
func trimmedMean(vectors [][]float32, t int) []float32 {
	n := len(vectors[0])
	out := make([]float32, n)
	col := make([]float64, len(vectors))
	for j := range out {
		for i, v := range vectors {
			col[i] = float64(v[j])
		}
		slices.Sort(col)
		var s float64
		for _, x := range col[t : len(col)-t] {
			s += x
		}
		out[j] = float32(s / float64(len(col)-2*t))
	}
	return out
}

// KrumScores are Krum's scores: for each vector the sum of squared L2
// distances to its n−f−2 nearest other vectors. Needs n >= f+3.
func KrumScores(vectors [][]float32, f int) []float64 {
	n := len(vectors)
	d := make([][]float64, n)
	for i := range d {
		d[i] = make([]float64, n)
	}
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			x := Distance(vectors[i], vectors[j])
			d[i][j], d[j][i] = x*x, x*x
		}
	}
	scores := make([]float64, n)
	k := n - f - 2
	for i := range vectors {
		others := make([]float64, 0, n-1)
		for j := range vectors {
			if j != i {
				others = append(others, d[i][j])
			}
		}
		slices.Sort(others)
		for _, x := range others[:k] {
			scores[i] += x
		}
	}
	return scores
}

// krumSelect returns the indices of the m best (lowest) Krum scores, best
// first; ties go to the lower index.
func krumSelect(vectors [][]float32, f, m int) []int {
	scores := KrumScores(vectors, f)
	idx := make([]int, len(vectors))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return scores[idx[a]] < scores[idx[b]] })
	return idx[:m]
}

// Apply returns base + delta, the new global weights (eq. 2 applied to
// deltas: w̄(t) = w̄(t−1) + aggregate).
func Apply(base, delta []float32) ([]float32, error) {
	if len(base) != len(delta) {
		return nil, fmt.Errorf("%w: base has %d weights, delta %d", ErrShape, len(base), len(delta))
	}
	out := make([]float32, len(base))
	for i := range out {
		out[i] = base[i] + delta[i]
	}
	return out, nil
}
