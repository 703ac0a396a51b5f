package detector

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Feature is one selected input column and how it is scaled.
//
// Numeric values are min-max scaled with the training Min and Max and
// clipped to [0,1]. Categorical values are label-encoded: the i-th training
// category has code i+1, anything unseen in training has code 0 (the
// "unknown" slot); the code is scaled by dividing by len(Categories).
type Feature struct {
	Name        string   `json:"name"`
	Categorical bool     `json:"categorical,omitempty"`
	Categories  []string `json:"categories,omitempty"`
	// Log compresses numeric values with sign(x)·log1p(|x|/LogUnit)
	// before scaling; Min and Max are then in the compressed units.
	Log bool `json:"log,omitempty"`
	// LogUnit is the step in which Log counts a value (0 means 1): one
	// wei for an amount in ether (1e-18), so that amounts far below one
	// ether, where log1p(x) is still linear, spread over decades too.
	LogUnit float64 `json:"log_unit,omitempty"`
	Min     float64 `json:"min"`
	Max     float64 `json:"max"`
	// Impute replaces a missing or unparseable numeric value (the training
	// median, in raw units).
	Impute float64 `json:"impute"`
	// MI is the mutual information (nats) with the class on the training
	// split, the relevance used for selection.
	MI float64 `json:"mutual_information"`

	// unordered is set when Categories are not strictly sorted (a model
	// file whose categories only became canonical when it was decoded):
	// codes are then found by a linear scan, so that they stay the codes
	// the model was trained with.
	unordered bool
}

// PipelineConfig controls FitPipeline. Zero values take the defaults.
type PipelineConfig struct {
	// MaxFeatures caps the number of selected features (0: no cap).
	MaxFeatures int `json:"max_features,omitempty"`
	// CorrThreshold prunes a feature whose |Pearson r| with an already
	// selected, more relevant feature is at least this (default 0.95;
	// 1 or more disables pruning).
	CorrThreshold float64 `json:"corr_threshold"`
	// MinMI drops features whose mutual information with the class is
	// below this (default 1e-3 nats).
	MinMI float64 `json:"min_mi"`
	// Input is how flows become sequences (default InputRow).
	Input InputMode `json:"input"`
	// Window is T in window mode (default 10).
	Window int `json:"window,omitempty"`
	// LogScale compresses every numeric feature with sign(x)·log1p(|x|)
	// before min-max scaling (heavy-tailed byte and packet counts), |x|
	// counted in the step its schema names (Schema.LogUnits).
	LogScale bool `json:"log_scale,omitempty"`
	// Exclude names columns that are never features, whatever their role
	// in the schema (the identifier a split was made by); a pipeline lists
	// them among its Dropped columns.
	Exclude []string `json:"exclude,omitempty"`
	// Imputable names the columns the model declares it can impute when
	// a flow lacks them (see Pipeline.Imputable).
	Imputable []string `json:"imputable,omitempty"`
}

func (c *PipelineConfig) defaults() {
	if c.CorrThreshold == 0 {
		c.CorrThreshold = 0.95
	}
	if c.MinMI == 0 {
		c.MinMI = 1e-3
	}
	if c.Input == "" {
		c.Input = InputRow
	}
	if c.Window <= 0 {
		c.Window = 10
	}
}

// ValueStats count how values were handled by the value policy:
//   - Missing: empty, "-", "?", "NaN", "null" or unparseable numeric cells
//     and absent columns, replaced by the feature's Impute value;
//   - Inf: ±Inf, replaced by the training Max / Min;
//   - Clipped: scaled values outside [0,1] (unseen at training), clipped;
//   - Unknown: categorical values not seen in training (code 0).
type ValueStats struct {
	Missing int64 `json:"missing"`
	Inf     int64 `json:"inf"`
	Clipped int64 `json:"clipped"`
	Unknown int64 `json:"unknown_category"`
}

// Pipeline turns raw flows into model inputs. It is fitted on the training
// split only (FitPipeline) and saved in the model file; after fitting it is
// read-only and safe for concurrent use.
type Pipeline struct {
	Dataset string `json:"dataset"`
	// Dropped lists the identifier, label and ignored columns that were
	// present and never used as features.
	Dropped []string `json:"dropped"`
	// Candidates are the columns that were considered as features.
	Candidates []string `json:"candidates"`
	// Features are the selected features, in column order. A flow must
	// have every one of them (see Rules).
	Features []Feature `json:"features"`
	// Imputable are the features the model declares it can do without
	// (PipelineConfig.Imputable, among the selected features): a request
	// may let them be missing ("declared" in its impute list), and they
	// then take their Impute value or the unknown slot.
	Imputable []string `json:"imputable,omitempty"`
	// Classes are the class names; index 0 is BenignClass.
	Classes []string        `json:"classes"`
	Input   InputMode       `json:"input"`
	Window  int             `json:"window,omitempty"`
	Config  PipelineConfig  `json:"config"`
	Options LoadOptionsMeta `json:"load_options,omitempty"`

	stats   ValueStats
	cacheMu sync.RWMutex
	cache   map[*Header][]int
}

