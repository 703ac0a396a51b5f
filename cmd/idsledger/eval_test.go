package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/idsledger/idsledger/detector"
)

const defaultModelFile = "../../detector/models/default.idslm"

// writeSample writes the NetFlow sample to a file with edit applied to its
// rows (the header is row 0) and returns the file's path.
func writeSample(t *testing.T, edit func(rows [][]string)) string {
	t.Helper()
	return editCSV(t, detectorSampleCSV, func(rows [][]string) [][]string { edit(rows); return rows })
}

// editCSV writes the CSV file src, its rows (the header is row 0) as edit
// returns them, to a new file and returns its path.
func editCSV(t *testing.T, src string, edit func(rows [][]string) [][]string) string {
	t.Helper()
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	rows = edit(rows)
	path := filepath.Join(t.TempDir(), "flows.csv")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(out)
	w.WriteAll(rows)
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func col(rows [][]string, name string) int {
	for i, n := range rows[0] {
		if n == name {
			return i
		}
	}
	panic(name)
}

// eval applies the flow rules of the API: rows that break them are
// counted and reported, not scored on imputed values; --impute lets the
// named features be missing, and counts what it imputed.
func TestEvalRejectsRowsThatBreakTheRules(t *testing.T) {
	data := writeSample(t, func(rows [][]string) {
		rows[1][col(rows, "IN_BYTES")] = "abc"
		rows[2][col(rows, "IN_BYTES")] = ""
		rows[3][col(rows, "IPV4_SRC_ADDR")] = ""
	})
	run := func(extra ...string) (evalResult, string, int) {
		var res evalResult
		var code int
		out := captureTrainStdout(t, func() {
			code = runMain(append([]string{"eval", "--model", defaultModelFile, "--data", data, "--json", "--latency-samples", "5"}, extra...))
		})
		if code == 0 {
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatalf("eval --json: %v\n%s", err, out)
			}
		}
		return res, out, code
	}
	res, out, code := run()
	if code != 0 {
		t.Fatalf("eval exit %d: %s", code, out)
	}
	want := map[string]int{"not_a_number IN_BYTES": 1, "missing IN_BYTES": 1, "missing IPV4_SRC_ADDR": 1}
	if res.Rejected != 3 || len(res.RejectedBy) != 3 || res.Imputed != 0 || res.N != res.Load.Rows-3 {
		t.Fatalf("rejected %d %v, imputed %d, scored %d of %d", res.Rejected, res.RejectedBy, res.Imputed, res.N, res.Load.Rows)
	}
	for k, n := range want {
		if res.RejectedBy[k] != n {
			t.Errorf("rejected_by[%q] = %d, want %d (%v)", k, res.RejectedBy[k], n, res.RejectedBy)
		}
	}
	res, out, code = run("--impute", "IN_BYTES")
	if code != 0 || res.Rejected != 2 || res.Imputed != 1 {
		t.Fatalf("--impute IN_BYTES: exit %d rejected %d imputed %d: %s", code, res.Rejected, res.Imputed, out)
	}
	if _, out, code = run("--impute", "IPV4_SRC_ADDR"); code != 2 {
		t.Errorf("--impute of a 5-tuple column: exit %d, want 2: %s", code, out)
	}
}

// A file whose header lacks a required column fails at once, with one
// message naming it.
func TestEvalHeaderWithoutRequiredColumn(t *testing.T) {
	data := writeSample(t, func(rows [][]string) {
		i := col(rows, "IN_BYTES")
		for r := range rows {
			rows[r] = append(rows[r][:i:i], rows[r][i+1:]...)
		}
	})
	var code int
	_, stderr := capture(t, func() {
		code = runMain([]string{"eval", "--model", defaultModelFile, "--data", data, "--json", "--latency-samples", "5"})
	})
	if code != 1 || !strings.Contains(stderr, "header") || !strings.Contains(stderr, "missing feature IN_BYTES") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
}

// train --imputable declares features in the model file; eval --impute
// declared then lets them be missing.
func TestTrainDeclaresImputable(t *testing.T) {
	model := filepath.Join(t.TempDir(), "m.idslm")
	var code int
	out := captureTrainStdout(t, func() {
		code = runMain([]string{"train", "--dataset", "nf-bot-iot-v2", "--data", detectorSampleCSV, "--model", "kmeans",
			"--out", model, "--quiet", "--imputable", "IN_BYTES"})
	})
	if code != 0 {
		t.Fatalf("train exit %d: %s", code, out)
	}
	d, err := detector.LoadDetector(model)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(d.Pipeline.Imputable, ",") != "IN_BYTES" {
		t.Fatalf("imputable %v (features %v)", d.Pipeline.Imputable, d.Pipeline.FeatureNames())
	}
	data := writeSample(t, func(rows [][]string) { rows[1][col(rows, "IN_BYTES")] = "" })
	for _, c := range []struct {
		impute   string
		rejected int
	}{{"", 1}, {"declared", 0}} {
		var res evalResult
		out := captureTrainStdout(t, func() {
			code = runMain([]string{"eval", "--model", model, "--data", data, "--json", "--latency-samples", "5", "--impute", c.impute})
		})
		if err := json.Unmarshal([]byte(out), &res); code != 0 || err != nil || res.Rejected != c.rejected {
			t.Errorf("--impute %q: exit %d, rejected %d, want %d", c.impute, code, res.Rejected, c.rejected)
		}
	}
	if code := runMain([]string{"train", "--dataset", "nf-bot-iot-v2", "--data", detectorSampleCSV, "--model", "kmeans",
		"--out", model, "--quiet", "--imputable", "IPV4_SRC_ADDR"}); code == 0 {
		t.Error("train --imputable IPV4_SRC_ADDR succeeded")
	}
}
