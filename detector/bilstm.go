package detector

import (
	"fmt"
	"math"
	"time"

	gg "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func init() {
	registerModel(ModelKind{
		Name:       "bilstm",
		Supervised: true,
		Input:      InputPerFlow,
		New:        func(cfg ModelConfig) (Model, error) { return NewBiLSTM(cfg) },
		// Measured on nf-bot-iot-v2 (BENCHMARKS.md): every feature rather
		// than correlation pruning, log-compressed; the patience to reach
		// its best epoch.
		Defaults: TrainDefaults{Epochs: BiLSTMDefaultEpochs, BatchSize: BiLSTMDefaultBatch, LearningRate: BiLSTMDefaultLR,
			Patience: 15, CorrThreshold: 1, LogScale: true, ClassWeights: "sqrt"},
	})
}

// Defaults of the BiLSTM when ModelConfig / TrainConfig leave them zero
// (the training ones through ModelKind.Defaults).
const (
	BiLSTMDefaultHidden    = 32
	BiLSTMDefaultEpochs    = 80
	BiLSTMDefaultBatch     = 64
	BiLSTMDefaultLR        = 0.01
	bilstmMaxGorgoniaBound = 255 // largest slice bound gorgonia v0.9.18 hashes correctly
)

// bilstmDims are the BiLSTM's sizes: T steps of F features, H hidden units
// per direction, C classes, and P = T when the steps carry a positional
// input (0 otherwise).
//
// The positional input is a one-hot of the step's position appended to its
// features, so each gate has a bias per position. In per-flow mode (F=1,
// one selected feature per step) the input weights are shared by every step,
// and without it the LSTM can only tell which feature it is reading by
// counting steps in its state; with it, step t's bias says "this is feature
// t". It is on by default (ModelConfig.Params "positional" = 1) and costs
// nothing at serving time (one more bias row added per step).
//
// The flat weight vector (Weights, SetWeights, federated averaging) is, in
// order:
//
//	for dir in forward, backward:
//	  for gate in input i, forget f, cell g, output o:
//	    W[dir][gate]: (F+1+P+H) × H, row-major. Rows 0..F-1 multiply the
//	    step's features, row F is the bias, rows F+1..F+P the positional
//	    one-hot (row F+1+t is added at position t, in both directions), rows
//	    F+1+P..F+P+H multiply the previous h.
//	dense: (2H+1) × C, row-major. Rows 0..H-1 multiply the forward LSTM's
//	last state (after step T-1), rows H..2H-1 the backward LSTM's last state
//	(after reading step 0), row 2H is the bias.
//
// The cell is c_t = f⊙c_{t-1} + i⊙g, h_t = o⊙tanh(c_t), with h_0 = c_0 = 0,
// i, f, o = sigmoid and g = tanh; the output is softmax(dense).
type bilstmDims struct{ T, F, H, C, P int }

func (d bilstmDims) inRows() int               { return d.F + 1 + d.P }
func (d bilstmDims) gateRows() int             { return d.inRows() + d.H }
func (d bilstmDims) gateSize() int             { return d.gateRows() * d.H }
func (d bilstmDims) gateOff(dir, gate int) int { return (dir*4 + gate) * d.gateSize() }
func (d bilstmDims) denseOff() int             { return 8 * d.gateSize() }
func (d bilstmDims) size() int                 { return d.denseOff() + (2*d.H+1)*d.C }

// validate refuses sizes the gorgonia graph cannot represent correctly: a
// slice bound of 256 or more (steps, and the widths Concat's gradient
// slices) would collide with a smaller one in gorgonia's node hashing.
func (d bilstmDims) validate() error {
	switch {
	case d.T <= 0 || d.F <= 0 || d.H <= 0 || d.C < 2 || (d.P != 0 && d.P != d.T):
		return fmt.Errorf("%w: bilstm needs T, F, H > 0 and C >= 2 (got %+v)", ErrShape, d)
	case d.T > bilstmMaxGorgoniaBound:
		return fmt.Errorf("%w: bilstm T=%d exceeds %d (gorgonia slice-bound limit)", ErrShape, d.T, bilstmMaxGorgoniaBound)
	case d.gateRows() > bilstmMaxGorgoniaBound || 2*d.H+1 > bilstmMaxGorgoniaBound:
		return fmt.Errorf("%w: bilstm F+1+P+H=%d or 2H+1=%d exceeds %d (gorgonia slice-bound limit)",
			ErrShape, d.gateRows(), 2*d.H+1, bilstmMaxGorgoniaBound)
	}
	return nil
}

