package detector

import (
	"fmt"
	"math"
	"slices"
	"time"
)

func init() {
	registerModel(ModelKind{
		Name:       "autoencoder",
		Supervised: false,
		Input:      InputRow,
		New:        func(cfg ModelConfig) (Model, error) { return NewAutoencoder(cfg) },
		// Every feature, no log1p in the pipeline (the model applies its own
		// log, see aeDims); threshold at a 4% benign false-positive rate.
		Defaults: TrainDefaults{Epochs: AEDefaultEpochs, BatchSize: AEDefaultBatch, LearningRate: AEDefaultLR,
			Patience: 10, TargetFPR: AEDefaultTargetFPR, CorrThreshold: 1, LogScale: false},
	})
}

// Defaults of the autoencoder when ModelConfig / TrainConfig leave them zero.
const (
	AEDefaultBottleneck = 8
	AEDefaultWidth      = 32
	AEDefaultLogEps     = 3e-3
	AEDefaultStdFloor   = 0.2
	AEDefaultEpochs     = 300
	AEDefaultBatch      = 32
	AEDefaultLR         = 0.003
	AEDefaultTargetFPR  = 0.04
)

// aeDims are the autoencoder's sizes: F inputs (T·F of the sequences it
// reads, usually T=1), encoder F → Width → Z, decoder Z → Width → F, tanh on
// the hidden layers and a linear output.
//
// Before the network, each input value goes through a fixed transform
// fitted on the benign training rows, part of the model:
//
//	u_j = (log(x_j + LogEps) − shift_j) · scale_j    (LogEps > 0)
//	u_j = (x_j − shift_j) · scale_j                    (LogEps = 0)
//
// with shift_j the benign mean and scale_j = 1/max(benign std, StdFloor).
// Pipeline outputs are min-max scaled to [0,1], so the byte and packet counts
// of benign IoT traffic are crowded near 0 while attacks differ by orders of
// magnitude; the log spreads those decades apart (like log1p before min-max)
// and the benign standardisation weighs every feature by how much benign
// traffic varies on it. The anomaly score is the mean squared error over
// the F transformed features.
//
// The flat weight vector is, in order: shift (F), scale (F), then each layer
// l of sizes [F, Width, Z, Width, F] as a (in_l+1) × out_l row-major matrix
// whose last row is the bias.
type aeDims struct {
	F, W, Z  int
	LogEps   float64
	StdFloor float64
}

func (d aeDims) sizes() []int { return []int{d.F, d.W, d.Z, d.W, d.F} }

func (d aeDims) layerSize() int {
	s, n := d.sizes(), 0
	for l := 0; l+1 < len(s); l++ {
		n += (s[l] + 1) * s[l+1]
	}
	return n
}

func (d aeDims) size() int { return 2*d.F + d.layerSize() }

// validate keeps every Concat width below gorgonia's slice-bound limit (see
// bilstmDims.validate).
func (d aeDims) validate() error {
	if d.F <= 0 || d.W <= 0 || d.Z <= 0 || d.Z > MaxHidden {
		return fmt.Errorf("%w: autoencoder needs F, width > 0 and a bottleneck in [1, %d] (got %+v)", ErrShape, MaxHidden, d)
	}
	if d.F+1 > bilstmMaxGorgoniaBound || d.W+1 > bilstmMaxGorgoniaBound {
		return fmt.Errorf("%w: autoencoder F+1=%d or width+1=%d exceeds %d (gorgonia slice-bound limit)",
			ErrShape, d.F+1, d.W+1, bilstmMaxGorgoniaBound)
	}
	return nil
}

// Autoencoder is the dense encoder-decoder anomaly detector (Block Hunter's
// "neural encoder-decoder"): trained on benign rows only by the fast engine
// or gorgonia (Adam, MSE, early stopping on the benign validation rows),
// scored by a plain-Go forward pass. Score is the reconstruction error (see aeDims); Alert is
// Score >= Threshold, the threshold set on held-out benign rows at
// TrainConfig.TargetFPR.
//
// ModelConfig: Hidden is the bottleneck size (default 8); Params "width"
// (default 32), "log_eps" (default 3e-3; 0 disables the log) and
// "std_floor" (default 0.2).
//
// Predict is safe for concurrent use; Fit, SetWeights and UnmarshalBinary
// are not safe to call concurrently with anything else.
type Autoencoder struct {
	cfg       ModelConfig
	d         aeDims
	w         []float32
	net       *aeNet
	threshold float64
	hist      []EpochStats
}

