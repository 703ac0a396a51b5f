package detector

import (
	"errors"
	"math"
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
