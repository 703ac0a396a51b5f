package main

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"github.com/idsledger/idsledger/detector"
)

// reportInput is what writeHTMLReport draws.
type reportInput struct {
	Title   string
	ModelID string
	// Rows says which rows were scored, e.g. "406 labelled flows of
	// a.csv" or "the 30% held out of a.csv".
	Rows    string
	Meta    detector.Metadata
	Metrics detector.Metrics
	// ROC is the exact ROC curve of the rows (detector.ROCCurve); nil
	// draws Metrics.ROC, a sample of it.
	ROC []detector.ROCPoint
	// Baseline are the figures of answering BaselineClass, the most
	// frequent class of the same rows, for every row: what a model must
	// beat. Empty BaselineClass: no baseline column.
	Baseline      detector.Metrics
	BaselineClass string
	Perf          evalPerf
	Values        detector.ValueStats
	// Warnings are shown above the figures (e.g. that they include
	// training rows, that the model does no better than the baseline),
	// Notes below the title (e.g. how many rows repeat training rows).
	Warnings []string
	Notes    []string
}

// writeReport writes the report of in into dir/index.html and returns that
// path.
func writeReport(dir string, in reportInput) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, "index.html")
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	err = writeHTMLReport(f, in)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return path, err
}

// writeHTMLReport writes a self-contained HTML page, no script, that a
// narrow window shows without scrolling sideways: the headline figures
// beside those of the majority baseline, the per-class table, the
// learning curves (from the model's training history), the ROC curve with
// the model's operating point, and the confusion matrix, drawn as inline
// SVG. Anomaly models (Metrics.Task "anomaly"), which only say benign or
// anomaly, get detection figures instead of classifier ones.
func writeHTMLReport(w io.Writer, in reportInput) error {
	m := in.Metrics
	data := struct {
		reportInput
		Anomaly    bool
		Figures    []figureRow
		Classes    []classRow
		Plots      []template.HTML
		Confusion  template.HTML
		BenignName string
	}{reportInput: in, Anomaly: m.Task == "anomaly", Figures: headlineFigures(in), BenignName: benignName(in)}
	benign := data.BenignName
	for _, c := range m.ConfusionRows {
		data.Classes = append(data.Classes, classRow{Name: c, Benign: c == benign, ClassMetrics: m.PerClass[c]})
	}
	data.Plots = append(data.Plots, learningSVGs(in.Meta.Training, m.Task)...)
	data.Plots = append(data.Plots, rocSVGs(m, in.ROC, in.Meta.Threshold)...)
	data.Confusion = confusionSVG(m)
	return reportTmpl.Execute(w, data)
}

// exactROC is the ROC curve of preds, y[i] being row i's class and benign
// the benign one.
func exactROC(preds []detector.Prediction, y []int, benign int) []detector.ROCPoint {
	scores, attack := make([]float64, len(preds)), make([]bool, len(preds))
	for i, p := range preds {
		scores[i], attack[i] = p.Score, y[i] != benign
	}
	return detector.ROCCurve(scores, attack)
}

// benignName is the benign class's name: the first class of the pipeline.
func benignName(in reportInput) string {
	if p := in.Meta.Pipeline; p != nil && len(p.Classes) > 0 {
		return p.Classes[p.BenignIndex()]
	}
	if len(in.Metrics.ConfusionRows) > 0 {
		return in.Metrics.ConfusionRows[0]
	}
	return ""
}

type classRow struct {
	Name   string
	Benign bool
	detector.ClassMetrics
}

// Alerted is the number of the class's rows that raised an alert.
func (c classRow) Alerted() int {
	if math.IsNaN(float64(c.DetectionRate)) {
		return 0
	}
	return int(math.Round(float64(c.DetectionRate) * float64(c.Support)))
}

// figureRow is one headline figure: the model's value, the baseline's,
// and what it means.
type figureRow struct {
	Name            string
	Model, Baseline template.HTML
	Means           string
}