// LoadOptionsMeta are the options of the generic csv kind a model needs to
// parse flows again at inference.
type LoadOptionsMeta struct {
	LabelColumn  string   `json:"label_column,omitempty"`
	BenignLabels []string `json:"benign_labels,omitempty"`
	Identifiers  []string `json:"identifiers,omitempty"`
	Categorical  []string `json:"categorical,omitempty"`
	ExtraLabels  []string `json:"extra_labels,omitempty"`
	WindowKey    string   `json:"window_key,omitempty"`
	TimeColumn   string   `json:"time_column,omitempty"`
}

// LoadOptions returns the options to read this pipeline's dataset kind.
func (p *Pipeline) LoadOptions() LoadOptions {
	o := p.Options
	return LoadOptions{LabelColumn: o.LabelColumn, BenignLabels: o.BenignLabels, Identifiers: o.Identifiers,
		Categorical: o.Categorical, ExtraLabels: o.ExtraLabels, WindowKey: o.WindowKey, TimeColumn: o.TimeColumn}
}

// Shape is the (T, F) of the sequences this pipeline produces.
func (p *Pipeline) Shape() (t, f int) {
	nf := len(p.Features)
	switch p.Input {
	case InputPerFlow:
		return nf, 1
	case InputWindow:
		return p.Window, nf
	}
	return 1, nf
}

// BenignIndex is the index of BenignClass in Classes (always 0).
func (p *Pipeline) BenignIndex() int { return 0 }

// ClassIndex returns the index of a class name, or -1.
func (p *Pipeline) ClassIndex(name string) int {
	for i, c := range p.Classes {
		if c == name {
			return i
		}
	}
	return -1
}

// Stats returns the value-policy counts since the pipeline was built.
func (p *Pipeline) Stats() ValueStats {
	return ValueStats{
		Missing: atomic.LoadInt64(&p.stats.Missing),
		Inf:     atomic.LoadInt64(&p.stats.Inf),
		Clipped: atomic.LoadInt64(&p.stats.Clipped),
		Unknown: atomic.LoadInt64(&p.stats.Unknown),
	}
}

// isMissing reports the cell values the value policy treats as missing.
func isMissing(v string) bool {
	switch strings.ToLower(v) {
	case "", "-", "?", "nan", "null", "none", "na", "n/a":
		return true
	}
	return false
}

// parseNumber parses a decimal, exponent or 0x-hex number; NaN is not a
// number here (it is missing).
func parseNumber(v string) (float64, bool) {
	if x, err := strconv.ParseFloat(v, 64); err == nil {
		if math.IsNaN(x) {
			return 0, false
		}
		return x, true
	} else if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
		return x, true // ±Inf or ±0 for out-of-range literals
	}
	if strings.HasPrefix(v, "0x") || strings.HasPrefix(v, "0X") {
		if n, err := strconv.ParseInt(v, 0, 64); err == nil {
			return float64(n), true
		}
	}
	return 0, false
}

// scaleValue maps a raw cell to [0,1] under the value policy, counting into
// st when non-nil.
func (ft *Feature) scaleValue(v string, st *ValueStats) float64 {
	if ft.Categorical {
		if code := ft.categoryCode(canonicalCategory(v)); code > 0 {
			return float64(code) / ft.Max
		}
		if st != nil {
			atomic.AddInt64(&st.Unknown, 1)
		}
		return 0
	}
	x, ok := parseNumber(v)
	switch {
	case !ok:
		x = ft.Impute
		if st != nil {
			atomic.AddInt64(&st.Missing, 1)
		}
	case math.IsInf(x, 0):
		if st != nil {
			atomic.AddInt64(&st.Inf, 1)
		}
		if x > 0 {
			return 1
		}
		return 0
	}
	z := (ft.compress(x) - ft.Min) / (ft.Max - ft.Min)
	if z < 0 || z > 1 {
		if st != nil {
			atomic.AddInt64(&st.Clipped, 1)
		}
		z = math.Min(1, math.Max(0, z))
	}
	return z
}

// categoryCode is the code of a canonical category value: its position
// in Categories plus one, or 0 (the unknown slot).
func (ft *Feature) categoryCode(v string) int {
	if ft.unordered {
		for i, c := range ft.Categories {
			if c == v {
				return i + 1
			}
		}
		return 0
	}
	i := sort.SearchStrings(ft.Categories, v)
	if i < len(ft.Categories) && ft.Categories[i] == v {
		return i + 1
	}
	return 0
}

