package main

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/idsledger/idsledger/storage"
)

// Without IDSLEDGER_WEBHOOK_KEY, serve makes a key under --data-dir (mode
// 0600), warns about it, and finds the same key on the next start.
func TestWebhookKeyFileFallback(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	k1, err := webhookKey(serveConfig{dataDir: dir}, log)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, webhookKeyFile)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	if !strings.Contains(logs.String(), `"level":"WARN"`) || !strings.Contains(logs.String(), "IDSLEDGER_WEBHOOK_KEY is not set") {
		t.Fatalf("no warning: %s", logs.String())
	}
	raw, _ := os.ReadFile(path)
	if strings.Contains(logs.String(), strings.TrimSpace(string(raw))) {
		t.Fatal("the key reached the log")
	}
	k2, err := webhookKey(serveConfig{dataDir: dir}, log)
	if err != nil || k2.ID() != k1.ID() {
		t.Fatalf("second start: key %v (%v), want %s", k2, err, k1.ID())
	}
	if err := os.WriteFile(path, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := webhookKey(serveConfig{dataDir: dir}, log); err == nil || !strings.Contains(err.Error(), path) || strings.Contains(err.Error(), "not a key") {
		t.Fatalf("a bad key file: %v", err)
	}
}

// IDSLEDGER_WEBHOOK_KEY wins, and then no file is made or read.
func TestWebhookKeyFromEnvironment(t *testing.T) {
	key := storage.GenerateSecretKey()
	t.Setenv("IDSLEDGER_WEBHOOK_KEY", key)
	c, err := parseServe([]string{"--database-url", "postgres://x@127.0.0.1/x", "--data-dir", t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := storage.ParseSecretKey(key)
	var logs bytes.Buffer
	k, err := webhookKey(c, slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil || k.ID() != want.ID() {
		t.Fatalf("key %v, %v", k, err)
	}
	if _, err := os.Stat(filepath.Join(c.dataDir, webhookKeyFile)); !os.IsNotExist(err) {
		t.Fatalf("a key file was made: %v", err)
	}
	if logs.Len() != 0 {
		t.Fatalf("logged: %s", logs.String())
	}
}

// fl-sim's scratch coordinator opens its database without a webhook key: the
// start-up check of webhook secrets has nothing to do and must not log an
// ERROR that a user of fl-sim would take for a fault.
func TestSealWebhookSecretsWithoutKeyIsQuiet(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	if err := sealWebhookSecrets(t.Context(), log, &storage.DB{}); err != nil {
		t.Fatal(err)
	}
	if logs.Len() != 0 {
		t.Fatalf("logged %s", logs.String())
	}
}
