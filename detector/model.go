package detector

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"
)

// Seqs is a batch of N sequences of T steps with F features each, stored
// row-major (sequence, then step, then feature) as float32, every value in
// [0,1] once it comes out of a Pipeline. Row models (iforest, pca, kmeans,
// cblof, autoencoder) use T=1. len(Data) == N*T*F always.
type Seqs struct {
	N, T, F int
	Data    []float32
}

// NewSeqs returns a zeroed batch of n sequences of shape t×f.
func NewSeqs(n, t, f int) Seqs {
	return Seqs{N: n, T: t, F: f, Data: make([]float32, n*t*f)}
}

// Width is the number of values per sequence, T*F.
func (s Seqs) Width() int { return s.T * s.F }

// At returns sequence i as a T*F slice aliasing s.Data.
func (s Seqs) At(i int) []float32 {
	w := s.T * s.F
	return s.Data[i*w : (i+1)*w : (i+1)*w]
}

// Slice returns sequences [lo,hi) as a batch aliasing s.Data.
func (s Seqs) Slice(lo, hi int) Seqs {
	w := s.T * s.F
	return Seqs{N: hi - lo, T: s.T, F: s.F, Data: s.Data[lo*w : hi*w : hi*w]}
}

// Validate reports whether the shape and the data length agree.
func (s Seqs) Validate() error {
	if s.N < 0 || s.T <= 0 || s.F <= 0 || len(s.Data) != s.N*s.T*s.F {
		return fmt.Errorf("%w: seqs N=%d T=%d F=%d len=%d", ErrShape, s.N, s.T, s.F, len(s.Data))
	}
	return nil
}

// Labeled is a batch of sequences with their class indices: Y[i] indexes
// ModelConfig.Classes and len(Y) == X.N.
type Labeled struct {
	X Seqs
	Y []int
}

// Len is the number of labelled sequences.
func (l Labeled) Len() int { return l.X.N }

// Subset returns the rows idx (copied) as a new Labeled.
func (l Labeled) Subset(idx []int) Labeled {
	w := l.X.Width()
	out := Labeled{X: NewSeqs(len(idx), l.X.T, l.X.F), Y: make([]int, len(idx))}
	for j, i := range idx {
		copy(out.X.Data[j*w:(j+1)*w], l.X.At(i))
		out.Y[j] = l.Y[i]
	}
	return out
}

// ClassAnomaly is the Prediction.Class of an anomaly detector (an
// unsupervised model) that raises an alert: it knows the row is not benign
// but cannot name the attack.
const ClassAnomaly = -1

// Prediction is a model's verdict on one sequence.
type Prediction struct {
	// Class indexes ModelConfig.Classes. Supervised models return the arg-max
	// class; unsupervised models return ModelConfig.BenignClass or
	// ClassAnomaly.
	Class int `json:"class"`
	// Probs are the class probabilities (softmax) of a supervised model,
	// len(Classes), summing to 1; nil for unsupervised models.
	Probs []float32 `json:"probs,omitempty"`
	// Score is higher for more anomalous / more likely attack rows. Supervised
	// models use 1 − P(benign); unsupervised models their raw anomaly score
	// (reconstruction error, Mahalanobis distance, path-length score, ...).
	Score float64 `json:"score"`
	// Alert is the model's binary decision: Score >= Threshold() for
	// unsupervised models, Class != BenignClass for supervised ones.
	Alert bool `json:"alert"`
}

// ModelConfig fixes a model's architecture: everything needed to construct
// it before its weights are set. It is stored in the model file.
type ModelConfig struct {
	// T and F are the input shape (steps and features per step).
	T int `json:"t"`
	F int `json:"f"`
	// Classes are the class names; Labeled.Y and Prediction.Class index it.
	Classes []string `json:"classes"`
	// BenignClass indexes the benign class in Classes.
	BenignClass int `json:"benign_class"`
	// Hidden is the hidden size of a neural model (LSTM units per direction,
	// autoencoder bottleneck); 0 means the kind's default.
	Hidden int `json:"hidden,omitempty"`
	// Params are kind-specific hyper-parameters that fix the architecture
	// (e.g. "trees", "sample_size" for iforest; "k" for kmeans and cblof;
	// "components" for pca). Missing keys take the kind's defaults.
	Params map[string]float64 `json:"params,omitempty"`
	// Seed seeds weight initialisation and any sampling in Fit.
	Seed int64 `json:"seed"`
}

