package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/idsledger/idsledger/detector"
)

func init() {
	register(command{
		name:    "eval",
		summary: "evaluate a detector model on labelled flow files",
		run:     runEval,
	})
}

// evalResult is the --json output of eval: the metrics, flattened, with
// the scoring speed and what the loader and value policy counted.
type evalResult struct {
	ModelID   string `json:"model_id"`
	ModelKind string `json:"model_kind"`
	Dataset   string `json:"dataset"`
	detector.Metrics
	evalPerf
	Values detector.ValueStats `json:"values"`
	Load   detector.LoadStats  `json:"load"`
	// Rejected counts the labelled rows that break the model's flow rules
	// (detector.Rules, as POST /v1/flows applies them): they are not
	// scored and count in no figure. RejectedBy counts the problems,
	// by "kind field" (e.g. "missing IN_BYTES"); a row may have several.
	Rejected   int            `json:"rejected"`
	RejectedBy map[string]int `json:"rejected_by,omitempty"`
	// Imputed counts the feature values imputed in the rows scored (only
	// for features --impute allows).
	Imputed int `json:"imputed"`
	// UnknownClasses counts rows whose class the model was not trained on
	// (they count in binary figures as attacks, not in multi-class ones).
	UnknownClasses map[string]int `json:"unknown_classes,omitempty"`
	// TrainedOn names the data files that are, byte for byte, a file the
	// model was trained on (its model card's SHA-256): its figures on them
	// include training rows and flatter it.
	TrainedOn []string `json:"trained_on,omitempty"`
	// The majority baseline of these rows, the warnings (no better than
	// it, trained on these files), and the rows whose feature vector is a
	// training row's (when the training files are known: --train-data, or
	// --data being exactly the model's training files).
	honesty
}

