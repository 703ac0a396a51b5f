package detector

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDefaultModelRebuilds runs `make model` (scripts/model.sh) into a
// temporary file and requires the committed detector/models/default.idslm
// to hold exactly the same bytes: a change that moves the default model
// (training code, kernels, preprocessing, data) cannot land unnoticed. It
// needs the shared datasets beside the repository; without them it skips,
// except in CI (CI set), where it fails. It takes about a minute on two
// cores (building idsledger, then training on 6,600 rows).
func TestDefaultModelRebuilds(t *testing.T) {
	const data = "../../shared/datasets/nf-bot-iot-v2/dev-all.csv"
	if _, err := os.Stat(data); err != nil {
		msg := "the shared datasets are missing (" + data + "): cannot rebuild the default model"
		if os.Getenv("CI") != "" {
			t.Fatalf("%s (CI is set, so this check may not be skipped)", msg)
		}
		t.Skip(msg)
	}
	if testing.Short() {
		t.Skip("trains the default model; run without -short")
	}
	out := filepath.Join(t.TempDir(), "default.idslm")
	cmd := exec.Command("sh", filepath.Join("..", "scripts", "model.sh"))
	cmd.Env = append(os.Environ(), "MODEL_OUT="+out)
	start := time.Now()
	log, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit) && exit.ExitCode() == 3:
		t.Fatalf("scripts/model.sh found no training data although %s exists:\n%s", data, log)
	case err != nil:
		t.Fatalf("scripts/model.sh: %v\n%s", err, log)
	}
	t.Logf("make model took %s", time.Since(start).Round(time.Second))
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, defaultModel) {
		t.Fatalf("make model gives model %s, the committed default is %s: run `make model` and commit "+
			"detector/models/default.idslm (and its figures in BENCHMARKS.md)\n%s", ModelID(got), ModelID(defaultModel), lastLines(string(log), 20))
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
