package detector

import (
	"fmt"
	"maps"
	"math"
	"slices"
)

// Bounds on what a model file may declare. Model files come from admins
// (PUT /v1/models/active) and from the federation (round models, the
// global model sites download), and DecodeDetector is the one gate they
// all pass: every size a file declares is checked against these before
// anything is allocated from it, so no file can make decoding or scoring
// allocate without bound. Each is far above what idsledger trains.
const (
	// MaxModelFileBytes bounds a whole file. The largest model idsledger
	// trains is an isolation forest: MaxTrees trees of the default sample
	// size 256 take 61 MB.
	MaxModelFileBytes = 256 << 20
	// MaxFeatures bounds the features a pipeline selects (and so F, and T
	// in per-flow mode). The widest flow schemas idsledger reads have about
	// 120 columns (N-BaIoT: 115).
	MaxFeatures = 1024
	// MaxCategories bounds a categorical feature's categories: a port or a
	// protocol number read as a category has at most 65,536 values.
	MaxCategories = 1 << 16
	// MaxClasses bounds the class list (the datasets have at most 15).
	MaxClasses = 256
	// MaxWindow bounds the flows per window in window mode (default 10).
	// Every ingest allocates N·Window·F values for N flows.
	MaxWindow = 1024
	// MaxSeqValues bounds T·F, the values a model reads per flow: a batch
	// of 10,000 flows (the API's default cap) then needs at most 320 MiB
	// of sequences. The default model reads 35.
	MaxSeqValues = 8192
	// MaxHidden bounds ModelConfig.Hidden (BiLSTM units, the autoencoder's
	// bottleneck): gorgonia's slice-bound limit keeps trainable BiLSTMs
	// below 128 and autoencoder widths below 255.
	MaxHidden = 4096
	// MaxTrees bounds an isolation forest's trees (default 100).
	MaxTrees = 10000
	// MaxTreeSample bounds an isolation forest's sample size ψ (default
	// 256): its trees then have at most 2^17−1 nodes.
	MaxTreeSample = 1 << 16
	// MaxClusters bounds the centroids of k-means and CBLOF (default 8);
	// scoring a flow costs k·T·F.
	MaxClusters = 4096

	// maxSteps bounds T: a window, or the features of per-flow mode.
	maxSteps = max(MaxWindow, MaxFeatures)
)

// fieldError is a field of a model file that is out of bounds, not
// finite, or disagrees with another field. It wraps ErrModelFile.
type fieldError struct{ field, problem string }

func (e *fieldError) Error() string { return e.field + ": " + e.problem }
func (e *fieldError) Unwrap() error { return ErrModelFile }

// invalid names the field of a model file that is wrong and says why.
func invalid(field, format string, args ...any) error {
	return &fieldError{field: field, problem: fmt.Sprintf(format, args...)}
}

// modelFileError prefixes err with ErrModelFile's message (err keeps its
// own wrapped errors).
func modelFileError(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrModelFile, err)
}

func isFinite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// checkFinite refuses the first NaN or ±Inf of w, naming it within what.
func checkFinite(what string, w []float32) error {
	for i, v := range w {
		if !isFinite(float64(v)) {
			return invalid(what, "weight %d is %v", i, v)
		}
	}
	return nil
}

// checkThreshold refuses a threshold that is not finite: NaN alerts on
// nothing, +Inf on nothing, −Inf on everything.
func checkThreshold(t float64) error {
	if !isFinite(t) {
		return invalid("threshold", "%v is not finite", t)
	}
	return nil
}

// validate checks that every size c declares is within the bounds.
// Models check their kind's own sizes (hidden units, trees, clusters).
func (c ModelConfig) validate() error {
	switch {
	case c.T < 1 || c.T > maxSteps:
		return invalid("model_config.t", "%d is outside [1, %d]", c.T, maxSteps)
	case c.F < 1 || c.F > MaxFeatures:
		return invalid("model_config.f", "%d is outside [1, %d]", c.F, MaxFeatures)
	case c.T*c.F > MaxSeqValues:
		return invalid("model_config.t", "%d×%d values per sequence exceed %d", c.T, c.F, MaxSeqValues)
	case len(c.Classes) < 2 || len(c.Classes) > MaxClasses:
		return invalid("model_config.classes", "%d classes, want 2 to %d", len(c.Classes), MaxClasses)
	case c.BenignClass < 0 || c.BenignClass >= len(c.Classes):
		return invalid("model_config.benign_class", "%d is not the index of a class (%d classes)", c.BenignClass, len(c.Classes))
	case c.Hidden < 0 || c.Hidden > MaxHidden:
		return invalid("model_config.hidden", "%d is outside [0, %d]", c.Hidden, MaxHidden)
	}
	for _, k := range slices.Sorted(maps.Keys(c.Params)) {
		if !isFinite(c.Params[k]) {
			return invalid("model_config.params."+k, "%v is not finite", c.Params[k])
		}
	}
	return nil
}

