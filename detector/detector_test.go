package detector

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

const nfSample = "testdata/nf-bot-iot-v2-sample.csv"

func trainSample(t testing.TB, kind string) (*TrainResult, []*Flow) {
	t.Helper()
	flows, _ := loadAll(t, "nf-bot-iot-v2", LoadOptions{}, nfSample)
	res, err := Train(flows, TrainOptions{Dataset: "nf-bot-iot-v2", Files: []string{nfSample}, Model: kind,
		TestFraction: 0.3, Seed: 5, Train: TrainConfig{TargetFPR: 0.05}})
	if err != nil {
		t.Fatal(err)
	}
	return res, flows
}

func TestDetectorSaveLoadRoundTrip(t *testing.T) {
	for _, kind := range classicalKinds {
		t.Run(kind, func(t *testing.T) {
			res, flows := trainSample(t, kind)
			d := res.Detector
			b1, err := d.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "m.idslm")
			id, err := d.WriteFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if id != ModelID(b1) || len(id) != 64 {
				t.Fatalf("id %s, want keccak256 of the file %s", id, ModelID(b1))
			}
			d2, err := LoadDetector(path)
			if err != nil {
				t.Fatal(err)
			}
			if d2.ID() != id {
				t.Errorf("loaded id %s, want %s", d2.ID(), id)
			}
			b2, _ := d2.MarshalBinary()
			if !bytes.Equal(b1, b2) {
				t.Error("re-encoding a loaded model changes its bytes")
			}
			p1, err := d.Detect(flows)
			if err != nil {
				t.Fatal(err)
			}
			p2, _ := d2.Detect(flows)
			if !reflect.DeepEqual(p1, p2) {
				t.Error("loaded model predicts differently")
			}
			if d2.Meta.Training == nil || d2.Meta.Training.Test == nil || d2.Meta.Pipeline.Dataset != "nf-bot-iot-v2" {
				t.Error("metadata lost training info")
			}
			for _, f := range d2.Pipeline.FeatureNames() {
				if strings.Contains(f, "ADDR") || strings.Contains(f, "PORT") {
					t.Errorf("identifier %s used as a feature", f)
				}
			}
		})
	}
}

func TestTrainIsReproducible(t *testing.T) {
	a, _ := trainSample(t, "iforest")
	b, _ := trainSample(t, "iforest")
	if a.Detector.ID() == "" || a.Detector.ID() != b.Detector.ID() {
		t.Errorf("same data and seed, model ids %s and %s", a.Detector.ID(), b.Detector.ID())
	}
}

func TestDecodeRejectsDamage(t *testing.T) {
	res, _ := trainSample(t, "kmeans")
	b, _ := res.Detector.MarshalBinary()
	for name, bad := range map[string][]byte{
		"empty":     nil,
		"magic":     append([]byte("XXXXXXXX"), b[8:]...),
		"truncated": b[:len(b)-3],
		"trailing":  append(append([]byte(nil), b...), 0),
	} {
		if _, err := DecodeDetector(bad); !errors.Is(err, ErrModelFile) {
			t.Errorf("%s: %v, want ErrModelFile", name, err)
		}
	}
}

func TestDetectorConcurrent(t *testing.T) {
	res, flows := trainSample(t, "pca")
	d := res.Detector
	want, _ := d.Detect(flows)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := g; i < len(flows); i += 16 {
				p, err := d.Detect(flows[i : i+1])
				if err != nil || !reflect.DeepEqual(p[0], want[i]) {
					t.Errorf("flow %d: %v %v", i, p, err)
					return
				}
			}
		}(g)
	}
	wg.Wait()
}

func TestDetectorFromAPIFields(t *testing.T) {
	res, flows := trainSample(t, "kmeans")
	d := res.Detector
	f := flows[0]
	fields := map[string]string{}
	for i, n := range f.Header.Names {
		fields[n] = f.Values[i]
	}
	g, err := d.NewFlow(fields)
	if err != nil {
		t.Fatal(err)
	}
	p1, _ := d.Detect([]*Flow{f})
	p2, _ := d.Detect([]*Flow{g})
	if !reflect.DeepEqual(p1, p2) || g.Tuple != f.Tuple {
		t.Errorf("API flow predicts %v, file flow %v", p2, p1)
	}
}

