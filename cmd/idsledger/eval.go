package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
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
	flows, stats, err := ds.load(ctx, opt, *quiet || *asJSON)
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
	for _, f := range flows {
		if f.Class == "" {
			continue
		}
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
	if len(labelled) == 0 {
		return fmt.Errorf("no labelled flows in %s", strings.Join(ds.data.vals, ", "))
	}
	preds, perf, err := measurePerf(d, labelled, *batch, *singles)
	if err != nil {
		return err
	}
	res := evalResult{ModelID: d.ID(), ModelKind: d.Model.Kind(), Dataset: ds.dataset,
		Metrics: detector.Evaluate(classes, d.Pipeline.BenignIndex(), y, preds), evalPerf: perf,
		Values: d.Pipeline.Stats(), Load: stats}
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
		err = writeHTMLReport(f, reportInput{
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
	fmt.Printf("values: %d missing, %d inf, %d clipped, %d unknown categories; rows: %d read, %d malformed skipped\n",
		res.Values.Missing, res.Values.Inf, res.Values.Clipped, res.Values.Unknown, stats.Rows, stats.Skipped)
	return nil
}

func baseNames(p []string) []string {
	out := make([]string, len(p))
	for i, s := range p {
		out[i] = filepath.Base(s)
	}
	return out
}
