package detector

import (
	"fmt"
	"math"

	gg "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// aeTrainer is the autoencoder's fast training engine, as bilstmTrainer is
// the BiLSTM's: forward and backward in plain Go on sgemmAcc (AVX2 where a
// layer is a multiple of 8 wide, the bit-identical Go kernel elsewhere),
// tanhRational on the hidden layers, Adam as gorgonia does it, and
// mini-batches cut into trainShards shards summed in a fixed order. It
// trains the layer part of the flat weights (aeDims) on rows already
// transformed (aeNet.transform); the loss is the mean squared error over
// the batch and the features, as the gorgonia graph's.
type aeTrainer struct {
	d      aeDims
	avx2   bool
	w      []float32   // the layers, flat: (in_l+1) × out_l each
	off    []int       // offset of layer l in w
	wT     [][]float32 // layer l's weights without the bias row, transposed: out_l × in_l
	grad   []float32
	opt    *adam
	shards []*aeShard
	rows   []float32 // the training rows, F each
}

type aeShard struct {
	h    [][]float32 // per layer input l: cap × (size_l+1), last column 1 (layer 0: the rows)
	out  []float32   // cap × F: the reconstruction
	dz   [][]float32 // per layer l: cap × out_l, gradient w.r.t. its output pre-activation
	hT   []float32   // scratch: a layer input transposed
	grad []float32
	loss float64
}

func (d aeDims) layerOffsets() []int {
	s := d.sizes()
	off := make([]int, len(s)-1)
	for l, o := 0, 0; l+1 < len(s); l++ {
		off[l] = o
		o += (s[l] + 1) * s[l+1]
	}
	return off
}

// initLayers returns seeded initial layer weights: Glorot-uniform
// matrices, zero biases.
func (d aeDims) initLayers(seed int64) []float32 {
	w := make([]float32, d.layerSize())
	r := newRand(seed, 3)
	s := d.sizes()
	off := 0
	for l := 0; l+1 < len(s); l++ {
		glorotFill(w[off:off+s[l]*s[l+1]], s[l], s[l+1], r)
		off += (s[l] + 1) * s[l+1]
	}
	return w
}

func newAETrainer(d aeDims, layers, rows []float32, avx2 bool) *aeTrainer {
	t := &aeTrainer{d: d, avx2: avx2 && haveAVX2FMA, w: append([]float32(nil), layers...), off: d.layerOffsets(),
		grad: make([]float32, d.layerSize()), rows: rows}
	s := d.sizes()
	for l := 0; l+1 < len(s); l++ {
		t.wT = append(t.wT, make([]float32, s[l]*s[l+1]))
	}
	t.derive()
	return t
}

// derive recomputes the transposed weights from w.
func (t *aeTrainer) derive() {
	s := t.d.sizes()
	for l := 0; l+1 < len(s); l++ {
		in, out := s[l], s[l+1]
		W := t.w[t.off[l]:]
		for k := 0; k < in; k++ {
			for j := 0; j < out; j++ {
				t.wT[l][j*in+k] = W[k*out+j]
			}
		}
	}
}

func (t *aeTrainer) shardsFor(cap int) []*aeShard {
	if len(t.shards) == trainShards && len(t.shards[0].out) >= cap*t.d.F {
		return t.shards
	}
	s := t.d.sizes()
	t.shards = make([]*aeShard, trainShards)
	for i := range t.shards {
		sh := &aeShard{out: make([]float32, cap*t.d.F), grad: make([]float32, t.d.layerSize())}
		maxW := 0
		for l, sz := range s {
			if l+1 < len(s) {
				h := make([]float32, cap*(sz+1))
				for r := 0; r < cap; r++ {
					h[r*(sz+1)+sz] = 1
				}
				sh.h = append(sh.h, h)
				sh.dz = append(sh.dz, make([]float32, cap*s[l+1]))
			}
			maxW = max(maxW, sz+1)
		}
		sh.hT = make([]float32, maxW*cap)
		t.shards[i] = sh
	}
	return t.shards
}

// gradient computes the loss of the rows idx and its gradient into t.grad.
func (t *aeTrainer) gradient(idx []int) float64 {
	per := (len(idx) + trainShards - 1) / trainShards
	shards := t.shardsFor(per)
	scale := float32(2 / float64(len(idx)*t.d.F)) // d mean(e²)/d e = 2e/N
	parallel(trainShards, func(i int) {
		lo, hi := min(i*per, len(idx)), min((i+1)*per, len(idx))
		t.shardGradient(shards[i], idx[lo:hi], scale)
	})
	copy(t.grad, shards[0].grad)
	loss := shards[0].loss
	for _, s := range shards[1:] {
		for i, v := range s.grad {
			t.grad[i] += v
		}
		loss += s.loss
	}
	return loss / float64(len(idx)*t.d.F)
}

func (t *aeTrainer) update(lr float64) {
	if t.opt == nil {
		t.opt = newAdam(lr, len(t.w))
	}
	t.opt.lr = lr
	t.opt.step(t.w, t.grad)
	t.derive()
}

func (t *aeTrainer) shardGradient(s *aeShard, idx []int, scale float32) {
	clear(s.grad)
	s.loss = 0
	n := len(idx)
	if n == 0 {
		return
	}
	sz := t.d.sizes()
	F, L := t.d.F, len(sz)-1
	// Forward.
	in := s.h[0]
	for r, i := range idx {
		copy(in[r*(F+1):r*(F+1)+F], t.rows[i*F:(i+1)*F])
	}
	for l := 0; l < L; l++ {
		a, b := sz[l]+1, sz[l+1]
		var z []float32
		if l+1 < L {
			z = s.dz[l][:n*b] // pre-activations, then tanh, copied into the next input
			clear(z)
		} else {
			z = s.out[:n*b]
			clear(z)
		}
		sgemmAcc(t.avx2, z, s.h[l][:n*a], t.w[t.off[l]:t.off[l]+a*b], n, a, b)
		if l+1 < L {
			next := s.h[l+1]
			for r := 0; r < n; r++ {
				for j, v := range z[r*b : (r+1)*b] {
					next[r*(b+1)+j] = tanhRational(v)
				}
			}
		}
	}
	// Output error: loss and its gradient.
	dz := s.dz[L-1][:n*F]
	for r := 0; r < n; r++ {
		x := in[r*(F+1) : r*(F+1)+F]
		for j, o := range s.out[r*F : (r+1)*F] {
			e := o - x[j]
			s.loss += float64(e) * float64(e)
			dz[r*F+j] = float32(e * scale)
		}
	}
	// Backward.
	for l := L - 1; l >= 0; l-- {
		a, b := sz[l]+1, sz[l+1]
		h := s.h[l][:n*a]
		hT := s.hT[:a*n]
		for r := 0; r < n; r++ {
			for k, v := range h[r*a : (r+1)*a] {
				hT[k*n+r] = v
			}
		}
		dzl := s.dz[l][:n*b]
		sgemmAcc(t.avx2, s.grad[t.off[l]:t.off[l]+a*b], hT, dzl, a, n, b)
		if l == 0 {
			break
		}
		// dz_{l-1} = (dz_l · W_lᵀ) ⊙ tanh'(z_{l-1}), tanh' = 1 − h² with h
		// the layer's input (the previous layer's tanh).
		prev := s.dz[l-1][:n*(a-1)]
		clear(prev)
		sgemmAcc(t.avx2, prev, dzl, t.wT[l], n, b, a-1)
		for r := 0; r < n; r++ {
			hr := h[r*a : r*a+a-1]
			for j, v := range prev[r*(a-1) : (r+1)*(a-1)] {
				prev[r*(a-1)+j] = v * float32(1-float32(hr[j]*hr[j]))
			}
		}
	}
}

// aeFastEngine is the fast engine behind nnEngine.
type aeFastEngine struct{ t *aeTrainer }

func newAEFastEngine(d aeDims, layers, rows []float32, avx2 bool) *aeFastEngine {
	return &aeFastEngine{t: newAETrainer(d, layers, rows, avx2)}
}

func (e *aeFastEngine) step(idx []int, lr float64) (float64, error) {
	loss := e.t.gradient(idx)
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return loss, errDiverged(loss)
	}
	e.t.update(lr)
	return loss, nil
}