func TestEvaluateMulticlass(t *testing.T) {
	classes := []string{"Benign", "DoS", "Scan"}
	y := []int{0, 0, 0, 0, 1, 1, 1, 2, 2, 2}
	pred := []int{0, 0, 0, 1, 1, 1, 2, 2, 2, 0}
	var preds []Prediction
	for i, c := range pred {
		preds = append(preds, Prediction{Class: c, Alert: c != 0, Score: float64(c) + 0.01*float64(i)})
	}
	m := Evaluate(classes, 0, y, preds)
	if m.Accuracy != 0.7 || m.BinaryAccuracy != 0.8 || m.BenignFPR != 0.25 {
		t.Errorf("acc %v bin %v fpr %v", m.Accuracy, m.BinaryAccuracy, m.BenignFPR)
	}
	dos := m.PerClass["DoS"]
	if dos.Precision != Float(2.0/3) || dos.Recall != Float(2.0/3) || dos.Support != 3 {
		t.Errorf("DoS %+v", dos)
	}
	if _, err := json.Marshal(m); err != nil {
		t.Errorf("metrics do not encode: %v", err)
	}
	if auc := ROCAUC([]float64{0.1, 0.4, 0.35, 0.8}, []bool{false, false, true, true}); auc != 0.75 {
		t.Errorf("auc %v, want 0.75", auc)
	}
	if auc := ROCAUC([]float64{1, 1}, []bool{false, true}); auc != 0.5 {
		t.Errorf("tied auc %v, want 0.5", auc)
	}
}

// TestEvaluateAnomaly: an anomaly model's confusion matrix is true class ×
// {benign, Anomaly}, the only answers it gives, and its per-class recall is
// the detection rate.
func TestEvaluateAnomaly(t *testing.T) {
	classes := []string{"Benign", "DoS", "Scan"}
	y := []int{0, 0, 0, 0, 1, 1, 1, 2, 2, 2}
	alert := []bool{false, false, false, true, true, true, false, true, false, false}
	var preds []Prediction
	for i, a := range alert {
		p := Prediction{Class: 0, Score: float64(i)}
		if a {
			p.Class, p.Alert = ClassAnomaly, true
		}
		preds = append(preds, p)
	}
	m := Evaluate(classes, 0, y, preds)
	want := [][]int{{3, 1}, {1, 2}, {2, 1}}
	if m.Task != "anomaly" || !reflect.DeepEqual(m.ConfusionCols, []string{"Benign", "Anomaly"}) ||
		!reflect.DeepEqual(m.ConfusionRows, classes) || !reflect.DeepEqual(m.Confusion, want) {
		t.Errorf("task %s, confusion %v × %v = %v; want %v", m.Task, m.ConfusionRows, m.ConfusionCols, m.Confusion, want)
	}
	if m.BenignFPR != 0.25 || m.PerClass["DoS"].Recall != Float(2.0/3) || m.PerClass["Scan"].Support != 3 {
		t.Errorf("fpr %v, DoS %+v, Scan %+v", m.BenignFPR, m.PerClass["DoS"], m.PerClass["Scan"])
	}
}

