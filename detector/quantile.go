package detector

import (
	"cmp"
	"math"
	"slices"
)

// Quantile is the one quantile definition behind every p50, p95 and p99
// idsledger reports, in its benchmarks, evaluations and reports: the
// nearest rank, the smallest value v of xs such that at least a fraction q
// of xs is at most v (sorted xs[ceil(q·n)−1]). It is always one of the
// measured values, never an interpolation between two. PostgreSQL's
// percentile_disc computes the same, and the SQL reports use it. xs is not
// modified; an empty xs gives the zero value.
func Quantile[T cmp.Ordered](xs []T, q float64) T {
	var zero T
	if len(xs) == 0 {
		return zero
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}