// agrees refuses a payload whose configuration is not the one the
// metadata declares: the metadata is what was checked against the
// pipeline, and what the service reports; the payload is what scores.
func (c ModelConfig) agrees(payload ModelConfig) error {
	for _, f := range []struct {
		name string
		meta any
		pay  any
		same bool
	}{
		{"t", c.T, payload.T, c.T == payload.T},
		{"f", c.F, payload.F, c.F == payload.F},
		{"classes", c.Classes, payload.Classes, slices.Equal(c.Classes, payload.Classes)},
		{"benign_class", c.BenignClass, payload.BenignClass, c.BenignClass == payload.BenignClass},
		{"hidden", c.Hidden, payload.Hidden, c.Hidden == payload.Hidden},
		{"params", c.Params, payload.Params, maps.Equal(c.Params, payload.Params)},
		{"seed", c.Seed, payload.Seed, c.Seed == payload.Seed},
	} {
		if !f.same {
			return invalid("model_config."+f.name, "the metadata says %v, the payload %v", f.meta, f.pay)
		}
	}
	return nil
}

// Validate checks a pipeline as a model file carries it: a dataset kind
// and input mode this binary knows; feature, class and window counts
// within the bounds; every scaling number finite, numeric ranges that are
// not empty, categories sorted (they are looked up by binary search) and
// scaled by their count. Errors wrap ErrModelFile and name the field.
func (p *Pipeline) Validate() error {
	if _, err := LookupSchema(p.Dataset, p.LoadOptions()); err != nil {
		return invalid("pipeline.dataset", "%v", err)
	}
	switch p.Input {
	case InputRow, InputPerFlow, InputWindow:
	default:
		return invalid("pipeline.input", "%q is not %q, %q or %q", p.Input, InputRow, InputPerFlow, InputWindow)
	}
	if p.Window < 0 || p.Window > MaxWindow || (p.Input == InputWindow && p.Window < 1) {
		return invalid("pipeline.window", "%d is outside [1, %d]", p.Window, MaxWindow)
	}
	if n := len(p.Features); n < 1 || n > MaxFeatures {
		return invalid("pipeline.features", "%d features, want 1 to %d", n, MaxFeatures)
	}
	if t, f := p.Shape(); t*f > MaxSeqValues {
		return invalid("pipeline.features", "%s input gives %d×%d values per sequence, more than %d", p.Input, t, f, MaxSeqValues)
	}
	if n := len(p.Classes); n < 2 || n > MaxClasses {
		return invalid("pipeline.classes", "%d classes, want 2 to %d", n, MaxClasses)
	}
	seen := make(map[string]bool, max(len(p.Classes), len(p.Features)))
	for i, c := range p.Classes {
		if c == "" || seen[c] {
			return invalid(fmt.Sprintf("pipeline.classes[%d]", i), "empty or repeated class %q", c)
		}
		seen[c] = true
	}
	clear(seen)
	for i := range p.Features {
		ft := &p.Features[i]
		field := fmt.Sprintf("pipeline.features[%d]", i)
		if ft.Name == "" || seen[ft.Name] {
			return invalid(field+".name", "empty or repeated feature %q", ft.Name)
		}
		seen[ft.Name] = true
		if err := ft.validate(field); err != nil {
			return err
		}
	}
	return nil
}

