package detector

import (
	"errors"
	"math"
	"runtime"
	"sync"
	"testing"

	"gorgonia.org/tensor"
)

// syntheticRows returns n benign rows near a 2-D manifold embedded in f
// dimensions, plus n anomalies off it; values in [0,1].
func syntheticRows(n, f int, seed int64) Labeled {
	r := newRand(seed, 6)
	l := Labeled{X: NewSeqs(2*n, 1, f), Y: make([]int, 2*n)}
	for i := 0; i < 2*n; i++ {
		a, b := r.Float32(), r.Float32()
		row := l.X.At(i)
		for j := range row {
			v := 0.1 + 0.4*a*float32(j%3)/2 + 0.4*b*float32((j+1)%2) + 0.01*r.Float32()
			row[j] = v
		}
		if i >= n {
			l.Y[i] = 1
			for k := 0; k < 3; k++ {
				row[r.IntN(f)] = r.Float32()
			}
		}
	}
	return l
}

func fittedAE(t *testing.T, f int) (*Autoencoder, Labeled) {
	t.Helper()
	m, err := NewAutoencoder(ModelConfig{T: 1, F: f, Classes: []string{"Benign", "Attack"}, Hidden: 3,
		Params: map[string]float64{"width": 12}, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	train, valid := syntheticRows(400, f, 1), syntheticRows(100, f, 2)
	if err := m.Fit(train, valid, TrainConfig{Epochs: 60, Patience: 10, TargetFPR: 0.05, Seed: 1}, nil); err != nil {
		t.Fatal(err)
	}
	return m, syntheticRows(200, f, 3)
}

func TestAutoencoderLearnsSynthetic(t *testing.T) {
	m, test := fittedAE(t, 10)
	s, err := m.Scores(test.X)
	if err != nil {
		t.Fatal(err)
	}
	attack := make([]bool, len(s))
	for i, y := range test.Y {
		attack[i] = y != 0
	}
	auc := ROCAUC(s, attack)
	t.Logf("ROC-AUC %.4f, threshold %.4g", auc, m.Threshold())
	if auc < 0.95 {
		t.Errorf("ROC-AUC %.4f, want >= 0.95", auc)
	}
	// The threshold keeps the benign validation FPR at most TargetFPR.
	valid := syntheticRows(100, 10, 2)
	vs, _ := m.Scores(valid.X.Slice(0, 100))
	over := 0
	for _, v := range vs {
		if v >= m.Threshold() {
			over++
		}
	}
	if over > 5 {
		t.Errorf("%d of 100 benign validation rows at or above the threshold, want <= 5", over)
	}
}

func TestAutoencoderServeMatchesGorgonia(t *testing.T) {
	m, test := fittedAE(t, 10)
	F := m.d.F
	g, err := newAEGraph(m.d, 16, tensor.Float32, false)
	if err != nil {
		t.Fatal(err)
	}
	g.setWeights(m.w[2*F:])
	u := make([]float32, 16*F)
	idx := make([]int, 16)
	for i := range idx {
		idx[i] = i
		m.net.transform(u[i*F:(i+1)*F], test.X.At(i))
	}
	g.load(u, idx)
	if _, err := g.run(); err != nil {
		t.Fatal(err)
	}
	rec := g.out.Value().Data().([]float32)
	want, _ := m.Scores(test.X.Slice(0, 16))
	var worst float64
	for i := range idx {
		var se float64
		for j := 0; j < F; j++ {
			e := float64(rec[i*F+j] - u[i*F+j])
			se += e * e
		}
		se /= float64(F)
		worst = math.Max(worst, math.Abs(se-want[i])/math.Max(1, se))
	}
	if worst > 1e-5 {
		t.Errorf("serving vs gorgonia reconstruction error differ by %g (relative), want <= 1e-5", worst)
	}
}

func TestAutoencoderRoundTripAndConcurrency(t *testing.T) {
	m, test := fittedAE(t, 10)
	want, _ := m.Predict(test.X)
	blob, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var m2 Autoencoder
	if err := m2.UnmarshalBinary(blob); err != nil {
		t.Fatal(err)
	}
	m3, _ := NewAutoencoder(m.Config())
	if err := m3.SetWeights(m.Weights()); err != nil {
		t.Fatal(err)
	}
	m3.SetThreshold(m.Threshold())
	for _, mm := range []*Autoencoder{&m2, m3} {
		got, err := mm.Predict(test.X)
		if err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if got[i].Score != want[i].Score || got[i].Alert != want[i].Alert || got[i].Class != want[i].Class {
				t.Fatalf("row %d: %+v, want %+v", i, got[i], want[i])
			}
		}
	}
	// Batch independence: a row scores the same alone.
	one, _ := m.Scores(test.X.Slice(7, 8))
	if one[0] != want[7].Score {
		t.Errorf("row 7 alone %v, in batch %v", one[0], want[7].Score)
	}
	var wg sync.WaitGroup
	for g := 0; g < 6; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for k := 0; k < 10; k++ {
				lo := (g*13 + k) % 300
				got, err := m.Scores(test.X.Slice(lo, lo+50))
				if err != nil {
					t.Error(err)
					return
				}
				for i, v := range got {
					if v != want[lo+i].Score {
						t.Errorf("concurrent score row %d differs", lo+i)
						return
					}
				}
			}
		}(g)
	}
	wg.Wait()
	if err := m3.SetWeights([]float32{1}); !errors.Is(err, ErrShape) {
		t.Errorf("SetWeights(short) = %v, want ErrShape", err)
	}
}

