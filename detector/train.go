package detector

import (
	"cmp"
	"fmt"
	"path/filepath"
	"slices"
)

// TrainOptions configure Train. Zero values take the defaults noted, and
// where a setting has a per-kind default, the model kind's
// (ModelKind.Defaults, see DefaultsFor): `idsledger train` passes zero for
// every flag not given, so the two agree.
type TrainOptions struct {
	Dataset string
	Load    LoadOptions
	// Files are the data files the flows came from: their base names and
	// SHA-256 go into the model card, so they must be readable.
	Files []string
	Model string // model kind
	// Hidden and Params go to ModelConfig (architecture).
	Hidden int
	Params map[string]float64
	// Pipeline configures preprocessing; Input defaults to the model
	// kind's input mode, a zero CorrThreshold to the kind's default, and
	// LogScale is set from the field below.
	Pipeline PipelineConfig
	// LogScale turns the pipeline's log1p compression on or off; nil takes
	// the model kind's default, or on where the dataset kind says its
	// values are heavy-tailed (Schema.LogScale).
	LogScale *bool
	// Train configures Fit; zero fields take the kind's defaults, and the
	// resolved values are recorded in the metadata.
	Train TrainConfig
	// TestFraction of each class is held out for the test metrics (0: train
	// on everything, no test metrics).
	TestFraction float64
	// ValidFraction of the training split is held out for early stopping
	// and for anomaly thresholds (default 0.2; negative: none).
	ValidFraction float64
	// Dedup drops repeated feature vectors before splitting.
	Dedup bool
	// SplitBy names an identifier column (an account address, a source
	// host) by which both splits are made: all rows with one value land on
	// the same side (GroupSplit). The column is never a feature.
	SplitBy string
	// ClassWeights for supervised kinds: "sqrt" (the square root of inverse
	// class frequency), "inverse" (inverse class frequency), both capped at
	// 10, or "none"; "" takes the kind's default. Ignored when
	// Train.ClassWeights is set.
	ClassWeights string
	Seed         int64
	// Command, when set, is recorded in the model card as how the model
	// was made (e.g. "make model").
	Command  string
	Progress func(EpochStats)
}

// TrainResult is a trained detector and its held-out test split.
type TrainResult struct {
	Detector  *Detector
	TestFlows []*Flow
	Test      *Metrics // nil when TestFraction is 0
	// Baseline are the figures on the test split of always answering
	// BaselineClass, its most frequent class (MajorityBaseline), and
	// Warnings say why Test is no better (BaselineWarnings); set with Test.
	Baseline      *Metrics
	BaselineClass string
	Warnings      []string
	// TestDuplicates counts the test rows whose feature vector (after the
	// pipeline) is also that of a training row (fit or validation).
	TestDuplicates int
}

