package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
	detector.Perf
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
	if _, err := detector.LookupSchema(ds.dataset, opt); err != nil {
		return usagef("%v", err)
	}
	if ds.dataset != d.Dataset() {
		return usagef("the model reads %s flows, not %s", d.Dataset(), ds.dataset)
	}
	rules, err := d.Pipeline.Rules(impute.vals)
	if err != nil {
		return usagef("--impute: %v", err)
	}
	flows, stats, err := ds.load(ctx, opt, *quiet || *asJSON, rules.CheckHeader)
	if err != nil {
		return err
	}
	// Classes the model does not know are appended so that their rows
	// still count (as attacks) in the binary figures.
	classes := append([]string(nil), d.Classes()...)
	index := map[string]int{}
	for i, c := range classes {
		index[c] = i
	}
	unknown := map[string]int{}
	var labelled []*detector.Flow
	var y []int
	rejected, rejectedBy, imputed := 0, map[string]int{}, 0
	var firstReject error
	for _, f := range flows {
		if f.Class == "" {
			continue
		}
		n, err := rules.Check(f)
		if err != nil {
			rejected++
			if firstReject == nil {
				firstReject = fmt.Errorf("%s:%d: %w", f.Source, f.Line, err)
			}
			var fe *detector.FlowError
			if errors.As(err, &fe) {
				for _, p := range fe.Problems {
					rejectedBy[string(p.Kind)+" "+p.Field]++
				}
			}
			continue
		}
		imputed += n
		i, ok := index[f.Class]
		if !ok {
			i = len(classes)
			classes = append(classes, f.Class)
			index[f.Class] = i
		}
		if i >= len(d.Classes()) {
			unknown[f.Class]++
		}
		labelled = append(labelled, f)
		y = append(y, i)
	}
	if len(labelled) == 0 && rejected > 0 {
		return fmt.Errorf("all %d labelled rows break the model's flow rules, e.g. %w", rejected, firstReject)
	}
	if len(labelled) == 0 {
		return fmt.Errorf("no labelled flows in %s", strings.Join(ds.data.vals, ", "))
	}
	preds, perf, err := detector.MeasurePerf(d, labelled, *batch, *singles)
	if err != nil {
		return err
	}
	res := evalResult{ModelID: d.ID(), ModelKind: d.Model.Kind(), Dataset: ds.dataset,
		Metrics: detector.Evaluate(classes, d.Pipeline.BenignIndex(), y, preds), Perf: perf,
		Values: d.Pipeline.Stats(), Load: stats, Rejected: rejected, Imputed: imputed}
	if rejected > 0 {
		res.RejectedBy = rejectedBy
	}
	if len(unknown) > 0 {
		res.UnknownClasses = unknown
	}
	if *report != "" {
		if err := os.MkdirAll(*report, 0o755); err != nil {
			return err
		}
		path := filepath.Join(*report, "index.html")
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		err = detector.WriteHTMLReport(f, detector.ReportInput{
			Title:   fmt.Sprintf("%s on %s", d.Model.Kind(), strings.Join(baseNames(ds.data.vals), ", ")),
			ModelID: d.ID(), Meta: d.Meta, Metrics: res.Metrics, Perf: perf, Values: res.Values})
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		if !*asJSON {
			fmt.Printf("report written to %s\n", path)
		}
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	fmt.Printf("model %s (%s) on %s\n", d.ID(), d.Model.Kind(), ds.dataset)
	printMetrics(os.Stdout, res.Metrics)
	fmt.Printf("throughput %.0f windows/s (batch %d), single-flow latency p50 %.1f µs p99 %.1f µs\n",
		perf.WindowsPerSecond, perf.BatchSize, perf.LatencyP50us, perf.LatencyP99us)
	fmt.Printf("values: %d imputed, %d inf, %d clipped, %d unknown categories; rows: %d read, %d malformed skipped, %d rejected\n",
		res.Imputed, res.Values.Inf, res.Values.Clipped, res.Values.Unknown, stats.Rows, stats.Skipped, rejected)
	if rejected > 0 {
		fmt.Printf("rejected by the flow rules (not scored): %s; e.g. %v\n", topCounts(rejectedBy, 5), firstReject)
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