// initWeights returns seeded initial weights: Glorot-uniform matrices, zero
// biases except the forget gate's, which starts at 1 so that early training
// keeps the cell state.
func (d bilstmDims) initWeights(seed int64) []float32 {
	w := make([]float32, d.size())
	r := newRand(seed, 1)
	for dir := 0; dir < 2; dir++ {
		for gate := 0; gate < 4; gate++ {
			m := w[d.gateOff(dir, gate) : d.gateOff(dir, gate)+d.gateSize()]
			glorotFill(m, d.F+d.H, d.H, r)
			bias := m[d.F*d.H : (d.F+1)*d.H]
			for j := range bias {
				bias[j] = 0
				if gate == 1 {
					bias[j] = 1
				}
			}
			clear(m[(d.F+1)*d.H : d.inRows()*d.H]) // positional biases
		}
	}
	dense := w[d.denseOff():]
	glorotFill(dense, 2*d.H, d.C, r)
	clear(dense[2*d.H*d.C:])
	return w
}

// BiLSTM is a bidirectional LSTM classifier: a forward and a backward LSTM
// read the sequence, their last hidden states are concatenated and a dense
// layer with softmax gives the class probabilities. It is trained by the
// fast engine (bilstm_fast.go) or gorgonia (Adam, class-weighted
// cross-entropy, early stopping on the validation loss) and served by a
// plain-Go forward pass over the same weights.
//
// Predict is safe for concurrent use; Fit, SetWeights and UnmarshalBinary
// are not safe to call concurrently with anything else.
type BiLSTM struct {
	cfg  ModelConfig
	d    bilstmDims
	w    []float32 // nil until fitted or set
	net  *bilstmNet
	hist []EpochStats
}

// NewBiLSTM returns an unfitted BiLSTM for cfg (Hidden 0 means
// BiLSTMDefaultHidden; Params "positional" 0 turns the positional input
// off, see bilstmDims). The sizes must respect gorgonia's slice-bound limit:
// T <= 255, F+1+P+Hidden <= 255 (P = T with the positional input, else 0),
// 2·Hidden+1 <= 255.
func NewBiLSTM(cfg ModelConfig) (*BiLSTM, error) {
	if cfg.Hidden == 0 {
		cfg.Hidden = BiLSTMDefaultHidden
	}
	d := bilstmDims{T: cfg.T, F: cfg.F, H: cfg.Hidden, C: len(cfg.Classes)}
	if cfg.Param("positional", 1) != 0 {
		d.P = d.T
	}
	if err := d.validate(); err != nil {
		return nil, err
	}
	if cfg.BenignClass < 0 || cfg.BenignClass >= d.C {
		return nil, fmt.Errorf("%w: bilstm benign class %d of %d", ErrShape, cfg.BenignClass, d.C)
	}
	return &BiLSTM{cfg: cfg, d: d}, nil
}

// Kind is "bilstm".
func (m *BiLSTM) Kind() string { return "bilstm" }

// Config returns the configuration, with Hidden resolved.
func (m *BiLSTM) Config() ModelConfig { return m.cfg }

// Threshold is 0.5. A BiLSTM alerts when its arg-max class is not benign,
// so every alert has Score >= 0.5; a row with Score >= 0.5 can still be
// classified benign when its attack probability is split over several
// classes (with two classes the two rules coincide).
func (m *BiLSTM) Threshold() float64 { return 0.5 }

// History returns the per-epoch statistics of the last Fit.
func (m *BiLSTM) History() []EpochStats { return append([]EpochStats(nil), m.hist...) }

// Weights returns a copy of the flat weights in the bilstmDims layout, or nil
// when the model has none.
func (m *BiLSTM) Weights() []float32 { return append([]float32(nil), m.w...) }

// SetWeights replaces the weights with a copy of w (bilstmDims layout).
func (m *BiLSTM) SetWeights(w []float32) error {
	net, err := newBiLSTMNet(m.d, w)
	if err != nil {
		return err
	}
	m.w = append([]float32(nil), w...)
	m.net = net
	return nil
}

