package detector

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// A numeric category code is one category however it is written: "7",
// "7.0" and "7e0" are the same L7 protocol, at fit time and at transform
// time; non-numeric categories stay strings.
func TestNumericCategoriesMatchAsNumbers(t *testing.T) {
	opt := LoadOptions{LabelColumn: "label", Identifiers: []string{"src"}, Categorical: []string{"app", "proto"}}
	flows := csvFlows(t, "src,app,proto,label\n"+
		"a,7.0,tcp,benign\nb,7,tcp,benign\nc,7.131,udp,dos\nd,5.0,udp,dos\ne,5,tcp,benign\nf,007,udp,dos\n")
	p, err := FitPipeline("csv", opt, flows, []int{0, 1, 2, 3, 4, 5}, PipelineConfig{MinMI: -1, CorrThreshold: 2})
	if err != nil {
		t.Fatal(err)
	}
	var app Feature
	for _, f := range p.Features {
		if f.Name == "app" {
			app = f
		}
	}
	if got := strings.Join(app.Categories, " "); got != "5 7 7.131" {
		t.Fatalf("app categories %q, want \"5 7 7.131\" (one per number)", got)
	}
	rows := csvFlows(t, "src,app,proto,label\n"+
		"x,7,tcp,benign\nx,7.0,tcp,benign\nx,7e0,tcp,benign\nx,7.000,tcp,benign\nx,+7,tcp,benign\nx,0x7,tcp,benign\n")
	s := p.Transform(rows)
	w := s.Width()
	for i := 1; i < s.N; i++ {
		if !reflect.DeepEqual(s.At(0)[:w], s.At(i)[:w]) {
			t.Errorf("app %q scales to %v, app 7 to %v", rows[i].Values[1], s.At(i), s.At(0))
		}
	}
	if st := p.Stats(); st.Unknown != 0 {
		t.Errorf("%d unknown categories, want none", st.Unknown)
	}
	// Strings are compared as they are.
	if got, want := canonicalCategory("tcp"), "tcp"; got != want {
		t.Errorf("canonicalCategory(tcp) = %q", got)
	}
	for in, want := range map[string]string{"7.0": "7", "7e0": "7", "-0": "0", "0.50": "0.5", "1e21": "1e+21", "Inf": "Inf", "": "", "N/A": "N/A"} {
		if got := canonicalCategory(in); got != want {
			t.Errorf("canonicalCategory(%q) = %q, want %q", in, got, want)
		}
	}
}

// rewriteNumbers returns copies of flows whose columns cols hold the same
// numbers written another way ("7.0" as "7", "6" as "6.0").
func rewriteNumbers(flows []*Flow, cols ...string) []*Flow {
	out := make([]*Flow, len(flows))
	for i, f := range flows {
		g := *f
		g.Values = append([]string(nil), f.Values...)
		for _, c := range cols {
			j := f.Header.Index(c)
			x, err := strconv.ParseFloat(g.Values[j], 64)
			if err != nil {
				continue
			}
			if s := strconv.FormatFloat(x, 'g', -1, 64); s != g.Values[j] {
				g.Values[j] = s // "7.0" → "7"
			} else if !strings.Contains(s, ".") {
				g.Values[j] = s + ".0" // "6" → "6.0"
			}
		}
		out[i] = &g
	}
	return out
}

// The default model gives the same verdicts and scores to flows whatever
// way their category codes are written: a JSON client writes L7_PROTO 7.0
// as 7.
func TestDefaultModelNumbersWrittenEitherWay(t *testing.T) {
	d, err := DefaultDetector()
	if err != nil {
		t.Fatal(err)
	}
	flows, _ := loadAll(t, "nf-bot-iot-v2", LoadOptions{}, nfSample)
	other := rewriteNumbers(flows, "L7_PROTO", "PROTOCOL")
	if other[0].Values[other[0].Header.Index("L7_PROTO")] == flows[0].Values[flows[0].Header.Index("L7_PROTO")] {
		t.Fatal("the rewrite changed nothing")
	}
	p1, err := d.Detect(flows)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := d.Detect(other)
	if err != nil {
		t.Fatal(err)
	}
	for i := range p1 {
		if !reflect.DeepEqual(p1[i], p2[i]) {
			t.Fatalf("flow %d: %+v as written, %+v with the codes rewritten", i, p1[i], p2[i])
		}
	}
}

// A model file written before category codes were canonical (L7_PROTO
// categories stored as "7.0") is canonicalized when decoded: it scores
// as it did, and "7" and "7.0" alike.
func TestOldModelCategoriesCanonicalOnDecode(t *testing.T) {
	d, err := DefaultDetector()
	if err != nil {
		t.Fatal(err)
	}
	flows, _ := loadAll(t, "nf-bot-iot-v2", LoadOptions{}, nfSample)
	want, err := d.Detect(flows)
	if err != nil {
		t.Fatal(err)
	}
	// Write the categories as the old fitting stored them: as the
	// training file spelt them, "7.0" for a whole number.
	raw, err := json.Marshal(d.Pipeline)
	if err != nil {
		t.Fatal(err)
	}
	var old Pipeline
	if err := json.Unmarshal(raw, &old); err != nil {
		t.Fatal(err)
	}
	found := false
	for k, f := range old.Features {
		if f.Name != "L7_PROTO" {
			continue
		}
		found = true
		cats := make([]string, len(f.Categories))
		for i, c := range f.Categories {
			if !strings.Contains(c, ".") {
				c += ".0"
			}
			cats[i] = c
		}
		old.Features[k].Categories = cats
	}
	if !found {
		t.Fatal("the default model has no L7_PROTO feature")
	}
	od, err := NewDetector(&old, d.Model, d.Meta.Training)
	if err != nil {
		t.Fatal(err)
	}
	file, err := od.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeDetector(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range back.Pipeline.Features {
		for _, c := range f.Categories {
			if c != canonicalCategory(c) {
				t.Fatalf("%s category %q not canonical after decoding", f.Name, c)
			}
		}
	}
	for _, in := range [][]*Flow{flows, rewriteNumbers(flows, "L7_PROTO", "PROTOCOL")} {
		got, err := back.Detect(in)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatal("the old model file scores differently once decoded")
		}
	}
}