// validate checks one feature's scaling (see Feature).
func (ft *Feature) validate(field string) error {
	for _, v := range []struct {
		name string
		x    float64
	}{{"min", ft.Min}, {"max", ft.Max}, {"impute", ft.Impute}, {"mutual_information", ft.MI}, {"log_unit", ft.LogUnit}} {
		if !isFinite(v.x) {
			return invalid(field+"."+v.name, "%v is not finite", v.x)
		}
	}
	if ft.LogUnit < 0 {
		return invalid(field+".log_unit", "%v is negative: want a positive step, or 0 for 1", ft.LogUnit)
	}
	if !ft.Categorical {
		// Values scale by 1/(max − min): an empty or unbounded range
		// would give NaN or nothing but 0.
		if !(ft.Max > ft.Min) || !isFinite(ft.Max-ft.Min) {
			return invalid(field+".max", "%v must exceed min %v by a finite amount", ft.Max, ft.Min)
		}
		return nil
	}
	n := len(ft.Categories)
	if n < 1 || n > MaxCategories {
		return invalid(field+".categories", "%d categories, want 1 to %d", n, MaxCategories)
	}
	for i := 1; i < n; i++ {
		if ft.Categories[i-1] >= ft.Categories[i] {
			return invalid(field+".categories", "not sorted and distinct at %d (%q, %q): values would be looked up wrongly", i, ft.Categories[i-1], ft.Categories[i])
		}
	}
	if ft.Min != 0 || ft.Max != float64(n) {
		return invalid(field+".max", "a categorical feature scales by its category count: want min 0 and max %d, have %v and %v", n, ft.Min, ft.Max)
	}
	return nil
}

// validate checks the metadata alone, before any of the payload is
// decoded: the pipeline, the model kind and its configuration, and that
// the configuration reads what the pipeline gives.
func (md *Metadata) validate() error {
	if md.FormatVersion != ModelFormatVersion {
		return invalid("format_version", "%d, want %d", md.FormatVersion, ModelFormatVersion)
	}
	p := md.Pipeline
	if p == nil {
		return invalid("pipeline", "missing")
	}
	if err := p.Validate(); err != nil {
		return err
	}
	k, ok := LookupModel(md.ModelKind)
	if !ok {
		return fmt.Errorf("model_kind: %w: %q (have %v)", ErrUnknownKind, md.ModelKind, ModelKinds())
	}
	if md.Supervised != k.Supervised {
		return invalid("supervised", "%v, but %s models are %v", md.Supervised, k.Name, k.Supervised)
	}
	c := md.ModelConfig
	if err := c.validate(); err != nil {
		return err
	}
	if t, f := p.Shape(); c.T != t || c.F != f {
		return invalid("model_config.t", "the model reads %d×%d values per sequence, the pipeline gives %d×%d", c.T, c.F, t, f)
	}
	if !slices.Equal(c.Classes, p.Classes) {
		return invalid("model_config.classes", "%q, the pipeline's are %q", c.Classes, p.Classes)
	}
	if c.BenignClass != p.BenignIndex() {
		return invalid("model_config.benign_class", "%d, the pipeline's benign class is %d", c.BenignClass, p.BenignIndex())
	}
	return checkThreshold(md.Threshold)
}

// validateModel checks the decoded model against the metadata and itself.
func (d *Detector) validateModel() error {
	m := d.Model
	if m.Kind() != d.Meta.ModelKind {
		return invalid("model_kind", "%q, the payload holds a %q model", d.Meta.ModelKind, m.Kind())
	}
	if err := d.Meta.ModelConfig.agrees(m.Config()); err != nil {
		return err
	}
	if err := m.Validate(); err != nil {
		return err
	}
	if t := m.Threshold(); t != d.Meta.Threshold {
		return invalid("threshold", "the metadata says %v, the model %v", d.Meta.Threshold, t)
	}
	return nil
}

// Validate checks everything DecodeDetector checks of a file: the
// pipeline (Pipeline.Validate), the model configuration against the
// bounds and the pipeline (its T×F is the pipeline's shape, its classes
// the pipeline's), the payload's configuration against the metadata's,
// the model itself (Model.Validate), and the thresholds. Errors wrap
// ErrModelFile and name the field.
func (d *Detector) Validate() error {
	if d.Meta.Pipeline != d.Pipeline {
		return modelFileError(invalid("pipeline", "the metadata's pipeline is not the detector's"))
	}
	if err := d.Meta.validate(); err != nil {
		return modelFileError(err)
	}
	return modelFileError(d.validateModel())
}
