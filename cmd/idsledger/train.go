package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/idsledger/idsledger/detector"
)

func init() {
	register(command{
		name:    "train",
		summary: "train a detector model from labelled flow files",
		run:     runTrain,
	})
}

// listFlag collects a repeatable flag; each value may also hold several
// comma-separated items when split is set.
type listFlag struct {
	vals  []string
	split bool
}

func (l *listFlag) String() string { return strings.Join(l.vals, ",") }
func (l *listFlag) Set(v string) error {
	if l.split {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				l.vals = append(l.vals, s)
			}
		}
		return nil
	}
	l.vals = append(l.vals, v)
	return nil
}

// datasetFlags are the flags train and eval share to read flow files.
type datasetFlags struct {
	dataset       string
	data          listFlag
	skipMalformed bool
	limit         int
	labelColumn   string
	benignLabels  listFlag
	identifiers   listFlag
	categorical   listFlag
}

func (d *datasetFlags) register(fs *flag.FlagSet, defaultDataset string) {
	fs.StringVar(&d.dataset, "dataset", defaultDataset, "dataset KIND: "+strings.Join(detector.DatasetKinds(), ", "))
	fs.Var(&d.data, "data", "flow file to read (repeatable; more files may follow the flags)")
	fs.BoolVar(&d.skipMalformed, "skip-malformed", false, "count and skip malformed rows instead of failing on the first")
	fs.IntVar(&d.limit, "limit", 0, "read at most this many rows per file (0: all)")
	d.benignLabels.split, d.identifiers.split, d.categorical.split = true, true, true
	fs.StringVar(&d.labelColumn, "label-column", "", "csv kind: the column holding the class")
	fs.Var(&d.benignLabels, "benign-labels", "csv kind: class values meaning benign (comma-separated; default benign,normal,0)")
	fs.Var(&d.identifiers, "identifiers", "csv kind: identifier columns, never features (comma-separated)")
	fs.Var(&d.categorical, "categorical", "csv kind: categorical columns (comma-separated)")
}

func (d *datasetFlags) loadOptions() detector.LoadOptions {
	return detector.LoadOptions{SkipMalformed: d.skipMalformed, Limit: d.limit, LabelColumn: d.labelColumn,
		BenignLabels: d.benignLabels.vals, Identifiers: d.identifiers.vals, Categorical: d.categorical.vals}
}

// checkSchema reports, as a usage error naming the flag to fix, a --dataset
// that names no dataset kind or a csv kind without its label column.
func (d *datasetFlags) checkSchema(opt detector.LoadOptions) error {
	_, err := detector.LookupSchema(d.dataset, opt)
	switch {
	case err == nil:
		return nil
	case d.dataset == "csv" && opt.LabelColumn == "":
		return usagef("--dataset csv needs --label-column (the column holding the class)")
	case errors.Is(err, detector.ErrUnknownKind):
		return usagef("--dataset: unknown dataset %q (want %s)", d.dataset, strings.Join(detector.DatasetKinds(), ", "))
	}
	return usagef("%v", err)
}

// load reads every file with a row counter on stderr. header, when set,
// judges each file's header before its rows are read (eval: the model's
// flow rules).
func (d *datasetFlags) load(ctx context.Context, opt detector.LoadOptions, quiet bool, header func(*detector.Header) error) ([]*detector.Flow, detector.LoadStats, error) {
	var all []*detector.Flow
	total := detector.LoadStats{ByClass: map[string]int{}}
	for _, path := range d.data.vals {
		r, err := detector.OpenDataset(d.dataset, path, opt)
		if err != nil {
			return nil, total, err
		}
		if header != nil {
			if err := header(r.Header()); err != nil {
				r.Close()
				return nil, total, fmt.Errorf("%s: header: %w", path, err)
			}
		}
		for {
			if len(all)%4096 == 0 {
				if err := ctx.Err(); err != nil {
					r.Close()
					return nil, total, err
				}
				if !quiet && isTerminal(os.Stderr) {
					fmt.Fprintf(os.Stderr, "\r\033[Kreading %s: %d flows", path, len(all))
				}
			}
			f, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				r.Close()
				return nil, total, err
			}
			all = append(all, f)
		}
		st := r.Stats()
		r.Close()
		total.Files++
		total.Rows += st.Rows
		total.Skipped += st.Skipped
		total.Unlabeled += st.Unlabeled
		for k, v := range st.ByClass {
			total.ByClass[k] += v
		}
	}
	if !quiet {
		if isTerminal(os.Stderr) {
			fmt.Fprint(os.Stderr, "\r\033[K")
		}
		fmt.Fprintf(os.Stderr, "read %d flows from %d file(s), %d malformed skipped\n", total.Rows, total.Files, total.Skipped)
	}
	return all, total, nil
}

