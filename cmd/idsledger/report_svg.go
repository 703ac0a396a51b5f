package main

import (
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"

	"github.com/idsledger/idsledger/detector"
)

// The report's plots are inline SVG drawn here: a frame with tick labels on
// both axes (class "xtick" and "ytick", which the browser test counts), the
// series, and a legend below the frame rather than over the data. Every
// SVG has a viewBox, so CSS (max-width:100%) scales it down in a narrow
// window.

// Plot geometry in SVG units (pixels at scale 1).
const (
	plotWidth  = 390.0
	plotLeft   = 56.0  // room for the y tick labels and the y-axis title
	plotRight  = 16.0  // room for the last x tick label
	plotTop    = 10.0  // room for the top y tick label
	plotAreaH  = 220.0 // height of the frame
	plotBelow  = 42.0  // x tick labels and the x-axis title
	legendLine = 16.0
	charWidth  = 6.4 // the mean width of a character at font-size 11
)

// axis is one axis of a plot: its range [lo, hi] and where its ticks are.
type axis struct {
	title  string
	lo, hi float64
	ticks  []float64
	format func(float64) string
}

// niceAxis returns an axis over at least [lo, hi] with about n ticks at
// round steps (1, 2, 2.5 or 5 times a power of ten; whole numbers when
// integer is set), the range widened to the ticks around it.
func niceAxis(title string, lo, hi float64, n int, integer bool) axis {
	if !(hi > lo) {
		hi = lo + 1
	}
	raw := (hi - lo) / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	mults := []float64{1, 2, 2.5, 5, 10}
	if integer {
		mults = []float64{1, 2, 5, 10}
	}
	step := 10 * mag
	for _, m := range mults {
		if m*mag >= raw*(1-1e-9) {
			step = m * mag
			break
		}
	}
	if integer {
		step = math.Max(1, math.Round(step))
	}
	first, last := math.Floor(lo/step+1e-9), math.Ceil(hi/step-1e-9)
	a := axis{title: title, lo: first * step, hi: last * step}
	for k := first; k <= last; k++ {
		a.ticks = append(a.ticks, k*step)
	}
	dec := 0
	for dec < 6 && math.Abs(step*math.Pow(10, float64(dec))-math.Round(step*math.Pow(10, float64(dec)))) > 1e-6 {
		dec++
	}
	a.format = func(v float64) string { return strconv.FormatFloat(v, 'f', dec, 64) }
	return a
}

// unitAxis is [0, 1] with ticks every quarter.
func unitAxis(title string) axis { return niceAxis(title, 0, 1, 4, false) }

// frame is the mapping of data to SVG coordinates in a plot.
type frame struct{ x, y axis }

func (f frame) px(v float64) float64 {
	return plotLeft + (plotWidth-plotLeft-plotRight)*(v-f.x.lo)/(f.x.hi-f.x.lo)
}

func (f frame) py(v float64) float64 {
	v = math.Max(f.y.lo, math.Min(f.y.hi, v))
	return plotTop + plotAreaH*(1-(v-f.y.lo)/(f.y.hi-f.y.lo))
}

// legendEntry is one line of a plot's legend: a line (dashed or not) or a
// dot in color, then text.
type legendEntry struct {
	color string
	style string // "line", "dash" or "dot"
	text  string
}

// polyline draws the points (xs[i], ys[i]), skipping those that are not
// finite and those that would land on the same tenth of a pixel as the
// point before (a curve of a million rows stays a small drawing).
func (f frame) polyline(b *strings.Builder, xs, ys []float64, color, dash string) {
	var pts []string
	last := ""
	for i := range xs {
		if math.IsNaN(ys[i]) || math.IsInf(ys[i], 0) {
			continue
		}
		if p := fmt.Sprintf("%.1f,%.1f", f.px(xs[i]), f.py(ys[i])); p != last {
			pts, last = append(pts, p), p
		}
	}
	if len(pts) == 0 {
		return
	}
	if dash != "" {
		dash = fmt.Sprintf(` stroke-dasharray="%s"`, dash)
	}
	fmt.Fprintf(b, `<polyline fill="none" stroke="%s" stroke-width="2"%s points="%s"/>`, color, dash, strings.Join(pts, " "))
}