// Train fits a pipeline on the training split of flows, trains a model on
// it and measures it on the test split. The whole run is determined by
// the options and the flows (in their order). The returned detector is the
// saved form (encoded then decoded), so its test metrics are those of the
// model file.
func Train(flows []*Flow, opt TrainOptions) (*TrainResult, error) {
	kind, ok := LookupModel(opt.Model)
	if !ok {
		return nil, fmt.Errorf("%w: model %q (have %v)", ErrUnknownKind, opt.Model, ModelKinds())
	}
	def := kind.Defaults
	info := &TrainingInfo{Dataset: opt.Dataset, Seed: opt.Seed, TestFraction: opt.TestFraction, Dedup: opt.Dedup}
	for _, f := range opt.Files {
		info.Files = append(info.Files, filepath.Base(f))
	}
	dataFiles, err := hashFiles(opt.Files)
	if err != nil {
		return nil, err
	}
	split, err := SplitForTraining(flows, SplitOptions{Dataset: opt.Dataset, Load: opt.Load, TestFraction: opt.TestFraction,
		ValidFraction: opt.ValidFraction, Dedup: opt.Dedup, SplitBy: opt.SplitBy, Seed: opt.Seed})
	if err != nil {
		return nil, err
	}
	labelled := split.Flows
	info.DuplicatesSeen, info.SplitBy = split.DuplicatesDropped, opt.SplitBy
	trainIdx, testIdx, fitIdx, validIdx := split.Train, split.Test, split.Fit, split.Valid
	if vf := cmp.Or(opt.ValidFraction, 0.2); vf > 0 {
		info.ValidFraction = vf
	}
	pc := opt.Pipeline
	if pc.Input == "" {
		pc.Input = kind.Input
	}
	if pc.CorrThreshold == 0 {
		pc.CorrThreshold = def.CorrThreshold
	}
	schema, err := LookupSchema(opt.Dataset, opt.Load)
	if err != nil {
		return nil, err
	}
	pc.LogScale = def.LogScale || schema.LogScale
	if opt.LogScale != nil {
		pc.LogScale = *opt.LogScale
	}
	if opt.SplitBy != "" && schema.RoleOf(opt.SplitBy) == RoleFeature {
		pc.Exclude = append(slices.Clip(pc.Exclude), opt.SplitBy)
	}
	pipe, err := FitPipeline(opt.Dataset, opt.Load, labelled, trainIdx, pc)
	if err != nil {
		return nil, err
	}
	pick := func(idx []int) []*Flow {
		out := make([]*Flow, len(idx))
		for j, i := range idx {
			out[j] = labelled[i]
		}
		return out
	}
	labelledSet := func(fl []*Flow) Labeled {
		return Labeled{X: pipe.Transform(fl), Y: pipe.Labels(fl)}
	}
	fitL, validL := labelledSet(pick(fitIdx)), labelledSet(pick(validIdx))
	if pipe.Input == InputWindow {
		// Windows must follow the original order: build them over all
		// training flows, then split.
		all := labelledSet(pick(trainIdx))
		pos := map[int]int{}
		for j, i := range trainIdx {
			pos[i] = j
		}
		sel := func(idx []int) []int {
			out := make([]int, len(idx))
			for j, i := range idx {
				out[j] = pos[i]
			}
			return out
		}
		fitL, validL = all.Subset(sel(fitIdx)), all.Subset(sel(validIdx))
	}
	info.TrainRows, info.ValidRows, info.TestRows = fitL.Len(), validL.Len(), len(testIdx)

	t, f := pipe.Shape()
	m, err := NewModel(opt.Model, ModelConfig{T: t, F: f, Classes: pipe.Classes, BenignClass: pipe.BenignIndex(),
		Hidden: opt.Hidden, Params: opt.Params, Seed: opt.Seed})
	if err != nil {
		return nil, err
	}
	tc := opt.Train.withDefaults(def)
	if tc.Seed == 0 {
		tc.Seed = opt.Seed
	}
	if tc.Engine, err = checkEngine(tc.Engine); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	if tc.ClassWeights == nil {
		if tc.ClassWeights, err = ClassWeightsFor(opt.Model, opt.ClassWeights, fitL.Y, len(pipe.Classes)); err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
	}
	info.Config = tc
	var hist []EpochStats
	progress := func(s EpochStats) {
		hist = append(hist, s)
		if opt.Progress != nil {
			opt.Progress(s)
		}
	}
	if err := m.Fit(fitL, validL, tc, progress); err != nil {
		return nil, fmt.Errorf("train %s: %w", opt.Model, err)
	}
	info.History = hist
	d, err := NewDetector(pipe, m, info)
	if err != nil {
		return nil, err
	}
	res := &TrainResult{TestFlows: pick(testIdx)}
	if len(testIdx) > 0 {
		// Measure the saved form: encode, decode, then predict.
		b, err := d.MarshalBinary()
		if err != nil {
			return nil, err
		}
		saved, err := DecodeDetector(b)
		if err != nil {
			return nil, err
		}
		// A BiLSTM is measured on the training engine's forward pass, which
		// gives the same bits on every CPU, so that the metrics written into
		// the file, and so its bytes, are the same on every machine; the
		// serving kernels agree with it to float32 rounding.
		var preds []Prediction
		if m, ok := saved.Model.(*BiLSTM); ok {
			preds, err = m.PredictExact(saved.Pipeline.Transform(res.TestFlows))
		} else {
			preds, err = saved.Detect(res.TestFlows)
		}
		if err != nil {
			return nil, err
		}
		testY := pipe.Labels(res.TestFlows)
		mt := Evaluate(pipe.Classes, pipe.BenignIndex(), testY, preds)
		info.Test = &mt
		res.Test = &mt
		var base Metrics
		res.BaselineClass, base = MajorityBaseline(pipe.Classes, pipe.BenignIndex(), testY)
		res.Baseline, res.Warnings = &base, BaselineWarnings(mt, base)
		res.TestDuplicates = pipe.NewVectorSet(pick(trainIdx)).Count(res.TestFlows)
		d.Meta.Card = newModelCard(opt, d, info, dataFiles, len(labelled), fitL.Y, testY, mt)
	}
	// Re-encode with the test metrics in the metadata, and return the
	// decoded form so callers use exactly what the file holds.
	b, err := d.MarshalBinary()
	if err != nil {
		return nil, err
	}
	if res.Detector, err = DecodeDetector(b); err != nil {
		return nil, err
	}
	return res, nil
}