// paramFlag collects name=value model parameters.
type paramFlag map[string]float64

func (p paramFlag) String() string { return fmt.Sprint(map[string]float64(p)) }
func (p paramFlag) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok {
		return fmt.Errorf("want name=value, got %q", v)
	}
	x, err := strconv.ParseFloat(val, 64)
	if err != nil {
		return fmt.Errorf("param %s: %v", k, err)
	}
	p[k] = x
	return nil
}

func runTrain(ctx context.Context, args []string) error {
	fs := newFlagSet("train", "train --dataset KIND --data FILE... --model KIND --out MODEL [flags]")
	var ds datasetFlags
	ds.register(fs, "")
	model := fs.String("model", "", "model kind: "+strings.Join(detector.ModelKinds(), ", "))
	out := fs.String("out", "", "model file to write")
	testFrac := fs.Float64("test-fraction", 0.3, "fraction of each class held out for testing (0: train on everything)")
	validFrac := fs.Float64("valid-fraction", 0.2, "fraction of the training split held out for early stopping and thresholds")
	seed := fs.Int64("seed", 1, "seed of the split, initialisation and shuffling")
	// Settings with a per-model default: 0 (or unset) takes the model's,
	// from detector.DefaultsFor, and the usage states each model's once.
	perModel := func(get func(detector.TrainDefaults) string) string {
		return " (default per model: " + detector.DescribeDefaults(get) + ")"
	}
	positive := func(v float64) string {
		if v <= 0 {
			return ""
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	epochs := fs.Int("epochs", 0, "training epochs (gbt: boosting rounds)"+perModel(func(d detector.TrainDefaults) string { return positive(float64(d.Epochs)) }))
	batch := fs.Int("batch", 0, "mini-batch size"+perModel(func(d detector.TrainDefaults) string { return positive(float64(d.BatchSize)) }))
	lr := fs.Float64("lr", 0, "learning rate (gbt: the shrinkage of each tree)"+perModel(func(d detector.TrainDefaults) string { return positive(d.LearningRate) }))
	patience := fs.Int("patience", 0, "early-stopping patience in epochs, negative: off"+perModel(func(d detector.TrainDefaults) string { return positive(float64(d.Patience)) }))
	engine := fs.String("engine", detector.EngineFast, "training engine of the neural models: "+strings.Join(detector.Engines(), " or ")+" (the reference, about ten times slower)")
	hidden := fs.Int("hidden", 0, "hidden size of neural models (0: default)")
	targetFPR := fs.Float64("target-fpr", 0, "benign false-positive rate at which unsupervised models set their threshold"+perModel(func(d detector.TrainDefaults) string { return positive(d.TargetFPR) }))
	dedup := fs.Bool("dedup", false, "drop repeated feature vectors before splitting")
	splitBy := fs.String("split-by", "", "split by this identifier COLUMN instead of by row: all rows with one value (an account, a host) "+
		"land on the same side of the test and validation splits; the column is never a feature")
	input := fs.String("input", "", "sequence mode: row, flow (per-flow sequences) or window (default: the model's)")
	window := fs.Int("window", 10, "T for --input window")
	maxFeat := fs.Int("max-features", 0, "keep at most this many features (0: all selected)")
	imputable := &listFlag{split: true}
	fs.Var(imputable, "imputable", "features the model declares it can impute when a flow lacks them (comma-separated; "+
		"never a 5-tuple column); a request or eval allows them with impute=declared")
	corr := fs.Float64("corr", 0, "prune features correlated at |r| >= this with a more relevant one, 1: no pruning"+perModel(func(d detector.TrainDefaults) string { return positive(d.CorrThreshold) }))
	logScale := fs.Bool("log-scale", false, "log1p-compress heavy-tailed numeric features before min-max scaling (always on for ethereum-accounts unless --log-scale=false); --log-scale=false: plain min-max"+perModel(func(d detector.TrainDefaults) string { return strconv.FormatBool(d.LogScale) }))
	weights := fs.String("class-weights", "", "supervised class weights: sqrt or inverse (of class frequency, capped at 10) or none"+perModel(func(d detector.TrainDefaults) string { return d.ClassWeights }))
	command := fs.String("command", "", "how this model is made, recorded in its model card (e.g. \"make model\")")
	quiet := fs.Bool("quiet", false, "no progress output on stderr")
	asJSON := fs.Bool("json", false, "print the model id and test metrics as one JSON object")
	report := fs.String("report", "", "write the HTML report of the held-out split (figures, learning curves, ROC, confusion matrix) into this directory")
	params := paramFlag{}
	fs.Var(params, "param", "model parameter name=value (repeatable), e.g. trees=200, k=8")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	ds.data.vals = append(ds.data.vals, fs.Args()...)
	switch {
	case ds.dataset == "":
		return usagef("--dataset is required (%s)", strings.Join(detector.DatasetKinds(), ", "))
	case len(ds.data.vals) == 0:
		return usagef("--data is required")
	case *model == "":
		return usagef("--model is required (%s)", strings.Join(detector.ModelKinds(), ", "))
	case *out == "":
		return usagef("--out is required")
	case *testFrac < 0 || *testFrac >= 1:
		return usagef("--test-fraction must be in [0,1)")
	case *report != "" && *testFrac == 0:
		return usagef("--report reports the held-out split: it needs --test-fraction > 0")
	case *input != "" && *input != "row" && *input != "flow" && *input != "window":
		return usagef("--input must be row, flow or window")
	case *weights != "" && *weights != "sqrt" && *weights != "inverse" && *weights != "none":
		return usagef("--class-weights must be sqrt, inverse or none")
	case *engine != detector.EngineFast && *engine != detector.EngineGorgonia:
		return usagef("--engine must be %s", strings.Join(detector.Engines(), " or "))
	}
	if _, ok := detector.LookupModel(*model); !ok {
		return usagef("unknown model %q (have %s)", *model, strings.Join(detector.ModelKinds(), ", "))
	}
	// --log-scale given (on the command line or in the environment) sets
	// it; otherwise the model's default applies.
	var logScaleOpt *bool
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "log-scale" {
			logScaleOpt = logScale
		}
	})
	if err := ds.checkSchema(ds.loadOptions()); err != nil {
		return err
	}
	opt := ds.loadOptions()
	flows, stats, err := ds.load(ctx, opt, *quiet, nil)
	if err != nil {
		return err
	}
	vf := *validFrac
	if vf == 0 {
		vf = -1
	}
	bar := newProgressBar(os.Stderr, *quiet)
	start := time.Now()
	res, err := detector.Train(flows, detector.TrainOptions{
		Dataset: ds.dataset, Load: opt, Files: ds.data.vals, Model: *model, Hidden: *hidden, Params: params,
		Pipeline: detector.PipelineConfig{MaxFeatures: *maxFeat, CorrThreshold: *corr, Input: detector.InputMode(*input), Window: *window,
			Imputable: imputable.vals},
		LogScale: logScaleOpt,
		Train: detector.TrainConfig{Epochs: *epochs, BatchSize: *batch, LearningRate: *lr, Patience: *patience,
			TargetFPR: *targetFPR, Seed: *seed, Engine: *engine},
		TestFraction: *testFrac, ValidFraction: vf, Dedup: *dedup, SplitBy: *splitBy, ClassWeights: *weights, Seed: *seed,
		Command: *command, Progress: bar.epoch,
	})
	bar.done()
	if err != nil {
		return err
	}
	res.Detector.Meta.Training.Load = stats
	id, err := res.Detector.WriteFile(*out)
	if err != nil {
		return err
	}
	d := res.Detector
	var h *honesty
	if res.Test != nil {
		h = &honesty{Baseline: &baseline{Class: res.BaselineClass, Metrics: *res.Baseline}, Warnings: res.Warnings,
			Duplicates: newDuplicates(res.TestDuplicates, len(res.TestFlows), "training")}
		h.warn()
	}
	var reportPath string
	if *report != "" {
		if reportPath, err = writeHeldOutReport(*report, res, ds.data.vals, *testFrac, *seed); err != nil {
			return err
		}
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			ModelID  string                 `json:"model_id"`
			Out      string                 `json:"out"`
			Training *detector.TrainingInfo `json:"training"`
			Features []string               `json:"features"`
			honesty
		}{id, *out, d.Meta.Training, d.Pipeline.FeatureNames(), *cmp.Or(h, &honesty{})})
	}
	fmt.Printf("model %s written to %s\n", id, *out)
	fmt.Printf("kind %s, dataset %s, %d features (%s), input %s, classes %s, trained in %s\n",
		d.Model.Kind(), ds.dataset, len(d.Pipeline.Features), strings.Join(d.Pipeline.FeatureNames(), " "),
		d.Pipeline.Input, strings.Join(d.Classes(), ","), time.Since(start).Round(time.Millisecond))
	if res.Test != nil {
		printMetrics(os.Stdout, *res.Test, h)
	}
	if reportPath != "" {
		fmt.Printf("report written to %s\n", reportPath)
	}
	return nil
}