// svg wraps body, drawn in f's coordinates, in a figure with the frame,
// grid, tick labels, axis titles and the legend below.
func (f frame) svg(caption, class, body string, legend []legendEntry) template.HTML {
	areaW := plotWidth - plotLeft - plotRight
	var lines [][]string // each entry's text, wrapped to the plot's width
	nlines := 0
	for _, e := range legend {
		l := wrapText(e.text, int(math.Floor((plotWidth-plotLeft-26-4)/charWidth)))
		lines = append(lines, l)
		nlines += len(l)
	}
	height := plotTop + plotAreaH + plotBelow + legendLine*float64(nlines) + 4
	var b strings.Builder
	fmt.Fprintf(&b, `<figure><figcaption>%s</figcaption>`, template.HTMLEscapeString(caption))
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="plot %s" viewBox="0 0 %g %g" width="%g" height="%g" font-size="11" role="img" aria-label="%s">`,
		class, plotWidth, height, plotWidth, height, template.HTMLEscapeString(caption))
	for _, v := range f.y.ticks {
		fmt.Fprintf(&b, `<line x1="%g" x2="%g" y1="%.1f" y2="%.1f" stroke="#eee"/>`, plotLeft, plotLeft+areaW, f.py(v), f.py(v))
	}
	for _, v := range f.x.ticks {
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%g" y2="%g" stroke="#eee"/>`, f.px(v), f.px(v), plotTop, plotTop+plotAreaH)
	}
	b.WriteString(body)
	fmt.Fprintf(&b, `<rect x="%g" y="%g" width="%g" height="%g" fill="none" stroke="#888"/>`, plotLeft, plotTop, areaW, plotAreaH)
	for _, v := range f.y.ticks {
		fmt.Fprintf(&b, `<text class="ytick" x="%g" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`, plotLeft-4, f.py(v), f.y.format(v))
	}
	for _, v := range f.x.ticks {
		fmt.Fprintf(&b, `<text class="xtick" x="%.1f" y="%g" text-anchor="middle">%s</text>`, f.px(v), plotTop+plotAreaH+14, f.x.format(v))
	}
	fmt.Fprintf(&b, `<text class="xtitle" x="%g" y="%g" text-anchor="middle">%s</text>`, plotLeft+areaW/2, plotTop+plotAreaH+32, template.HTMLEscapeString(f.x.title))
	cy := plotTop + plotAreaH/2
	fmt.Fprintf(&b, `<text class="ytitle" x="12" y="%g" transform="rotate(-90 12 %g)" text-anchor="middle">%s</text>`, cy, cy, template.HTMLEscapeString(f.y.title))
	line := 0
	for i, e := range legend {
		y := plotTop + plotAreaH + plotBelow + legendLine*float64(line) + 8
		switch e.style {
		case "dot":
			fmt.Fprintf(&b, `<circle cx="%g" cy="%g" r="4" fill="%s" stroke="#fff"/>`, plotLeft+10, y, e.color)
		default:
			dash := ""
			if e.style == "dash" {
				dash = ` stroke-dasharray="4 3"`
			}
			fmt.Fprintf(&b, `<line x1="%g" x2="%g" y1="%g" y2="%g" stroke="%s" stroke-width="2"%s/>`, plotLeft, plotLeft+20, y, y, e.color, dash)
		}
		for _, text := range lines[i] {
			y := plotTop + plotAreaH + plotBelow + legendLine*float64(line) + 8
			fmt.Fprintf(&b, `<text class="legend" x="%g" y="%g" dominant-baseline="middle">%s</text>`, plotLeft+26, y, template.HTMLEscapeString(text))
			line++
		}
	}
	b.WriteString(`</svg></figure>`)
	return template.HTML(b.String())
}

// wrapText breaks s at spaces into lines of at most width characters (a
// longer word stays whole on its own line).
func wrapText(s string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(s) {
		switch {
		case line == "":
			line = w
		case len([]rune(line))+1+len([]rune(w)) <= width:
			line += " " + w
		default:
			lines = append(lines, line)
			line = w
		}
	}
	return append(lines, line)
}