// Param returns Params[name], or def when absent.
func (c ModelConfig) Param(name string, def float64) float64 {
	if v, ok := c.Params[name]; ok {
		return v
	}
	return def
}

// TrainConfig controls one call to Model.Fit. Zero values mean the kind's
// defaults (ModelKind.Defaults, see DefaultsFor).
type TrainConfig struct {
	Epochs       int     `json:"epochs,omitempty"`
	BatchSize    int     `json:"batch_size,omitempty"`
	LearningRate float64 `json:"learning_rate,omitempty"`
	// Patience is the number of epochs without improvement of the
	// validation loss before early stopping; 0 takes the kind's default,
	// a negative value disables early stopping.
	Patience int `json:"patience,omitempty"`
	// ClassWeights, when non-nil, weight each class's loss (len(Classes)),
	// e.g. from InverseFrequencyWeights, to counter class imbalance.
	ClassWeights []float32 `json:"class_weights,omitempty"`
	// TargetFPR is the benign false-positive rate at which unsupervised
	// models set their threshold, on the benign rows of the validation set
	// (default 0.01).
	TargetFPR float64 `json:"target_fpr,omitempty"`
	// Seed seeds shuffling and sampling during training.
	Seed int64 `json:"seed"`
	// Engine trains the neural models: EngineFast ("" means it too) or
	// EngineGorgonia, the reference. The classical models ignore it.
	Engine string `json:"engine,omitempty"`
}

// EpochStats is reported by Fit after each epoch (classical models report
// once, as epoch 1). Fields that do not apply are zero.
//
// The validation figures depend on Task. "multiclass" (the BiLSTM):
// ValidLoss is the class-weighted cross-entropy, ValidAcc, ValidF1 and
// ValidFPR are Evaluate's accuracy, macro-F1 and benign false-positive rate.
// "anomaly" (the autoencoder): ValidLoss is the mean reconstruction error
// of the benign validation rows; at the threshold Fit would set if it
// stopped now (TargetFPR of those rows), ValidFPR is the benign
// false-positive rate, and where the validation split has attacks,
// ValidDetection is the fraction of them at or above it and ValidAUC the
// ROC-AUC (NaN, encoded null, without attacks).
type EpochStats struct {
	Epoch          int           `json:"epoch"`
	Epochs         int           `json:"epochs"` // planned epochs
	Task           string        `json:"task,omitempty"`
	TrainLoss      float64       `json:"train_loss"`
	ValidLoss      float64       `json:"valid_loss"`
	ValidAcc       float64       `json:"valid_accuracy"`
	ValidF1        float64       `json:"valid_macro_f1"`
	ValidFPR       Float         `json:"valid_benign_fpr,omitempty"`
	ValidAUC       Float         `json:"valid_roc_auc,omitempty"`
	ValidDetection Float         `json:"valid_detection_rate,omitempty"`
	Elapsed        time.Duration `json:"elapsed_ns"`
}

// Model is one detector behind a common contract.
//
// Supervised models learn every class of ModelConfig.Classes. Unsupervised
// models (Supervised is false in the registry) fit on benign rows only
// (class BenignClass) and set their threshold so that a fraction TargetFPR
// of held-out benign rows score at or above it: the benign rows of valid,
// or, for the classical models, out-of-fold scores of the benign rows of
// train and valid together (see anomalyBase.fit).
type Model interface {
	// Kind is the registry name: "bilstm", "gbt", "autoencoder", "iforest",
	// "pca", "kmeans" or "cblof".
	Kind() string
	// Config returns the configuration the model was built with.
	Config() ModelConfig
	// Fit trains the model. valid may be empty (Len 0): no early stopping
	// and, for unsupervised models, the threshold comes from the benign
	// training rows. progress, if non-nil, is called after each epoch. Fit
	// is not safe for concurrent use with any other method.
	Fit(train, valid Labeled, cfg TrainConfig, progress func(EpochStats)) error
	// Predict scores a batch whose shape matches Config().T and F (else an
	// error wrapping ErrShape). The i-th prediction depends only on the
	// i-th sequence (batch-independent). Safe for concurrent use.
	Predict(x Seqs) ([]Prediction, error)
	// Threshold is the alert threshold on Prediction.Score.
	Threshold() float64
	// Weights returns all trained parameters as one flat vector in a fixed,
	// documented order (a copy). For neural models, PCA and k-means these
	// are averageable; for tree models they are an encoding of the trees.
	Weights() []float32
	// SetWeights replaces the parameters with w, which must have the length
	// and order of Weights (else an error wrapping ErrShape). Not safe for
	// concurrent use with Predict.
	SetWeights(w []float32) error
	// MarshalBinary encodes config, weights and threshold; the encoding is
	// deterministic (same model, same bytes).
	MarshalBinary() ([]byte, error)
	// UnmarshalBinary restores a model encoded by MarshalBinary of the same
	// kind; Predict afterwards gives identical results. It checks the
	// sizes the payload declares (ModelConfig and the kind's own) against
	// the bounds (MaxHidden, MaxTrees, ...) before allocating from them.
	UnmarshalBinary(data []byte) error
	// Validate checks the fitted model as DecodeDetector needs it before
	// it may score anything: its sizes within the bounds and consistent
	// with its configuration, every weight and the threshold finite, and
	// the kind's own structure sound (tree indices in range, positive
	// eigenvalues, ...). SetWeights does not check all this; DecodeDetector
	// calls Validate after UnmarshalBinary. Errors wrap ErrModelFile and
	// name what is wrong.
	Validate() error
}