// writeHeldOutReport writes the HTML report of the held-out split of a
// training run into dir: the figures Train measured on it, and the scoring
// speed and the exact ROC curve measured on it now (on the serving path,
// whose scores agree with Train's to float rounding).
func writeHeldOutReport(dir string, res *detector.TrainResult, files []string, testFrac float64, seed int64) (string, error) {
	d := res.Detector
	lf := labelFlows(d, res.TestFlows, nil)
	preds, values, perf, err := measurePerf(d, lf.flows, 256, 1000)
	if err != nil {
		return "", err
	}
	names := strings.Join(baseNames(files), ", ")
	in := reportInput{Title: fmt.Sprintf("%s on the %g%% of %s it did not train on", d.Model.Kind(), 100*testFrac, names),
		ModelID: d.ID(), Rows: fmt.Sprintf("the %s flows held out for testing (%g%% of each class, seed %d), never trained on", thousands(float64(len(lf.flows))), 100*testFrac, seed),
		Meta: d.Meta, Metrics: *res.Test, ROC: exactROC(preds, lf.y, d.Pipeline.BenignIndex()), Perf: perf, Values: values,
		Warnings: res.Warnings}
	if dup := newDuplicates(res.TestDuplicates, len(res.TestFlows), "training"); dup.Rows > 0 {
		in.Notes = append(in.Notes, dup.String())
	}
	in.BaselineClass, in.Baseline = detector.MajorityBaseline(lf.classes, d.Pipeline.BenignIndex(), lf.y)
	return writeReport(dir, in)
}

