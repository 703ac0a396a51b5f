package detector

import (
	"math"
	"math/rand/v2"
)

// This file holds the numeric helpers shared by the neural models' plain-Go
// serving paths (serve_*.go) and their weight initialisation. Nothing here
// allocates or depends on gorgonia.

// dot4 sets out[j] += Σ_k z[k]·w_j[k] for the four rows w0..w3, all of
// len(z). Computing four outputs per pass over z keeps z[k] in a register
// and gives the CPU four independent accumulators.
func dot4(z, w0, w1, w2, w3 []float32) (s0, s1, s2, s3 float32) {
	w0 = w0[:len(z)]
	w1 = w1[:len(z)]
	w2 = w2[:len(z)]
	w3 = w3[:len(z)]
	for k, zk := range z {
		s0 += zk * w0[k]
		s1 += zk * w1[k]
		s2 += zk * w2[k]
		s3 += zk * w3[k]
	}
	return
}

// matVecT computes out[j] = Σ_k z[k]·wt[j·len(z)+k] for j < len(out): a
// vector times a matrix stored transposed (one row of wt per output), so
// every output is a contiguous dot product.
func matVecT(out, z, wt []float32) {
	n := len(z)
	wt = wt[:len(out)*n]
	j := 0
	for ; j+4 <= len(out); j += 4 {
		b := j * n
		s0, s1, s2, s3 := dot4(z, wt[b:b+n], wt[b+n:b+2*n], wt[b+2*n:b+3*n], wt[b+3*n:b+4*n])
		out[j], out[j+1], out[j+2], out[j+3] = s0, s1, s2, s3
	}
	for ; j < len(out); j++ {
		var s float32
		row := wt[j*n : (j+1)*n]
		for k, zk := range z {
			s += zk * row[k]
		}
		out[j] = s
	}
}

// softmaxInto writes the softmax of logits into p (same length), computed in
// float64 for accuracy; it returns the arg-max index.
func softmaxInto(p, logits []float32) int {
	best := 0
	for i, v := range logits {
		if v > logits[best] {
			best = i
		}
	}
	m := float64(logits[best])
	var sum float64
	for i, v := range logits {
		e := math.Exp(float64(v) - m)
		p[i] = float32(e)
		sum += e
	}
	for i := range p {
		p[i] = float32(float64(p[i]) / sum)
	}
	return best
}

// newRand returns the deterministic generator every neural model derives its
// initialisation and shuffling from, so that a seed fixes a training run.
func newRand(seed int64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), 0x1d5_1ed6e_0000+stream))
}

// glorotFill fills w with Glorot-uniform values for a layer with fanIn
// inputs and fanOut outputs.
func glorotFill(w []float32, fanIn, fanOut int, r *rand.Rand) {
	lim := math.Sqrt(6 / float64(fanIn+fanOut))
	for i := range w {
		w[i] = float32((2*r.Float64() - 1) * lim)
	}
}

// logf is the natural logarithm in float32 for x > 0 (x <= 0 gives the log
// of the smallest normal float32), accurate to about 1 ulp: x = m·2^e with
// m in [√½, √2), log m = 2·atanh(s), s = (m−1)/(m+1), by its odd series.
func logf(x float32) float32 {
	const minNormal = 1.17549435e-38
	if x < minNormal {
		x = minNormal
	}
	// Shift the bits so that the mantissa lands in [√½, √2) without a
	// (data-dependent, badly predicted) branch.
	const sqrtHalf = 0x3f3504f3 // bits of √½
	b := math.Float32bits(x) + (0x3f800000 - sqrtHalf)
	e := int32(b>>23) - 127
	m := math.Float32frombits(b&0x007fffff + sqrtHalf)
	s := (m - 1) / (m + 1)
	s2 := s * s
	p := float32(1.0 / 9)
	p = p*s2 + 1.0/7
	p = p*s2 + 1.0/5
	p = p*s2 + 1.0/3
	p = p*s2 + 1
	return 2*s*p + float32(e)*math.Ln2
}

// Table-driven activations for the serving path. sigmoid is tabulated on
// [-16, 16) at 256 points per unit, each entry holding σ(x_i) and
// σ(x_{i+1}) − σ(x_i), and read with linear interpolation: the error is at
// most h²/8·max|σ”| ≈ 1.9e-7 plus float32 rounding (3.7e-7 measured);
// beyond the range σ is within 1.2e-7 of 0 or 1. tanh(x) = 2σ(2x) − 1 reads
// the same table (error below 8e-7). This is about three times faster than
// a polynomial exp, and the serving path spends much of its time here.
const (
	sigSteps = 256           // table points per unit of x
	sigN     = 8192          // entries: x in [-16, 16)
	sigMaxP  = sigN - 1.0/64 // largest position read, exactly representable below sigN
)

var sigTab = func() *[sigN][2]float32 {
	var t [sigN][2]float32
	for i := range t {
		s0 := 1 / (1 + math.Exp(-(float64(i)/sigSteps - sigN/2/sigSteps)))
		s1 := 1 / (1 + math.Exp(-(float64(i+1)/sigSteps - sigN/2/sigSteps)))
		t[i] = [2]float32{float32(s0), float32(s1 - s0)}
	}
	return &t
}()

// sigmoidTab is σ(x) from sigTab.
func sigmoidTab(x float32) float32 {
	p := x*sigSteps + sigN/2
	if p < 0 {
		p = 0
	} else if p > sigMaxP {
		p = sigMaxP
	}
	i := int32(p)
	v := &sigTab[i&(sigN-1)] // the mask proves the bound: no check
	return v[0] + (p-float32(i))*v[1]
}

// tanhTab is tanh(x) = 2σ(2x) − 1 from sigTab.
func tanhTab(x float32) float32 { return 2*sigmoidTab(2*x) - 1 }
