package federated

import (
	"fmt"
	"math"
	"slices"

	"github.com/ethereum/go-ethereum/common"
)

// The Rényi-DP accountant for the sampled Gaussian mechanism: a port of
// Opacus' opacus/accountants/analysis/rdp.py (itself TF Privacy's
// rdp_accountant.py; Mironov, Talwar, Zhang, "Rényi Differential Privacy of
// the Sampled Gaussian Mechanism", arXiv:1908.10530, Sec. 3.3) and of the
// RDP → (ε, δ) conversion of Balle et al. 2020 (arXiv:1905.09982, Thm. 21)
// that Opacus uses. Function names follow Opacus' (computeRDP is
// compute_rdp, PrivacySpent is get_privacy_spent) so the two can be read
// side by side; the deviations are named where they occur.

// DefaultOrders returns Opacus' RDPAccountant.DEFAULT_ALPHAS:
// 1.1, 1.2, …, 10.9, then 12, 13, …, 63.
func DefaultOrders() []float64 {
	var orders []float64
	for x := 1; x < 100; x++ {
		orders = append(orders, 1+float64(x)/10)
	}
	for a := 12; a < 64; a++ {
		orders = append(orders, float64(a))
	}
	return orders
}

// logAdd is log(exp(x) + exp(y)) (Opacus _log_add).
func logAdd(x, y float64) float64 {
	a, b := min(x, y), max(x, y)
	if math.IsInf(a, -1) {
		return b
	}
	return math.Log1p(math.Exp(a-b)) + b
}

// logSub is log(exp(x) − exp(y)) for x >= y (Opacus _log_sub). Opacus
// raises ValueError when x < y; ok is false then.
func logSub(x, y float64) (v float64, ok bool) {
	if x < y {
		return 0, false
	}
	if math.IsInf(y, -1) {
		return x, true
	}
	if x == y {
		return math.Inf(-1), true
	}
	d := math.Expm1(x - y)
	if math.IsInf(d, 1) { // Opacus catches OverflowError and returns x
		return x, true
	}
	return math.Log(d) + y, true
}

// logErfc is log(erfc(x)), accurate where erfc underflows (Opacus _log_erfc
// uses scipy's log_ndtr; here math.Erfc serves up to x = 25, where it is
// still about 1e-273, and the asymptotic series of erfc takes over beyond).
func logErfc(x float64) float64 {
	if x <= 25 {
		return math.Log(math.Erfc(x))
	}
	// erfc(x) = exp(−x²)/(x√π) · (1 − 1/(2x²) + 3/(4x⁴) − 15/(8x⁶) + 105/(16x⁸) − …)
	z := 1 / (2 * x * x)
	series := 1 - z*(1-3*z*(1-5*z*(1-7*z)))
	return -x*x - math.Log(x) - 0.5*math.Log(math.Pi) + math.Log(series)
}

// logBinom is log|C(a, i)| and the sign of C(a, i) for real a > 0 and
// integer i >= 0, from log-gamma (Opacus calls scipy.special.binom and
// takes its log; the values agree to rounding).
func logBinom(a float64, i int) (float64, float64) {
	la, _ := math.Lgamma(a + 1)
	li, _ := math.Lgamma(float64(i) + 1)
	lr, sign := math.Lgamma(a - float64(i) + 1)
	return la - li - lr, float64(sign)
}

// computeLogAInt is log(A_α) for integer α (Opacus
// _compute_log_a_for_int_alpha).
func computeLogAInt(q, sigma float64, alpha int) float64 {
	logA := math.Inf(-1)
	for i := 0; i <= alpha; i++ {
		lc, _ := logBinom(float64(alpha), i)
		logCoef := lc + float64(i)*math.Log(q) + float64(alpha-i)*math.Log(1-q)
		s := logCoef + float64(i*i-i)/(2*sigma*sigma)
		logA = logAdd(logA, s)
	}
	return logA
}

// maxFracTerms caps the series of computeLogAFrac. Opacus loops until the
// terms fall below e^−30 with no cap. For large terms the exponents' linear
// parts cancel and the terms decay only like a power of i, so small σ and
// orders near 1 need many: σ = 0.3, q = 0.05, α = 1.1 takes 1331.
// dp_accounting caps at 1000 and drops the order, which changes ε there; we
// cap far beyond any case seen and drop the order (+Inf) past it.
const maxFracTerms = 100_000