// canonicalCategory is the form in which a categorical value is stored
// and matched. A number (a protocol or application code) is written in its
// shortest form, as JSON writes numbers, so "7", "7.0", "7e0" and "0x7" are
// one category however a sensor or a JSON client spelt it; anything else
// (names such as "tcp", ±Inf, out-of-range literals) is kept as written.
func canonicalCategory(v string) string {
	x, ok := parseNumber(v)
	if !ok || math.IsInf(x, 0) {
		return v
	}
	if x == 0 {
		return "0" // and -0
	}
	format := byte('f')
	if a := math.Abs(x); a < 1e-6 || a >= 1e21 {
		format = 'e'
	}
	return strconv.FormatFloat(x, format, -1, 64)
}

// canonicalizeCategories rewrites the categories of a decoded pipeline in
// canonical form. Files written before categories were canonical hold
// numeric codes as the training data spelt them ("7.0"); each keeps its
// code (its position), so the model scores as it was trained.
func (p *Pipeline) canonicalizeCategories() {
	for k := range p.Features {
		ft := &p.Features[k]
		if !ft.Categorical {
			continue
		}
		for i, c := range ft.Categories {
			ft.Categories[i] = canonicalCategory(c)
		}
		ft.unordered = false
		for i := 1; i < len(ft.Categories); i++ {
			if ft.Categories[i-1] >= ft.Categories[i] {
				ft.unordered = true
				break
			}
		}
	}
}

// compress applies the feature's optional log compression.
func (ft *Feature) compress(x float64) float64 {
	if !ft.Log {
		return x
	}
	if ft.LogUnit > 0 {
		x /= ft.LogUnit
	}
	if x < 0 {
		return -math.Log1p(-x)
	}
	return math.Log1p(x)
}

// columns returns, for a header, the position of each selected feature
// (-1 when the header lacks it), cached per header.
func (p *Pipeline) columns(h *Header) []int {
	p.cacheMu.RLock()
	idx, ok := p.cache[h]
	p.cacheMu.RUnlock()
	if ok {
		return idx
	}
	idx = make([]int, len(p.Features))
	for k, ft := range p.Features {
		idx[k] = h.Index(ft.Name)
	}
	p.cacheMu.Lock()
	if p.cache == nil || len(p.cache) > 1024 {
		// Bounded: headers are interned (InternHeader), but its table
		// starts afresh past 256 headers, leaving dead keys here.
		p.cache = map[*Header][]int{}
	}
	p.cache[h] = idx
	p.cacheMu.Unlock()
	return idx
}

// Row writes flow f's scaled, clipped features into dst
// (len(dst) == len(Features)). Safe for concurrent use.
func (p *Pipeline) Row(f *Flow, dst []float32) { p.row(f, dst, &p.stats) }

// row is Row counting the value policy into st (nil: nowhere).
func (p *Pipeline) row(f *Flow, dst []float32, st *ValueStats) {
	idx := p.columns(f.Header)
	for k := range p.Features {
		v := ""
		if i := idx[k]; i >= 0 && i < len(f.Values) {
			v = f.Values[i]
		}
		dst[k] = float32(p.Features[k].scaleValue(v, st))
	}
}

// FeatureFields returns the raw values of the model's features that f has,
// by feature name: what the model read.
func (p *Pipeline) FeatureFields(f *Flow) map[string]string {
	idx := p.columns(f.Header)
	out := make(map[string]string, len(idx))
	for k, i := range idx {
		if i >= 0 && i < len(f.Values) {
			out[p.Features[k].Name] = f.Values[i]
		}
	}
	return out
}

// Transform turns flows into the model's sequences (see InputMode). In
// window mode, flow i's sequence is the last Window flows with the same Key
// up to and including i, in the given order, left-padded by repeating the
// earliest one; there is one sequence per flow in every mode.
func (p *Pipeline) Transform(flows []*Flow) Seqs {
	nf := len(p.Features)
	rows := make([]float32, len(flows)*nf)
	for i, f := range flows {
		p.Row(f, rows[i*nf:(i+1)*nf])
	}
	t, fdim := p.Shape()
	if p.Input != InputWindow {
		return Seqs{N: len(flows), T: t, F: fdim, Data: rows}
	}
	out := NewSeqs(len(flows), t, fdim)
	hist := map[string][]int{}
	for i, f := range flows {
		h := append(hist[f.Key], i)
		if len(h) > t {
			h = h[len(h)-t:]
		}
		hist[f.Key] = h
		seq := out.At(i)
		pad := t - len(h)
		for s := 0; s < t; s++ {
			src := h[0]
			if s >= pad {
				src = h[s-pad]
			}
			copy(seq[s*nf:(s+1)*nf], rows[src*nf:(src+1)*nf])
		}
	}
	return out
}

// Labels returns each flow's class index (-1 for an unlabelled flow or a
// class the pipeline does not know).
func (p *Pipeline) Labels(flows []*Flow) []int {
	y := make([]int, len(flows))
	for i, f := range flows {
		y[i] = p.ClassIndex(f.Class)
	}
	return y
}

// FeatureNames lists the selected features in order.
func (p *Pipeline) FeatureNames() []string {
	out := make([]string, len(p.Features))
	for i, f := range p.Features {
		out[i] = f.Name
	}
	return out
}