// Errors callers check with errors.Is.
var (
	// ErrShape: an input or weight vector does not match the model.
	ErrShape = errors.New("detector: shape mismatch")
	// ErrUnknownKind: no model or dataset of that kind is registered.
	ErrUnknownKind = errors.New("detector: unknown kind")
	// ErrNotFitted: the model has no weights yet.
	ErrNotFitted = errors.New("detector: model not fitted")
)

// InputMode says how flows become the sequences a model reads.
type InputMode string

const (
	// InputRow: one flow is one sequence of T=1 step with F=#features.
	InputRow InputMode = "row"
	// InputPerFlow: one flow's selected features form a sequence of
	// T=#features steps with F=1 (the research's BiLSTM setup).
	InputPerFlow InputMode = "flow"
	// InputWindow: T consecutive flows of the same source key, F=#features.
	InputWindow InputMode = "window"
)

// ModelKind describes a registered model kind.
type ModelKind struct {
	Name string
	// Supervised models learn every class; unsupervised ones only benign.
	Supervised bool
	// Input is the default way flows become sequences for this kind.
	Input InputMode
	// New constructs an unfitted model.
	New func(cfg ModelConfig) (Model, error)
	// Defaults are the kind's training defaults: the only place they are
	// set (see TrainDefaults).
	Defaults TrainDefaults
}

var (
	kindsMu sync.RWMutex
	kinds   = map[string]ModelKind{}
)

// registerModel adds a model kind; each kind's file calls it from init.
// It panics on a duplicate or incomplete registration.
func registerModel(k ModelKind) {
	kindsMu.Lock()
	defer kindsMu.Unlock()
	if k.Name == "" || k.New == nil {
		panic("detector: incomplete model registration")
	}
	if _, dup := kinds[k.Name]; dup {
		panic("detector: model registered twice: " + k.Name)
	}
	if k.Input == "" {
		k.Input = InputRow
	}
	kinds[k.Name] = k
}

// LookupModel returns the registered kind named name.
func LookupModel(name string) (ModelKind, bool) {
	kindsMu.RLock()
	defer kindsMu.RUnlock()
	k, ok := kinds[name]
	return k, ok
}

// ModelKinds lists the registered kind names, sorted.
func ModelKinds() []string {
	kindsMu.RLock()
	defer kindsMu.RUnlock()
	names := make([]string, 0, len(kinds))
	for n := range kinds {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// NewModel constructs an unfitted model of the named kind; an unknown kind
// gives an error wrapping ErrUnknownKind.
func NewModel(kind string, cfg ModelConfig) (Model, error) {
	k, ok := LookupModel(kind)
	if !ok {
		return nil, fmt.Errorf("%w: model %q (have %v)", ErrUnknownKind, kind, ModelKinds())
	}
	if cfg.T <= 0 || cfg.F <= 0 {
		return nil, fmt.Errorf("%w: model %s needs T, F > 0 (got %d, %d)", ErrShape, kind, cfg.T, cfg.F)
	}
	if len(cfg.Classes) < 2 || cfg.BenignClass < 0 || cfg.BenignClass >= len(cfg.Classes) {
		return nil, fmt.Errorf("detector: model %s needs >= 2 classes and a benign class index (got %d classes, benign %d)", kind, len(cfg.Classes), cfg.BenignClass)
	}
	return k.New(cfg)
}
