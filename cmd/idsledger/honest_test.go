package main

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const ethSampleCSV = "../../detector/testdata/ethereum-accounts-sample.csv"

// ethSample writes the ethereum-accounts sample with edit applied to its
// rows (the header is row 0) and returns the file's path.
func ethSample(t *testing.T, edit func(rows [][]string) [][]string) string {
	t.Helper()
	return editCSV(t, ethSampleCSV, edit)
}

// trainJSON is what the tests read of `train --json`.
type trainJSON struct {
	Features []string `json:"features"`
	Training struct {
		TestRows int `json:"test_rows"`
		Test     struct {
			MacroF1 float64 `json:"macro_f1"`
		} `json:"test_metrics"`
	} `json:"training"`
	Baseline *struct {
		Class   string `json:"class"`
		Metrics struct {
			MacroF1 float64 `json:"macro_f1"`
			ROCAUC  float64 `json:"roc_auc"`
		} `json:"metrics"`
	} `json:"majority_baseline"`
	Warnings   []string    `json:"warnings"`
	Duplicates *duplicates `json:"duplicates"`
}

func runTrainJSON(t *testing.T, args ...string) (trainJSON, string) {
	t.Helper()
	var code int
	stdout, stderr := capture(t, func() { code = runMain(append([]string{"train", "--quiet", "--json"}, args...)) })
	if code != 0 {
		t.Fatalf("train %v: exit %d\n%s", args, code, stderr)
	}
	var res trainJSON
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("train --json: %v\n%s", err, stdout)
	}
	return res, stderr
}

// TestEthereumAccountsTrainEval: train and eval end to end on the
// ethereum-accounts sample: Address is never a feature, the majority
// baseline and the training duplicates come beside the figures, and eval
// on the training file finds its training rows.
func TestEthereumAccountsTrainEval(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "m.idslm")
	res, stderr := runTrainJSON(t, "--dataset", "ethereum-accounts", "--data", ethSampleCSV, "--model", "kmeans", "--out", model, "--seed", "3")
	if slices.Contains(res.Features, "Address") || slices.Contains(res.Features, "FLAG") || len(res.Features) < 10 {
		t.Errorf("features %q", res.Features)
	}
	if res.Baseline == nil || res.Baseline.Class != "Benign" || res.Baseline.Metrics.ROCAUC != 0.5 {
		t.Errorf("majority baseline %+v", res.Baseline)
	}
	if res.Duplicates == nil || res.Duplicates.Of != res.Training.TestRows || res.Duplicates.Against != "training" {
		t.Errorf("duplicates %+v (test rows %d)", res.Duplicates, res.Training.TestRows)
	}
	if len(res.Warnings) > 0 || strings.Contains(stderr, "warning") {
		t.Errorf("warnings on the true labels: %q %s", res.Warnings, stderr)
	}

	var code int
	stdout, stderr := capture(t, func() {
		code = runMain([]string{"eval", "--model", model, "--data", ethSampleCSV, "--json", "--latency-samples", "20", "--report", dir})
	})
	if code != 0 {
		t.Fatalf("eval exit %d: %s", code, stderr)
	}
	var ev struct {
		N          int         `json:"n"`
		Rejected   int         `json:"rejected"`
		Warnings   []string    `json:"warnings"`
		Duplicates *duplicates `json:"duplicates"`
		Baseline   *baseline   `json:"majority_baseline"`
	}
	if err := json.Unmarshal([]byte(stdout), &ev); err != nil {
		t.Fatalf("eval --json: %v\n%s", err, stdout)
	}
	// The sample is the training file: eval rebuilds the split and finds
	// the 210 training rows (and the test rows that repeat one).
	if ev.N != 300 || ev.Rejected != 0 || ev.Duplicates == nil || ev.Duplicates.Rows < 210 || ev.Duplicates.Rows >= 300 {
		t.Errorf("eval: n %d, rejected %d, duplicates %+v", ev.N, ev.Rejected, ev.Duplicates)
	}
	if len(ev.Warnings) != 1 || !strings.Contains(ev.Warnings[0], "trained on part of") || ev.Baseline == nil {
		t.Errorf("eval warnings %q, baseline %+v", ev.Warnings, ev.Baseline)
	}
	html, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil || !strings.Contains(string(html), "have the feature vector of a training row") {
		t.Errorf("report without the duplicates: %v", err)
	}

	// Another file: duplicates counted only against named training files.
	other := ethSample(t, func(rows [][]string) [][]string { return rows[:101] })
	stdout, _ = capture(t, func() { code = runMain([]string{"eval", "--model", model, "--data", other, "--latency-samples", "5"}) })
	if code != 0 || !strings.Contains(stdout, "not counted (pass the model's training files with --train-data)") {
		t.Errorf("eval of another file: exit %d\n%s", code, stdout)
	}
	stdout, _ = capture(t, func() {
		code = runMain([]string{"eval", "--model", model, "--data", other, "--train-data", ethSampleCSV, "--latency-samples", "5"})
	})
	if code != 0 || !strings.Contains(stdout, "of 100 rows") {
		t.Errorf("eval --train-data: exit %d\n%s", code, stdout)
	}
	_, stderr = capture(t, func() {
		code = runMain([]string{"eval", "--model", model, "--data", other, "--train-data", other, "--latency-samples", "5"})
	})
	if code == 0 || !strings.Contains(stderr, "not the model's training files") {
		t.Errorf("eval --train-data with the wrong file: exit %d, %s", code, stderr)
	}
}