// NewAutoencoder returns an unfitted autoencoder for cfg.
func NewAutoencoder(cfg ModelConfig) (*Autoencoder, error) {
	if cfg.Hidden == 0 {
		cfg.Hidden = AEDefaultBottleneck
	}
	d := aeDims{
		F: cfg.T * cfg.F, W: int(cfg.Param("width", AEDefaultWidth)), Z: cfg.Hidden,
		LogEps: cfg.Param("log_eps", AEDefaultLogEps), StdFloor: cfg.Param("std_floor", AEDefaultStdFloor),
	}
	if err := d.validate(); err != nil {
		return nil, err
	}
	if !(d.LogEps >= 0) || !(d.StdFloor > 0) || !isFinite(d.LogEps) || !isFinite(d.StdFloor) {
		return nil, fmt.Errorf("%w: autoencoder log_eps %v must be >= 0 and std_floor %v > 0", ErrShape, d.LogEps, d.StdFloor)
	}
	return &Autoencoder{cfg: cfg, d: d}, nil
}

// Kind is "autoencoder".
func (m *Autoencoder) Kind() string { return "autoencoder" }

// Config returns the configuration, with Hidden resolved.
func (m *Autoencoder) Config() ModelConfig { return m.cfg }

// Threshold is the alert threshold on the reconstruction error.
func (m *Autoencoder) Threshold() float64 { return m.threshold }

// Calibrate sets the alert threshold from benign rows, as Fit does on its
// benign validation rows: the lowest score such that at most a fraction
// fpr of them score at or above it. A federated round, which averages
// weights and so changes the scale of reconstruction errors, calibrates
// its new model this way on the coordinator's validation set.
func (m *Autoencoder) Calibrate(benign Seqs, fpr float64) error {
	if benign.N == 0 {
		return fmt.Errorf("%w: no benign rows to calibrate on", ErrShape)
	}
	s, err := m.Scores(benign)
	if err != nil {
		return err
	}
	m.threshold = thresholdAtFPR(s, fpr)
	return nil
}

// SetThreshold replaces the alert threshold (e.g. after a federated round
// agreed on one).
func (m *Autoencoder) SetThreshold(t float64) { m.threshold = t }

// History returns the per-epoch statistics of the last Fit.
func (m *Autoencoder) History() []EpochStats { return append([]EpochStats(nil), m.hist...) }

// Weights returns a copy of the flat weights (aeDims layout), nil before
// fitting.
func (m *Autoencoder) Weights() []float32 { return append([]float32(nil), m.w...) }

// SetWeights replaces the weights with a copy of w (aeDims layout). The
// threshold is kept.
func (m *Autoencoder) SetWeights(w []float32) error {
	net, err := newAENet(m.d, w)
	if err != nil {
		return err
	}
	m.w = append([]float32(nil), w...)
	m.net = net
	return nil
}

// InitWeights sets an identity input transform (shift 0, scale 1, see
// aeDims) and the seeded initial layers (ModelConfig.Seed) Fit starts
// from. It gives a servable model of a shape without training, for
// measurements and tests. Fit afterwards keeps the identity transform
// instead of fitting one on the benign rows, as it keeps any weights it
// finds. The threshold is kept. Not safe for concurrent use.
func (m *Autoencoder) InitWeights() error {
	F := m.d.F
	w := make([]float32, 2*F, m.d.size())
	for j := F; j < 2*F; j++ {
		w[j] = 1
	}
	return m.SetWeights(append(w, m.d.initLayers(m.cfg.Seed)...))
}

// Scores returns the reconstruction error of every sequence of x.
func (m *Autoencoder) Scores(x Seqs) (_ []float64, err error) {
	defer catchPanic(&err)
	if m.net == nil {
		return nil, ErrNotFitted
	}
	if err := x.Validate(); err != nil {
		return nil, err
	}
	if x.T != m.cfg.T || x.F != m.cfg.F {
		return nil, fmt.Errorf("%w: autoencoder expects T=%d F=%d, got T=%d F=%d", ErrShape, m.cfg.T, m.cfg.F, x.T, x.F)
	}
	out := make([]float64, x.N)
	m.net.scores(x.Data, out)
	return out, nil
}