// progressBar prints one line per epoch with its loss and validation
// figures and, on a terminal, keeps a bar with the elapsed and remaining
// time on the line below.
type progressBar struct {
	w     io.Writer
	quiet bool
	tty   bool
	start time.Time
	drawn bool
}

func newProgressBar(w *os.File, quiet bool) *progressBar {
	return &progressBar{w: w, quiet: quiet, tty: isTerminal(w), start: time.Now()}
}

// isTerminal reports whether f is a character device (a terminal).
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func (p *progressBar) epoch(s detector.EpochStats) {
	if p.quiet {
		return
	}
	total := max(s.Epochs, 1)
	const width = 30
	fill := width * s.Epoch / total
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
	}
	fmt.Fprintln(p.w, epochLine(s))
	if !p.tty {
		return
	}
	el := time.Since(p.start)
	eta := time.Duration(float64(el) / float64(s.Epoch) * float64(total-s.Epoch))
	fmt.Fprintf(p.w, "[%s%s] %d/%d  %s elapsed, up to %s left",
		strings.Repeat("#", fill), strings.Repeat(".", width-fill), s.Epoch, total,
		el.Round(100*time.Millisecond), eta.Round(time.Second))
	p.drawn = true
}

func (p *progressBar) done() {
	if p.drawn && !p.quiet {
		fmt.Fprintln(p.w)
	}
}