func runEval(ctx context.Context, args []string) error {
	fs := newFlagSet("eval", "eval --model MODEL [--dataset KIND] --data FILE... [--json] [--report DIR]")
	var ds datasetFlags
	ds.register(fs, "")
	modelPath := fs.String("model", "", "model file")
	asJSON := fs.Bool("json", false, "print one JSON object instead of text")
	report := fs.String("report", "", "write an HTML report (learning curve, ROC, confusion matrix) into this directory")
	batch := fs.Int("batch", 256, "batch size of the throughput measurement")
	singles := fs.Int("latency-samples", 1000, "single-flow calls timed for the latency percentiles")
	quiet := fs.Bool("quiet", false, "no progress output on stderr")
	trainData := &listFlag{}
	fs.Var(trainData, "train-data", "the model's training files (repeatable, in training order; checked against its model card's SHA-256): "+
		"count the rows whose feature vector is that of a row the model trained on (default: --data, when it is exactly those files)")
	impute := &listFlag{split: true}
	fs.Var(impute, "impute", "features that may be missing from a row and are imputed (comma-separated; "+
		"\"declared\": those the model declares imputable); other rows lacking a feature are rejected, as the API rejects them")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	ds.data.vals = append(ds.data.vals, fs.Args()...)
	if *modelPath == "" {
		return usagef("--model is required")
	}
	if len(ds.data.vals) == 0 {
		return usagef("--data is required")
	}
	d, err := detector.LoadDetector(*modelPath)
	if err != nil {
		return err
	}
	if ds.dataset == "" {
		ds.dataset = d.Dataset()
	}
	opt := d.Pipeline.LoadOptions()
	opt.SkipMalformed, opt.Limit = ds.skipMalformed, ds.limit
	if ds.dataset == "csv" && ds.labelColumn != "" {
		o := ds.loadOptions()
		opt.LabelColumn, opt.BenignLabels, opt.Identifiers, opt.Categorical = o.LabelColumn, o.BenignLabels, o.Identifiers, o.Categorical
	}
	if ds.dataset != d.Dataset() {
		return usagef("the model reads %s flows, not %s", d.Dataset(), ds.dataset)
	}
	if err := ds.checkSchema(opt); err != nil {
		return err
	}
	rules, err := d.Pipeline.Rules(impute.vals)
	if err != nil {
		return usagef("--impute: %v", err)
	}
	flows, stats, err := ds.load(ctx, opt, *quiet || *asJSON, rules.CheckHeader)
	if err != nil {
		return err
	}
	lf := labelFlows(d, flows, rules)
	if len(lf.flows) == 0 && lf.rejected > 0 {
		return fmt.Errorf("all %d labelled rows break the model's flow rules, e.g. %w", lf.rejected, lf.firstReject)
	}
	if len(lf.flows) == 0 {
		return fmt.Errorf("no labelled flows in %s", strings.Join(ds.data.vals, ", "))
	}
	preds, values, perf, err := measurePerf(d, lf.flows, *batch, *singles)
	if err != nil {
		return err
	}
	res := evalResult{ModelID: d.ID(), ModelKind: d.Model.Kind(), Dataset: ds.dataset,
		Metrics: detector.Evaluate(lf.classes, d.Pipeline.BenignIndex(), lf.y, preds), evalPerf: perf,
		Values: values, Load: stats, Rejected: lf.rejected, Imputed: lf.imputed}
	if lf.rejected > 0 {
		res.RejectedBy = lf.rejectedBy
	}
	if len(lf.unknown) > 0 {
		res.UnknownClasses = lf.unknown
	}
	if res.TrainedOn, err = trainingFiles(d, ds.data.vals); err != nil {
		return err
	}
	h := &honesty{Baseline: &baseline{}}
	h.Baseline.Class, h.Baseline.Metrics = detector.MajorityBaseline(lf.classes, d.Pipeline.BenignIndex(), lf.y)
	if len(res.TrainedOn) > 0 {
		h.Warnings = append(h.Warnings, fmt.Sprintf("the model was trained on part of %s: these figures include its training rows, so they flatter it",
			strings.Join(res.TrainedOn, ", ")))
	}
	h.Warnings = append(h.Warnings, detector.BaselineWarnings(res.Metrics, h.Baseline.Metrics)...)
	h.warn()
	trainPaths, reuse := trainData.vals, flows
	if len(trainPaths) == 0 && ds.limit == 0 && !ds.skipMalformed && sameFiles(d, ds.data.vals) {
		trainPaths = ds.data.vals
	} else {
		reuse = nil
	}
	var unknownDups string
	if len(trainPaths) > 0 {
		set, err := trainingSet(ctx, d, trainPaths, reuse)
		if err != nil {
			return fmt.Errorf("--train-data: %w", err)
		}
		h.Duplicates = newDuplicates(set.Count(lf.flows), len(lf.flows), "training")
	} else {
		unknownDups = "rows repeating a training row's feature vector: not counted (pass the model's training files with --train-data)"
	}
	if *report != "" {
		files := strings.Join(baseNames(ds.data.vals), ", ")
		in := reportInput{Title: fmt.Sprintf("%s on %s", d.Model.Kind(), files), ModelID: d.ID(),
			Rows: fmt.Sprintf("%s labelled flows of %s", thousands(float64(len(lf.flows))), files), Meta: d.Meta, Metrics: res.Metrics,
			ROC:  exactROC(preds, lf.y, d.Pipeline.BenignIndex()),
			Perf: perf, Values: res.Values, Warnings: h.Warnings}
		if h.Duplicates != nil {
			in.Notes = append(in.Notes, h.Duplicates.String())
		}
		in.BaselineClass, in.Baseline = h.Baseline.Class, h.Baseline.Metrics
		path, err := writeReport(*report, in)
		if err != nil {
			return err
		}
		if !*asJSON {
			fmt.Printf("report written to %s\n", path)
		}
	}
	if *asJSON {
		res.honesty = *h
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	fmt.Printf("model %s (%s) on %s\n", d.ID(), d.Model.Kind(), ds.dataset)
	printMetrics(os.Stdout, res.Metrics, h)
	if unknownDups != "" {
		fmt.Println(unknownDups)
	}
	fmt.Printf("throughput %.0f windows/s (batch %d), single-flow latency p50 %.1f µs p99 %.1f µs\n",
		perf.WindowsPerSecond, perf.BatchSize, perf.LatencyP50us, perf.LatencyP99us)
	fmt.Printf("values: %d imputed, %d inf, %d clipped, %d unknown categories; rows: %d read, %d malformed skipped, %d rejected\n",
		res.Imputed, res.Values.Inf, res.Values.Clipped, res.Values.Unknown, stats.Rows, stats.Skipped, lf.rejected)
	if lf.rejected > 0 {
		fmt.Printf("rejected by the flow rules (not scored): %s; e.g. %v\n", topCounts(lf.rejectedBy, 5), lf.firstReject)
	}
	return nil
}

// topCounts lists the n largest counts as "key (count)", largest first.
func topCounts(m map[string]int, n int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool {
		if m[keys[a]] != m[keys[b]] {
			return m[keys[a]] > m[keys[b]]
		}
		return keys[a] < keys[b]
	})
	var parts []string
	for _, k := range keys[:min(n, len(keys))] {
		parts = append(parts, fmt.Sprintf("%s (%d)", k, m[k]))
	}
	if len(keys) > n {
		parts = append(parts, fmt.Sprintf("%d more", len(keys)-n))
	}
	return strings.Join(parts, ", ")
}

func baseNames(p []string) []string {
	out := make([]string, len(p))
	for i, s := range p {
		out[i] = filepath.Base(s)
	}
	return out
}