// aeGradCase returns random layer weights of d and n transformed rows.
func aeGradCase(d aeDims, n int, seed int64) ([]float32, []float32) {
	w := d.initLayers(seed)
	r := newRand(seed, 8)
	for i := range w {
		w[i] = 1.3*w[i] + 0.1*(r.Float32()-0.5)
	}
	rows := make([]float32, n*d.F)
	for i := range rows {
		rows[i] = 2*r.Float32() - 1
	}
	return w, rows
}

func aeFastGrad(d aeDims, w, rows []float32, avx2 bool) (float64, []float32) {
	t := newAETrainer(d, w, rows, avx2)
	idx := make([]int, len(rows)/d.F)
	for i := range idx {
		idx[i] = i
	}
	loss := t.gradient(idx)
	return loss, append([]float32(nil), t.grad...)
}

// TestAutoencoderFastGradient holds the fast engine's loss and gradient
// to gorgonia's float64 graph layer by layer and to finite differences,
// and its Go kernels to the AVX2 ones bit for bit, on any GOMAXPROCS.
func TestAutoencoderFastGradient(t *testing.T) {
	for _, d := range []aeDims{{F: 10, W: 8, Z: 3}, {F: 13, W: 16, Z: 8}} {
		const n = 9
		w, rows := aeGradCase(d, n, 3)
		loss, grad := aeFastGrad(d, w, rows, true)
		g, err := newAEGraph(d, n, tensor.Float64, true)
		if err != nil {
			t.Fatal(err)
		}
		g.setWeights(w)
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		g.load(rows, idx)
		refLoss, err := g.run()
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(loss-refLoss) > 1e-5*math.Max(1, refLoss) {
			t.Errorf("%+v: loss %v, gorgonia %v", d, loss, refLoss)
		}
		var ref []float64
		for _, p := range g.params {
			gv, err := p.Grad()
			if err != nil {
				t.Fatal(err)
			}
			ref = append(ref, gv.Data().([]float64)...)
		}
		const eps = 1e-2
		num := make([]float64, len(w))
		for i := range w {
			orig := w[i]
			w[i] = orig + eps
			lp, _ := aeFastGrad(d, w, rows, true)
			w[i] = orig - eps
			lm, _ := aeFastGrad(d, w, rows, true)
			w[i] = orig
			num[i] = (lp - lm) / (2 * eps)
		}
		off, s := d.layerOffsets(), d.sizes()
		for l := range off {
			lo, hi := off[l], off[l]+(s[l]+1)*s[l+1]
			if e := blockError(grad[lo:hi], ref[lo:hi]); e > 1e-4 {
				t.Errorf("%+v layer %d: gradient differs from gorgonia's by %.2g", d, l, e)
			}
			if e := blockError(grad[lo:hi], num[lo:hi]); e > 2e-3 {
				t.Errorf("%+v layer %d: gradient differs from finite differences by %.2g", d, l, e)
			}
		}
		prev := runtime.GOMAXPROCS(1)
		loss1, grad1 := aeFastGrad(d, w, rows, false)
		runtime.GOMAXPROCS(prev)
		if loss1 != loss {
			t.Errorf("%+v: loss %v, Go kernels on one core %v", d, loss, loss1)
		}
		for i := range grad {
			if math.Float32bits(grad[i]) != math.Float32bits(grad1[i]) {
				t.Fatalf("%+v: gradient %d: %v, Go kernels on one core %v", d, i, grad[i], grad1[i])
			}
		}
	}
}

// TestAutoencoderEngines: both engines learn the synthetic task, and the
// epoch statistics carry the anomaly figures.
func TestAutoencoderEngines(t *testing.T) {
	for _, engine := range Engines() {
		m, err := NewAutoencoder(ModelConfig{T: 1, F: 10, Classes: []string{"Benign", "Attack"}, Hidden: 3,
			Params: map[string]float64{"width": 12}, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		train, valid := syntheticRows(400, 10, 1), syntheticRows(100, 10, 2)
		if err := m.Fit(train, valid, TrainConfig{Epochs: 30, TargetFPR: 0.05, Seed: 1, Engine: engine}, nil); err != nil {
			t.Fatal(err)
		}
		h := m.History()
		last := h[len(h)-1]
		t.Logf("%s: %d epochs, valid loss %.4f, auc %.4f, fpr %.3f, detection %.3f", engine, len(h), last.ValidLoss, last.ValidAUC, last.ValidFPR, last.ValidDetection)
		if last.Task != "anomaly" || last.ValidAUC < 0.95 || last.ValidDetection < 0.5 || last.ValidFPR > 0.06 {
			t.Errorf("%s: last epoch %+v", engine, last)
		}
	}
}
