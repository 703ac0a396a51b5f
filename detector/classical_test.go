package detector

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"sync"
	"testing"
)

var classicalKinds = []string{"iforest", "pca", "kmeans", "cblof"}

// blobs makes a benign/attack set of d-dimensional rows in [0,1]: benign
// rows come from two tight clusters, attack rows from a shifted cluster
// and from uniform noise. Class 0 is benign.
func blobs(n, d int, seed uint64) Labeled {
	rng := rand.New(rand.NewPCG(seed, 99))
	l := Labeled{X: NewSeqs(n, 1, d), Y: make([]int, n)}
	for i := 0; i < n; i++ {
		row := l.X.At(i)
		switch {
		case i%4 != 3: // benign, 75%
			c := 0.25 + 0.2*float64(i%2)
			for j := range row {
				row[j] = float32(c + 0.04*rng.NormFloat64())
			}
		case i%8 == 3: // attack: a shifted cluster
			l.Y[i] = 1
			for j := range row {
				row[j] = float32(0.75 + 0.04*rng.NormFloat64())
			}
		default: // attack: uniform noise
			l.Y[i] = 1
			for j := range row {
				row[j] = float32(rng.Float64())
			}
		}
		for j := range row {
			row[j] = float32(math.Min(1, math.Max(0, float64(row[j]))))
		}
	}
	return l
}

func fitClassical(t *testing.T, kind string) (Model, Labeled) {
	t.Helper()
	const d = 6
	m, err := NewModel(kind, ModelConfig{T: 1, F: d, Classes: []string{"Benign", "Attack"}, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Fit(blobs(800, d, 1), blobs(400, d, 2), TrainConfig{TargetFPR: 0.02, Seed: 1}, nil); err != nil {
		t.Fatal(err)
	}
	return m, blobs(1000, d, 3)
}

func TestClassicalModelsDetectSynthetic(t *testing.T) {
	for _, kind := range classicalKinds {
		t.Run(kind, func(t *testing.T) {
			m, test := fitClassical(t, kind)
			preds, err := m.Predict(test.X)
			if err != nil {
				t.Fatal(err)
			}
			mt := Evaluate([]string{"Benign", "Attack"}, 0, test.Y, preds)
			t.Logf("%s: auc %.4f fpr %.4f recall %.4f", kind, mt.ROCAUC, mt.BenignFPR, mt.BinaryRecall)
			if mt.Task != "anomaly" {
				t.Errorf("task %s", mt.Task)
			}
			if mt.ROCAUC < 0.97 || mt.BenignFPR > 0.06 || mt.BinaryRecall < 0.9 {
				t.Errorf("auc %.4f fpr %.4f recall %.4f: want auc >= 0.97, fpr <= 0.06, recall >= 0.9", mt.ROCAUC, mt.BenignFPR, mt.BinaryRecall)
			}
		})
	}
}

func TestClassicalRoundTrip(t *testing.T) {
	for _, kind := range classicalKinds {
		t.Run(kind, func(t *testing.T) {
			m, test := fitClassical(t, kind)
			want, _ := m.Predict(test.X)
			b, err := m.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			b2, _ := m.MarshalBinary()
			if !bytes.Equal(b, b2) {
				t.Error("MarshalBinary is not deterministic")
			}
			m2, _ := NewModel(kind, m.Config())
			if err := m2.UnmarshalBinary(b); err != nil {
				t.Fatal(err)
			}
			got, _ := m2.Predict(test.X)
			if !reflect.DeepEqual(got, want) {
				t.Error("predictions differ after MarshalBinary/UnmarshalBinary")
			}
			// Export and import of the flat weights.
			m3, _ := NewModel(kind, m.Config())
			if err := m3.UnmarshalBinary(b); err != nil {
				t.Fatal(err)
			}
			if err := m3.SetWeights(m.Weights()); err != nil {
				t.Fatal(err)
			}
			got, _ = m3.Predict(test.X)
			if !reflect.DeepEqual(got, want) {
				t.Error("predictions differ after Weights/SetWeights")
			}
			if err := m3.SetWeights(make([]float32, 7)); !errors.Is(err, ErrShape) {
				t.Errorf("bad weight vector: %v, want ErrShape", err)
			}
			if _, err := m.Predict(NewSeqs(1, 1, 5)); !errors.Is(err, ErrShape) {
				t.Errorf("bad input shape: %v, want ErrShape", err)
			}
		})
	}
}

func TestClassicalConcurrentPredict(t *testing.T) {
	for _, kind := range classicalKinds {
		m, test := fitClassical(t, kind)
		want, _ := m.Predict(test.X)
		var wg sync.WaitGroup
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				for i := g; i < 100; i += 4 {
					p, err := m.Predict(test.X.Slice(i, i+1))
					if err != nil || !reflect.DeepEqual(p[0], want[i]) {
						t.Errorf("%s row %d: %v %v, want %v", kind, i, p, err, want[i])
						return
					}
				}
			}(g)
		}
		wg.Wait()
	}
}

func TestUnfittedModel(t *testing.T) {
	for _, kind := range classicalKinds {
		m, _ := NewModel(kind, ModelConfig{T: 1, F: 3, Classes: []string{"Benign", "x"}})
		if _, err := m.Predict(NewSeqs(1, 1, 3)); !errors.Is(err, ErrNotFitted) {
			t.Errorf("%s: %v, want ErrNotFitted", kind, err)
		}
	}
	if _, err := NewModel("svm", ModelConfig{T: 1, F: 1, Classes: []string{"a", "b"}}); !errors.Is(err, ErrUnknownKind) {
		t.Errorf("unknown kind: %v", err)
	}
}

func TestThresholdAtFPR(t *testing.T) {
	s := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	thr := thresholdAtFPR(s, 0.2)
	n := 0
	for _, v := range s {
		if v >= thr {
			n++
		}
	}
	if n != 2 {
		t.Errorf("threshold %v flags %d of 10, want 2", thr, n)
	}
}
