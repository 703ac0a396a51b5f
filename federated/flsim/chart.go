package flsim

import (
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
)

// The report's line charts: inline SVG in the style of detector's report
// (same size, font and colours), with ticks labelled on both axes and a
// viewBox, so a chart shrinks with a narrow window instead of being cut.
// The legend is HTML under the chart and wraps as the window narrows.

// palette is matplotlib's tab10, as detector's report uses.
var palette = []string{"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"}

type series struct {
	name  string
	color string
	x, y  []float64 // NaN y values leave a gap
	dash  bool
}

type lineChart struct {
	xlabel, ylabel string
	series         []series
	// ymin, ymax fix the y range when fixedY; otherwise it fits the data
	// (from 0 when all values are >= 0).
	ymin, ymax float64
	fixedY     bool
	// intX labels x ticks as integers (rounds).
	intX bool
}

const (
	chartW, chartH                     = 480.0, 300.0
	padL, padR, padT, padB             = 62.0, 16.0, 12.0, 46.0
	plotLeft, plotTop                  = padL, padT
	plotWidth, plotHeight              = chartW - padL - padR, chartH - padT - padB
	maxMarkers                         = 40
	tickCount                          = 6
	axisColor, gridColor, legendSwatch = "#888", "#e5e5e5", 14
)

// render draws the chart and its legend.
func (c lineChart) render() template.HTML {
	xmin, xmax := math.Inf(1), math.Inf(-1)
	ymin, ymax := math.Inf(1), math.Inf(-1)
	points := 0
	for _, s := range c.series {
		for i := range s.x {
			if math.IsNaN(s.y[i]) || math.IsInf(s.y[i], 0) {
				continue
			}
			xmin, xmax = math.Min(xmin, s.x[i]), math.Max(xmax, s.x[i])
			ymin, ymax = math.Min(ymin, s.y[i]), math.Max(ymax, s.y[i])
			points++
		}
	}
	if points == 0 {
		return template.HTML(`<p class="empty">No data.</p>`)
	}
	if c.fixedY {
		ymin, ymax = c.ymin, c.ymax
	} else if ymin >= 0 {
		ymin = 0
	}
	if ymax <= ymin {
		ymax = ymin + 1
	}
	if xmax <= xmin {
		xmin, xmax = xmin-1, xmax+1
	}
	xt := niceTicks(xmin, xmax, tickCount, c.intX)
	yt := niceTicks(ymin, ymax, tickCount, false)
	if !c.fixedY {
		ymin, ymax = math.Min(ymin, yt[0]), math.Max(ymax, yt[len(yt)-1])
	}
	sx := func(x float64) float64 { return plotLeft + plotWidth*(x-xmin)/(xmax-xmin) }
	sy := func(y float64) float64 { return plotTop + plotHeight*(1-(y-ymin)/(ymax-ymin)) }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %g %g" font-size="13" role="img">`, chartW, chartH)
	for _, y := range yt {
		if y < ymin || y > ymax {
			continue
		}
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"/>`, plotLeft, sy(y), plotLeft+plotWidth, sy(y), gridColor)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end">%s</text>`, plotLeft-4, sy(y)+4, tickLabel(y, yt))
	}
	for _, x := range xt {
		if x < xmin || x > xmax {
			continue
		}
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"/>`, sx(x), plotTop+plotHeight, sx(x), plotTop+plotHeight+4, axisColor)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, sx(x), plotTop+plotHeight+18, tickLabel(x, xt))
	}
	fmt.Fprintf(&b, `<rect x="%g" y="%g" width="%g" height="%g" fill="none" stroke="%s"/>`, plotLeft, plotTop, plotWidth, plotHeight, axisColor)
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, plotLeft+plotWidth/2, chartH-6, template.HTMLEscapeString(c.xlabel))
	fmt.Fprintf(&b, `<text x="16" y="%.1f" transform="rotate(-90 16 %.1f)" text-anchor="middle">%s</text>`, plotTop+plotHeight/2, plotTop+plotHeight/2, template.HTMLEscapeString(c.ylabel))
	for _, s := range c.series {
		dash := ""
		if s.dash {
			dash = ` stroke-dasharray="6 4"`
		}
		// One polyline per run of finite values, so a gap stays a gap.
		var run []string
		flush := func() {
			if len(run) > 1 {
				fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2"%s points="%s"/>`, s.color, dash, strings.Join(run, " "))
			}
			run = run[:0]
		}
		for i := range s.x {
			y := s.y[i]
			if math.IsNaN(y) || math.IsInf(y, 0) {
				flush()
				continue
			}
			y = math.Min(math.Max(y, ymin), ymax)
			run = append(run, fmt.Sprintf("%.1f,%.1f", sx(s.x[i]), sy(y)))
			if len(s.x) <= maxMarkers {
				fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="2.5" fill="%s"><title>%s: %s</title></circle>`,
					sx(s.x[i]), sy(y), s.color, template.HTMLEscapeString(s.name), strconv.FormatFloat(s.y[i], 'g', 4, 64))
			}
		}
		flush()
	}
	b.WriteString(`</svg><ul class="legend">`)
	for _, s := range c.series {
		style := "background:" + s.color
		if s.dash {
			style = "background:repeating-linear-gradient(90deg," + s.color + " 0 5px,transparent 5px 8px)"
		}
		fmt.Fprintf(&b, `<li><span style="%s"></span>%s</li>`, style, template.HTMLEscapeString(s.name))
	}
	b.WriteString(`</ul>`)
	return template.HTML(b.String())
}

// niceTicks returns about n evenly spaced round values (steps of 1, 2 or 5
// times a power of ten) covering [lo, hi]; integer steps only when intOnly.
func niceTicks(lo, hi float64, n int, intOnly bool) []float64 {
	span := hi - lo
	raw := span / float64(max(n-1, 1))
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	if intOnly {
		step = math.Max(1, math.Round(step))
	}
	first := math.Floor(lo/step) * step
	var out []float64
	for v := first; v <= hi+step*1e-9; v += step {
		out = append(out, math.Round(v/step)*step)
	}
	if len(out) == 0 {
		out = append(out, first)
	}
	if out[len(out)-1] < hi {
		out = append(out, out[len(out)-1]+step)
	}
	return out
}

// tickLabel prints v with as many decimals as the tick step needs.
func tickLabel(v float64, ticks []float64) string {
	step := 1.0
	if len(ticks) > 1 {
		step = ticks[1] - ticks[0]
	}
	dec := 0
	if step < 1 {
		dec = int(math.Ceil(-math.Log10(step) - 1e-9))
	}
	if math.Abs(v) >= 1e5 || (v != 0 && math.Abs(v) < 1e-4) {
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
	return strconv.FormatFloat(v, 'f', dec, 64)
}