// baseline is the majority-class baseline of the rows a model was
// measured on: the figures of always answering Class.
type baseline struct {
	Class   string           `json:"class"`
	Metrics detector.Metrics `json:"metrics"`
}

// duplicates counts the measured rows whose feature vector (after the
// model's pipeline) is also a training row's.
type duplicates struct {
	Rows  int            `json:"rows"`
	Of    int            `json:"of"`
	Share detector.Float `json:"share"`
	// Against says what they repeat ("training": the training split).
	Against string `json:"against"`
}

func newDuplicates(rows, of int, against string) *duplicates {
	share := detector.Float(math.NaN())
	if of > 0 {
		share = detector.Float(float64(rows) / float64(of))
	}
	return &duplicates{Rows: rows, Of: of, Share: share, Against: against}
}

func (d *duplicates) String() string {
	return fmt.Sprintf("%d of %d rows (%.1f%%) have the feature vector of a %s row (after the model's feature extraction)",
		d.Rows, d.Of, 100*float64(d.Share), d.Against)
}

// honesty is what train and eval print beside a model's figures: the
// majority baseline, the warnings that the model does no better
// (detector.BaselineWarnings), and the rows that repeat training rows.
type honesty struct {
	Baseline   *baseline   `json:"majority_baseline,omitempty"`
	Warnings   []string    `json:"warnings,omitempty"`
	Duplicates *duplicates `json:"duplicates,omitempty"`
}

// warn writes the warnings on stderr.
func (h *honesty) warn() {
	for _, w := range h.Warnings {
		fmt.Fprintln(os.Stderr, "warning: "+w)
	}
}