// InitWeights sets the seeded initial weights (ModelConfig.Seed) that Fit
// starts from when the model has none, so Fit after InitWeights trains the
// same model as Fit on a new one. It gives a servable model of a shape
// without training, for measurements and tests. Not safe for concurrent use.
func (m *BiLSTM) InitWeights() error { return m.SetWeights(m.d.initWeights(m.cfg.Seed)) }

// Predict scores x with the plain-Go forward pass. Score is 1 − P(benign);
// Alert is Class != BenignClass.
func (m *BiLSTM) Predict(x Seqs) (_ []Prediction, err error) {
	defer catchPanic(&err)
	if m.net == nil {
		return nil, ErrNotFitted
	}
	if err := x.Validate(); err != nil {
		return nil, err
	}
	if x.T != m.d.T || x.F != m.d.F {
		return nil, fmt.Errorf("%w: bilstm expects T=%d F=%d, got T=%d F=%d", ErrShape, m.d.T, m.d.F, x.T, x.F)
	}
	C := m.d.C
	probs := make([]float32, x.N*C)
	cls := make([]int, x.N)
	m.net.probs(x.Data, probs, cls)
	out := make([]Prediction, x.N)
	for i := range out {
		p := probs[i*C : (i+1)*C : (i+1)*C]
		out[i] = Prediction{
			Class: cls[i],
			Probs: p,
			Score: 1 - float64(p[m.cfg.BenignClass]),
			Alert: cls[i] != m.cfg.BenignClass,
		}
	}
	return out, nil
}

// MarshalBinary encodes config and weights (modelBlob layout).
func (m *BiLSTM) MarshalBinary() ([]byte, error) {
	if m.w == nil {
		return nil, ErrNotFitted
	}
	return marshalModelBlob(m.Kind(), m.cfg, m.Threshold(), nil, m.w)
}

// UnmarshalBinary restores a model encoded by MarshalBinary.
func (m *BiLSTM) UnmarshalBinary(data []byte) error {
	h, w, err := unmarshalModelBlob("bilstm", data, nil)
	if err != nil {
		return err
	}
	n, err := NewBiLSTM(h.Config)
	if err != nil {
		return err
	}
	if err := n.SetWeights(w); err != nil {
		return err
	}
	*m = *n
	return nil
}

// Validate checks that the model has its weights, as many as its sizes
// need, all finite.
func (m *BiLSTM) Validate() error {
	if m.net == nil || len(m.w) != m.d.size() {
		return invalid("bilstm weights", "%d, want %d for %+v", len(m.w), m.d.size(), m.d)
	}
	return checkFinite("bilstm weights", m.w)
}

