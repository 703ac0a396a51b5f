package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/idsledger/idsledger/federated/flsim"
	"github.com/idsledger/idsledger/internal/flfakes"
)

func TestFLSimBadFlagsExit2WithOneLine(t *testing.T) {
	base := []string{"fl-sim", "--dataset", "nf-bot-iot-v2", "--data", detectorSampleCSV, "--database-url", "postgres://x@127.0.0.1/x"}
	with := func(extra ...string) []string { return append(append([]string(nil), base...), extra...) }
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"fl-sim", "--data", detectorSampleCSV}, "--dataset"},
		{[]string{"fl-sim", "--dataset", "nf-bot-iot-v2"}, "--data"},
		{with("--sites", "0"), "--sites"},
		{with("--rounds", "0"), "--rounds"},
		{with("--malicious", "5", "--attack", "signflip"), "--malicious"},
		{with("--malicious", "1"), "--attack"},
		{with("--attack", "signflip"), "--malicious"},
		{with("--malicious", "1", "--attack", "boost:3"), "--attack"},
		{with("--partition", "dirichlet:0"), "--partition"},
		{with("--partition", "sideways"), "--partition"},
		{with("--model", "iforest"), "--model"},
		{with("--aggregate", "krum:x"), "--aggregate"},
		{with("--aggregate", "krum:1"), "krum:1"},
		{with("--compress", "zip"), "--compress"},
		{with("--compress", "topk"), "--compress"},
		{with("--compress", "topk:2"), "--compress"},
		{with("--compress", "q8:1"), "--compress"},
		{with("--dp-sigma", "1"), "--dp-clip"},
		{with("--dp-sigma", "1", "--dp-clip", "1", "--dp", "everywhere"), "--dp"},
		{with("--dp-sigma", "1", "--dp-clip", "1", "--dp", "central", "--aggregate", "median"), "central"},
		{with("--epochs", "0"), "--epochs"},
		{with("--thresholds", "lenient"), "--thresholds"},
		{with("--round-duration", "0s"), "--round-duration"},
		{[]string{"fl-sim", "--dataset", "nf-bot-iot-v2", "--data", detectorSampleCSV}, "DATABASE_URL=$(scripts/pgdev.sh start"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args[1:], " "), func(t *testing.T) {
			t.Setenv("DATABASE_URL", "")
			var code int
			_, stderr := capture(t, func() { code = runMain(c.args) })
			if code != 2 {
				t.Fatalf("exit %d, want 2 (stderr %q)", code, stderr)
			}
			if lines := strings.Split(strings.TrimSpace(stderr), "\n"); len(lines) != 1 || !strings.Contains(stderr, c.want) {
				t.Fatalf("stderr %q: want one line naming %s", stderr, c.want)
			}
		})
	}
}

// The command end to end over the in-memory coordinator: round lines on
// stderr, one JSON object on stdout with the final figures and the
// centralized block, and the report.
func TestFLSimJSONAndReport(t *testing.T) {
	old := simCoordinator
	defer func() { simCoordinator = old }()
	simCoordinator = func(ctx context.Context, _ simEnv, s flsim.Setup) (flsim.Coordinator, error) {
		return flfakes.StartSim(ctx, s)
	}
	dir := t.TempDir()
	var code int
	stdout, stderr := capture(t, func() {
		code = runMain([]string{"fl-sim", "--sites", "3", "--rounds", "2", "--dataset", "nf-bot-iot-v2", "--data", detectorSampleCSV,
			"--model", "autoencoder", "--partition", "by-dst", "--malicious", "1", "--attack", "scale:50", "--compress", "q8",
			"--batch", "32", "--json", "--report", dir, "--database-url", "postgres://x@127.0.0.1/x"})
	})
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	for _, want := range []string{"site-01", "hosts 192.168.100.", "round 1 closed: accuracy", "round 2 closed", "reputation site-01=", "report written to"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	var res struct {
		Final       map[string]any   `json:"final"`
		Centralized map[string]any   `json:"centralized"`
		Majority    map[string]any   `json:"majority_baseline"`
		Rounds      []map[string]any `json:"rounds"`
		Sites       []map[string]any `json:"sites"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, stdout)
	}
	for _, k := range []string{"accuracy", "macro_f1", "benign_fpr", "recall"} {
		if _, ok := res.Final[k]; !ok {
			t.Errorf("final lacks %q", k)
		}
		if _, ok := res.Centralized[k]; !ok {
			t.Errorf("centralized lacks %q", k)
		}
	}
	if res.Centralized["epochs"] != 2.0 || len(res.Rounds) != 2 || len(res.Sites) != 3 || res.Majority["class"] == nil {
		t.Errorf("centralized %v, %d rounds, %d sites, majority %v", res.Centralized, len(res.Rounds), len(res.Sites), res.Majority)
	}
	page, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil || !strings.Contains(string(page), "<svg") {
		t.Fatalf("report: %v", err)
	}
}