// TestTrainWarnsOnShuffledLabels: labels shuffled across rows leave
// nothing to learn; train says so on stderr, in its JSON and its report.
func TestTrainWarnsOnShuffledLabels(t *testing.T) {
	path := ethSample(t, func(rows [][]string) [][]string {
		flag := slices.Index(rows[0], "FLAG")
		rng := rand.New(rand.NewPCG(5, 5))
		body := rows[1:]
		rng.Shuffle(len(body), func(a, b int) { body[a][flag], body[b][flag] = body[b][flag], body[a][flag] })
		return rows
	})
	dir := t.TempDir()
	for _, model := range []string{"gbt", "bilstm", "pca"} {
		res, stderr := runTrainJSON(t, "--dataset", "ethereum-accounts", "--data", path, "--model", model,
			"--out", filepath.Join(dir, model+".idslm"), "--report", filepath.Join(dir, model))
		if len(res.Warnings) == 0 || !strings.Contains(stderr, "warning: ") {
			t.Errorf("%s on shuffled labels: warnings %q, stderr %q", model, res.Warnings, stderr)
			continue
		}
		html, err := os.ReadFile(filepath.Join(dir, model, "index.html"))
		if err != nil || !strings.Contains(string(html), "no better than") {
			t.Errorf("%s report lacks the warning: %v", model, err)
		}
	}
}

// TestTrainSplitBy: --split-by keeps an identifier's rows on one side:
// copies of rows planted under their own Address repeat training rows in a
// split by row, and do not in a split by Address.
func TestTrainSplitBy(t *testing.T) {
	path := ethSample(t, func(rows [][]string) [][]string {
		for i := 1; i < 300; i += 5 {
			rows = append(rows, slices.Clone(rows[i]))
		}
		return rows
	})
	dir := t.TempDir()
	byRow, _ := runTrainJSON(t, "--dataset", "ethereum-accounts", "--data", path, "--model", "kmeans", "--out", filepath.Join(dir, "a.idslm"))
	byAddr, _ := runTrainJSON(t, "--dataset", "ethereum-accounts", "--data", path, "--model", "kmeans", "--out", filepath.Join(dir, "b.idslm"),
		"--split-by", "Address")
	if byRow.Duplicates.Rows <= byAddr.Duplicates.Rows+5 {
		t.Errorf("duplicates by row %d, by address %d: want the planted copies gone", byRow.Duplicates.Rows, byAddr.Duplicates.Rows)
	}
	var code int
	_, stderr := capture(t, func() {
		code = runMain([]string{"train", "--dataset", "ethereum-accounts", "--data", path, "--model", "kmeans", "--out", filepath.Join(dir, "c.idslm"),
			"--split-by", "Adress", "--quiet"})
	})
	if code == 0 || !strings.Contains(stderr, "Adress") {
		t.Errorf("split by a missing column: exit %d, %s", code, stderr)
	}
}
