package detector

// This file fits a Pipeline on training flows: class list, per-feature
// scaling and encoding, and feature selection by mutual information with
// pruning of correlated features. pipeline.go applies a fitted one.

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
)

// ClassList returns BenignClass followed by the other classes of flows,
// sorted.
func ClassList(flows []*Flow) []string {
	seen := map[string]bool{}
	for _, f := range flows {
		if f.Class != "" && f.Class != BenignClass {
			seen[f.Class] = true
		}
	}
	out := make([]string, 0, len(seen))
	for c := range seen {
		out = append(out, c)
	}
	sort.Strings(out)
	return append([]string{BenignClass}, out...)
}

// FitPipeline fits scaling, encoding and feature selection on flows[train]
// only. Class names come from all flows (labels are not features), so the
// test split's classes have indices too. kind and opt name the dataset
// schema; every flow must be labelled.
func FitPipeline(kind string, opt LoadOptions, flows []*Flow, train []int, cfg PipelineConfig) (*Pipeline, error) {
	s, err := LookupSchema(kind, opt)
	if err != nil {
		return nil, err
	}
	cfg.defaults()
	if len(train) == 0 {
		return nil, fmt.Errorf("fit pipeline: no training rows")
	}
	p := &Pipeline{Dataset: kind, Classes: ClassList(flows), Input: cfg.Input, Config: cfg,
		Options: LoadOptionsMeta{LabelColumn: opt.LabelColumn, BenignLabels: opt.BenignLabels, Identifiers: opt.Identifiers,
			Categorical: opt.Categorical, ExtraLabels: opt.ExtraLabels, WindowKey: opt.WindowKey, TimeColumn: opt.TimeColumn}}
	if cfg.Input == InputWindow {
		p.Window = cfg.Window
	}
	// Columns: union over the headers of the training flows, first seen first.
	var cols []string
	seenCol := map[string]bool{}
	seenHdr := map[*Header]bool{}
	for _, i := range train {
		h := flows[i].Header
		if seenHdr[h] {
			continue
		}
		seenHdr[h] = true
		for _, n := range h.Names {
			if seenCol[n] {
				continue
			}
			seenCol[n] = true
			if s.RoleOf(n) != RoleFeature || matchName(cfg.Exclude, n) {
				p.Dropped = append(p.Dropped, n)
				continue
			}
			cols = append(cols, n)
		}
	}
	p.Candidates = cols
	y := make([]int, len(train))
	for j, i := range train {
		y[j] = p.ClassIndex(flows[i].Class)
		if y[j] < 0 {
			return nil, fmt.Errorf("fit pipeline: %s:%d has no class label", flows[i].Source, flows[i].Line)
		}
	}

	// Fit each candidate on the training rows.
	var feats []Feature
	var scaled [][]float64 // per kept candidate, the scaled training column
	raw := make([]string, len(train))
	for _, name := range cols {
		for j, i := range train {
			v, _ := flows[i].Get(name)
			raw[j] = v
		}
		ft, ok := fitFeature(name, raw, s.IsCategorical(name), cfg.LogScale, s.logUnit(name))
		if !ok {
			continue // constant on the training split
		}
		col := make([]float64, len(train))
		for j := range raw {
			col[j] = ft.scaleValue(raw[j], nil)
		}
		ft.MI = mutualInformation(col, y, len(p.Classes), 16)
		feats = append(feats, ft)
		scaled = append(scaled, col)
	}
	sel := selectFeatures(feats, scaled, cfg)
	if len(sel) == 0 {
		return nil, fmt.Errorf("fit pipeline: no informative feature among %d candidates", len(cols))
	}
	for _, k := range sel {
		p.Features = append(p.Features, feats[k])
	}
	if err := p.declareImputable(s, cfg.Imputable); err != nil {
		return nil, err
	}
	return p, nil
}

// declareImputable sets Imputable from the configured names: each must be
// a candidate column and not a 5-tuple column (an alert must name its
// flow); those that were not selected as features are dropped, since a
// flow need not carry them anyway.
func (p *Pipeline) declareImputable(s *Schema, names []string) error {
	tuple := s.tupleNames()
	for _, n := range names {
		for _, t := range tuple {
			if t != "" && strings.EqualFold(t, n) {
				return fmt.Errorf("fit pipeline: imputable %s: a 5-tuple column is required, never imputed", n)
			}
		}
		if !matchName(p.Candidates, n) {
			return fmt.Errorf("fit pipeline: imputable %q: not a feature column of the training data", n)
		}
		if k := p.featureIndex(n); k >= 0 && !slices.Contains(p.Imputable, p.Features[k].Name) {
			p.Imputable = append(p.Imputable, p.Features[k].Name)
		}
	}
	return nil
}

