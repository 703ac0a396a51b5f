package detector

import (
	"fmt"
	"math"
	"runtime"
	"testing"

	gg "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// gradCase is a small BiLSTM with random weights and data for the gradient
// tests: rows windows, some of every class, unequal class weights.
type gradCase struct {
	d      bilstmDims
	w      []float32
	x      Seqs
	y      []int
	classW []float32
}

func newGradCase(d bilstmDims, rows int, seed int64) gradCase {
	w := d.initWeights(seed)
	r := newRand(seed, 77)
	for i := range w {
		w[i] = 1.5*w[i] + 0.2*(r.Float32()-0.5)
	}
	gc := gradCase{d: d, w: w, x: randomSeqs(rows, d.T, d.F, seed+1), y: make([]int, rows), classW: make([]float32, d.C)}
	for i := range gc.y {
		gc.y[i] = (i * 7) % d.C
	}
	for c := range gc.classW {
		gc.classW[c] = 0.5 + float32(c)
	}
	return gc
}

func (gc gradCase) idx() []int {
	idx := make([]int, gc.x.N)
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// fast returns the fast engine's loss and flat gradient.
func (gc gradCase) fast(avx2 bool) (float64, []float32) {
	t := newBiLSTMTrainer(gc.d, gc.w, avx2)
	loss := t.gradient(gc.x, gc.y, gc.idx(), gc.classW)
	g := make([]float32, gc.d.size())
	t.pk.unpack(g, t.grad)
	return loss, g
}

// gorgonia returns the float64 graph's loss and gradient (the reference,
// itself checked against finite differences by TestBiLSTMGradientCheck).
func (gc gradCase) gorgonia(t *testing.T) (float64, []float64) {
	g, err := newBiLSTMGraph(gc.d, gc.x.N, tensor.Float64, true)
	if err != nil {
		t.Fatal(err)
	}
	w := make([]float64, len(gc.w))
	for i, v := range gc.w {
		w[i] = float64(v)
	}
	g.setWeights(w)
	g.load(gc.x, gc.idx(), gc.y, gc.classW)
	loss, err := g.run()
	if err != nil {
		t.Fatal(err)
	}
	grad, err := g.grads()
	if err != nil {
		t.Fatal(err)
	}
	return loss, grad
}

// blocks names the parameter blocks of the flat layout: each gate of each
// direction, and the dense layer.
func (d bilstmDims) blocks() (names []string, lo, hi []int) {
	for dir := 0; dir < 2; dir++ {
		for gate := 0; gate < 4; gate++ {
			names = append(names, fmt.Sprintf("%s gate %c", [2]string{"forward", "backward"}[dir], "ifgo"[gate]))
			lo = append(lo, d.gateOff(dir, gate))
			hi = append(hi, d.gateOff(dir, gate)+d.gateSize())
		}
	}
	return append(names, "dense"), append(lo, d.denseOff()), append(hi, d.size())
}

// blockError is max |got−want| over a block relative to max |want|.
func blockError(got []float32, want []float64) float64 {
	var diff, scale float64
	for i := range want {
		diff = math.Max(diff, math.Abs(float64(got[i])-want[i]))
		scale = math.Max(scale, math.Abs(want[i]))
	}
	return diff / math.Max(scale, 1e-12)
}

var gradDims = []bilstmDims{
	{T: 4, F: 2, H: 8, C: 3, P: 4}, // the AVX2 kernels (H a multiple of 8)
	{T: 3, F: 1, H: 5, C: 4},       // the Go kernels only, no positional input
	{T: 6, F: 1, H: 16, C: 5, P: 6},
}

// TestBiLSTMFastGradient holds the fast engine's loss and gradient to
// gorgonia's float64 graph, block by block (every gate of each direction,
// the dense layer), on random weights and data; and to central finite
// differences of its own loss.
func TestBiLSTMFastGradient(t *testing.T) {
	for _, d := range gradDims {
		gc := newGradCase(d, 7, 31)
		loss, grad := gc.fast(true)
		refLoss, ref := gc.gorgonia(t)
		if math.Abs(loss-refLoss) > 1e-5*math.Max(1, refLoss) {
			t.Errorf("%+v: loss %v, gorgonia %v", d, loss, refLoss)
		}
		names, lo, hi := d.blocks()
		for b, name := range names {
			e := blockError(grad[lo[b]:hi[b]], ref[lo[b]:hi[b]])
			t.Logf("%+v %s: relative error vs gorgonia %.2g", d, name, e)
			if e > 1e-4 {
				t.Errorf("%+v %s: gradient differs from gorgonia's by %.2g (relative to the block's largest)", d, name, e)
			}
		}
		// Finite differences of the fast loss, in float64 around float32
		// weights; eps large enough for float32's noise, small enough for
		// the curvature.
		const eps = 1e-2
		num := make([]float64, len(gc.w))
		for i := range gc.w {
			orig := gc.w[i]
			gc.w[i] = orig + eps
			lp, _ := gc.fast(true)
			gc.w[i] = orig - eps
			lm, _ := gc.fast(true)
			gc.w[i] = orig
			num[i] = (lp - lm) / (2 * eps)
		}
		for b, name := range names {
			e := blockError(grad[lo[b]:hi[b]], num[lo[b]:hi[b]])
			if e > 2e-3 {
				t.Errorf("%+v %s: gradient differs from finite differences by %.2g", d, name, e)
			}
		}
	}
}

// TestBiLSTMFastKernelsAgree: the Go kernels and the AVX2 ones give the
// same loss and gradient, bit for bit, and so does any GOMAXPROCS.
func TestBiLSTMFastKernelsAgree(t *testing.T) {
	for _, d := range gradDims {
		gc := newGradCase(d, 11, 5)
		loss, grad := gc.fast(true)
		prev := runtime.GOMAXPROCS(1)
		loss1, grad1 := gc.fast(false)
		runtime.GOMAXPROCS(4)
		loss4, grad4 := gc.fast(true)
		runtime.GOMAXPROCS(prev)
		if loss1 != loss || loss4 != loss {
			t.Errorf("%+v: loss %v (AVX2 where present), %v (Go kernels, 1 core), %v (4 procs)", d, loss, loss1, loss4)
		}
		for i := range grad {
			if math.Float32bits(grad[i]) != math.Float32bits(grad1[i]) || math.Float32bits(grad[i]) != math.Float32bits(grad4[i]) {
				t.Fatalf("%+v: gradient %d: %v, %v (Go kernels, 1 core), %v (4 procs)", d, i, grad[i], grad1[i], grad4[i])
			}
		}
	}
}

// TestAdamMatchesGorgonia: the fast engine's Adam gives gorgonia's
// AdamSolver's weights for the same gradients, step after step.
func TestAdamMatchesGorgonia(t *testing.T) {
	d := bilstmDims{T: 3, F: 1, H: 4, C: 3, P: 3}
	gc := newGradCase(d, 6, 9)
	g, err := newBiLSTMGraph(d, gc.x.N, tensor.Float32, true)
	if err != nil {
		t.Fatal(err)
	}
	w64 := make([]float64, len(gc.w))
	for i, v := range gc.w {
		w64[i] = float64(v)
	}
	g.setWeights(w64)
	solver := gg.NewAdamSolver(gg.WithLearnRate(0.01))
	opt := newAdam(0.01, len(gc.w))
	w := append([]float32(nil), gc.w...)
	for step := 0; step < 5; step++ {
		if step == 3 { // as reduce-on-plateau does
			gg.WithLearnRate(0.005)(solver)
			opt.lr = 0.005
		}
		g.load(gc.x, gc.idx(), gc.y, gc.classW)
		if _, err := g.run(); err != nil {
			t.Fatal(err)
		}
		grad64, err := g.grads()
		if err != nil {
			t.Fatal(err)
		}
		if err := solver.Step(gg.NodesToValueGrads(g.params)); err != nil {
			t.Fatal(err)
		}
		opt.step(w, nnFloat32(grad64))
		for i, v := range nnFloat32(g.weights()) {
			if math.Float32bits(v) != math.Float32bits(w[i]) {
				t.Fatalf("step %d weight %d: gorgonia %v, ours %v", step, i, v, w[i])
			}
		}
	}
}

// TestBiLSTMFitReproducible: a seeded Fit gives the same weights twice,
// on one core and on several, and the fast and gorgonia engines both
// learn the synthetic task.
func TestBiLSTMFitReproducible(t *testing.T) {
	const T = 8
	train, valid := syntheticSeqs(300, T, 1), syntheticSeqs(90, T, 2)
	fit := func(engine string, procs int) *BiLSTM {
		prev := runtime.GOMAXPROCS(procs)
		defer runtime.GOMAXPROCS(prev)
		m, err := NewBiLSTM(ModelConfig{T: T, F: 1, Hidden: 8, Classes: []string{"Benign", "early", "late"}, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Fit(train, valid, TrainConfig{Epochs: 6, BatchSize: 30, LearningRate: 0.02, Seed: 1, Engine: engine}, nil); err != nil {
			t.Fatal(err)
		}
		return m
	}
	a, b := fit("", 1), fit(EngineFast, 2)
	for i, v := range a.Weights() {
		if math.Float32bits(v) != math.Float32bits(b.Weights()[i]) {
			t.Fatalf("weight %d: %v on one core, %v on two", i, v, b.Weights()[i])
		}
	}
	g := fit(EngineGorgonia, 2)
	ha, hg := a.History(), g.History()
	t.Logf("after %d epochs: fast valid loss %.4f acc %.3f; gorgonia %.4f acc %.3f", len(ha),
		ha[len(ha)-1].ValidLoss, ha[len(ha)-1].ValidAcc, hg[len(hg)-1].ValidLoss, hg[len(hg)-1].ValidAcc)
	// Same schedule, same start, gradients equal to float32 rounding: the
	// two runs stay close over a few epochs.
	for e := range ha {
		if math.Abs(ha[e].TrainLoss-hg[e].TrainLoss) > 0.02*math.Max(ha[e].TrainLoss, 0.05) {
			t.Errorf("epoch %d: train loss fast %.5f, gorgonia %.5f", e+1, ha[e].TrainLoss, hg[e].TrainLoss)
		}
	}
	if _, err := checkEngine("tensorflow"); err == nil {
		t.Error("unknown engine accepted")
	}
}
