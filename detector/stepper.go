package detector

import (
	"fmt"
	"slices"
)

// StepperConfig chooses the engine a Stepper runs and the size of its steps.
type StepperConfig struct {
	// Engine is EngineFast ("" too) or EngineGorgonia.
	Engine string
	// Portable makes the fast engine run its Go kernels even on a CPU with
	// AVX2 and FMA: the same bits, slower (what other CPUs run). Gorgonia
	// ignores it.
	Portable bool
	// Batch is the number of rows of every Step (gorgonia's graph is built
	// for it); it must be positive.
	Batch int
	// ClassWeights weigh the BiLSTM's cross-entropy per class, as
	// TrainConfig.ClassWeights (nil: uniform). The autoencoder ignores them.
	ClassWeights []float32
}

// Stepper runs a neural model's training one mini-batch at a time outside
// Fit: each Step is the forward pass, the backward pass and the Adam update
// that Fit runs per mini-batch, without Fit's shuffling, schedule,
// validation and early stopping. It is what a measurement of training speed
// times, engine against engine on the same weights and rows.
//
// A Stepper trains its own copy of the weights and the rows it was made
// with: the model it came from is not changed, and nothing the Stepper
// learns reaches a model. Not safe for concurrent use.
type Stepper struct {
	eng   nnEngine
	rows  int
	batch int
	avx2  bool
}

// Step trains on the rows idx, Config.Batch indexes into the Stepper's
// training rows, at learning rate lr, and returns the batch's loss before
// the update. A loss that is not finite is an error and leaves the weights
// as they were; so does an idx of the wrong length or out of range (an
// error wrapping ErrShape).
func (s *Stepper) Step(idx []int, lr float64) (float64, error) {
	if len(idx) != s.batch {
		return 0, fmt.Errorf("%w: step of %d rows, the stepper's batch is %d", ErrShape, len(idx), s.batch)
	}
	for _, i := range idx {
		if i < 0 || i >= s.rows {
			return 0, fmt.Errorf("%w: row %d of %d", ErrShape, i, s.rows)
		}
	}
	return s.eng.step(idx, lr)
}

// AVX2 reports whether Step runs the AVX2 + FMA kernels: the fast engine,
// not Portable, on a CPU that has them.
func (s *Stepper) AVX2() bool { return s.avx2 }

func checkStepper(cfg StepperConfig, rows int) (engine string, err error) {
	if engine, err = checkEngine(cfg.Engine); err != nil {
		return "", err
	}
	if cfg.Batch <= 0 || cfg.Batch > rows {
		return "", fmt.Errorf("%w: stepper batch %d for %d training rows", ErrShape, cfg.Batch, rows)
	}
	return engine, nil
}

// NewStepper returns a Stepper that trains a copy of m's weights, or of the
// seeded initial weights Fit starts from when m has none, on train (whose
// shape and classes m must accept, as for Fit).
func (m *BiLSTM) NewStepper(train Labeled, cfg StepperConfig) (*Stepper, error) {
	if err := m.checkLabeled(train); err != nil {
		return nil, fmt.Errorf("bilstm stepper: %w", err)
	}
	engine, err := checkStepper(cfg, train.Len())
	if err != nil {
		return nil, fmt.Errorf("bilstm stepper: %w", err)
	}
	classW := cfg.ClassWeights
	if classW == nil {
		classW = slices.Repeat([]float32{1}, m.d.C)
	}
	if len(classW) != m.d.C {
		return nil, fmt.Errorf("%w: bilstm stepper: %d class weights for %d classes", ErrShape, len(classW), m.d.C)
	}
	start := m.w
	if start == nil {
		start = m.d.initWeights(m.cfg.Seed)
	}
	s := &Stepper{rows: train.Len(), batch: cfg.Batch}
	if engine == EngineGorgonia {
		if s.eng, err = newBiLSTMGorgonia(m.d, cfg.Batch, start, BiLSTMDefaultLR, train, classW); err != nil {
			return nil, fmt.Errorf("bilstm stepper: %w", err)
		}
		return s, nil
	}
	t := newBiLSTMTrainer(m.d, start, !cfg.Portable)
	s.eng, s.avx2 = &bilstmFastEngine{t: t, train: train, classW: classW}, t.avx2
	return s, nil
}

// NewStepper returns a Stepper that trains a copy of m's layers on every
// row of x, passed through m's input transform (see aeDims) as Fit passes
// its benign rows. m must have weights (InitWeights, Fit, SetWeights or
// UnmarshalBinary), else ErrNotFitted.
func (m *Autoencoder) NewStepper(x Seqs, cfg StepperConfig) (*Stepper, error) {
	if m.net == nil {
		return nil, ErrNotFitted
	}
	if err := x.Validate(); err != nil {
		return nil, fmt.Errorf("autoencoder stepper: %w", err)
	}
	if x.T != m.cfg.T || x.F != m.cfg.F {
		return nil, fmt.Errorf("%w: autoencoder stepper: expects T=%d F=%d, got T=%d F=%d", ErrShape, m.cfg.T, m.cfg.F, x.T, x.F)
	}
	engine, err := checkStepper(cfg, x.N)
	if err != nil {
		return nil, fmt.Errorf("autoencoder stepper: %w", err)
	}
	F := m.d.F
	u := make([]float32, x.N*F)
	for i := 0; i < x.N; i++ {
		m.net.transform(u[i*F:(i+1)*F], x.At(i))
	}
	layers := m.w[2*F:]
	s := &Stepper{rows: x.N, batch: cfg.Batch}
	if engine == EngineGorgonia {
		if s.eng, err = newAEGorgonia(m.d, cfg.Batch, layers, AEDefaultLR, u); err != nil {
			return nil, fmt.Errorf("autoencoder stepper: %w", err)
		}
		return s, nil
	}
	e := newAEFastEngine(m.d, layers, u, !cfg.Portable)
	s.eng, s.avx2 = e, e.t.avx2
	return s, nil
}