// labelledFlows are the labelled flows of a file set that pass the
// model's flow rules, with their classes as indexes into classes: the
// model's classes, then any class the model does not know, appended so that
// its rows still count (as attacks) in the binary figures. unknown counts
// the rows of such classes; rejected the labelled rows the rules refused
// (rejectedBy by "kind field", firstReject the first refusal), imputed the
// values the rules let be imputed. Nil rules check nothing (a training
// run's held-out flows, which Train measured as they are).
type labelledFlows struct {
	flows       []*detector.Flow
	y           []int
	classes     []string
	unknown     map[string]int
	rejected    int
	rejectedBy  map[string]int
	firstReject error
	imputed     int
}

func labelFlows(d *detector.Detector, flows []*detector.Flow, rules *detector.Rules) labelledFlows {
	lf := labelledFlows{classes: append([]string(nil), d.Classes()...), unknown: map[string]int{}, rejectedBy: map[string]int{}}
	index := map[string]int{}
	for i, c := range lf.classes {
		index[c] = i
	}
	for _, f := range flows {
		if f.Class == "" {
			continue
		}
		var n int
		var err error
		if rules != nil {
			n, err = rules.Check(f)
		}
		if err != nil {
			lf.rejected++
			if lf.firstReject == nil {
				lf.firstReject = fmt.Errorf("%s:%d: %w", f.Source, f.Line, err)
			}
			var fe *detector.FlowError
			if errors.As(err, &fe) {
				for _, p := range fe.Problems {
					lf.rejectedBy[string(p.Kind)+" "+p.Field]++
				}
			}
			continue
		}
		lf.imputed += n
		i, ok := index[f.Class]
		if !ok {
			i = len(lf.classes)
			lf.classes = append(lf.classes, f.Class)
			index[f.Class] = i
		}
		if i >= len(d.Classes()) {
			lf.unknown[f.Class]++
		}
		lf.flows = append(lf.flows, f)
		lf.y = append(lf.y, i)
	}
	return lf
}

// trainingFiles returns the base names of the files of paths whose SHA-256
// is that of a file the model was trained on (its model card's data).
func trainingFiles(d *detector.Detector, paths []string) ([]string, error) {
	if d.Meta.Card == nil {
		return nil, nil
	}
	trained := map[string]bool{}
	for _, f := range d.Meta.Card.Data {
		trained[f.SHA256] = true
	}
	var out []string
	for _, p := range paths {
		sum, err := fileSHA256(p)
		if err != nil {
			return nil, err
		}
		if trained[sum] {
			out = append(out, filepath.Base(p))
		}
	}
	return out, nil
}

// fileSHA256 is the hex SHA-256 of the file at path.
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// sameFiles reports whether paths are, byte for byte and in order, the
// files the model card says the model was trained on.
func sameFiles(d *detector.Detector, paths []string) bool {
	c := d.Meta.Card
	if c == nil || len(c.Data) != len(paths) {
		return false
	}
	for i, p := range paths {
		if sum, err := fileSHA256(p); err != nil || sum != c.Data[i].SHA256 {
			return false
		}
	}
	return true
}

// trainingSet returns the feature vectors of the rows d trained on (its
// fit and validation rows): paths must be its training files, in order
// (its model card's SHA-256), read whole as train read them; the split is
// made again from the card's test fraction, seed, de-duplication and
// split column. flows, when not nil, are those files already read.
func trainingSet(ctx context.Context, d *detector.Detector, paths []string, flows []*detector.Flow) (*detector.VectorSet, error) {
	t := d.Meta.Training
	if t == nil {
		return nil, fmt.Errorf("the model file does not say how it was trained")
	}
	if c := d.Meta.Card; c != nil && !sameFiles(d, paths) {
		var want []string
		for _, f := range c.Data {
			want = append(want, fmt.Sprintf("%s (sha256 %.12s…)", f.Name, f.SHA256))
		}
		return nil, fmt.Errorf("%s are not the model's training files %s", strings.Join(paths, ", "), strings.Join(want, ", "))
	}
	if flows == nil {
		ds := datasetFlags{dataset: d.Dataset(), data: listFlag{vals: paths}}
		var err error
		if flows, _, err = ds.load(ctx, d.Pipeline.LoadOptions(), true, nil); err != nil {
			return nil, err
		}
	}
	if t.Load.Rows > 0 && len(flows) != t.Load.Rows {
		return nil, fmt.Errorf("read %d rows, the model trained on a read of %d", len(flows), t.Load.Rows)
	}
	split, err := detector.SplitForTraining(flows, detector.SplitOptions{Dataset: d.Dataset(), Load: d.Pipeline.LoadOptions(),
		TestFraction: t.TestFraction, ValidFraction: -1, Dedup: t.Dedup, SplitBy: t.SplitBy, Seed: t.Seed})
	if err != nil {
		return nil, err
	}
	return d.Pipeline.NewVectorSet(split.Pick(split.Train)), nil
}