// Predict scores x: Class is BenignClass or ClassAnomaly, Probs is nil.
func (m *Autoencoder) Predict(x Seqs) ([]Prediction, error) {
	s, err := m.Scores(x)
	if err != nil {
		return nil, err
	}
	out := make([]Prediction, len(s))
	for i, v := range s {
		alert := v >= m.threshold
		cls := m.cfg.BenignClass
		if alert {
			cls = ClassAnomaly
		}
		out[i] = Prediction{Class: cls, Score: v, Alert: alert}
	}
	return out, nil
}

// MarshalBinary encodes config, threshold and weights (modelBlob layout).
func (m *Autoencoder) MarshalBinary() ([]byte, error) {
	if m.w == nil {
		return nil, ErrNotFitted
	}
	return marshalModelBlob(m.Kind(), m.cfg, m.threshold, nil, m.w)
}

// UnmarshalBinary restores a model encoded by MarshalBinary.
func (m *Autoencoder) UnmarshalBinary(data []byte) error {
	h, w, err := unmarshalModelBlob("autoencoder", data, nil)
	if err != nil {
		return err
	}
	n, err := NewAutoencoder(h.Config)
	if err != nil {
		return err
	}
	if err := n.SetWeights(w); err != nil {
		return err
	}
	n.threshold = h.Threshold
	*m = *n
	return nil
}

// Validate checks that the model has its weights, as many as its sizes
// need, all finite (the input transform's shift and scale included), and a
// finite threshold.
func (m *Autoencoder) Validate() error {
	if m.net == nil || len(m.w) != m.d.size() {
		return invalid("autoencoder weights", "%d, want %d for %+v", len(m.w), m.d.size(), m.d)
	}
	if err := checkFinite("autoencoder weights", m.w); err != nil {
		return err
	}
	return checkThreshold(m.threshold)
}

// Fit trains on the benign rows of train (Y == BenignClass). A model without
// weights first fits the input transform (shift, scale) on those rows and
// initialises its layers from the seed; a model with weights (SetWeights,
// earlier Fit, UnmarshalBinary) keeps its transform and continues training
// its layers, as a federated round needs. cfg.Engine chooses the fast
// engine (the default, autoencoder_fast.go) or gorgonia's graph; zero
// fields of cfg take the kind's defaults (DefaultsFor("autoencoder")).
// Early stopping (cfg.Patience) and the threshold use the benign rows of
// valid, or of train when valid has none: the threshold is the smallest
// score such that at most a fraction cfg.TargetFPR of those rows score at
// or above it. Each epoch reports the validation figures EpochStats
// describes for Task "anomaly", on the serving path's scores.
func (m *Autoencoder) Fit(train, valid Labeled, cfg TrainConfig, progress func(EpochStats)) error {
	benign := m.benignRows(train)
	if len(benign) == 0 {
		return fmt.Errorf("autoencoder fit: no benign rows (class %d) in %d training rows", m.cfg.BenignClass, train.Len())
	}
	vben := m.benignRows(valid)
	hold := valid
	if len(vben) == 0 {
		hold, vben = train, benign
	}
	cfg = cfg.withDefaults(mustDefaults("autoencoder"))
	engine, err := checkEngine(cfg.Engine)
	if err != nil {
		return fmt.Errorf("autoencoder fit: %w", err)
	}
	batch := min(cfg.BatchSize, len(benign))
	F := m.d.F
	if m.w == nil {
		w := make([]float32, 2*F, m.d.size())
		m.fitTransform(train.X, benign, w[:F], w[F:2*F])
		if err := m.SetWeights(append(w, m.d.initLayers(m.cfg.Seed)...)); err != nil {
			return err
		}
	}
	// Transform the benign training rows once.
	u := make([]float32, len(benign)*F)
	for r, i := range benign {
		m.net.transform(u[r*F:(r+1)*F], train.X.At(i))
	}
	var eng nnEngine
	if engine == EngineGorgonia {
		if eng, err = newAEGorgonia(m.d, batch, m.w[2*F:], cfg.LearningRate, u); err != nil {
			return fmt.Errorf("autoencoder fit: %w", err)
		}
	} else {
		eng = newAEFastEngine(m.d, m.w[2*F:], u, true)
	}
	rng := newRand(cfg.Seed, 4)
	perm := make([]int, len(benign))
	for i := range perm {
		perm[i] = i
	}
	vx := hold.Subset(vben).X
	var attackX Seqs
	if attacks := m.attackRows(hold); len(attacks) > 0 {
		attackX = hold.Subset(attacks).X
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
			loss, err := eng.step(perm[lo:lo+batch], cfg.LearningRate)
			if err != nil {
				return fmt.Errorf("autoencoder fit: epoch %d: %w", epoch, err)
			}
			sum += loss
			steps++
		}
		w := slices.Concat(m.w[:2*F], eng.weights())
		if err := m.SetWeights(w); err != nil {
			return err
		}
		st := EpochStats{Epoch: epoch, Epochs: cfg.Epochs, Task: "anomaly", TrainLoss: sum / float64(max(steps, 1)), Elapsed: time.Since(t0)}
		if err := m.validate(&st, vx, attackX, cfg.TargetFPR); err != nil {
			return err
		}
		m.hist = append(m.hist, st)
		if progress != nil {
			progress(st)
		}
		if cfg.Patience <= 0 {
			continue
		}
		if st.ValidLoss < bestLoss {
			bestLoss, best, sinceBest = st.ValidLoss, w, 0
		} else if sinceBest++; sinceBest >= cfg.Patience {
			break
		}
	}
	if best != nil {
		if err := m.SetWeights(best); err != nil {
			return err
		}
	}
	vs, err := m.Scores(vx)
	if err != nil {
		return err
	}
	m.threshold = thresholdAtFPR(vs, cfg.TargetFPR)
	return nil
}

