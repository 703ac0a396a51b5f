package detector

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
)

// csvFlows parses an in-memory generic CSV with label column "label".
func csvFlows(t testing.TB, data string) []*Flow {
	t.Helper()
	r, err := NewReader("csv", strings.NewReader(data), "mem.csv", LoadOptions{LabelColumn: "label", Identifiers: []string{"src"}})
	if err != nil {
		t.Fatal(err)
	}
	var out []*Flow
	for {
		f, err := r.Next()
		if err != nil {
			break
		}
		out = append(out, f)
	}
	return out
}

func TestPipelineFitsOnTrainOnly(t *testing.T) {
	data := "src,x,proto,noise,label\n" +
		"a,1,tcp,5,benign\n" +
		"b,2,tcp,5,benign\n" +
		"c,9,udp,5,dos\n" +
		"d,10,udp,5,dos\n" +
		"e,1000,icmp,5,dos\n" + // test-only row: out of range, unseen category
		"f,-50,gre,5,benign\n"
	flows := csvFlows(t, data)
	train := []int{0, 1, 2, 3}
	p, err := FitPipeline("csv", LoadOptions{LabelColumn: "label", Identifiers: []string{"src"}}, flows, train, PipelineConfig{CorrThreshold: 2})
	if err != nil {
		t.Fatal(err)
	}
	names := strings.Join(p.FeatureNames(), ",")
	if strings.Contains(names, "src") || strings.Contains(names, "label") || strings.Contains(names, "noise") {
		t.Fatalf("features %s: identifiers, labels and constants must not be features", names)
	}
	var x Feature
	for _, f := range p.Features {
		if f.Name == "x" {
			x = f
		}
	}
	if x.Min != 1 || x.Max != 10 {
		t.Errorf("x scaled with min %v max %v; the test rows must not move them (want 1, 10)", x.Min, x.Max)
	}
	if got := strings.Join(p.Classes, ","); got != "Benign,dos" {
		t.Errorf("classes %s", got)
	}
	s := p.Transform(flows)
	for i, v := range s.Data {
		if v < 0 || v > 1 || math.IsNaN(float64(v)) {
			t.Fatalf("value %d = %v outside [0,1]", i, v)
		}
	}
	st := p.Stats()
	if st.Clipped < 2 || st.Unknown < 2 {
		t.Errorf("stats %+v: want the out-of-range x values clipped and icmp/gre unknown", st)
	}
}

func TestPipelineUnknownCategoryAndMissing(t *testing.T) {
	flows := csvFlows(t, "src,x,proto,label\na,1,tcp,0\nb,2,udp,1\nc,3,tcp,0\nd,4,udp,1\n")
	p, err := FitPipeline("csv", LoadOptions{LabelColumn: "label", Identifiers: []string{"src"}}, flows, []int{0, 1, 2, 3}, PipelineConfig{MinMI: -1})
	if err != nil {
		t.Fatal(err)
	}
	odd := csvFlows(t, "src,x,proto,label\nz,NaN,sctp,0\nz,,tcp,0\nz,+Inf,udp,1\n")
	s := p.Transform(odd)
	if len(s.Data) != 3*len(p.Features) {
		t.Fatalf("shape %+v", s)
	}
	for _, v := range s.Data {
		if v < 0 || v > 1 {
			t.Fatalf("value %v outside [0,1]", v)
		}
	}
	st := p.Stats()
	if st.Unknown != 1 || st.Missing != 2 || st.Inf != 1 {
		t.Errorf("stats %+v, want 1 unknown, 2 missing, 1 inf", st)
	}
	// A flow lacking a column entirely is imputed, not a crash.
	f, _ := NewFlow("csv", map[string]string{"x": "2"}, LoadOptions{LabelColumn: "label"})
	p.Transform([]*Flow{f})
}

