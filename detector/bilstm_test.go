package detector

import (
	"errors"
	"math"
	"sync"
	"testing"

	gg "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// randomSeqs returns n windows of shape t×f with values in [0,1).
func randomSeqs(n, t, f int, seed int64) Seqs {
	x := NewSeqs(n, t, f)
	r := newRand(seed, 99)
	for i := range x.Data {
		x.Data[i] = r.Float32()
	}
	return x
}

// randomBiLSTM returns a model with seeded weights scaled by gain, so that
// the gates are not all near their linear range.
func randomBiLSTM(t *testing.T, T, F, H, C int, gain float32) *BiLSTM {
	return randomBiLSTMPos(t, T, F, H, C, gain, true)
}

func randomBiLSTMPos(t *testing.T, T, F, H, C int, gain float32, positional bool) *BiLSTM {
	t.Helper()
	classes := []string{"Benign", "DoS", "DDoS", "Reconnaissance", "Theft"}[:C]
	pos := 0.0
	if positional {
		pos = 1
	}
	m, err := NewBiLSTM(ModelConfig{T: T, F: F, Hidden: H, Classes: classes, Seed: 7, Params: map[string]float64{"positional": pos}})
	if err != nil {
		t.Fatal(err)
	}
	w := m.d.initWeights(7)
	r := newRand(8, 0)
	for i := range w {
		w[i] = w[i]*gain + 0.1*(r.Float32()-0.5)
	}
	if err := m.SetWeights(w); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestBiLSTMServeMatchesGorgonia(t *testing.T) {
	for _, tc := range []struct {
		T, F, H, C, batch, n int
		positional           bool
	}{
		{T: 10, F: 1, H: 32, C: 5, batch: 16, n: 37, positional: true},
		{T: 10, F: 1, H: 32, C: 5, batch: 16, n: 37},
		{T: 4, F: 6, H: 8, C: 3, batch: 5, n: 11, positional: true},
	} {
		m := randomBiLSTMPos(t, tc.T, tc.F, tc.H, tc.C, 2, tc.positional)
		x := randomSeqs(tc.n, tc.T, tc.F, 3)
		gp, err := NewGorgoniaPredictor(m, tc.batch)
		if err != nil {
			t.Fatal(err)
		}
		want, err := gp.Probs(x)
		if err != nil {
			t.Fatal(err)
		}
		// Both serving kernels: the AVX2 one where this CPU has it, and
		// the portable one (gonum SGEMM and the activation table).
		kernels := []bool{false}
		if m.net.avx2 {
			kernels = append(kernels, true)
		}
		for _, avx2 := range kernels {
			m.net.avx2 = avx2
			preds, err := m.Predict(x)
			if err != nil {
				t.Fatal(err)
			}
			var maxDiff float64
			for i, p := range preds {
				for c, v := range p.Probs {
					maxDiff = math.Max(maxDiff, math.Abs(float64(v-want[i*tc.C+c])))
				}
			}
			if maxDiff > 1e-5 {
				t.Errorf("%+v avx2=%v: serving vs gorgonia max |Δp| = %g, want <= 1e-5", tc, avx2, maxDiff)
			}
			t.Logf("%+v avx2=%v: max |Δp| = %.2g", tc, avx2, maxDiff)
		}
	}
}

// TestBiLSTMGradientCheck compares gorgonia's symbolic gradient of the
// class-weighted loss with central finite differences, in float64.
func TestBiLSTMGradientCheck(t *testing.T) {
	d := bilstmDims{T: 3, F: 2, H: 3, C: 3, P: 3}
	const batch = 4
	g, err := newBiLSTMGraph(d, batch, tensor.Float64, true)
	if err != nil {
		t.Fatal(err)
	}
	w32 := d.initWeights(11)
	r := newRand(12, 0)
	w := make([]float64, len(w32))
	for i, v := range w32 {
		w[i] = 1.5*float64(v) + 0.2*(r.Float64()-0.5)
	}
	// Three real rows and one padding row, unequal class weights.
	x := randomSeqs(3, d.T, d.F, 13)
	y := []int{0, 2, 1}
	classW := []float32{1, 3, 0.5}
	g.load(x, []int{0, 1, 2}, y, classW)
	g.setWeights(w)
	loss, err := g.run()
	if err != nil {
		t.Fatal(err)
	}
	// The loss itself must be the class-weighted mean cross-entropy of the
	// serving path's probabilities (this caught SoftMax/LogSoftMax merging).
	m, err := NewBiLSTM(ModelConfig{T: d.T, F: d.F, Hidden: d.H, Classes: []string{"a", "b", "c"}})
	if m.d != d {
		t.Fatalf("model dims %+v, graph dims %+v", m.d, d)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SetWeights(nnFloat32(w)); err != nil {
		t.Fatal(err)
	}
	_, wantLoss := m.validate(newBiLSTMTrainer(m.d, m.w, true), Labeled{X: x, Y: y}, classW)
	if math.Abs(loss-wantLoss) > 1e-5 {
		t.Fatalf("graph loss %v, want weighted cross-entropy %v", loss, wantLoss)
	}
	grad, err := g.grads()
	if err != nil {
		t.Fatal(err)
	}
	const eps = 1e-6
	var worst float64
	for i := range w {
		orig := w[i]
		w[i] = orig + eps
		g.setWeights(w)
		lp, err := g.run()
		if err != nil {
			t.Fatal(err)
		}
		w[i] = orig - eps
		g.setWeights(w)
		lm, err := g.run()
		if err != nil {
			t.Fatal(err)
		}
		w[i] = orig
		num := (lp - lm) / (2 * eps)
		rel := math.Abs(num-grad[i]) / math.Max(1e-6, math.Abs(num)+math.Abs(grad[i]))
		if rel > worst {
			worst = rel
		}
		if rel > 1e-4 {
			t.Errorf("param %d: analytic %g, numeric %g (rel %g)", i, grad[i], num, rel)
		}
	}
	t.Logf("%d parameters, worst relative error %.2g", len(w), worst)
}

// TestBiLSTMSliceBoundTrap keeps gorgonia v0.9.18's slice-hashing bug in
// view: slices [t] and [t+256] of one node hash alike and are merged, so a
// graph reading step 261 silently reads step 5. The BiLSTM must refuse any
// size that would need such a bound.
func TestBiLSTMSliceBoundTrap(t *testing.T) {
	g := gg.NewGraph()
	const steps = 300
	xv := tensor.New(tensor.WithShape(steps, 1, 1), tensor.WithBacking(func() []float64 {
		v := make([]float64, steps)
		for i := range v {
			v[i] = float64(i)
		}
		return v
	}()))
	x := gg.NewTensor(g, tensor.Float64, 3, gg.WithShape(steps, 1, 1), gg.WithName("x"), gg.WithValue(xv))
	a := gg.Must(gg.Slice(x, gg.S(5)))
	b := gg.Must(gg.Slice(x, gg.S(261)))
	vm := gg.NewTapeMachine(g)
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	va, vb := firstValue(a), firstValue(b)
	if va == vb {
		t.Logf("gorgonia merged slice [5] and [261] (both read %v): the trap is present", va)
	} else {
		t.Logf("gorgonia kept slice [5]=%v and [261]=%v apart: the trap seems fixed in this version", va, vb)
	}

	for _, d := range []bilstmDims{
		{T: 256, F: 1, H: 8, C: 2},
		{T: 10, F: 200, H: 60, C: 2},
		{T: 150, F: 1, H: 110, C: 2, P: 150},
		{T: 10, F: 1, H: 128, C: 2},
	} {
		if err := d.validate(); !errors.Is(err, ErrShape) {
			t.Errorf("%+v: validate = %v, want ErrShape", d, err)
		}
	}
	if _, err := NewBiLSTM(ModelConfig{T: 300, F: 1, Classes: []string{"a", "b"}}); !errors.Is(err, ErrShape) {
		t.Errorf("NewBiLSTM T=300: %v, want ErrShape", err)
	}
	// The largest allowed T still matches the serving path step by step: a
	// wrong step read anywhere would show here.
	m := randomBiLSTMPos(t, 255, 1, 2, 2, 2, false)
	xs := randomSeqs(2, 255, 1, 5)
	gp, err := NewGorgoniaPredictor(m, 2)
	if err != nil {
		t.Fatal(err)
	}
	want, err := gp.Probs(xs)
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.Predict(xs)
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		for c, v := range got[i].Probs {
			if math.Abs(float64(v-want[i*2+c])) > 1e-5 {
				t.Fatalf("T=255 window %d class %d: serving %v, gorgonia %v", i, c, v, want[i*2+c])
			}
		}
	}
}

func firstValue(n *gg.Node) float64 {
	switch v := n.Value().Data().(type) {
	case float64:
		return v
	case []float64:
		return v[0]
	}
	return math.NaN()
}

func TestBiLSTMBatchIndependence(t *testing.T) {
	m := randomBiLSTM(t, 8, 2, 16, 4, 2)
	x := randomSeqs(300, 8, 2, 21) // large enough to be split across goroutines
	all, err := m.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 1, 150, 299} {
		one, err := m.Predict(x.Slice(i, i+1))
		if err != nil {
			t.Fatal(err)
		}
		for c := range one[0].Probs {
			if one[0].Probs[c] != all[i].Probs[c] {
				t.Fatalf("row %d class %d: alone %v, in batch %v", i, c, one[0].Probs[c], all[i].Probs[c])
			}
		}
	}
	// The gorgonia graph pads a short batch; padding must not leak into the
	// real rows either.
	gp, err := NewGorgoniaPredictor(m, 16)
	if err != nil {
		t.Fatal(err)
	}
	full, err := gp.Probs(x.Slice(0, 16))
	if err != nil {
		t.Fatal(err)
	}
	short, err := gp.Probs(x.Slice(0, 3))
	if err != nil {
		t.Fatal(err)
	}
	for i := range short {
		if math.Abs(float64(short[i]-full[i])) > 1e-6 {
			t.Fatalf("gorgonia prob %d: padded batch %v, full batch %v", i, short[i], full[i])
		}
	}
}

func TestBiLSTMWeightsRoundTrip(t *testing.T) {
	m := randomBiLSTM(t, 6, 1, 8, 3, 1)
	x := randomSeqs(20, 6, 1, 31)
	want, _ := m.Predict(x)

	m2, err := NewBiLSTM(m.Config())
	if err != nil {
		t.Fatal(err)
	}
	if err := m2.SetWeights(m.Weights()); err != nil {
		t.Fatal(err)
	}
	blob, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var m3 BiLSTM
	if err := m3.UnmarshalBinary(blob); err != nil {
		t.Fatal(err)
	}
	blob3, _ := m3.MarshalBinary()
	if string(blob3) != string(blob) {
		t.Error("MarshalBinary after UnmarshalBinary differs")
	}
	for _, mm := range []*BiLSTM{m2, &m3} {
		got, err := mm.Predict(x)
		if err != nil {
			t.Fatal(err)
		}
		for i := range got {
			for c := range got[i].Probs {
				if got[i].Probs[c] != want[i].Probs[c] {
					t.Fatalf("row %d: %v, want %v", i, got[i].Probs, want[i].Probs)
				}
			}
		}
	}
	if err := m2.SetWeights(make([]float32, 3)); !errors.Is(err, ErrShape) {
		t.Errorf("SetWeights(short) = %v, want ErrShape", err)
	}
	if _, err := m.Predict(randomSeqs(2, 5, 1, 1)); !errors.Is(err, ErrShape) {
		t.Errorf("Predict(wrong T) = %v, want ErrShape", err)
	}
}

func TestBiLSTMConcurrentPredict(t *testing.T) {
	m := randomBiLSTM(t, 10, 1, 16, 4, 2)
	x := randomSeqs(70, 10, 1, 41)
	want, _ := m.Predict(x)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for k := 0; k < 20; k++ {
				lo := (g + k) % 60
				got, err := m.Predict(x.Slice(lo, lo+10))
				if err != nil {
					t.Error(err)
					return
				}
				for i := range got {
					if got[i].Probs[0] != want[lo+i].Probs[0] {
						t.Errorf("goroutine %d: row %d differs", g, lo+i)
						return
					}
				}
			}
		}(g)
	}
	wg.Wait()
}

