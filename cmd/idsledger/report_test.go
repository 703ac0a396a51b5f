package main

import (
	"bytes"
	"encoding/xml"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/idsledger/idsledger/detector"
)

// trainSample trains a model of kind on the nf-bot-iot-v2 sample, holding
// out 30% whose figures come back in the result.
func trainSample(t *testing.T, kind string, cfg detector.TrainConfig) *detector.TrainResult {
	t.Helper()
	flows, _, err := detector.LoadFiles("nf-bot-iot-v2", []string{detectorSampleCSV}, detector.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Seed = 5
	res, err := detector.Train(flows, detector.TrainOptions{Dataset: "nf-bot-iot-v2", Files: []string{detectorSampleCSV},
		Model: kind, TestFraction: 0.3, Seed: 5, Train: cfg})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// svgFigure is what a test reads of one SVG of the report.
type svgFigure struct {
	class          string   // "plot learning", "plot roc", "confusion", ...
	xticks, yticks []string // the tick labels of each axis
	operatingPoint bool
}

// reportSVGs parses every inline SVG of a report page.
func reportSVGs(t *testing.T, page string) []svgFigure {
	t.Helper()
	var out []svgFigure
	for rest := page; ; {
		i := strings.Index(rest, "<svg")
		if i < 0 {
			return out
		}
		j := strings.Index(rest[i:], "</svg>")
		if j < 0 {
			t.Fatal("an <svg> without its end")
		}
		out = append(out, parseSVG(t, rest[i:i+j+len("</svg>")]))
		rest = rest[i+j:]
	}
}

func parseSVG(t *testing.T, src string) svgFigure {
	t.Helper()
	var f svgFigure
	dec := xml.NewDecoder(strings.NewReader(src))
	var class string // of the open <text>
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return f
		}
		if err != nil {
			t.Fatalf("svg is not well-formed XML: %v\n%s", err, src)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			var c string
			for _, a := range el.Attr {
				if a.Name.Local == "class" {
					c = a.Value
				}
			}
			switch el.Name.Local {
			case "svg":
				f.class = c
			case "text":
				class = c
			case "circle":
				f.operatingPoint = f.operatingPoint || c == "operating-point"
			}
		case xml.CharData:
			switch class {
			case "xtick":
				f.xticks = append(f.xticks, string(el))
			case "ytick":
				f.yticks = append(f.yticks, string(el))
			}
		case xml.EndElement:
			class = ""
		}
	}
}

// checkReport asserts what a reader of the report must find: tick labels
// on both axes of every plot, the operating point on the ROC curve, and a
// confusion matrix of the task's columns; it returns the page's SVGs.
func checkReport(t *testing.T, page string, m detector.Metrics) []svgFigure {
	t.Helper()
	svgs := reportSVGs(t, page)
	var classes []string
	for _, s := range svgs {
		classes = append(classes, s.class)
		switch {
		case strings.HasPrefix(s.class, "plot "):
			if len(s.xticks) < 3 || len(s.yticks) < 3 {
				t.Errorf("%s: %d x and %d y tick labels, want 3 or more on each axis", s.class, len(s.xticks), len(s.yticks))
			}
		case s.class == "confusion":
			if !slices.Equal(s.xticks, m.ConfusionCols) || !slices.Equal(s.yticks, m.ConfusionRows) {
				t.Errorf("confusion labels: columns %q, rows %q; want %q, %q", s.xticks, s.yticks, m.ConfusionCols, m.ConfusionRows)
			}
		}
		if strings.HasPrefix(s.class, "plot roc") && !s.operatingPoint {
			t.Errorf("%s: no operating point on the ROC curve", s.class)
		}
	}
	if !slices.Contains(classes, "plot roc") || !slices.Contains(classes, "confusion") {
		t.Errorf("plots %q: want a ROC curve and a confusion matrix", classes)
	}
	if m.Task == "anomaly" && !slices.Equal(m.ConfusionCols, []string{"Benign", "Anomaly"}) {
		t.Errorf("anomaly confusion columns %q, want Benign and Anomaly", m.ConfusionCols)
	}
	for _, bad := range []string{"NaN", "Inf", "%!"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page shows %q", bad)
		}
	}
	return svgs
}

func TestHTMLReport(t *testing.T) {
	for _, c := range []struct {
		kind  string
		cfg   detector.TrainConfig
		plots []string
	}{
		// One-pass models have no learning curve; the ROC curve is zoomed
		// on where the operating point is, at a low false-positive rate.
		{"cblof", detector.TrainConfig{TargetFPR: 0.05}, []string{"plot roc", "plot roc-zoom", "confusion"}},
		{"bilstm", detector.TrainConfig{Epochs: 4}, []string{"plot learning", "plot validation", "plot roc", "plot roc-zoom", "confusion"}},
		{"autoencoder", detector.TrainConfig{Epochs: 6}, []string{"plot learning", "plot validation", "plot roc", "plot roc-zoom", "confusion"}},
	} {
		t.Run(c.kind, func(t *testing.T) {
			res := trainSample(t, c.kind, c.cfg)
			var b bytes.Buffer
			err := writeHTMLReport(&b, reportInput{Title: "t", ModelID: res.Detector.ID(), Meta: res.Detector.Meta, Metrics: *res.Test})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range checkReport(t, b.String(), *res.Test) {
				got = append(got, s.class)
			}
			if !slices.Equal(got, c.plots) {
				t.Errorf("plots %q, want %q", got, c.plots)
			}
		})
	}
}

func TestNiceAxis(t *testing.T) {
	for _, c := range []struct {
		lo, hi  float64
		integer bool
		want    []string
	}{
		{0, 1, false, []string{"0.00", "0.25", "0.50", "0.75", "1.00"}},
		{0, 1.63, false, []string{"0.0", "0.5", "1.0", "1.5", "2.0"}},
		{1, 30, true, []string{"0", "10", "20", "30"}},
		{1, 3, true, []string{"1", "2", "3"}},
		{0, 26.2, false, []string{"0", "10", "20", "30"}},
		{0, 0, false, []string{"0.00", "0.25", "0.50", "0.75", "1.00"}},
	} {
		n := 4
		if c.integer {
			n = 5
		}
		a := niceAxis("", c.lo, c.hi, n, c.integer)
		var got []string
		for _, v := range a.ticks {
			got = append(got, a.format(v))
		}
		if !slices.Equal(got, c.want) || a.lo > c.lo || a.hi < c.hi {
			t.Errorf("niceAxis(%v, %v): ticks %q over [%v, %v], want %q covering the data", c.lo, c.hi, got, a.lo, a.hi, c.want)
		}
	}
}