// Fit trains the model on train. It starts from the current weights when
// the model has any (SetWeights, an earlier Fit, UnmarshalBinary: what a
// federated round needs) and from a seeded initialisation otherwise.
// cfg.Engine chooses the fast engine (the default, bilstm_fast.go) or
// gorgonia's graph (the reference); both run the same schedule below, and
// zero fields of cfg take the kind's defaults (DefaultsFor("bilstm")).
//
// Mini-batches of cfg.BatchSize rows are drawn from a seeded shuffle each
// epoch; a remainder smaller than a batch is skipped in that epoch (the
// graph has a fixed batch size), so every row is seen over the epochs. The
// loss is the cross-entropy weighted by cfg.ClassWeights (uniform when nil),
// normalised by the batch's total weight. After each epoch the validation
// loss and Evaluate's accuracy, macro-F1 and benign false-positive rate
// are computed with the fast engine's forward pass, which gives the same
// values on every CPU; with cfg.Patience > 0 and a non-empty valid set, the
// learning rate is halved after every max(2, Patience/3) epochs without a
// lower validation loss (down to 1/16 of the initial rate), training stops
// after Patience such epochs, and the best weights are restored.
func (m *BiLSTM) Fit(train, valid Labeled, cfg TrainConfig, progress func(EpochStats)) error {
	if err := m.checkLabeled(train); err != nil {
		return fmt.Errorf("bilstm fit: train: %w", err)
	}
	if valid.Len() > 0 {
		if err := m.checkLabeled(valid); err != nil {
			return fmt.Errorf("bilstm fit: valid: %w", err)
		}
	}
	cfg = cfg.withDefaults(mustDefaults("bilstm"))
	engine, err := checkEngine(cfg.Engine)
	if err != nil {
		return fmt.Errorf("bilstm fit: %w", err)
	}
	batch := min(cfg.BatchSize, train.Len())
	lr := cfg.LearningRate
	classW := cfg.ClassWeights
	if classW == nil {
		classW = make([]float32, m.d.C)
		for i := range classW {
			classW[i] = 1
		}
	}
	if len(classW) != m.d.C {
		return fmt.Errorf("%w: bilstm fit: %d class weights for %d classes", ErrShape, len(classW), m.d.C)
	}
	start := m.w
	if start == nil {
		start = m.d.initWeights(m.cfg.Seed)
	}
	var eng nnEngine
	if engine == EngineGorgonia {
		eng, err = newBiLSTMGorgonia(m.d, batch, start, lr, train, classW)
		if err != nil {
			return fmt.Errorf("bilstm fit: %w", err)
		}
	} else {
		eng = &bilstmFastEngine{t: newBiLSTMTrainer(m.d, start, true), train: train, classW: classW}
	}
	eval := newBiLSTMTrainer(m.d, start, true)
	lrNow := lr
	rng := newRand(cfg.Seed, 2)
	perm := make([]int, train.Len())
	for i := range perm {
		perm[i] = i
	}

	m.hist = m.hist[:0]
	bestLoss := math.Inf(1)
	var best []float32
	sinceBest := 0
	t0 := time.Now()
	for epoch := 1; epoch <= cfg.Epochs; epoch++ {
		rng.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		var sum float64
		var steps int
		for lo := 0; lo+batch <= len(perm); lo += batch {
			loss, err := eng.step(perm[lo:lo+batch], lrNow)
			if err != nil {
				return fmt.Errorf("bilstm fit: epoch %d: %w", epoch, err)
			}
			sum += loss
			steps++
		}
		w := eng.weights()
		if err := m.SetWeights(w); err != nil {
			return fmt.Errorf("bilstm fit: %w", err)
		}
		st := EpochStats{Epoch: epoch, Epochs: cfg.Epochs, Task: "multiclass", TrainLoss: sum / float64(max(steps, 1)), Elapsed: time.Since(t0)}
		if valid.Len() > 0 {
			eval.setWeights(w)
			mt, loss := m.validate(eval, valid, classW)
			st.ValidLoss, st.ValidAcc, st.ValidF1, st.ValidFPR = loss, float64(mt.Accuracy), float64(mt.MacroF1), mt.BenignFPR
		}
		m.hist = append(m.hist, st)
		if progress != nil {
			progress(st)
		}
		if valid.Len() == 0 || cfg.Patience <= 0 {
			continue
		}
		if st.ValidLoss < bestLoss {
			bestLoss, best, sinceBest = st.ValidLoss, w, 0
			continue
		}
		if sinceBest++; sinceBest >= cfg.Patience {
			break
		}
		// Reduce on plateau: halve the learning rate after every third of
		// the patience without improvement, down to lr/16. The optimiser
		// keeps its moment estimates.
		if plateau := max(2, cfg.Patience/3); sinceBest%plateau == 0 && lrNow > lr/16 {
			lrNow /= 2
		}
	}
	if best != nil {
		return m.SetWeights(best)
	}
	return nil
}

// nnEngine trains a neural model one mini-batch at a time.
type nnEngine interface {
	// step trains on the rows idx of the training set at learning rate
	// lr and returns the batch's loss before the update. A loss that is
	// not finite is an error, and the weights are then left as they were.
	step(idx []int, lr float64) (float64, error)
	// weights returns the current weights in the model's flat layout.
	weights() []float32
}

// errDiverged is the error of a training step whose loss is not finite.
func errDiverged(loss float64) error {
	return fmt.Errorf("loss diverged (%v); lower the learning rate", loss)
}

// bilstmFastEngine is the fast engine behind nnEngine.
type bilstmFastEngine struct {
	t      *bilstmTrainer
	train  Labeled
	classW []float32
}

func (e *bilstmFastEngine) step(idx []int, lr float64) (float64, error) {
	loss := e.t.gradient(e.train.X, e.train.Y, idx, e.classW)
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return loss, errDiverged(loss)
	}
	e.t.update(lr)
	return loss, nil
}

func (e *bilstmFastEngine) weights() []float32 { return e.t.weights() }

