package main

import (
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/idsledger/idsledger/detector"
)

const detectorSampleCSV = "../../detector/testdata/nf-bot-iot-v2-sample.csv"

// capture runs f with stdout redirected and returns what it printed.
func captureTrainStdout(t *testing.T, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdout
	os.Stdout = w
	done := make(chan string)
	go func() { b, _ := io.ReadAll(r); done <- string(b) }()
	f()
	w.Close()
	os.Stdout = old
	return <-done
}

func TestTrainEvalCommands(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "m.idslm")
	var code int
	out := captureTrainStdout(t, func() {
		code = runMain([]string{"train", "--dataset", "nf-bot-iot-v2", "--data", detectorSampleCSV, "--model", "kmeans",
			"--out", model, "--seed", "3", "--quiet"})
	})
	if code != 0 || !strings.Contains(out, "written to") || !strings.Contains(out, "attacks detected") { // k-means: an anomaly detector
		t.Fatalf("train exit %d, output:\n%s", code, out)
	}
	out = captureTrainStdout(t, func() {
		code = runMain([]string{"eval", "--model", model, "--data", detectorSampleCSV, "--json", "--report", dir, "--latency-samples", "50"})
	})
	if code != 0 {
		t.Fatalf("eval exit %d: %s", code, out)
	}
	var res map[string]any
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("eval --json: %v\n%s", err, out)
	}
	for _, k := range []string{"accuracy", "binary_accuracy", "macro_f1", "benign_fpr", "roc_auc", "per_class", "windows_per_second"} {
		if _, ok := res[k]; !ok {
			t.Errorf("eval --json lacks %q", k)
		}
	}
	pc := res["per_class"].(map[string]any)["DoS"].(map[string]any)
	for _, k := range []string{"precision", "recall", "f1", "support"} {
		if _, ok := pc[k]; !ok {
			t.Errorf("per_class.DoS lacks %q", k)
		}
	}
	html, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil || !strings.Contains(string(html), "<svg") {
		t.Errorf("report: %v", err)
	}
	// The model trained on 70% of this very file: eval says so.
	if tr, _ := res["trained_on"].([]any); len(tr) != 1 || tr[0] != "nf-bot-iot-v2-sample.csv" {
		t.Errorf("trained_on %v, want the sample file", res["trained_on"])
	}
	if !strings.Contains(string(html), "include its training rows") {
		t.Error("the report does not warn that the model trained on these flows")
	}
}

func TestTrainUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"train"},
		{"train", "--dataset", "nope", "--data", "x", "--model", "kmeans", "--out", "y"},
		{"train", "--dataset", "csv", "--data", "x", "--model", "kmeans", "--out", "y"},
		{"train", "--dataset", "nf-bot-iot-v2", "--data", "x", "--model", "svm", "--out", "y"},
		{"train", "--dataset", "nf-bot-iot-v2", "--data", "x", "--model", "kmeans", "--out", "y", "--test-fraction", "1.5"},
		{"train", "--dataset", "nf-bot-iot-v2", "--data", "x", "--model", "bilstm", "--out", "y", "--engine", "tensorflow"},
		{"eval", "--data", "x"},
		{"eval", "--model", "m"},
	} {
		if code := runMain(args); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

// TestTrainDefaultsAgree: `idsledger train` with no settings and
// detector.Train with zero options train with the same settings (the
// model kind's defaults, stated once in detector.DefaultsFor).
func TestTrainDefaultsAgree(t *testing.T) {
	dir := t.TempDir()
	var code int
	out := captureTrainStdout(t, func() {
		code = runMain([]string{"train", "--dataset", "nf-bot-iot-v2", "--data", detectorSampleCSV, "--model", "bilstm",
			"--out", filepath.Join(dir, "m.idslm"), "--quiet"})
	})
	if code != 0 {
		t.Fatalf("train exit %d: %s", code, out)
	}
	cli, err := detector.LoadDetector(filepath.Join(dir, "m.idslm"))
	if err != nil {
		t.Fatal(err)
	}
	flows, _, err := detector.LoadFiles("nf-bot-iot-v2", []string{detectorSampleCSV}, detector.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	lib, err := detector.Train(flows, detector.TrainOptions{Dataset: "nf-bot-iot-v2", Files: []string{detectorSampleCSV},
		Model: "bilstm", TestFraction: 0.3, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	def, _ := detector.DefaultsFor("bilstm")
	for _, d := range []*detector.Detector{cli, lib.Detector} {
		c, p := d.Meta.Training.Config, d.Pipeline.Config
		if c.Epochs != def.Epochs || c.Patience != def.Patience || c.BatchSize != def.BatchSize || c.LearningRate != def.LearningRate ||
			c.Engine != detector.EngineFast || p.CorrThreshold != def.CorrThreshold || p.LogScale != def.LogScale {
			t.Errorf("settings %+v, pipeline %+v; want the defaults %+v", c, p, def)
		}
	}
	if !reflect.DeepEqual(cli.Model.Weights(), lib.Detector.Model.Weights()) {
		t.Error("the command and the library trained different weights from the same data, seed and defaults")
	}
	if cli.Meta.Card == nil || !strings.Contains(cli.Meta.Card.Summary(), "macro-F1") {
		t.Errorf("model card: %+v", cli.Meta.Card)
	}
}

// TestPrintMetrics: a classifier is summed up by its classes, an anomaly
// detector by what it detects (no macro-F1 or per-class precision, which
// would read as a classifier's).
func TestPrintMetrics(t *testing.T) {
	classes := []string{"Benign", "DoS"}
	y := []int{0, 0, 1, 1}
	multi := detector.Evaluate(classes, 0, y, []detector.Prediction{{Class: 0}, {Class: 1, Alert: true}, {Class: 1, Alert: true}, {Class: 1, Alert: true}})
	anomaly := detector.Evaluate(classes, 0, y, []detector.Prediction{{Class: 0}, {Class: 0}, {Class: detector.ClassAnomaly, Alert: true}, {Class: 0}})
	cls, base := detector.MajorityBaseline(classes, 0, []int{0, 0, 1, 1, 1})
	h := &honesty{Baseline: &baseline{Class: cls, Metrics: base}, Duplicates: newDuplicates(1, 4, "training")}
	for _, c := range []struct {
		m         detector.Metrics
		h         *honesty
		want, not []string
	}{
		{multi, nil, []string{"macro_f1 0.7333", "precision", "confusion (rows true, columns predicted: Benign, DoS)"}, []string{"attacks detected", "baseline"}},
		{anomaly, nil, []string{"attacks detected 0.5000", "benign_fpr 0.0000", "DoS                      2         1    0.5000",
			"confusion (rows true, columns predicted: Benign, Anomaly)"}, []string{"macro_f1", "precision   "}},
		// Beside every figure, the majority baseline's (always DoS here),
		// and the rows that repeat training rows.
		{multi, h, []string{`majority baseline: always "DoS"`, "macro_f1 0.7333 (0.3750)", "accuracy 0.7500 (0.6000)", "roc_auc 0.5000 (0.5000)",
			"binary precision 0.6667 (0.6000)", "base f1", "1 of 4 rows (25.0%) have the feature vector of a training row"}, nil},
		{anomaly, h, []string{"attacks detected 0.5000 (1.0000)", "benign_fpr 0.0000 (1.0000)", "DoS                      2         1    0.5000    1.0000"}, nil},
	} {
		var b strings.Builder
		printMetrics(&b, c.m, c.h)
		for _, w := range c.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s summary lacks %q:\n%s", c.m.Task, w, b.String())
			}
		}
		for _, n := range c.not {
			if strings.Contains(b.String(), n) {
				t.Errorf("%s summary has %q:\n%s", c.m.Task, n, b.String())
			}
		}
	}
}

func TestEpochLine(t *testing.T) {
	multi := epochLine(detector.EpochStats{Epoch: 3, Epochs: 80, Task: "multiclass", ValidAcc: 0.9, ValidF1: 0.8, ValidFPR: 0.01})
	anomaly := epochLine(detector.EpochStats{Epoch: 3, Epochs: 300, Task: "anomaly", ValidLoss: 0.2, ValidFPR: 0.04,
		ValidAUC: 0.95, ValidDetection: 0.6})
	noAttacks := epochLine(detector.EpochStats{Epoch: 3, Epochs: 300, Task: "anomaly", ValidAUC: detector.Float(math.NaN())})
	for _, c := range []struct {
		line      string
		want, not []string
	}{
		{multi, []string{"val_acc 0.9000", "val_macro_f1 0.8000", "val_benign_fpr 0.0100"}, []string{"roc_auc"}},
		{anomaly, []string{"val_loss 0.2000", "val_benign_fpr 0.0400", "val_detection 0.6000", "val_roc_auc 0.9500"}, []string{"val_acc", "macro_f1"}},
		{noAttacks, []string{"val_benign_fpr"}, []string{"val_acc", "roc_auc", "NaN"}},
	} {
		for _, w := range c.want {
			if !strings.Contains(c.line, w) {
				t.Errorf("%q lacks %q", c.line, w)
			}
		}
		for _, n := range c.not {
			if strings.Contains(c.line, n) {
				t.Errorf("%q has %q", c.line, n)
			}
		}
	}
}