// printMetrics writes a human-readable summary of m: a classifier's
// figures, or an anomaly detector's (what it detects at its threshold),
// each beside the majority baseline's when h has one, then the rows that
// repeat training rows, when h counted them. (h's warnings go to stderr:
// honesty.warn.)
func printMetrics(w io.Writer, m detector.Metrics, h *honesty) {
	var b *detector.Metrics
	if h != nil && h.Baseline != nil {
		b = &h.Baseline.Metrics
		fmt.Fprintf(w, "test rows %d (%s task); in (parentheses) the majority baseline: always %q\n", m.N, m.Task, h.Baseline.Class)
	} else {
		fmt.Fprintf(w, "test rows %d (%s task)\n", m.N, m.Task)
	}
	// fig is a figure of m beside the baseline's.
	fig := func(get func(detector.Metrics) detector.Float) string {
		s := f4(get(m))
		if b != nil {
			s += " (" + f4(get(*b)) + ")"
		}
		return s
	}
	auc := func(m detector.Metrics) detector.Float { return m.ROCAUC }
	recall := func(m detector.Metrics) detector.Float { return m.BinaryRecall }
	fpr := func(m detector.Metrics) detector.Float { return m.BenignFPR }
	precision := func(m detector.Metrics) detector.Float { return m.BinaryPrecision }
	if m.Task == "anomaly" {
		fmt.Fprintf(w, "roc_auc %s  at the threshold: attacks detected %s  benign_fpr %s  alert precision %s\n",
			fig(auc), fig(recall), fig(fpr), fig(precision))
		fmt.Fprintf(w, "%-16s %9s %9s %9s %9s\n", "true class", "flows", "alerted", "share", "baseline")
		for _, c := range m.ConfusionRows {
			pc := m.PerClass[c]
			fmt.Fprintf(w, "%-16s %9d %9.0f %9.4f %9s\n", c, pc.Support, float64(pc.DetectionRate)*float64(pc.Support), pc.DetectionRate,
				baseClass(b, c, func(pc detector.ClassMetrics) detector.Float { return pc.DetectionRate }))
		}
	} else {
		fmt.Fprintf(w, "accuracy %s  binary_accuracy %s  macro_f1 %s  benign_fpr %s  roc_auc %s\n",
			fig(func(m detector.Metrics) detector.Float { return m.Accuracy }),
			fig(func(m detector.Metrics) detector.Float { return m.BinaryAccuracy }),
			fig(func(m detector.Metrics) detector.Float { return m.MacroF1 }), fig(fpr), fig(auc))
		fmt.Fprintf(w, "binary precision %s  recall %s  f1 %s\n", fig(precision), fig(recall),
			fig(func(m detector.Metrics) detector.Float { return m.BinaryF1 }))
		fmt.Fprintf(w, "%-16s %9s %9s %9s %9s %9s %9s\n", "class", "precision", "recall", "f1", "detected", "support", "base f1")
		for _, c := range m.ConfusionRows {
			pc := m.PerClass[c]
			fmt.Fprintf(w, "%-16s %9.4f %9.4f %9.4f %9.4f %9d %9s\n", c, pc.Precision, pc.Recall, pc.F1, pc.DetectionRate, pc.Support,
				baseClass(b, c, func(pc detector.ClassMetrics) detector.Float { return pc.F1 }))
		}
	}
	printConfusion(w, m)
	if h != nil && h.Duplicates != nil {
		fmt.Fprintln(w, "duplicates: "+h.Duplicates.String())
	}
}

// baseClass is a per-class figure of the baseline b ("" without one).
func baseClass(b *detector.Metrics, class string, get func(detector.ClassMetrics) detector.Float) string {
	if b == nil {
		return ""
	}
	return f4(get(b.PerClass[class]))
}

// f4 writes a figure with 4 decimals, n/a when it is undefined.
func f4(v detector.Float) string {
	if math.IsNaN(float64(v)) {
		return "n/a"
	}
	return fmt.Sprintf("%.4f", float64(v))
}

func printConfusion(w io.Writer, m detector.Metrics) {
	fmt.Fprintf(w, "confusion (rows true, columns predicted: %s)\n", strings.Join(m.ConfusionCols, ", "))
	for i, r := range m.Confusion {
		fmt.Fprintf(w, "%-16s %v\n", m.ConfusionRows[i], r)
	}
}

// epochLine is one epoch's progress line, with the validation figures
// that mean something for the model's task (see detector.EpochStats).
func epochLine(s detector.EpochStats) string {
	line := fmt.Sprintf("epoch %3d/%d  loss %.4f  val_loss %.4f", s.Epoch, max(s.Epochs, 1), s.TrainLoss, s.ValidLoss)
	switch s.Task {
	case "multiclass":
		line += fmt.Sprintf("  val_acc %.4f  val_macro_f1 %.4f  val_benign_fpr %.4f", s.ValidAcc, s.ValidF1, s.ValidFPR)
	case "anomaly":
		line += fmt.Sprintf("  val_benign_fpr %.4f", s.ValidFPR)
		if !math.IsNaN(float64(s.ValidAUC)) {
			line += fmt.Sprintf("  val_detection %.4f  val_roc_auc %.4f", s.ValidDetection, s.ValidAUC)
		}
	}
	return line
}