// bilstmGorgonia is the reference engine: gorgonia's graph and AdamSolver.
type bilstmGorgonia struct {
	g      *bilstmGraph
	solver *gg.AdamSolver
	lr     float64
	train  Labeled
	classW []float32
}

func newBiLSTMGorgonia(d bilstmDims, batch int, start []float32, lr float64, train Labeled, classW []float32) (*bilstmGorgonia, error) {
	g, err := newBiLSTMGraph(d, batch, tensor.Float32, true)
	if err != nil {
		return nil, err
	}
	w64 := make([]float64, len(start))
	for i, v := range start {
		w64[i] = float64(v)
	}
	g.setWeights(w64)
	return &bilstmGorgonia{g: g, solver: gg.NewAdamSolver(gg.WithLearnRate(lr)), lr: lr, train: train, classW: classW}, nil
}

func (e *bilstmGorgonia) step(idx []int, lr float64) (float64, error) {
	e.g.load(e.train.X, idx, e.train.Y, e.classW)
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

func (e *bilstmGorgonia) weights() []float32 { return nnFloat32(e.g.weights()) }

// validate scores l with the engine's forward pass (see
// bilstmTrainer.probs) and returns Evaluate's metrics and the
// class-weighted mean cross-entropy.
func (m *BiLSTM) validate(eval *bilstmTrainer, l Labeled, classW []float32) (Metrics, float64) {
	preds := m.predictWith(eval, l.X)
	var loss, wsum float64
	for i, y := range l.Y {
		p := max(float64(preds[i].Probs[y]), 1e-12)
		loss -= float64(classW[y]) * logDet(p)
		wsum += float64(classW[y])
	}
	return Evaluate(m.cfg.Classes, m.cfg.BenignClass, l.Y, preds), loss / wsum
}

// predictWith is Predict on the training engine's forward pass: the same
// values on every CPU (the serving path's kernels agree with it to float32
// rounding). Train measures the test split with it, so that the metrics
// written into a model file do not depend on the machine.
func (m *BiLSTM) predictWith(eval *bilstmTrainer, x Seqs) []Prediction {
	C := m.d.C
	probs := make([]float32, x.N*C)
	cls := make([]int, x.N)
	eval.probs(x, probs, cls)
	out := make([]Prediction, x.N)
	for i := range out {
		p := probs[i*C : (i+1)*C : (i+1)*C]
		out[i] = Prediction{Class: cls[i], Probs: p, Score: 1 - float64(p[m.cfg.BenignClass]), Alert: cls[i] != m.cfg.BenignClass}
	}
	return out
}

// PredictExact is Predict computed by the training engine's forward pass
// instead of the serving path: slower, but the same bits on every CPU. Use
// it where a result must be reproducible across machines (the metrics in a
// model file).
func (m *BiLSTM) PredictExact(x Seqs) (_ []Prediction, err error) {
	defer catchPanic(&err)
	if m.net == nil {
		return nil, ErrNotFitted
	}
	if err := x.Validate(); err != nil {
		return nil, err
	}
	if x.T != m.d.T || x.F != m.d.F {
		return nil, fmt.Errorf("%w: bilstm expects T=%d F=%d, got T=%d F=%d", ErrShape, m.d.T, m.d.F, x.T, x.F)
	}
	return m.predictWith(newBiLSTMTrainer(m.d, m.w, true), x), nil
}

func (m *BiLSTM) checkLabeled(l Labeled) error {
	if err := l.X.Validate(); err != nil {
		return err
	}
	if l.X.T != m.d.T || l.X.F != m.d.F || len(l.Y) != l.X.N || l.X.N == 0 {
		return fmt.Errorf("%w: want T=%d F=%d and one label per row, got T=%d F=%d N=%d labels=%d",
			ErrShape, m.d.T, m.d.F, l.X.T, l.X.F, l.X.N, len(l.Y))
	}
	for i, y := range l.Y {
		if y < 0 || y >= m.d.C {
			return fmt.Errorf("%w: row %d has class %d of %d", ErrShape, i, y, m.d.C)
		}
	}
	return nil
}

func nnFloat32(w []float64) []float32 {
	out := make([]float32, len(w))
	for i, v := range w {
		out[i] = float32(v)
	}
	return out
}

var _ Model = (*BiLSTM)(nil)