// TestROCCurve: the exact curve keeps every corner and no point of a
// straight run, every point of the full curve lies on its polyline, and
// Metrics.ROC (a sample) stays what it was for few rows: all points.
func TestROCCurve(t *testing.T) {
	r := newRand(3, 0)
	var scores []float64
	var positive []bool
	for i := 0; i < 400; i++ {
		p := r.IntN(3) > 0
		s := float64(r.IntN(60)) // ties
		if p {
			s += 20
		}
		scores, positive = append(scores, s), append(positive, p)
	}
	full := sanitizeROC(rocPoints(scores, positive))
	got := ROCCurve(scores, positive)
	if got[0] != full[0] || got[len(got)-1] != full[len(full)-1] || len(got) >= len(full) {
		t.Fatalf("%d corners of %d points, ends %v %v", len(got), len(full), got[0], got[len(got)-1])
	}
	// Each full point lies on the segment of the corners around it.
	k := 0
	for _, p := range full {
		for k+1 < len(got) && got[k+1].Threshold > p.Threshold {
			k++
		}
		a, b := got[k], got[min(k+1, len(got)-1)]
		if cross := (p.FPR-a.FPR)*(b.TPR-a.TPR) - (p.TPR-a.TPR)*(b.FPR-a.FPR); math.Abs(cross) > 1e-12 {
			t.Errorf("point %+v is off the corners' segment %+v – %+v", p, a, b)
		}
	}
	for i := 1; i+1 < len(got); i++ {
		a, b, c := got[i-1], got[i], got[i+1]
		if (b.FPR-a.FPR)*(c.TPR-a.TPR) == (b.TPR-a.TPR)*(c.FPR-a.FPR) {
			t.Errorf("corner %d %+v is on a straight run", i, b)
		}
	}
	if ROCCurve([]float64{1, 2}, []bool{true, true}) != nil {
		t.Error("a curve with no negatives")
	}
	if s := rocCurve(scores, positive, 200); !reflect.DeepEqual(s, full) {
		t.Errorf("rocCurve with fewer points than its cap: %d points, want all %d", len(s), len(full))
	}
}

func TestDefaultDetector(t *testing.T) {
	d, err := DefaultDetector()
	if err != nil {
		t.Fatal(err)
	}
	if d.ID() != ModelID(defaultModel) || d.Dataset() != "nf-bot-iot-v2" {
		t.Errorf("id %s dataset %s", d.ID(), d.Dataset())
	}
	flows, _ := loadAll(t, "nf-bot-iot-v2", LoadOptions{}, nfSample)
	preds, err := d.Detect(flows)
	if err != nil || len(preds) != len(flows) {
		t.Fatalf("%d predictions, %v", len(preds), err)
	}
}

func TestTrainOnEverything(t *testing.T) {
	flows, _ := loadAll(t, "nf-bot-iot-v2", LoadOptions{}, nfSample)
	flows = append(flows, flows[:10]...) // ten exact repeats
	res, err := Train(flows, TrainOptions{Dataset: "nf-bot-iot-v2", Model: "pca", TestFraction: 0, Dedup: true, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	tr := res.Detector.Meta.Training
	if res.Test != nil || len(res.TestFlows) != 0 || tr.TestRows != 0 {
		t.Errorf("test fraction 0 held out %d rows", tr.TestRows)
	}
	if tr.DuplicatesSeen < 10 || tr.TrainRows+tr.ValidRows != len(flows)-tr.DuplicatesSeen {
		t.Errorf("dedup dropped %d, train %d + valid %d of %d", tr.DuplicatesSeen, tr.TrainRows, tr.ValidRows, len(flows))
	}
}

func TestStreamMatchesBatchWindows(t *testing.T) {
	flows, _ := loadAll(t, "nf-bot-iot-v2", LoadOptions{}, nfSample)
	res, err := Train(flows, TrainOptions{Dataset: "nf-bot-iot-v2", Model: "kmeans", TestFraction: 0.3, Seed: 2,
		Pipeline: PipelineConfig{Input: InputWindow, Window: 4}})
	if err != nil {
		t.Fatal(err)
	}
	d := res.Detector
	want, err := d.Detect(flows)
	if err != nil {
		t.Fatal(err)
	}
	s := d.NewStream(StreamOptions{})
	var got []Prediction
	for lo := 0; lo < len(flows); lo += 7 { // batches split windows across calls
		p, err := s.Detect(flows[lo:min(lo+7, len(flows))])
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, p...)
	}
	if !reflect.DeepEqual(got, want) {
		t.Error("stream windows differ from whole-batch windows")
	}
}
