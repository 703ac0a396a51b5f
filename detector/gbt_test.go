package detector

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// gbtData is n rows of f uniform features; the class is a function of the
// first two that no single split separates (XOR for two classes; the
// quadrant for four).
func gbtData(n, f, classes int, seed uint64) Labeled {
	rng := rand.New(rand.NewPCG(seed, 1))
	l := Labeled{X: NewSeqs(n, 1, f), Y: make([]int, n)}
	for i := range n {
		row := l.X.At(i)
		for j := range row {
			row[j] = rng.Float32()
		}
		a, b := row[0] > 0.5, row[1] > 0.5
		switch {
		case classes == 2 && a != b:
			l.Y[i] = 1
		case classes == 4:
			l.Y[i] = map[[2]bool]int{{false, false}: 0, {true, false}: 1, {false, true}: 2, {true, true}: 3}[[2]bool{a, b}]
		}
	}
	return l
}

func newTestGBT(t *testing.T, classes int) *gbtModel {
	t.Helper()
	names := []string{"Benign", "a", "b", "c"}[:classes]
	m, err := NewModel("gbt", ModelConfig{T: 1, F: 5, Classes: names, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	return m.(*gbtModel)
}

func TestGBTLearnsInteractions(t *testing.T) {
	for _, classes := range []int{2, 4} {
		m := newTestGBT(t, classes)
		train, valid, test := gbtData(600, 5, classes, 1), gbtData(200, 5, classes, 2), gbtData(400, 5, classes, 3)
		var hist []EpochStats
		if err := m.Fit(train, valid, TrainConfig{Epochs: 100}, func(s EpochStats) { hist = append(hist, s) }); err != nil {
			t.Fatal(err)
		}
		preds, err := m.Predict(test.X)
		if err != nil {
			t.Fatal(err)
		}
		mt := Evaluate(m.cfg.Classes, 0, test.Y, preds)
		if mt.Accuracy < 0.93 {
			t.Errorf("%d classes: accuracy %.3f", classes, mt.Accuracy)
		}
		if len(hist) == 0 || hist[0].Task != "multiclass" || hist[len(hist)-1].ValidLoss >= hist[0].ValidLoss {
			t.Errorf("%d classes: history %+v", classes, hist)
		}
		// Early stopping keeps the rounds up to the best validation loss.
		best := slices.IndexFunc(hist, func(s EpochStats) bool {
			return s.ValidLoss == slices.MinFunc(hist, func(a, b EpochStats) int { return cmpFloat(a.ValidLoss, b.ValidLoss) }).ValidLoss
		})
		if len(m.trees) != (best+1)*m.outputs {
			t.Errorf("%d classes: %d trees kept, want the %d rounds up to the best", classes, len(m.trees), best+1)
		}
		for _, p := range preds {
			var s float32
			for _, q := range p.Probs {
				s += q
			}
			if len(p.Probs) != classes || s < 0.999 || s > 1.001 || p.Alert != (p.Class != 0) || math.Abs(p.Score-(1-float64(p.Probs[0]))) > 1e-6 {
				t.Fatalf("prediction %+v", p)
			}
		}
	}
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// TestGBTRoundTrip: the same data and settings give the same bytes, and a
// decoded model scores exactly as the one trained.
func TestGBTRoundTrip(t *testing.T) {
	train, test := gbtData(300, 5, 4, 4), gbtData(100, 5, 4, 5)
	var files [][]byte
	var first []Prediction
	for range 2 {
		m := newTestGBT(t, 4)
		if err := m.Fit(train, Labeled{}, TrainConfig{Epochs: 20}, nil); err != nil {
			t.Fatal(err)
		}
		b, err := m.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, b)
		first, _ = m.Predict(test.X)
	}
	if !bytes.Equal(files[0], files[1]) {
		t.Error("two fits of the same data differ")
	}
	var m2 gbtModel
	if err := m2.UnmarshalBinary(files[0]); err != nil {
		t.Fatal(err)
	}
	if err := m2.Validate(); err != nil {
		t.Fatal(err)
	}
	got, err := m2.Predict(test.X)
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if got[i].Score != first[i].Score || got[i].Class != first[i].Class {
			t.Fatalf("row %d: %+v after decoding, %+v before", i, got[i], first[i])
		}
	}
	if len(m2.trees) != 20*4 {
		t.Errorf("%d trees, want 20 rounds of 4 (no validation split, no early stop)", len(m2.trees))
	}
	if err := m2.SetWeights(m2.Weights()[1:]); !errors.Is(err, ErrShape) {
		t.Errorf("short weights: %v", err)
	}
}

func TestGBTRefusesBadParams(t *testing.T) {
	for _, p := range []map[string]float64{{"depth": 0}, {"depth": 17}, {"depth": 2.5}, {"min_leaf": 0}, {"lambda": -1}} {
		if _, err := NewModel("gbt", ModelConfig{T: 1, F: 2, Classes: []string{"Benign", "x"}, Params: p}); err == nil {
			t.Errorf("params %v accepted", p)
		}
	}
}