func (e *aeFastEngine) weights() []float32 { return append([]float32(nil), e.t.w...) }

// aeGorgonia is the reference engine: gorgonia's graph and AdamSolver.
type aeGorgonia struct {
	g      *aeGraph
	solver *gg.AdamSolver
	lr     float64
	rows   []float32
}

func newAEGorgonia(d aeDims, batch int, layers []float32, lr float64, rows []float32) (*aeGorgonia, error) {
	g, err := newAEGraph(d, batch, tensor.Float32, true)
	if err != nil {
		return nil, err
	}
	g.setWeights(layers)
	return &aeGorgonia{g: g, solver: gg.NewAdamSolver(gg.WithLearnRate(lr)), lr: lr, rows: rows}, nil
}

func (e *aeGorgonia) step(idx []int, lr float64) (float64, error) {
	e.g.load(e.rows, idx)
	loss, err := e.g.run()
	if err != nil {
		return 0, err
	}
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return loss, errDiverged(loss)
	}
	if lr != e.lr {
		gg.WithLearnRate(lr)(e.solver)
		e.lr = lr
	}
	if err := e.solver.Step(gg.NodesToValueGrads(e.g.params)); err != nil {
		return 0, fmt.Errorf("adam: %w", err)
	}
	return loss, nil
}

func (e *aeGorgonia) weights() []float32 { return e.g.layers() }
