package detector

// This file holds what keeps a figure honest: the majority-class baseline
// every figure is printed beside, the rule that says a model did no better
// than it, the share of test rows that repeat a training row, and the split
// by an identifier (an account, a host) that keeps such repeats apart.

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
)

// MajorityBaseline returns the most frequent class of y (the first of
// equals) and the figures of answering it for every row: what a model has
// to beat. Its score is constant, so its ROC-AUC is 0.5.
func MajorityBaseline(classes []string, benign int, y []int) (string, Metrics) {
	count := make([]int, len(classes))
	for _, c := range y {
		if c >= 0 && c < len(classes) {
			count[c]++
		}
	}
	maj := 0
	for c, n := range count {
		if n > count[maj] {
			maj = c
		}
	}
	return classes[maj], constantMetrics(classes, benign, maj, y)
}

// constantMetrics evaluates answering class c for every row of y.
func constantMetrics(classes []string, benign, c int, y []int) Metrics {
	preds := make([]Prediction, len(y))
	for i := range preds {
		p := Prediction{Class: c, Alert: c != benign}
		if p.Alert {
			p.Score = 1
		}
		preds[i] = p
	}
	return Evaluate(classes, benign, y, preds)
}

// What "no better than the baseline" means (BaselineWarnings).
const (
	// ChanceROCAUC: a model whose ROC-AUC (attack against benign, by its
	// score) is at most this ranks attacks no better than chance (0.5),
	// give or take the noise of a few hundred test rows.
	ChanceROCAUC = 0.55
	// BaselineMacroF1Margin: a classifier whose macro-F1 is not above the
	// majority baseline's (or chance's, see BaselineWarnings) by more than
	// this learnt nothing worth its figures.
	BaselineMacroF1Margin = 0.05
)

// BaselineWarnings says why the figures m are no better than those of the
// majority baseline base on the same rows, or nil when they are:
//
//   - any model: ROC-AUC defined and at most ChanceROCAUC;
//   - a classifier (Task "multiclass"): macro-F1 at most the better of the
//     baseline's and 1/K, plus BaselineMacroF1Margin, K being the classes
//     present in the rows. 1/K is the expected macro-F1 of guessing each
//     row's class at random with the classes' frequencies (each class's
//     precision and recall are then its frequency), which beats always
//     answering the majority class when the classes are balanced. An
//     anomaly detector's macro-F1 is not judged: a threshold chosen for a
//     low false-positive rate sets it, not what the detector learnt.
//
// A dataset whose labels cannot be learnt from its features (shuffled
// labels, a label that is an identifier) gives such figures; they must not
// read as a result.
func BaselineWarnings(m, base Metrics) []string {
	var out []string
	if auc := float64(m.ROCAUC); !math.IsNaN(auc) && auc <= ChanceROCAUC {
		out = append(out, fmt.Sprintf("ROC-AUC %.4f is at most %.2f: the model ranks attacks no better than chance (0.5)", auc, ChanceROCAUC))
	}
	if m.Task == "multiclass" {
		present := 0
		for _, pc := range m.PerClass {
			if pc.Support > 0 {
				present++
			}
		}
		ref, what := float64(base.MacroF1), "always answering the most frequent class"
		if math.IsNaN(ref) {
			ref = 0
		}
		if present > 0 && 1/float64(present) > ref {
			ref, what = 1/float64(present), fmt.Sprintf("guessing at the frequencies of the %d classes", present)
		}
		if mf := float64(m.MacroF1); math.IsNaN(mf) || mf <= ref+BaselineMacroF1Margin {
			out = append(out, fmt.Sprintf("macro-F1 %.4f is not above %.4f (%s) by more than %.2f: the model does no better than that",
				mf, ref, what, BaselineMacroF1Margin))
		}
	}
	return out
}

// GroupSplit splits row indices 0..len(y)-1 into train and test as
// StratifiedSplit does, but keeps the rows of one group together: rows
// with the same non-empty groups[i] (an account address, a source host)
// land on the same side; a row with an empty group is a group of its own.
// Stratified as far as whole groups allow: each group counts for its most
// frequent class (ties: the rarer class overall), and within each class
// the groups, shuffled by seed, go to test while that brings the class's
// test rows closer to round(testFraction·rows); a class with two groups
// or more keeps one on each side. Both results are sorted; testFraction 0
// puts everything in train.
func GroupSplit(y []int, groups []string, testFraction float64, seed int64) (train, test []int) {
	total := map[int]int{}
	for _, c := range y {
		total[c]++
	}
	type group struct {
		rows  []int
		class int
	}
	var gs []*group
	byName := map[string]*group{}
	for i, name := range groups {
		g := byName[name]
		if g == nil || name == "" {
			g = &group{}
			gs = append(gs, g)
			if name != "" {
				byName[name] = g
			}
		}
		g.rows = append(g.rows, i)
	}
	strata := map[int][]*group{}
	for _, g := range gs {
		count := map[int]int{}
		for _, i := range g.rows {
			count[y[i]]++
		}
		g.class = y[g.rows[0]]
		for c, n := range count {
			if n > count[g.class] || (n == count[g.class] && cmp.Or(cmp.Compare(total[c], total[g.class]), cmp.Compare(c, g.class)) < 0) {
				g.class = c
			}
		}
		strata[g.class] = append(strata[g.class], g)
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x9e0c5b1d))
	for _, c := range slices.Sorted(maps.Keys(strata)) {
		sg := strata[c]
		rng.Shuffle(len(sg), func(a, b int) { sg[a], sg[b] = sg[b], sg[a] })
		rows := 0
		for _, g := range sg {
			rows += len(g.rows)
		}
		target := testFraction * float64(rows)
		inTest := make([]bool, len(sg))
		n, k := 0, 0
		for j, g := range sg {
			if testFraction > 0 && math.Abs(float64(n+len(g.rows))-target) < math.Abs(float64(n)-target) {
				inTest[j] = true
				n += len(g.rows)
				k++
			}
		}
		if testFraction > 0 && len(sg) >= 2 {
			switch k {
			case 0:
				inTest[0] = true
			case len(sg):
				inTest[len(sg)-1] = false
			}
		}
		for j, g := range sg {
			if inTest[j] {
				test = append(test, g.rows...)
			} else {
				train = append(train, g.rows...)
			}
		}
	}
	sort.Ints(train)
	sort.Ints(test)
	return train, test
}