// computeLogAFrac is log(A_α) for fractional α (Opacus
// _compute_log_a_for_frac_alpha). It returns +Inf, which excludes the
// order from the ε minimum, where Opacus would raise (a log-space
// subtraction going negative) or loop on.
func computeLogAFrac(q, sigma, alpha float64) float64 {
	logA0, logA1 := math.Inf(-1), math.Inf(-1)
	z0 := sigma*sigma*math.Log(1/q-1) + 0.5
	for i := 0; i < maxFracTerms; i++ {
		logCoef, sign := logBinom(alpha, i)
		fi := float64(i)
		j := alpha - fi
		logT0 := logCoef + fi*math.Log(q) + j*math.Log(1-q)
		logT1 := logCoef + j*math.Log(q) + fi*math.Log(1-q)
		logE0 := math.Log(0.5) + logErfc((fi-z0)/(math.Sqrt2*sigma))
		logE1 := math.Log(0.5) + logErfc((z0-j)/(math.Sqrt2*sigma))
		logS0 := logT0 + (fi*fi-fi)/(2*sigma*sigma) + logE0
		logS1 := logT1 + (j*j-j)/(2*sigma*sigma) + logE1
		if sign > 0 {
			logA0 = logAdd(logA0, logS0)
			logA1 = logAdd(logA1, logS1)
		} else {
			var ok0, ok1 bool
			logA0, ok0 = logSub(logA0, logS0)
			logA1, ok1 = logSub(logA1, logS1)
			if !ok0 || !ok1 {
				return math.Inf(1)
			}
		}
		if max(logS0, logS1) < -30 {
			return logAdd(logA0, logA1)
		}
	}
	return math.Inf(1)
}

// rdpOrder is the RDP of one sampled Gaussian step at order alpha (Opacus
// _compute_rdp): 0 when q = 0, +Inf when σ = 0, α/(2σ²) when q = 1.
func rdpOrder(q, sigma, alpha float64) float64 {
	switch {
	case q == 0:
		return 0
	case sigma == 0:
		return math.Inf(1)
	case q == 1:
		return alpha / (2 * sigma * sigma)
	case math.IsInf(alpha, 1):
		return math.Inf(1)
	}
	var logA float64
	if alpha == math.Trunc(alpha) {
		logA = computeLogAInt(q, sigma, int(alpha))
	} else {
		logA = computeLogAFrac(q, sigma, alpha)
	}
	return logA / (alpha - 1)
}

// ComputeRDP is the RDP, at each of orders, of steps compositions of the
// sampled Gaussian mechanism with sampling rate q in [0, 1] and noise
// multiplier sigma >= 0 (Opacus compute_rdp). Values may be +Inf.
func ComputeRDP(q, sigma float64, steps int, orders []float64) []float64 {
	out := make([]float64, len(orders))
	for i, a := range orders {
		out[i] = rdpOrder(q, sigma, a) * float64(steps)
	}
	return out
}

// PrivacySpent converts RDP values at orders into the smallest ε such that
// the mechanism is (ε, δ)-DP, and the order that gives it (Opacus
// get_privacy_spent):
//
//	ε(α) = rdp(α) − (log δ + log α)/(α − 1) + log((α − 1)/α)
//
// NaN values are ignored; when all are NaN (or orders is empty) ε is +Inf
// and the order NaN. An optimal order at either end of orders means a wider
// range would give a tighter ε (Opacus warns; we leave it to the caller).
func PrivacySpent(orders, rdp []float64, delta float64) (eps, order float64) {
	eps, order = math.Inf(1), math.NaN()
	found := false
	for i, a := range orders {
		e := rdp[i] - (math.Log(delta)+math.Log(a))/(a-1) + math.Log((a-1)/a)
		if math.IsNaN(e) {
			continue
		}
		if !found || e < eps {
			eps, order, found = e, a, true
		}
	}
	return eps, order
}

// Step is a run of Count identical applications of the Gaussian mechanism
// to one site's data: noise multiplier Sigma, sampling rate Q.
type Step struct {
	Sigma float64 `json:"sigma"`
	Q     float64 `json:"q"`
	Count int     `json:"count"`
}

// Epsilon is the ε at δ of the composition of steps over orders (nil for
// DefaultOrders), and the optimal order. No steps spend nothing: ε = 0.
func Epsilon(steps []Step, delta float64, orders []float64) (eps, order float64) {
	if len(steps) == 0 {
		return 0, 0
	}
	if orders == nil {
		orders = DefaultOrders()
	}
	total := make([]float64, len(orders))
	for _, s := range steps {
		for i, r := range ComputeRDP(s.Q, s.Sigma, s.Count, orders) {
			total[i] += r
		}
	}
	return PrivacySpent(orders, total, delta)
}

