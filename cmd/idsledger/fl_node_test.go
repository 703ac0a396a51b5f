package main

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/idsledger/idsledger/detector"
	"github.com/idsledger/idsledger/federated"
	"github.com/idsledger/idsledger/federated/coordinator"
	"github.com/idsledger/idsledger/federated/flnode"
	"github.com/idsledger/idsledger/internal/flfakes"
)

func TestFLNodeBadFlagsExit2WithOneLine(t *testing.T) {
	dir := t.TempDir()
	base := []string{"fl-node", "--url", "http://127.0.0.1:1", "--key", "k", "--dataset", "nf-bot-iot-v2", "--data", detectorSampleCSV, "--data-dir", dir}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"fl-node", "--key", "k", "--dataset", "nf-bot-iot-v2", "--data", "x"}, "--url"},
		{[]string{"fl-node", "--url", "http://127.0.0.1:1", "--dataset", "nf-bot-iot-v2", "--data", "x"}, "--key"},
		{[]string{"fl-node", "--url", "http://127.0.0.1:1", "--key", "k", "--data", "x"}, "--dataset"},
		{[]string{"fl-node", "--url", "http://127.0.0.1:1", "--key", "k", "--dataset", "nf-bot-iot-v2"}, "--data"},
		{append(base[:len(base):len(base)], "--rounds", "-1"), "--rounds"},
		{append(base[:len(base):len(base)], "--poll", "0s"), "--poll"},
		{append(base[:len(base):len(base)], "--valid-fraction", "1"), "--valid-fraction"},
		{append(base[:len(base):len(base)], "--eth-rpc", "http://127.0.0.1:1"), "--federation"},
		{append(base[:len(base):len(base)], "--eth-rpc", "http://127.0.0.1:1", "--federation", "0x12"), "--federation"},
		{[]string{"fl-node", "--url", "http://127.0.0.1:1", "--key", "k", "--dataset", "nosuch", "--data", "x"}, "nosuch"},
		{[]string{"fl-node", "--url", "ftp://x", "--key", "k", "--dataset", "nf-bot-iot-v2", "--data", detectorSampleCSV, "--data-dir", dir}, "URL"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args[1:], " "), func(t *testing.T) {
			var code int
			_, stderr := capture(t, func() { code = runMain(c.args) })
			if code != 2 {
				t.Fatalf("exit %d, want 2 (stderr %q)", code, stderr)
			}
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			if last := lines[len(lines)-1]; !strings.HasPrefix(last, "idsledger fl-node: ") || !strings.Contains(last, c.want) {
				t.Fatalf("stderr %q: want a last line naming %s", stderr, c.want)
			}
		})
	}
}

func TestFLNodeBadDataExits1(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("IPV4_SRC_ADDR,Attack\n1.2.3.4,DoS,extra\n"), 0o644)
	var code int
	_, stderr := capture(t, func() {
		code = runMain([]string{"fl-node", "--url", "http://127.0.0.1:1", "--key", "k", "--dataset", "nf-bot-iot-v2", "--data", bad, "--data-dir", dir})
	})
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if last := lines[len(lines)-1]; code != 1 || !strings.Contains(last, "bad.csv:2") {
		t.Fatalf("exit %d, stderr %q: want 1 and a line naming the file and line", code, stderr)
	}
}

// The command end to end against a coordinator speaking the API: the
// first run creates the key and says how to enroll it; once enrolled, the
// node takes part in one round and stops.
func TestFLNodeTakesPartInARound(t *testing.T) {
	flows, _, err := detector.LoadFiles("nf-bot-iot-v2", []string{detectorSampleCSV}, detector.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := detector.Train(flows[:150], detector.TrainOptions{Dataset: "nf-bot-iot-v2", Model: "autoencoder", Seed: 1,
		Train: detector.TrainConfig{Epochs: 1}})
	if err != nil {
		t.Fatal(err)
	}
	w, err := flfakes.NewFLWorld(res.Detector, flows[150:230])
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(w.API)
	defer srv.Close()
	dir := t.TempDir()
	args := []string{"--url", srv.URL, "--dataset", "nf-bot-iot-v2", "--data", detectorSampleCSV, "--data-dir", dir,
		"--rounds", "1", "--poll", "10ms"}
	token := w.NewKey() // the admin made the key; the site is not enrolled yet
	t.Setenv("IDSLEDGER_KEY", token)

	// First run: a new key, the enroll instruction, then waiting (403).
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var runErr error
	_, stderr := capture(t, func() { runErr = runFLNode(ctx, args) })
	if runErr != nil {
		t.Fatalf("interrupted while waiting: %v", runErr)
	}
	key, created, err := federated.LoadOrCreateKey(flnode.KeyPath(dir))
	if err != nil || created {
		t.Fatalf("key: %v (created now: %v)", err, created)
	}
	addr := crypto.PubkeyToAddress(key.PublicKey)
	for _, want := range []string{"created this site's key", addr.Hex(), "POST /v1/fl/sites", "403 Forbidden", "enroll"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("first run's stderr lacks %q:\n%s", want, stderr)
		}
	}

	if err := w.Bind(context.Background(), addr, "plant-a", token); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Open(context.Background(), coordinator.OpenRequest{Policy: federated.Policy{Epochs: 1, BatchSize: 32,
		Rule: federated.Rule{Kind: federated.RuleFedAvg}, Compression: federated.Compression{Encoding: federated.EncQ8}},
		MinUpdates: 1, Duration: time.Hour}); err != nil {
		t.Fatal(err)
	}
	var code int
	_, stderr = capture(t, func() { code = runMain(append([]string{"fl-node"}, args...)) })
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	for _, want := range []string{"site " + addr.Hex(), "round 1: samples", "local accuracy", "acknowledged as record", "took part in 1 round(s)"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "rounds", "1", "update.json")); err != nil {
		t.Error(err)
	}

	// A key the coordinator does not know: one line, exit 1.
	t.Setenv("IDSLEDGER_KEY", "revoked")
	_, stderr = capture(t, func() { code = runMain(append([]string{"fl-node"}, args...)) })
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if last := lines[len(lines)-1]; code != 1 || !strings.Contains(last, "does not know this API key") {
		t.Fatalf("unknown key: exit %d, stderr:\n%s", code, stderr)
	}
}

// serve's IDSLEDGER_DATA_DIR never becomes the site's directory: a site key
// kept beside the service's chain key would be the coordinator's to read.
func TestFLNodeKeyNotInServesDataDir(t *testing.T) {
	served, config := t.TempDir(), t.TempDir()
	t.Setenv("IDSLEDGER_DATA_DIR", served)
	t.Setenv("XDG_CONFIG_HOME", config)
	t.Setenv("HOME", config)
	t.Setenv("IDSLEDGER_KEY", "k")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	capture(t, func() {
		_ = runFLNode(ctx, []string{"--url", "http://127.0.0.1:1", "--dataset", "nf-bot-iot-v2", "--data", detectorSampleCSV, "--poll", "10ms"})
	})
	if _, err := os.Stat(flnode.KeyPath(served)); err == nil {
		t.Fatalf("fl-node made its site key in IDSLEDGER_DATA_DIR %s", served)
	}
	if _, err := os.Stat(flnode.KeyPath(filepath.Join(config, "idsledger", "fl-node"))); err != nil {
		t.Fatalf("fl-node made no site key in its own default folder: %v", err)
	}
}