const (
	blue   = "#1f77b4"
	red    = "#d62728"
	green  = "#2ca02c"
	orange = "#ff7f0e"
	purple = "#9467bd"
	grey   = "#999"
)

// learningSVGs draws the training history: the loss of each epoch, on the
// training rows and on the validation rows, with the epoch whose weights
// early stopping kept; then the validation figures of each epoch (see
// detector.EpochStats), which differ by task.
func learningSVGs(t *detector.TrainingInfo, task string) []template.HTML {
	if t == nil || len(t.History) < 2 {
		return []template.HTML{`<figure><figcaption>Learning curve</figcaption><p>None: the model is fitted in one pass.</p></figure>`}
	}
	h := t.History
	if h[0].Task != "" {
		task = h[0].Task
	}
	anomaly := task == "anomaly"
	xs := make([]float64, len(h))
	var train, valid []float64
	hasValid := false
	for i, s := range h {
		xs[i] = float64(s.Epoch)
		train = append(train, s.TrainLoss)
		valid = append(valid, s.ValidLoss)
		hasValid = hasValid || s.ValidLoss != 0
	}
	ymax := 0.0
	for i := range train {
		for _, v := range []float64{train[i], valid[i]} {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				ymax = math.Max(ymax, v)
			}
		}
	}
	epochs := niceAxis("epoch", 1, xs[len(xs)-1], 5, true)
	caption, trainName, validName := "Learning curve: loss by epoch", "training loss (class-weighted cross-entropy)", "validation loss"
	if anomaly {
		caption = "Learning curve: reconstruction error by epoch"
		trainName, validName = "training benign rows", "validation benign rows"
	}
	f := frame{x: epochs, y: niceAxis("loss", 0, ymax, 4, false)}
	if anomaly {
		f.y.title = "reconstruction error (MSE)"
	}
	var b strings.Builder
	legend := []legendEntry{{blue, "line", trainName}}
	f.polyline(&b, xs, train, blue, "")
	if hasValid {
		f.polyline(&b, xs, valid, red, "")
		legend = append(legend, legendEntry{red, "line", validName})
		if t.Config.Patience > 0 {
			best := 0
			for i, v := range valid {
				if v < valid[best] {
					best = i
				}
			}
			x := f.px(xs[best])
			fmt.Fprintf(&b, `<line class="best-epoch" x1="%.1f" x2="%.1f" y1="%g" y2="%g" stroke="%s" stroke-dasharray="4 3"/>`, x, x, plotTop, plotTop+plotAreaH, grey)
			legend = append(legend, legendEntry{grey, "dash", fmt.Sprintf("epoch %d, lowest validation loss: the weights kept", h[best].Epoch)})
		}
	}
	plots := []template.HTML{f.svg(caption, "learning", b.String(), legend)}

	type line struct {
		name, color string
		get         func(detector.EpochStats) float64
	}
	lines := []line{
		{"accuracy", green, func(s detector.EpochStats) float64 { return s.ValidAcc }},
		{"macro-F1", purple, func(s detector.EpochStats) float64 { return s.ValidF1 }},
		{"benign false-positive rate", orange, func(s detector.EpochStats) float64 { return float64(s.ValidFPR) }},
	}
	if anomaly {
		lines = []line{
			{"attacks detected at the epoch's threshold", green, func(s detector.EpochStats) float64 { return float64(s.ValidDetection) }},
			{"ROC-AUC", purple, func(s detector.EpochStats) float64 { return float64(s.ValidAUC) }},
			{"benign false-positive rate at that threshold", orange, func(s detector.EpochStats) float64 { return float64(s.ValidFPR) }},
		}
	}
	if !hasValid {
		return plots
	}
	f = frame{x: epochs, y: unitAxis("on the validation rows")}
	b.Reset()
	legend = nil
	for _, l := range lines {
		ys := make([]float64, len(h))
		seen := false
		for i, s := range h {
			ys[i] = l.get(s)
			seen = seen || !math.IsNaN(ys[i])
		}
		if !seen {
			continue // NaN: e.g. no attacks among an autoencoder's validation rows
		}
		f.polyline(&b, xs, ys, l.color, "")
		legend = append(legend, legendEntry{l.color, "line", l.name})
	}
	return append(plots, f.svg("Validation figures by epoch", "validation", b.String(), legend))
}

