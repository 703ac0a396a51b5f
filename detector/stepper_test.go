package detector

import (
	"errors"
	"math"
	"reflect"
	"slices"
	"testing"
)

// stepperCase is a small BiLSTM with seeded weights and random labelled
// windows.
func stepperCase(t *testing.T) (*BiLSTM, Labeled) {
	t.Helper()
	m, err := NewBiLSTM(ModelConfig{T: 6, F: 2, Hidden: 8, Classes: benchClasses[:3], Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	train := Labeled{X: randomSeqs(40, 6, 2, 5), Y: make([]int, 40)}
	r := newRand(5, 1)
	for i := range train.Y {
		train.Y[i] = r.IntN(3)
	}
	return m, train
}

// steps runs n steps of batch rows cycling through rows and returns each
// step's loss.
func steps(t *testing.T, s *Stepper, n, batch, rows int, lr float64) []float64 {
	t.Helper()
	var losses []float64
	for k := 0; k < n; k++ {
		lo := (k * batch) % (rows - batch + 1)
		idx := make([]int, batch)
		for i := range idx {
			idx[i] = lo + i
		}
		loss, err := s.Step(idx, lr)
		if err != nil {
			t.Fatal(err)
		}
		losses = append(losses, loss)
	}
	return losses
}

// TestBiLSTMStepperEngines: the three engines run the same training steps
// from the same weights (the fast engine's kernels bit for bit, gorgonia to
// float32 rounding), the loss goes down, and the model is not touched.
func TestBiLSTMStepperEngines(t *testing.T) {
	m, train := stepperCase(t)
	const batch, n, lr = 8, 12, 0.01
	run := func(cfg StepperConfig) ([]float64, *Stepper) {
		cfg.Batch = batch
		s, err := m.NewStepper(train, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return steps(t, s, n, batch, train.Len(), lr), s
	}
	fast, sf := run(StepperConfig{})
	portable, sp := run(StepperConfig{Portable: true})
	ref, sg := run(StepperConfig{Engine: EngineGorgonia})
	if sf.AVX2() != haveAVX2FMA || sp.AVX2() || sg.AVX2() {
		t.Errorf("AVX2: fast %v (CPU %v), portable %v, gorgonia %v", sf.AVX2(), haveAVX2FMA, sp.AVX2(), sg.AVX2())
	}
	if !slices.Equal(fast, portable) {
		t.Errorf("fast and portable kernels differ:\n%v\n%v", fast, portable)
	}
	for k := range fast {
		if math.Abs(fast[k]-ref[k]) > 1e-4*ref[k] {
			t.Errorf("step %d: fast loss %v, gorgonia %v", k, fast[k], ref[k])
		}
	}
	if first, last := (fast[0]+fast[1])/2, (fast[n-2]+fast[n-1])/2; !(last < first) {
		t.Errorf("loss did not go down: %v", fast)
	}
	if m.Weights() != nil {
		t.Error("a stepper changed the model's weights")
	}
}

// TestStepperRefusesBadSteps: a step of the wrong size or with a row out of
// range is ErrShape and changes nothing.
func TestStepperRefusesBadSteps(t *testing.T) {
	m, train := stepperCase(t)
	for _, engine := range Engines() {
		s, err := m.NewStepper(train, StepperConfig{Engine: engine, Batch: 4})
		if err != nil {
			t.Fatal(err)
		}
		for _, idx := range [][]int{{0, 1, 2}, {0, 1, 2, 40}, {-1, 0, 1, 2}} {
			if _, err := s.Step(idx, 0.01); !errors.Is(err, ErrShape) {
				t.Errorf("%s: Step(%v) = %v, want ErrShape", engine, idx, err)
			}
		}
		if w := s.eng.weights(); !reflect.DeepEqual(w, m.d.initWeights(m.cfg.Seed)) {
			t.Errorf("%s: a refused step changed the weights", engine)
		}
	}
	for _, cfg := range []StepperConfig{{Batch: 0}, {Batch: 41}, {Batch: 4, Engine: "tensorflow"}, {Batch: 4, ClassWeights: []float32{1}}} {
		if _, err := m.NewStepper(train, cfg); err == nil {
			t.Errorf("NewStepper(%+v) succeeded", cfg)
		}
	}
}

// TestInitWeights: a BiLSTM's InitWeights are the weights Fit starts from,
// so Fit after it trains the model Fit trains from scratch; an
// autoencoder's give the identity transform and seeded layers.
func TestInitWeights(t *testing.T) {
	m, train := stepperCase(t)
	fresh, _ := stepperCase(t)
	if err := m.InitWeights(); err != nil {
		t.Fatal(err)
	}
	cfg := TrainConfig{Epochs: 2, BatchSize: 8, Seed: 3}
	for _, b := range []*BiLSTM{m, fresh} {
		if err := b.Fit(train, Labeled{}, cfg, nil); err != nil {
			t.Fatal(err)
		}
	}
	if !reflect.DeepEqual(m.Weights(), fresh.Weights()) {
		t.Error("Fit after InitWeights trained other weights than Fit from scratch")
	}

	ae, err := NewAutoencoder(ModelConfig{T: 1, F: 5, Classes: benchClasses[:2], Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ae.NewStepper(randomSeqs(8, 1, 5, 1), StepperConfig{Batch: 4}); !errors.Is(err, ErrNotFitted) {
		t.Errorf("stepper of an autoencoder without weights: %v, want ErrNotFitted", err)
	}
	if err := ae.InitWeights(); err != nil {
		t.Fatal(err)
	}
	w := ae.Weights()
	if !slices.Equal(w[:5], make([]float32, 5)) || !slices.Equal(w[5:10], slices.Repeat([]float32{1}, 5)) ||
		!slices.Equal(w[10:], ae.d.initLayers(9)) {
		t.Errorf("autoencoder InitWeights %v", w)
	}
	if _, err := ae.Predict(randomSeqs(3, 1, 5, 2)); err != nil {
		t.Errorf("an initialised autoencoder does not serve: %v", err)
	}
}

// TestAutoencoderStepperEngines: the fast engine and gorgonia run the same
// autoencoder steps, and the loss goes down.
func TestAutoencoderStepperEngines(t *testing.T) {
	ae, err := NewAutoencoder(ModelConfig{T: 1, F: 12, Classes: benchClasses[:2], Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := ae.InitWeights(); err != nil {
		t.Fatal(err)
	}
	x := randomSeqs(64, 1, 12, 6)
	const batch, n, lr = 16, 20, 0.01
	var losses [2][]float64
	for i, engine := range Engines() {
		s, err := ae.NewStepper(x, StepperConfig{Engine: engine, Batch: batch})
		if err != nil {
			t.Fatal(err)
		}
		losses[i] = steps(t, s, n, batch, x.N, lr)
	}
	fast, ref := losses[0], losses[1]
	for k := range fast {
		if math.Abs(fast[k]-ref[k]) > 1e-4*ref[k] {
			t.Errorf("step %d: fast loss %v, gorgonia %v", k, fast[k], ref[k])
		}
	}
	if !(fast[n-1] < fast[0]) {
		t.Errorf("loss did not go down: %v", fast)
	}
}
