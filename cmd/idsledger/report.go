package main

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"

	"github.com/idsledger/idsledger/detector"
)

// reportInput is what writeHTMLReport draws.
type reportInput struct {
	Title   string
	ModelID string
	Meta    detector.Metadata
	Metrics detector.Metrics
	Perf    evalPerf
	Values  detector.ValueStats
}

// writeHTMLReport writes a self-contained HTML page with the figures, the
// learning curve (from the model's training history), the ROC curve and the
// confusion matrix, drawn as inline SVG.
func writeHTMLReport(w io.Writer, in reportInput) error {
	data := struct {
		reportInput
		Learning, ROC, Confusion template.HTML
		Classes                  []classRow
	}{reportInput: in, Learning: learningSVG(in.Meta.Training), ROC: rocSVG(in.Metrics), Confusion: confusionSVG(in.Metrics)}
	for _, c := range in.Metrics.ConfusionRows {
		data.Classes = append(data.Classes, classRow{c, in.Metrics.PerClass[c]})
	}
	return reportTmpl.Execute(w, data)
}

type classRow struct {
	Name string
	detector.ClassMetrics
}

var reportTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"f": func(v detector.Float) string {
		if math.IsNaN(float64(v)) {
			return "–"
		}
		return fmt.Sprintf("%.4f", float64(v))
	},
}).Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>idsledger evaluation: {{.Title}}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
.plots{display:flex;flex-wrap:wrap;gap:2em}figure{margin:0}figcaption{font-weight:600;margin-bottom:.3em}
code{font-size:.85em}
</style></head><body>
<h1>{{.Title}}</h1>
<p>Model <code>{{.ModelID}}</code> — kind <b>{{.Meta.ModelKind}}</b>, dataset <b>{{.Meta.Pipeline.Dataset}}</b>,
input {{.Meta.Pipeline.Input}}, {{len .Meta.Pipeline.Features}} features, threshold {{printf "%.6g" .Meta.Threshold}}.</p>
<table><tr><th>rows</th><th>task</th><th>accuracy</th><th>binary accuracy</th><th>macro-F1</th><th>benign FPR</th><th>ROC-AUC</th><th>binary F1</th><th>windows/s</th><th>p50 µs</th><th>p99 µs</th></tr>
<tr><td>{{.Metrics.N}}</td><td>{{.Metrics.Task}}</td><td>{{f .Metrics.Accuracy}}</td><td>{{f .Metrics.BinaryAccuracy}}</td><td>{{f .Metrics.MacroF1}}</td>
<td>{{f .Metrics.BenignFPR}}</td><td>{{f .Metrics.ROCAUC}}</td><td>{{f .Metrics.BinaryF1}}</td>
<td>{{printf "%.0f" .Perf.WindowsPerSecond}}</td><td>{{printf "%.1f" .Perf.LatencyP50us}}</td><td>{{printf "%.1f" .Perf.LatencyP99us}}</td></tr></table>
<table><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th><th>detection rate</th><th>support</th></tr>
{{range .Classes}}<tr><td>{{.Name}}</td><td>{{f .Precision}}</td><td>{{f .Recall}}</td><td>{{f .F1}}</td><td>{{f .DetectionRate}}</td><td>{{.Support}}</td></tr>
{{end}}</table>
<div class="plots">
<figure><figcaption>Learning curve</figcaption>{{.Learning}}</figure>
<figure><figcaption>ROC (benign vs attack), AUC {{f .Metrics.ROCAUC}}</figcaption>{{.ROC}}</figure>
<figure><figcaption>Confusion matrix (rows: true, columns: predicted)</figcaption>{{.Confusion}}</figure>
</div>
<p>Values: {{.Values.Missing}} missing (imputed with the training median), {{.Values.Inf}} infinite, {{.Values.Clipped}} clipped to [0,1], {{.Values.Unknown}} unknown categories.</p>
<p>Features: {{range $i, $f := .Meta.Pipeline.Features}}{{if $i}}, {{end}}<code>{{$f.Name}}</code>{{end}}.
Never features: {{range $i, $f := .Meta.Pipeline.Dropped}}{{if $i}}, {{end}}<code>{{$f}}</code>{{end}}.</p>
</body></html>
`))

const plotW, plotH, pad = 360.0, 300.0, 40.0

func axes(b *strings.Builder, xlabel, ylabel string, ymax float64) {
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%g" height="%g" font-size="11">`, plotW, plotH)
	fmt.Fprintf(b, `<rect x="%g" y="%g" width="%g" height="%g" fill="none" stroke="#888"/>`, pad, 10.0, plotW-pad-10, plotH-pad-10)
	for i := 0; i <= 4; i++ {
		y := 10 + (plotH-pad-10)*(1-float64(i)/4)
		fmt.Fprintf(b, `<text x="%g" y="%g" text-anchor="end">%.3g</text>`, pad-3, y+4, ymax*float64(i)/4)
	}
	fmt.Fprintf(b, `<text x="%g" y="%g" text-anchor="middle">%s</text>`, pad+(plotW-pad-10)/2, plotH-8, template.HTMLEscapeString(xlabel))
	fmt.Fprintf(b, `<text x="12" y="%g" transform="rotate(-90 12 %g)" text-anchor="middle">%s</text>`, plotH/2, plotH/2, template.HTMLEscapeString(ylabel))
}