func TestFeatureSelectionPrunesCorrelated(t *testing.T) {
	var b strings.Builder
	b.WriteString("a,a2,c,label\n")
	for i := 0; i < 200; i++ {
		cls := i % 2
		a := float64(cls)*10 + float64(i%7)
		c := float64((i * 37) % 11) // unrelated to the class
		b.WriteString(strings.Join([]string{ftoa(a), ftoa(2*a + 1), ftoa(c), []string{"benign", "attack"}[cls]}, ",") + "\n")
	}
	r, _ := NewReader("csv", strings.NewReader(b.String()), "m.csv", LoadOptions{LabelColumn: "label"})
	var flows []*Flow
	for f, err := r.Next(); err == nil; f, err = r.Next() {
		flows = append(flows, f)
	}
	all := make([]int, len(flows))
	for i := range all {
		all[i] = i
	}
	p, err := FitPipeline("csv", LoadOptions{LabelColumn: "label"}, flows, all, PipelineConfig{MinMI: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(p.FeatureNames(), ","); got != "a" && got != "a2" {
		t.Errorf("selected %s: want one of the correlated pair and not the irrelevant column", got)
	}
}

func ftoa(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func TestStratifiedSplit(t *testing.T) {
	y := make([]int, 0, 1000)
	for c, n := range []int{700, 250, 45, 5} {
		for i := 0; i < n; i++ {
			y = append(y, c)
		}
	}
	tr, te := StratifiedSplit(y, 0.3, 7)
	count := func(idx []int) []int {
		out := make([]int, 4)
		for _, i := range idx {
			out[y[i]]++
		}
		return out
	}
	if got := count(te); got[0] != 210 || got[1] != 75 || got[2] != 14 || got[3] != 2 {
		t.Errorf("test counts %v", got)
	}
	if len(tr)+len(te) != len(y) {
		t.Errorf("split loses rows")
	}
	tr2, te2 := StratifiedSplit(y, 0.3, 7)
	if fmt.Sprint(te) != fmt.Sprint(te2) || len(tr2) != len(tr) {
		t.Error("same seed, different split")
	}
	_, te3 := StratifiedSplit(y, 0.3, 8)
	if fmt.Sprint(te3) == fmt.Sprint(te) {
		t.Error("different seed, same split")
	}
	tr4, te4 := StratifiedSplit(y, 0, 1)
	if len(te4) != 0 || len(tr4) != len(y) {
		t.Error("test fraction 0 must keep everything in train")
	}
}

func TestDedup(t *testing.T) {
	flows := csvFlows(t, "src,x,label\na,1,0\nb,1,0\nc,1,1\nd,2,0\n")
	out, n, err := Dedup("csv", LoadOptions{LabelColumn: "label", Identifiers: []string{"src"}}, flows)
	if err != nil || n != 1 || len(out) != 3 {
		t.Errorf("dedup dropped %d (%v), kept %d; want 1 dropped (same features and class, other src)", n, err, len(out))
	}
}

func TestWindowTransform(t *testing.T) {
	flows := csvFlows(t, "src,x,label\na,1,0\nb,10,1\na,2,0\na,3,0\nb,20,1\n")
	for _, f := range flows {
		f.Key, _ = f.Get("src")
	}
	p, err := FitPipeline("csv", LoadOptions{LabelColumn: "label", Identifiers: []string{"src"}}, flows, []int{0, 1, 2, 3, 4},
		PipelineConfig{Input: InputWindow, Window: 3, MinMI: -1})
	if err != nil {
		t.Fatal(err)
	}
	s := p.Transform(flows)
	if s.N != 5 || s.T != 3 || s.F != 1 {
		t.Fatalf("shape %d %d %d", s.N, s.T, s.F)
	}
	// Flow 3 (a, x=3): window a1, a2, a3. Flow 4 (b, x=20): b10, b10, b20.
	scale := func(x float64) float32 { return float32((x - 1) / 19) }
	want3 := []float32{scale(1), scale(2), scale(3)}
	want4 := []float32{scale(10), scale(10), scale(20)}
	for i := range want3 {
		if s.At(3)[i] != want3[i] || s.At(4)[i] != want4[i] {
			t.Fatalf("windows %v %v, want %v %v", s.At(3), s.At(4), want3, want4)
		}
	}
}