// fitFeature fits one column on its training values; ok is false for a
// column with no usable variation.
func fitFeature(name string, raw []string, categorical, logScale bool, logUnit float64) (Feature, bool) {
	ft := Feature{Name: name}
	if !categorical {
		// A column whose present values are mostly non-numeric is categorical.
		present, bad := 0, 0
		for _, v := range raw {
			if isMissing(v) {
				continue
			}
			present++
			if _, ok := parseNumber(v); !ok {
				bad++
			}
		}
		categorical = present > 0 && bad*2 > present
	}
	if categorical {
		seen := map[string]bool{}
		for _, v := range raw {
			if !isMissing(v) {
				seen[canonicalCategory(v)] = true
			}
		}
		for v := range seen {
			ft.Categories = append(ft.Categories, v)
		}
		sort.Strings(ft.Categories)
		ft.Categorical = true
		ft.Min, ft.Max = 0, float64(len(ft.Categories))
		return ft, len(ft.Categories) > 1
	}
	ft.Log = logScale
	if logScale && logUnit != 1 {
		ft.LogUnit = logUnit
	}
	vals := make([]float64, 0, len(raw))
	for _, v := range raw {
		if x, ok := parseNumber(v); ok && !math.IsInf(x, 0) {
			vals = append(vals, x)
		}
	}
	if len(vals) == 0 {
		return ft, false
	}
	sort.Float64s(vals)
	ft.Impute = vals[len(vals)/2]
	ft.Min, ft.Max = ft.compress(vals[0]), ft.compress(vals[len(vals)-1])
	return ft, ft.Max > ft.Min
}

// selectFeatures ranks features by mutual information, drops those below
// MinMI, then greedily keeps each one whose |r| with every kept feature is
// below CorrThreshold, up to MaxFeatures. It returns indices in column
// order.
func selectFeatures(feats []Feature, cols [][]float64, cfg PipelineConfig) []int {
	order := make([]int, len(feats))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return feats[order[a]].MI > feats[order[b]].MI })
	var kept []int
	for _, k := range order {
		if feats[k].MI < cfg.MinMI {
			continue
		}
		redundant := false
		for _, j := range kept {
			if math.Abs(pearson(cols[k], cols[j])) >= cfg.CorrThreshold {
				redundant = true
				break
			}
		}
		if redundant {
			continue
		}
		kept = append(kept, k)
		if cfg.MaxFeatures > 0 && len(kept) == cfg.MaxFeatures {
			break
		}
	}
	sort.Ints(kept)
	return kept
}

// mutualInformation estimates I(X;Y) in nats, X discretised into at most
// bins equal-frequency bins (ties share a bin).
func mutualInformation(x []float64, y []int, classes, bins int) float64 {
	n := len(x)
	if n == 0 {
		return 0
	}
	sorted := append([]float64(nil), x...)
	sort.Float64s(sorted)
	joint := make([]float64, bins*classes)
	px := make([]float64, bins)
	py := make([]float64, classes)
	for i, v := range x {
		first := sort.SearchFloat64s(sorted, v)
		b := first * bins / n
		joint[b*classes+y[i]]++
		px[b]++
		py[y[i]]++
	}
	mi := 0.0
	for b := 0; b < bins; b++ {
		for c := 0; c < classes; c++ {
			j := joint[b*classes+c]
			if j == 0 {
				continue
			}
			mi += j / float64(n) * math.Log(j*float64(n)/(px[b]*py[c]))
		}
	}
	return mi
}

func pearson(a, b []float64) float64 {
	n := float64(len(a))
	var ma, mb float64
	for i := range a {
		ma += a[i]
		mb += b[i]
	}
	ma /= n
	mb /= n
	var sab, saa, sbb float64
	for i := range a {
		da, db := a[i]-ma, b[i]-mb
		sab += da * db
		saa += da * da
		sbb += db * db
	}
	if saa == 0 || sbb == 0 {
		return 0
	}
	return sab / math.Sqrt(saa*sbb)
}
