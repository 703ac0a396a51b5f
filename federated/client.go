package federated

import (
	"crypto/ecdsa"
	crand "crypto/rand"
	"fmt"
	"math/rand/v2"

	"github.com/idsledger/idsledger/detector"
)

// Task is what a site needs to know of a round to take part in it.
type Task struct {
	Round     uint64 `json:"round"`
	ChainID   uint64 `json:"chain_id"`
	BaseModel string `json:"base_model"`
	Policy    Policy `json:"policy"`
}

// Task is the round's announcement to its sites.
func (r *Round) Task() Task {
	return Task{Round: r.Number, ChainID: r.ChainID, BaseModel: r.BaseModelID, Policy: r.Policy}
}

// Federable reports whether a model kind's weights can be averaged across
// sites: the neural models (bilstm, autoencoder). Tree, cluster and
// subspace models encode structure that averaging would break.
func Federable(kind string) bool { return kind == "bilstm" || kind == "autoencoder" }

// LocalStep is one site's part in one round.
type LocalStep struct {
	Task Task
	// Global is the global model w̄(t−1); its ID must be Task.BaseModel. It
	// is not modified.
	Global *detector.Detector
	// Train and Valid are the site's labelled rows, already through
	// Global's pipeline. Unsupervised models train on the benign rows of
	// Train only; Valid (may be empty) drives early stopping and the
	// site's reported accuracy.
	Train, Valid detector.Labeled
	// Key signs the update.
	Key *ecdsa.PrivateKey
	// Feedback is the site's error-feedback state, updated in place; nil
	// disables error feedback. A residual of another length (the model
	// changed shape) is dropped.
	Feedback *ErrorFeedback
	// Noise is the source of local DP noise; nil draws a fresh ChaCha8 seed
	// from crypto/rand (what a real site wants).
	Noise *rand.Rand
	// Seed seeds the local training's shuffling.
	Seed int64
}

// LocalReport says what a local step did, for the site's own log.
type LocalReport struct {
	Samples     int     `json:"samples"`
	PreClipNorm float64 `json:"pre_clip_norm"`
	Accuracy    float64 `json:"accuracy"`
	Loss        float64 `json:"loss"`
	// PayloadBytes is the upload; RawBytes what f32 would have taken.
	PayloadBytes int `json:"payload_bytes"`
	RawBytes     int `json:"raw_bytes"`
}

// TrainUpdate is the site side of a round, as a pure function of its
// inputs (and of Noise): copy the global model, train it on the local rows
// with the policy's epochs, batch size and learning rate and the class
// weights `idsledger train` uses (Policy.TrainConfig) (eq. 1), take
// Δ = w_local − w̄(t−1), clip it to C and add N(0, σ²C²I) as the policy's
// DP asks (eq. 7-8; central DP clips only), encode it with error feedback,
// and sign the Update. Errors: ErrWrongBase when Global is not the task's
// base model, ErrNotFederable for a model kind that cannot federate,
// ErrPolicy for an invalid policy, ErrTooFew for no training rows, and
// the model's own training errors.
func TrainUpdate(s LocalStep) (*Update, LocalReport, error) {
	var rep LocalReport
	p := s.Task.Policy
	if err := p.Validate(); err != nil {
		return nil, rep, err
	}
	if s.Global.ID() != s.Task.BaseModel {
		return nil, rep, fmt.Errorf("%w: have model %q, round %d starts from %q", ErrWrongBase, s.Global.ID(), s.Task.Round, s.Task.BaseModel)
	}
	kind := s.Global.Model.Kind()
	if !Federable(kind) {
		return nil, rep, fmt.Errorf("%w: %s", ErrNotFederable, kind)
	}
	m, err := cloneModel(s.Global.Model)
	if err != nil {
		return nil, rep, err
	}
	base := m.Weights()
	train := s.Train
	if k, _ := detector.LookupModel(kind); !k.Supervised {
		train = benignRows(train, m.Config().BenignClass)
	}
	if train.Len() == 0 {
		return nil, rep, fmt.Errorf("%w: no training rows for %s", ErrTooFew, kind)
	}
	tc, err := p.TrainConfig(m, train, s.Seed)
	if err != nil {
		return nil, rep, err
	}
	var last detector.EpochStats
	if err := m.Fit(train, s.Valid, tc, func(e detector.EpochStats) { last = e }); err != nil {
		return nil, rep, fmt.Errorf("federated: local training: %w", err)
	}
	rep.Samples = train.Len()
	rep.Loss = last.TrainLoss
	eval := train
	if s.Valid.Len() > 0 {
		rep.Loss, eval = last.ValidLoss, s.Valid
	}
	if rep.Accuracy, err = Accuracy(m, eval); err != nil {
		return nil, rep, err
	}

	w := m.Weights()
	delta := make([]float32, len(w))
	for i := range w {
		delta[i] = w[i] - base[i]
	}
	switch p.DP.Mode {
	case DPLocal:
		rep.PreClipNorm = ClipL2(delta, p.DP.Clip)
		noise := s.Noise
		if noise == nil {
			var seed [32]byte
			crand.Read(seed[:])
			noise = NewNoiseSource(seed)
		}
		AddGaussian(delta, p.DP.Sigma*p.DP.Clip, noise)
	case DPCentral:
		rep.PreClipNorm = ClipL2(delta, p.DP.Clip)
	default:
		rep.PreClipNorm = Norm(delta)
	}
	if s.Feedback != nil && len(s.Feedback.Residual) != len(delta) {
		s.Feedback.Residual = nil
	}
	payload, err := p.Compression.Encode(delta, s.Feedback)
	if err != nil {
		return nil, rep, err
	}
	rep.PayloadBytes, rep.RawBytes = len(payload), 4*len(delta)

	u := &Update{
		ChainID: s.Task.ChainID, Round: s.Task.Round, BaseModel: s.Task.BaseModel,
		Samples: uint64(rep.Samples), Dim: uint32(len(delta)),
		Encoding: p.Compression.Encoding, Payload: payload,
		ReportedAccuracy: rep.Accuracy, ReportedLoss: max(rep.Loss, 0),
		DP: p.DP.SiteParams(),
	}
	if err := u.Sign(s.Key); err != nil {
		return nil, rep, err
	}
	return u, rep, nil
}

// cloneModel is an independent copy of m (config, weights, threshold).
func cloneModel(m detector.Model) (detector.Model, error) {
	b, err := m.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("federated: copy global model: %w", err)
	}
	c, err := detector.NewModel(m.Kind(), m.Config())
	if err != nil {
		return nil, err
	}
	if err := c.UnmarshalBinary(b); err != nil {
		return nil, fmt.Errorf("federated: copy global model: %w", err)
	}
	return c, nil
}

// benignRows is the subset of l labelled benign.
func benignRows(l detector.Labeled, benign int) detector.Labeled {
	var idx []int
	for i, y := range l.Y {
		if y == benign {
			idx = append(idx, i)
		}
	}
	return l.Subset(idx)
}