// headlineFigures are the figures that say how good the model is, first
// the one that matters most for its task.
func headlineFigures(in reportInput) []figureRow {
	m, b := in.Metrics, in.Baseline
	benign := benignName(in)
	fpr := func(m detector.Metrics) string {
		return fmtCount(m.BenignFPR, m.PerClass[benign].DetectionRate, m.PerClass[benign].Support)
	}
	attacks := func(m detector.Metrics) string {
		alerted, total := 0, 0
		for c, pc := range m.PerClass {
			if c != benign && !math.IsNaN(float64(pc.DetectionRate)) {
				alerted += int(math.Round(float64(pc.DetectionRate) * float64(pc.Support)))
				total += pc.Support
			}
		}
		return withCount(fmtFloat(m.BinaryRecall), alerted, total)
	}
	row := func(name string, get func(detector.Metrics) string, means string) figureRow {
		r := figureRow{Name: name, Model: template.HTML(get(m)), Means: means}
		if in.BaselineClass != "" {
			r.Baseline = template.HTML(get(b))
		}
		return r
	}
	f := func(get func(detector.Metrics) detector.Float) func(detector.Metrics) string {
		return func(m detector.Metrics) string { return fmtFloat(get(m)) }
	}
	auc := row("ROC-AUC", f(func(m detector.Metrics) detector.Float { return m.ROCAUC }),
		"how well the score ranks attacks above benign flows: 1 is perfect, 0.5 is chance")
	benignFPR := row("benign false-positive rate", fpr, "the share of benign flows that raised an alert")
	detected := row("attacks detected", attacks, "the share of attack flows that raised an alert")
	if m.Task == "anomaly" {
		return []figureRow{auc, detected, benignFPR,
			row("alert precision", f(func(m detector.Metrics) detector.Float { return m.BinaryPrecision }),
				"the share of alerts that were attacks"),
			row("benign/attack accuracy", f(func(m detector.Metrics) detector.Float { return m.BinaryAccuracy }),
				"flows on the right side of the threshold"),
		}
	}
	return []figureRow{
		row("macro-F1", f(func(m detector.Metrics) detector.Float { return m.MacroF1 }),
			"the mean of the classes' F1: a rare class counts as much as a common one"),
		row(fmt.Sprintf("accuracy (%d classes)", len(m.ConfusionRows)), f(func(m detector.Metrics) detector.Float { return m.Accuracy }),
			"flows given their true class"),
		benignFPR, detected, auc,
		row("benign/attack accuracy", f(func(m detector.Metrics) detector.Float { return m.BinaryAccuracy }),
			"flows on the right side of benign/attack, whatever the attack class"),
	}
}

func fmtFloat(v detector.Float) string {
	if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
		return "–"
	}
	return fmt.Sprintf("%.3f", float64(v))
}

// fmtCount is v with the count it is the rate of: "0.167 (25 of 150)",
// as HTML.
func fmtCount(v, rate detector.Float, of int) string {
	if math.IsNaN(float64(v)) {
		return "–"
	}
	return withCount(fmtFloat(v), int(math.Round(float64(rate)*float64(of))), of)
}

// withCount is HTML for the figure v, n of total, which a narrow column
// breaks before the count, never inside it.
func withCount(v string, n, total int) string {
	return fmt.Sprintf(`%s <span class="count">(%d of %d)</span>`, template.HTMLEscapeString(v), n, total)
}