// rocSVGs draws the ROC curve (benign vs attack, by score) and the model's
// operating point: the false- and true-positive rates of its alerts. When
// that point is in the low false-positive corner, where a detector must
// work and where a good model's curve hugs the frame, a second plot zooms
// in on it.
//
// roc is the curve to draw, m.ROC (a sample) when nil.
func rocSVGs(m detector.Metrics, roc []detector.ROCPoint, threshold float64) []template.HTML {
	caption := fmt.Sprintf("ROC curve, benign vs attack (AUC %s)", fmtFloat(m.ROCAUC))
	if roc == nil {
		roc = m.ROC
	}
	if len(roc) == 0 {
		return []template.HTML{template.HTML(fmt.Sprintf(`<figure><figcaption>%s</figcaption><p>None: the rows hold one side only.</p></figure>`, template.HTMLEscapeString(caption)))}
	}
	xs, ys := make([]float64, len(roc)), make([]float64, len(roc))
	for i, p := range roc {
		xs[i], ys[i] = p.FPR, p.TPR
	}
	xTitle, yTitle := "false-positive rate (benign flows alerted)", "true-positive rate (attacks alerted)"
	plots := []template.HTML{rocSVG(caption, "roc", frame{x: unitAxis(xTitle), y: unitAxis(yTitle)}, m, threshold, xs, ys)}
	fpr, tpr := float64(m.BenignFPR), float64(m.BinaryRecall)
	if math.IsNaN(fpr) || math.IsNaN(tpr) || fpr > 0.2 {
		return plots
	}
	// Zoom: false-positive rates up to about twice the operating point's,
	// true-positive rates from the lowest the curve takes there.
	fx := niceAxis(xTitle, 0, math.Max(2*fpr, 0.02), 4, false)
	xmax := fx.hi
	var zx, zy []float64
	ylo := tpr
	for i := range xs {
		if xs[i] > xmax {
			// Cut the segment that leaves the range at its edge.
			t := (xmax - xs[i-1]) / (xs[i] - xs[i-1])
			zx, zy = append(zx, xmax), append(zy, ys[i-1]+t*(ys[i]-ys[i-1]))
			break
		}
		zx, zy = append(zx, xs[i]), append(zy, ys[i])
		if xs[i] > 0 {
			ylo = math.Min(ylo, ys[i])
		}
	}
	f := frame{x: fx, y: niceAxis(yTitle, ylo, 1, 4, false)}
	caption = "ROC curve, zoomed on false-positive rates up to " + fx.format(xmax)
	return append(plots, rocSVG(caption, "roc-zoom", f, m, threshold, zx, zy))
}

// rocSVG draws one ROC plot in f: the curve through (xs, ys), chance, and
// the operating point.
func rocSVG(caption, class string, f frame, m detector.Metrics, threshold float64, xs, ys []float64) template.HTML {
	var b strings.Builder
	legend := []legendEntry{{green, "line", "ROC curve: every threshold"}}
	if lo, hi := math.Max(f.x.lo, f.y.lo), math.Min(f.x.hi, f.y.hi); lo < hi { // the diagonal crosses the frame
		f.polyline(&b, []float64{lo, hi}, []float64{lo, hi}, "#bbb", "4 3")
		legend = append(legend, legendEntry{"#bbb", "dash", "chance"})
	}
	f.polyline(&b, xs, ys, green, "")
	if fpr, tpr := float64(m.BenignFPR), float64(m.BinaryRecall); !math.IsNaN(fpr) && !math.IsNaN(tpr) {
		fmt.Fprintf(&b, `<circle class="operating-point" cx="%.1f" cy="%.1f" r="5" fill="%s" stroke="#fff" stroke-width="1.5"/>`, f.px(fpr), f.py(tpr), red)
		at := "its alerts"
		if m.Task == "anomaly" {
			at = "threshold " + strconv.FormatFloat(threshold, 'g', 4, 64)
		}
		legend = append(legend, legendEntry{red, "dot", fmt.Sprintf("operating point (%s): FPR %.3f, TPR %.3f", at, fpr, tpr)})
	}
	return f.svg(caption, class, b.String(), legend)
}