func sx(x, xmax float64) float64 { return pad + (plotW-pad-10)*x/xmax }
func sy(y, ymax float64) float64 { return 10 + (plotH-pad-10)*(1-y/ymax) }

func polyline(b *strings.Builder, xs, ys []float64, xmax, ymax float64, color string) {
	var pts []string
	for i := range xs {
		if math.IsNaN(ys[i]) || math.IsInf(ys[i], 0) {
			continue
		}
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", sx(xs[i], xmax), sy(math.Min(ys[i], ymax), ymax)))
	}
	fmt.Fprintf(b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`, color, strings.Join(pts, " "))
}

func learningSVG(t *detector.TrainingInfo) template.HTML {
	if t == nil || len(t.History) < 2 {
		return template.HTML(`<p>No learning curve: the model is fitted in a single pass.</p>`)
	}
	var xs, tr, va []float64
	ymax := 0.0
	for _, h := range t.History {
		xs = append(xs, float64(h.Epoch))
		tr = append(tr, h.TrainLoss)
		va = append(va, h.ValidLoss)
		ymax = math.Max(ymax, math.Max(h.TrainLoss, h.ValidLoss))
	}
	if ymax <= 0 {
		ymax = 1
	}
	var b strings.Builder
	axes(&b, "epoch", "loss", ymax)
	xmax := xs[len(xs)-1]
	polyline(&b, xs, tr, xmax, ymax, "#1f77b4")
	polyline(&b, xs, va, xmax, ymax, "#d62728")
	fmt.Fprintf(&b, `<text x="%g" y="24" fill="#1f77b4">train loss</text><text x="%g" y="38" fill="#d62728">validation loss</text></svg>`, plotW-110, plotW-110)
	return template.HTML(b.String())
}

func rocSVG(m detector.Metrics) template.HTML {
	if len(m.ROC) == 0 {
		return template.HTML(`<p>No ROC curve: the data holds one class only.</p>`)
	}
	var b strings.Builder
	axes(&b, "false-positive rate", "true-positive rate", 1)
	fmt.Fprintf(&b, `<line x1="%g" y1="%g" x2="%g" y2="%g" stroke="#bbb" stroke-dasharray="4"/>`, sx(0, 1), sy(0, 1), sx(1, 1), sy(1, 1))
	var xs, ys []float64
	for _, p := range m.ROC {
		xs = append(xs, p.FPR)
		ys = append(ys, p.TPR)
	}
	polyline(&b, xs, ys, 1, 1, "#2ca02c")
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func confusionSVG(m detector.Metrics) template.HTML {
	rows, cols := len(m.ConfusionRows), len(m.ConfusionCols)
	if rows == 0 {
		return ""
	}
	const cell, left, top = 44.0, 110.0, 90.0
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%g" height="%g" font-size="11">`, left+cell*float64(cols)+10, top+cell*float64(rows)+10)
	for j, c := range m.ConfusionCols {
		x := left + cell*float64(j) + cell/2
		fmt.Fprintf(&b, `<text x="%g" y="%g" transform="rotate(-45 %g %g)">%s</text>`, x, top-6, x, top-6, template.HTMLEscapeString(c))
	}
	for i, r := range m.ConfusionRows {
		total := 0
		for _, v := range m.Confusion[i] {
			total += v
		}
		y := top + cell*float64(i)
		fmt.Fprintf(&b, `<text x="%g" y="%g" text-anchor="end">%s</text>`, left-6, y+cell/2+4, template.HTMLEscapeString(r))
		for j, v := range m.Confusion[i] {
			frac := 0.0
			if total > 0 {
				frac = float64(v) / float64(total)
			}
			shade := int(255 - 200*frac)
			text := "#000"
			if frac > 0.6 {
				text = "#fff"
			}
			x := left + cell*float64(j)
			fmt.Fprintf(&b, `<rect x="%g" y="%g" width="%g" height="%g" fill="rgb(%d,%d,255)" stroke="#fff"/>`, x, y, cell, cell, shade, shade)
			fmt.Fprintf(&b, `<text x="%g" y="%g" text-anchor="middle" fill="%s">%d</text>`, x+cell/2, y+cell/2+4, text, v)
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