// Budget is the (ε, δ) a site may spend over the whole federation. A site
// whose ε at Delta would exceed Epsilon after the next round stops taking
// part.
type Budget struct {
	Epsilon float64 `json:"epsilon"`
	Delta   float64 `json:"delta"`
}

// Validate checks 0 < Epsilon (may be +Inf for no limit) and 0 < Delta < 1.
func (b Budget) Validate() error {
	if !(b.Epsilon > 0) || !(b.Delta > 0 && b.Delta < 1) {
		return fmt.Errorf("%w: need epsilon > 0 and 0 < delta < 1, got (%v, %v)", ErrBudget, b.Epsilon, b.Delta)
	}
	return nil
}

// Accountant keeps each site's privacy history. It is plain data (persist
// it as JSON; a zero Accountant is empty and uses DefaultOrders) and not
// safe for concurrent use.
type Accountant struct {
	// Orders are the RDP orders ε is minimised over; nil means
	// DefaultOrders.
	Orders []float64 `json:"orders,omitempty"`
	// Sites holds each site's steps, oldest first; consecutive identical
	// (Sigma, Q) are merged into one Step, as Opacus' RDPAccountant.step.
	Sites map[common.Address][]Step `json:"sites"`
}

// Record adds one application of the mechanism (sigma, q) to site's history.
func (a *Accountant) Record(site common.Address, sigma, q float64) {
	if a.Sites == nil {
		a.Sites = map[common.Address][]Step{}
	}
	h := a.Sites[site]
	if n := len(h); n > 0 && h[n-1].Sigma == sigma && h[n-1].Q == q {
		h[n-1].Count++
	} else {
		h = append(h, Step{Sigma: sigma, Q: q, Count: 1})
	}
	a.Sites[site] = h
}

// Epsilon is site's ε at delta so far, and the optimal order (0, 0 for a
// site with no history).
func (a *Accountant) Epsilon(site common.Address, delta float64) (eps, order float64) {
	return Epsilon(a.Sites[site], delta, a.Orders)
}

// CanTakePart reports whether site stays within b after one more
// application of (sigma, q), and the ε it would then have spent. The
// coordinator asks it for every site before inviting it to a round and
// records the step (Record) once the round used the site.
func (a *Accountant) CanTakePart(site common.Address, b Budget, sigma, q float64) (ok bool, epsAfter float64) {
	next := append(slices.Clone(a.Sites[site]), Step{Sigma: sigma, Q: q, Count: 1})
	epsAfter, _ = Epsilon(next, b.Delta, a.Orders)
	return epsAfter <= b.Epsilon, epsAfter
}

// maxNoiseMultiplier bounds NoiseMultiplier's search (Opacus MAX_SIGMA).
const maxNoiseMultiplier = 1e6

// NoiseMultiplier returns the noise multiplier σ that keeps rounds
// applications of the Gaussian mechanism with sampling rate q within
// (targetEps, delta), by Opacus' get_noise_multiplier: double σ from 20
// until ε <= targetEps, then bisect until ε is within tolerance (Opacus'
// default 0.01) below targetEps; the result is the upper end, so its ε
// never exceeds targetEps. ErrBudget when even σ = 1e6 is not enough.
func NoiseMultiplier(targetEps, delta, q float64, rounds int, tolerance float64) (float64, error) {
	if !(targetEps > 0) || !(delta > 0 && delta < 1) || !(q > 0 && q <= 1) || rounds < 1 || !(tolerance > 0) {
		return 0, fmt.Errorf("%w: noise multiplier for eps=%v delta=%v q=%v rounds=%d tolerance=%v", ErrBudget, targetEps, delta, q, rounds, tolerance)
	}
	orders := DefaultOrders()
	eps := func(sigma float64) float64 {
		e, _ := Epsilon([]Step{{Sigma: sigma, Q: q, Count: rounds}}, delta, orders)
		return e
	}
	lo, hi := 0.0, 10.0
	epsHi := math.Inf(1)
	for epsHi > targetEps {
		hi *= 2
		epsHi = eps(hi)
		if hi > maxNoiseMultiplier {
			return 0, fmt.Errorf("%w: epsilon %v at delta %v over %d rounds needs a noise multiplier above %g", ErrBudget, targetEps, delta, rounds, float64(maxNoiseMultiplier))
		}
	}
	for targetEps-epsHi > tolerance {
		mid := (lo + hi) / 2
		if e := eps(mid); e < targetEps {
			hi, epsHi = mid, e
		} else {
			lo = mid
		}
	}
	return hi, nil
}