// confusionSVG draws the confusion matrix, each cell shaded by its share
// of the row (the true class).
func confusionSVG(m detector.Metrics) template.HTML {
	rows, cols := len(m.ConfusionRows), len(m.ConfusionCols)
	if rows == 0 || cols == 0 {
		return ""
	}
	longest := func(names []string) float64 {
		n := 0
		for _, s := range names {
			n = max(n, len([]rune(s)))
		}
		return float64(n) * charWidth
	}
	rowW, colW := longest(m.ConfusionRows), longest(m.ConfusionCols)
	cellW, cellH := 46.0, 30.0
	rotate := colW > cellW-6
	if cols <= 3 {
		cellW, rotate = math.Max(70, colW+12), false
	}
	left := 22 + rowW + 8 // the rotated "true class" title, then the row labels
	top := 34.0           // the "predicted" title, then horizontal column labels
	right := 10.0
	const sin, cos = 0.643, 0.766 // of the 40° the column labels are turned by
	if rotate {
		top = 24 + colW*sin + 8
		right = math.Max(right, colW*cos-cellW/2+4)
	}
	width, height := left+cellW*float64(cols)+right, top+cellH*float64(rows)+8
	var b strings.Builder
	caption := "Confusion matrix: rows the true class, columns the prediction"
	if m.Task == "anomaly" {
		caption = "Confusion matrix: rows the true class, columns what the model said"
	}
	fmt.Fprintf(&b, `<figure><figcaption>%s</figcaption>`, caption)
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="confusion" viewBox="0 0 %g %g" width="%g" height="%g" font-size="11" role="img" aria-label="%s">`,
		width, height, width, height, caption)
	fmt.Fprintf(&b, `<text class="xtitle" x="%g" y="12" text-anchor="middle" font-weight="600">predicted</text>`, left+cellW*float64(cols)/2)
	cy := top + cellH*float64(rows)/2
	fmt.Fprintf(&b, `<text class="ytitle" x="12" y="%g" transform="rotate(-90 12 %g)" text-anchor="middle" font-weight="600">true class</text>`, cy, cy)
	for j, c := range m.ConfusionCols {
		x := left + cellW*float64(j) + cellW/2
		if rotate {
			fmt.Fprintf(&b, `<text class="xtick" x="%g" y="%g" transform="rotate(-40 %g %g)">%s</text>`, x-4, top-6, x-4, top-6, template.HTMLEscapeString(c))
		} else {
			fmt.Fprintf(&b, `<text class="xtick" x="%g" y="%g" text-anchor="middle">%s</text>`, x, top-8, template.HTMLEscapeString(c))
		}
	}
	for i, r := range m.ConfusionRows {
		total := 0
		for _, v := range m.Confusion[i] {
			total += v
		}
		y := top + cellH*float64(i)
		fmt.Fprintf(&b, `<text class="ytick" x="%g" y="%g" text-anchor="end" dominant-baseline="middle">%s</text>`, left-6, y+cellH/2, template.HTMLEscapeString(r))
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
			x := left + cellW*float64(j)
			fmt.Fprintf(&b, `<rect x="%g" y="%g" width="%g" height="%g" fill="rgb(%d,%d,255)" stroke="#fff"/>`, x, y, cellW, cellH, shade, shade)
			fmt.Fprintf(&b, `<text x="%g" y="%g" text-anchor="middle" dominant-baseline="middle" fill="%s">%d</text>`, x+cellW/2, y+cellH/2, text, v)
		}
	}
	b.WriteString(`</svg></figure>`)
	return template.HTML(b.String())
}
