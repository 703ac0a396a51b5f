package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	if code != 0 || !strings.Contains(out, "written to") || !strings.Contains(out, "macro_f1") {
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
}

func TestTrainUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"train"},
		{"train", "--dataset", "nope", "--data", "x", "--model", "kmeans", "--out", "y"},
		{"train", "--dataset", "csv", "--data", "x", "--model", "kmeans", "--out", "y"},
		{"train", "--dataset", "nf-bot-iot-v2", "--data", "x", "--model", "svm", "--out", "y"},
		{"train", "--dataset", "nf-bot-iot-v2", "--data", "x", "--model", "kmeans", "--out", "y", "--test-fraction", "1.5"},
		{"eval", "--data", "x"},
		{"eval", "--model", "m"},
	} {
		if code := runMain(args); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}
