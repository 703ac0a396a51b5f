package chaintraffic

import (
	"math"
	"math/big"
	"math/rand/v2"
	"sort"
)

// lognormal draws median·e^(sigma·N(0,1)) whole units as base units of
// the given decimals: a heavy-tailed amount.
func lognormal(r *rand.Rand, median, sigma float64, decimals int) *big.Int {
	x := median * math.Exp(sigma*r.NormFloat64())
	f := new(big.Float).SetFloat64(x)
	f.Mul(f, new(big.Float).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(decimals)), nil)))
	v, _ := f.Int(nil)
	return v
}

// frac is x·f, to a millionth.
func frac(x *big.Int, f float64) *big.Int {
	v := new(big.Int).Mul(x, big.NewInt(int64(f*1e6)))
	return v.Quo(v, big.NewInt(1e6))
}

// zipfWeights are cumulative weights of n items, the k-th most active
// (in an order drawn from r) weighing 1/k^s: a few accounts make most of
// the traffic, most make little.
func zipfWeights(r *rand.Rand, n int, s float64) []float64 {
	rank := r.Perm(n)
	cum := make([]float64, n)
	total := 0.0
	for i := range n {
		total += 1 / math.Pow(float64(rank[i]+1), s)
		cum[i] = total
	}
	return cum
}

// pick draws an index with the cumulative weights cum.
func pick(r *rand.Rand, cum []float64) int {
	x := r.Float64() * cum[len(cum)-1]
	return min(sort.SearchFloat64s(cum, x), len(cum)-1)
}

func fillRandom(r *rand.Rand, b []byte) {
	for i := range b {
		b[i] = byte(r.Uint32())
	}
}