// syntheticSeqs makes a 3-class problem only a sequence model solves well:
// class 0 has no spike, class 1 a spike in the first half, class 2 in the
// second half.
func syntheticSeqs(n, T int, seed int64) Labeled {
	r := newRand(seed, 5)
	l := Labeled{X: NewSeqs(n, T, 1), Y: make([]int, n)}
	for i := 0; i < n; i++ {
		win := l.X.At(i)
		for t := range win {
			win[t] = 0.3 * r.Float32()
		}
		c := i % 3
		l.Y[i] = c
		switch c {
		case 1:
			win[r.IntN(T/2)] = 0.9
		case 2:
			win[T/2+r.IntN(T-T/2)] = 0.9
		}
	}
	return l
}

func TestBiLSTMLearnsSynthetic(t *testing.T) {
	const T = 8
	train := syntheticSeqs(600, T, 1)
	valid := syntheticSeqs(150, T, 2)
	test := syntheticSeqs(300, T, 3)
	m, err := NewBiLSTM(ModelConfig{T: T, F: 1, Hidden: 12, Classes: []string{"Benign", "early", "late"}, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	err = m.Fit(train, valid, TrainConfig{Epochs: 40, BatchSize: 32, LearningRate: 0.02, Patience: 8, Seed: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	preds, err := m.Predict(test.X)
	if err != nil {
		t.Fatal(err)
	}
	ok := 0
	for i, p := range preds {
		if p.Class == test.Y[i] {
			ok++
		}
	}
	acc := float64(ok) / float64(len(preds))
	h := m.History()
	t.Logf("epochs %d, last train loss %.4f, test accuracy %.3f", len(h), h[len(h)-1].TrainLoss, acc)
	if acc < 0.95 {
		t.Errorf("test accuracy %.3f, want >= 0.95", acc)
	}
}