// SplitOptions say how Train divides labelled flows (see TrainOptions).
type SplitOptions struct {
	Dataset string
	Load    LoadOptions
	// TestFraction of each class is held out for testing; ValidFraction of
	// the rest for early stopping and thresholds (0: 0.2; negative: none).
	TestFraction  float64
	ValidFraction float64
	// Dedup drops repeated feature vectors (and class) before splitting.
	Dedup bool
	// SplitBy, when set, names an identifier column whose rows stay on one
	// side of each split (GroupSplit); otherwise rows split one by one
	// (StratifiedSplit).
	SplitBy string
	Seed    int64
}

// TrainingSplit is how Train divided labelled flows: Flows are the
// labelled flows (deduplicated when asked), Y their class indexes into
// Classes; Train and Test index Flows, and Fit and Valid divide Train.
type TrainingSplit struct {
	Flows             []*Flow
	Classes           []string
	Y                 []int
	Train, Test       []int
	Fit, Valid        []int
	DuplicatesDropped int
}

// SplitForTraining divides flows as Train does with the same options: so
// `idsledger eval` can tell, from a model card and the training files,
// which rows a model trained on.
func SplitForTraining(flows []*Flow, o SplitOptions) (*TrainingSplit, error) {
	s := &TrainingSplit{}
	for _, f := range flows {
		if f.Class != "" {
			s.Flows = append(s.Flows, f)
		}
	}
	if len(s.Flows) == 0 {
		return nil, fmt.Errorf("train: no labelled flows")
	}
	if o.Dedup {
		var err error
		if s.Flows, s.DuplicatesDropped, err = Dedup(o.Dataset, o.Load, s.Flows); err != nil {
			return nil, err
		}
	}
	s.Classes = ClassList(s.Flows)
	ci := map[string]int{}
	for i, c := range s.Classes {
		ci[c] = i
	}
	s.Y = make([]int, len(s.Flows))
	for i, f := range s.Flows {
		s.Y[i] = ci[f.Class]
	}
	var groups []string
	if o.SplitBy != "" {
		groups = make([]string, len(s.Flows))
		for i, f := range s.Flows {
			v, ok := f.Get(o.SplitBy)
			if !ok {
				return nil, fmt.Errorf("split by %q: %s has no such column", o.SplitBy, f.Source)
			}
			groups[i] = v
		}
	}
	split := func(y []int, groups []string, fraction float64, seed int64) ([]int, []int) {
		if groups == nil {
			return StratifiedSplit(y, fraction, seed)
		}
		return GroupSplit(y, groups, fraction, seed)
	}
	s.Train, s.Test = split(s.Y, groups, o.TestFraction, o.Seed)
	vf := o.ValidFraction
	if vf == 0 {
		vf = 0.2
	}
	if vf <= 0 {
		s.Fit = s.Train
		return s, nil
	}
	sub := make([]int, len(s.Train))
	var subGroups []string
	for j, i := range s.Train {
		sub[j] = s.Y[i]
		if groups != nil {
			subGroups = append(subGroups, groups[i])
		}
	}
	a, b := split(sub, subGroups, vf, o.Seed+1)
	for _, j := range a {
		s.Fit = append(s.Fit, s.Train[j])
	}
	for _, j := range b {
		s.Valid = append(s.Valid, s.Train[j])
	}
	return s, nil
}

// Pick returns the flows of s at idx.
func (s *TrainingSplit) Pick(idx []int) []*Flow {
	out := make([]*Flow, len(idx))
	for j, i := range idx {
		out[j] = s.Flows[i]
	}
	return out
}

// VectorSet is a set of feature vectors as a pipeline extracts them (its
// selected features, scaled): what "the same row" means to a model.
type VectorSet struct {
	p   *Pipeline
	buf []float32
	key []byte
	set map[string]struct{}
}

// NewVectorSet returns the set of the feature vectors of flows.
func (p *Pipeline) NewVectorSet(flows []*Flow) *VectorSet {
	v := &VectorSet{p: p, buf: make([]float32, len(p.Features)), key: make([]byte, 4*len(p.Features)),
		set: make(map[string]struct{}, len(flows))}
	for _, f := range flows {
		v.set[string(v.vector(f))] = struct{}{}
	}
	return v
}

// vector is f's feature vector as bytes (reused by the next call). It
// does not count into the pipeline's value statistics.
func (v *VectorSet) vector(f *Flow) []byte {
	v.p.row(f, v.buf, nil)
	for k, x := range v.buf {
		binary.LittleEndian.PutUint32(v.key[4*k:], math.Float32bits(x))
	}
	return v.key
}

// Len is the number of distinct vectors in the set.
func (v *VectorSet) Len() int { return len(v.set) }

// Count returns how many of flows have a feature vector in the set.
func (v *VectorSet) Count(flows []*Flow) int {
	n := 0
	for _, f := range flows {
		if _, ok := v.set[string(v.vector(f))]; ok {
			n++
		}
	}
	return n
}