// ClassWeightsFor returns the loss weights a supervised model of kind
// trains with on the labels y over classes classes, by scheme: "sqrt"
// (the square root of inverse class frequency), "inverse" (inverse class
// frequency), both capped at 10 (InverseFrequencyWeights), or "none"
// (nil: uniform); "" takes the kind's default (TrainDefaults.ClassWeights,
// sqrt when the kind names none). Unsupervised kinds get nil. Train and
// the federated sites' local training weight classes through it, so a
// model trained in one place and one trained across sites see the same
// loss.
func ClassWeightsFor(kind, scheme string, y []int, classes int) ([]float32, error) {
	k, ok := LookupModel(kind)
	if !ok {
		return nil, fmt.Errorf("%w: model %q (have %v)", ErrUnknownKind, kind, ModelKinds())
	}
	if !k.Supervised {
		return nil, nil
	}
	if scheme == "" {
		scheme = k.Defaults.ClassWeights
	}
	switch scheme {
	case "", "sqrt":
		return InverseFrequencyWeights(y, classes, 0.5, 10), nil
	case "inverse":
		return InverseFrequencyWeights(y, classes, 1, 10), nil
	case "none":
		return nil, nil
	}
	return nil, fmt.Errorf("class weights %q: want sqrt, inverse or none", scheme)
}

// newModelCard assembles the card of a model trained by Train.
func newModelCard(opt TrainOptions, d *Detector, info *TrainingInfo, files []DataFile, rows int, trainY, testY []int, test Metrics) *ModelCard {
	classes, benign := d.Pipeline.Classes, d.Pipeline.BenignIndex()
	counts := make([]int, len(classes))
	for _, y := range trainY {
		counts[y]++
	}
	maj := 0
	for c, n := range counts {
		if n > counts[maj] {
			maj = c
		}
	}
	testClasses := map[string]int{}
	for _, y := range testY {
		testClasses[classes[y]]++
	}
	t, f := d.Pipeline.Shape()
	tc := info.Config
	card := &ModelCard{
		Model: d.Model.Kind(), Dataset: opt.Dataset, Data: files, Command: opt.Command,
		Split: CardSplit{Rows: rows, Dedup: info.Dedup, DuplicatesDropped: info.DuplicatesSeen, SplitBy: info.SplitBy,
			TestFraction: info.TestFraction, ValidFraction: info.ValidFraction, Seed: info.Seed,
			TrainRows: info.TrainRows, ValidRows: info.ValidRows, TestRows: info.TestRows, TestClasses: testClasses},
		Settings: CardSettings{Input: d.Pipeline.Input, Features: len(d.Pipeline.Features), T: t, F: f,
			Hidden: d.Model.Config().Hidden, CorrThreshold: d.Pipeline.Config.CorrThreshold, LogScale: d.Pipeline.Config.LogScale},
		Test:     cardFigures(test),
		Baseline: majorityBaseline(classes, benign, maj, testY),
	}
	if tc.Epochs > 0 { // a neural model: the training loop's settings
		s := &card.Settings
		s.Engine, s.Epochs, s.EpochsRun = tc.Engine, tc.Epochs, len(info.History)
		s.BatchSize, s.LearningRate, s.Patience, s.ClassWeights = tc.BatchSize, tc.LearningRate, tc.Patience, tc.ClassWeights
	}
	if !d.Meta.Supervised {
		card.Settings.TargetFPR = tc.TargetFPR
	}
	return card
}