// thousands writes v rounded, with thousands separators: 1,234,567.
func thousands(v float64) string {
	s := strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

var reportTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"f": fmtFloat,
	"n": thousands,
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>idsledger evaluation: {{.Title}}</title>
<style>
body{font-family:system-ui,sans-serif;margin:0 auto;padding:1em 1.5em;max-width:1250px;color:#222;line-height:1.4}
h1{font-size:1.5em;margin:.2em 0 .4em;overflow-wrap:anywhere}h2{font-size:1.1em;margin:1.4em 0 .4em}
p,li{overflow-wrap:anywhere}
code{font-size:.85em;overflow-wrap:anywhere}
.scroll{max-width:100%;overflow-x:auto}
table{border-collapse:collapse;margin:.3em 0;font-size:.92em}
td,th{border:1px solid #ccc;padding:.25em .5em;text-align:right;vertical-align:top}
th{background:#f3f3f3}td:first-child,th:first-child,th.means{text-align:left}
td.means{text-align:left;color:#555;font-size:.9em;min-width:12em}
.plots{display:flex;flex-wrap:wrap;gap:1.5em;align-items:flex-start}
figure{margin:0;max-width:100%}figcaption{font-weight:600;margin-bottom:.3em}
svg{max-width:100%;height:auto;display:block}
.note{color:#555;font-size:.9em;max-width:60em}
.count{white-space:nowrap}
.warning{background:#fff4e5;border-left:4px solid #e67e00;padding:.4em .7em}
@media (max-width:600px){body{padding:.5em .6em}table{font-size:.85em}td,th{padding:.2em .3em}.means{display:none}}
@media (max-width:480px){.wide-only{display:none}}
</style></head><body>
<h1>{{.Title}}</h1>
<p>Model <code>{{.ModelID}}</code>: <b>{{.Meta.ModelKind}}</b>{{if .Anomaly}}, an anomaly detector (it says benign or anomaly, never which attack){{end}};
dataset {{.Meta.Pipeline.Dataset}}, input {{.Meta.Pipeline.Input}}, {{len .Meta.Pipeline.Features}} features, alert threshold {{printf "%.4g" .Meta.Threshold}}.
Scored: {{.Rows}}.</p>
{{range .Warnings}}<p class="warning">Warning: {{.}}.</p>
{{end}}{{range .Notes}}<p class="note">{{.}}.</p>
{{end}}

<h2>How good</h2>
<div class="scroll"><table class="figures">
<tr><th>figure</th><th>this model</th>{{if .BaselineClass}}<th>always “{{.BaselineClass}}”</th>{{end}}<th class="means">what it says</th></tr>
{{range .Figures}}<tr><td>{{.Name}}</td><td>{{.Model}}</td>{{if $.BaselineClass}}<td>{{.Baseline}}</td>{{end}}<td class="means">{{.Means}}</td></tr>
{{end}}</table></div>
{{if .BaselineClass}}<p class="note">The last column answers “{{.BaselineClass}}”, the most frequent class of these rows, for every flow: a model is only as good as its lead over it.</p>{{end}}

{{if .Anomaly}}<h2>What it catches</h2>
<div class="scroll"><table class="classes">
<tr><th>true class</th><th>flows</th><th>alerted</th><th>share alerted</th></tr>
{{range .Classes}}<tr><td>{{.Name}}{{if .Benign}} (false alarms){{end}}</td><td>{{.Support}}</td><td>{{.Alerted}}</td><td>{{f .DetectionRate}}</td></tr>
{{end}}</table></div>
{{else}}<h2>Per class</h2>
<div class="scroll"><table class="classes">
<tr><th>class</th><th>flows</th><th>recall</th><th>precision</th><th>F1</th><th class="wide-only">alerted</th></tr>
{{range .Classes}}<tr><td>{{.Name}}</td><td>{{.Support}}</td><td>{{f .Recall}}</td><td>{{f .Precision}}</td><td>{{f .F1}}</td><td class="wide-only">{{.Alerted}}</td></tr>
{{end}}</table></div>
<p class="note">Recall: the share of the class's flows given that class; precision: the share of flows given the class that were of it; alerted (in a wide window): flows that raised an alert (any class but {{.BenignName}}).</p>{{end}}

<h2>Plots</h2>
<div class="plots">
{{range .Plots}}{{.}}
{{end}}{{.Confusion}}
</div>

<h2>Data and speed</h2>
<p>Scoring {{n .Perf.WindowsPerSecond}} flows/s in batches of {{.Perf.BatchSize}}; one flow at a time p50 {{printf "%.1f" .Perf.LatencyP50us}} µs, p99 {{printf "%.1f" .Perf.LatencyP99us}} µs.
Values: {{.Values.Missing}} missing (imputed with the training median), {{.Values.Inf}} infinite, {{.Values.Clipped}} clipped to [0,1], {{.Values.Unknown}} unknown categories.</p>
<details><summary>{{len .Meta.Pipeline.Features}} features; {{len .Meta.Pipeline.Dropped}} columns that are never features</summary>
<p>Features: {{range $i, $f := .Meta.Pipeline.Features}}{{if $i}}, {{end}}<code>{{$f.Name}}</code>{{end}}.</p>
<p>Never features (they identify or date a flow, or are the label): {{range $i, $f := .Meta.Pipeline.Dropped}}{{if $i}}, {{end}}<code>{{$f}}</code>{{end}}.</p>
</details>
</body></html>
`))