// validate fills st's validation figures (EpochStats, Task "anomaly") from
// the benign validation rows benign and the attack rows attacks (N may be
// 0), at the threshold Fit would set now.
func (m *Autoencoder) validate(st *EpochStats, benign, attacks Seqs, fpr float64) error {
	bs, err := m.Scores(benign)
	if err != nil {
		return err
	}
	for _, s := range bs {
		st.ValidLoss += s / float64(len(bs))
	}
	thr := thresholdAtFPR(bs, fpr)
	over := 0
	for _, s := range bs {
		if s >= thr {
			over++
		}
	}
	st.ValidFPR = Float(float64(over) / float64(len(bs)))
	st.ValidAUC = Float(math.NaN())
	if attacks.N == 0 {
		return nil
	}
	as, err := m.Scores(attacks)
	if err != nil {
		return err
	}
	caught := 0
	for _, s := range as {
		if s >= thr {
			caught++
		}
	}
	st.ValidDetection = Float(float64(caught) / float64(len(as)))
	scores := append(append([]float64(nil), bs...), as...)
	positive := make([]bool, len(scores))
	for i := len(bs); i < len(scores); i++ {
		positive[i] = true
	}
	st.ValidAUC = Float(ROCAUC(scores, positive))
	return nil
}

// attackRows returns the rows of l that are not benign.
func (m *Autoencoder) attackRows(l Labeled) []int {
	var idx []int
	for i, y := range l.Y {
		if y != m.cfg.BenignClass {
			idx = append(idx, i)
		}
	}
	return idx
}

func (m *Autoencoder) benignRows(l Labeled) []int {
	var idx []int
	for i, y := range l.Y {
		if y == m.cfg.BenignClass {
			idx = append(idx, i)
		}
	}
	return idx
}

// fitTransform sets shift and scale (aeDims) from the rows idx of x.
func (m *Autoencoder) fitTransform(x Seqs, idx []int, shift, scale []float32) {
	F := m.d.F
	sum := make([]float64, F)
	sq := make([]float64, F)
	for _, i := range idx {
		for j, v := range x.At(i) {
			u := float64(m.d.pre(v))
			sum[j] += u
			sq[j] += u * u
		}
	}
	n := float64(len(idx))
	for j := range shift {
		mean := sum[j] / n
		sd := math.Sqrt(math.Max(0, sq[j]/n-mean*mean))
		shift[j] = float32(mean)
		scale[j] = float32(1 / math.Max(sd, m.d.StdFloor))
	}
}

// pre is the transform before standardisation, in float32 exactly as the
// serving path computes it.
func (d aeDims) pre(v float32) float32 {
	if d.LogEps > 0 {
		if !(v > 0) {
			v = 0
		}
		return logf(v + float32(d.LogEps))
	}
	return v
}

var _ Model = (*Autoencoder)(nil)
