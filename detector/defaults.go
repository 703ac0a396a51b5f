package detector

import (
	"fmt"
	"sort"
	"strings"
)

// TrainDefaults are a model kind's training settings where TrainOptions or
// TrainConfig leave a field zero. Each kind registers its own (ModelKind.Defaults,
// in the kind's file) and nothing else holds a default for these settings:
// Train, every Fit and `idsledger train` read them from there, so the
// library and the command line agree.
type TrainDefaults struct {
	Epochs       int     `json:"epochs,omitempty"`
	BatchSize    int     `json:"batch_size,omitempty"`
	LearningRate float64 `json:"learning_rate,omitempty"`
	// Patience is the early-stopping patience in epochs (0: the kind has
	// no early stopping).
	Patience int `json:"patience,omitempty"`
	// TargetFPR is the benign false-positive rate at which unsupervised
	// kinds set their threshold (0 for supervised kinds).
	TargetFPR float64 `json:"target_fpr,omitempty"`
	// CorrThreshold and LogScale are the preprocessing that suits the kind
	// (PipelineConfig).
	CorrThreshold float64 `json:"corr_threshold"`
	LogScale      bool    `json:"log_scale"`
	// ClassWeights is TrainOptions.ClassWeights for supervised kinds.
	ClassWeights string `json:"class_weights,omitempty"`
}

// Training engines of the neural models (TrainConfig.Engine).
const (
	// EngineFast trains on the serving path's kernels in plain Go, on all
	// cores (bilstm_fast.go, autoencoder_fast.go): the default.
	EngineFast = "fast"
	// EngineGorgonia trains the gorgonia graph: the reference the fast
	// engine is tested against, about ten times slower.
	EngineGorgonia = "gorgonia"
)

// Engines lists the training engines.
func Engines() []string { return []string{EngineFast, EngineGorgonia} }

// checkEngine resolves "" to EngineFast and refuses unknown names.
func checkEngine(e string) (string, error) {
	switch e {
	case "", EngineFast:
		return EngineFast, nil
	case EngineGorgonia:
		return e, nil
	}
	return "", fmt.Errorf("%w: training engine %q (have %s)", ErrUnknownKind, e, strings.Join(Engines(), ", "))
}

// DefaultsFor returns the training defaults of the model kind named kind.
func DefaultsFor(kind string) (TrainDefaults, error) {
	k, ok := LookupModel(kind)
	if !ok {
		return TrainDefaults{}, fmt.Errorf("%w: model %q (have %v)", ErrUnknownKind, kind, ModelKinds())
	}
	return k.Defaults, nil
}

// mustDefaults is DefaultsFor for the kinds of this package.
func mustDefaults(kind string) TrainDefaults {
	d, err := DefaultsFor(kind)
	if err != nil {
		panic(err)
	}
	return d
}

// withDefaults fills the zero fields of c from def. A negative Patience
// turns early stopping off (and reads as 0 afterwards).
func (c TrainConfig) withDefaults(def TrainDefaults) TrainConfig {
	if c.Epochs <= 0 {
		c.Epochs = def.Epochs
	}
	if c.BatchSize <= 0 {
		c.BatchSize = def.BatchSize
	}
	if c.LearningRate == 0 {
		c.LearningRate = def.LearningRate
	}
	switch {
	case c.Patience == 0:
		c.Patience = def.Patience
	case c.Patience < 0:
		c.Patience = 0
	}
	if c.TargetFPR == 0 {
		c.TargetFPR = def.TargetFPR
	}
	return c
}

// DescribeDefaults states, for one setting, each kind's default, grouping
// kinds that share one: e.g. "bilstm 15, autoencoder 10" (kinds without the
// setting, where get returns "", are left out).
func DescribeDefaults(get func(TrainDefaults) string) string {
	byValue := map[string][]string{}
	var order []string
	for _, name := range ModelKinds() {
		k, _ := LookupModel(name)
		v := get(k.Defaults)
		if v == "" {
			continue
		}
		if _, ok := byValue[v]; !ok {
			order = append(order, v)
		}
		byValue[v] = append(byValue[v], name)
	}
	sort.SliceStable(order, func(a, b int) bool { return len(byValue[order[a]]) < len(byValue[order[b]]) })
	parts := make([]string, len(order))
	for i, v := range order {
		parts[i] = strings.Join(byValue[v], ", ") + " " + v
	}
	return strings.Join(parts, "; ")
}
