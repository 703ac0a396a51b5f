package detector

import "math"

// adam is the Adam optimiser of the training engine: gorgonia v0.9.18's
// AdamSolver on float32 tensors (defaults β1 0.9, β2 0.999, ε 1e-8, no
// regularisation, no clipping), operation for operation, so that the same
// gradients give the same weights as the reference engine
// (TestAdamMatchesGorgonia). The moments are kept per weight, in whatever
// layout the caller's weight vector has.
type adam struct {
	lr                float64
	beta1, beta2, eps float64
	iter              int
	m, v              []float32
}

func newAdam(lr float64, n int) *adam {
	return &adam{lr: lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, m: make([]float32, n), v: make([]float32, n)}
}

// step applies one update to w with the gradient g (same length).
func (a *adam) step(w, g []float32) {
	a.iter++
	correction1 := 1 - math.Pow(a.beta1, float64(a.iter))
	correction2 := 1 - math.Pow(a.beta2, float64(a.iter))
	beta1, beta2 := float32(a.beta1), float32(a.beta2)
	omb1, omb2 := float32(1)-beta1, float32(1)-beta2
	cv1, cv2 := float32(1)/float32(correction1), float32(1)/float32(correction2)
	eps, negEta := float32(a.eps), -float32(a.lr)
	m, v := a.m[:len(w)], a.v[:len(w)]
	g = g[:len(w)]
	for i, gi := range g {
		t1 := float32(gi * omb1)
		g2 := float32(float32(gi*gi) * omb2)
		mi := t1 + float32(m[i]*beta1)
		vi := g2 + float32(v[i]*beta2)
		m[i], v[i] = mi, vi
		mhat := float32(mi * cv1)
		vhat := float32(math.Sqrt(float64(float32(vi*cv2)))) + eps
		w[i] += float32(mhat*negEta) / vhat
	}
}
