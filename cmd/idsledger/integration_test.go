//go:build integration

package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/idsledger/idsledger/ingest"
	"github.com/idsledger/idsledger/internal/testenv"
	"github.com/idsledger/idsledger/storage"
	"github.com/idsledger/idsledger/storage/pgtest"
)

func TestAPIKeyCommands(t *testing.T) {
	u := pgtest.EmptyURL(t) // apikey applies migrations itself
	var code int
	stdout, stderr := capture(t, func() {
		code = runMain([]string{"apikey", "create", "--role", "analyst", "--name", "siem", "--database-url", u})
	})
	if code != 0 {
		t.Fatalf("create: exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	key := lines[len(lines)-1]
	if strings.Contains(key, " ") || !strings.HasPrefix(key, "idsl_") {
		t.Fatalf("the last line is not the key alone: %q", key)
	}
	db, err := storage.Open(context.Background(), u, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	k, err := db.AuthenticateAPIKey(context.Background(), key)
	if err != nil || k.Role != storage.RoleAnalyst || k.Name != "siem" {
		t.Fatalf("printed key does not authenticate: %+v %v", k, err)
	}
	stdout, _ = capture(t, func() { code = runMain([]string{"apikey", "list", "--json", "--database-url", u}) })
	var keys []storage.APIKey
	if code != 0 || json.Unmarshal([]byte(stdout), &keys) != nil || len(keys) != 1 || strings.Contains(stdout, key) {
		t.Fatalf("list: exit %d %q", code, stdout)
	}
	_, _ = capture(t, func() { code = runMain([]string{"apikey", "revoke", k.Prefix, "--database-url", u}) })
	if code != 0 {
		t.Fatalf("revoke: exit %d", code)
	}
	if _, err := db.AuthenticateAPIKey(context.Background(), key); err == nil {
		t.Fatal("revoked key still works")
	}
	_, stderr = capture(t, func() { code = runMain([]string{"apikey", "revoke", "idsl_ffffffffffff", "--database-url", u}) })
	if code != 2 {
		t.Fatalf("revoke unknown: exit %d %q", code, stderr)
	}
}

func TestMigrateCommand(t *testing.T) {
	u := pgtest.EmptyURL(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"migrate", "version"}, "version 0"},
		{[]string{"migrate", "up"}, "version "},
		{[]string{"migrate", "down", "--all"}, "version 0"},
		{[]string{"migrate", "up"}, "version "},
	} {
		var code int
		stdout, stderr := capture(t, func() { code = runMain(append(c.args, "--database-url", u)) })
		if code != 0 || !strings.HasPrefix(stdout, c.want) {
			t.Fatalf("%v: exit %d stdout %q stderr %q", c.args, code, stdout, stderr)
		}
	}
	// A schema left dirty by a failed migration is marked repaired with
	// force; up then has nothing left to do.
	stdout, _ := capture(t, func() { runMain([]string{"migrate", "version", "--database-url", u}) })
	latest := strings.TrimSpace(strings.TrimPrefix(stdout, "version "))
	db, err := pgx.Connect(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(t.Context())
	if _, err := db.Exec(t.Context(), `UPDATE schema_migrations SET dirty = true`); err != nil {
		t.Fatal(err)
	}
	var code int
	if _, _ = capture(t, func() { code = runMain([]string{"migrate", "up", "--database-url", u}) }); code == 0 {
		t.Fatal("migrate up on a dirty schema succeeded")
	}
	for _, args := range [][]string{{"migrate", "force", "--version", latest}, {"migrate", "up"}} {
		stdout, stderr := capture(t, func() { code = runMain(append(args, "--database-url", u)) })
		if code != 0 || strings.TrimSpace(stdout) != "version "+latest {
			t.Fatalf("%v: exit %d stdout %q stderr %q", args, code, stdout, stderr)
		}
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func get(url, key string) (int, string) {
	req, _ := http.NewRequest("GET", url, nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type") + " " + string(b)
}

// serve starts with PostgreSQL down and keeps retrying; it becomes ready when
// the database comes up, answers 503 while the database is lost, recovers by
// itself, and stops cleanly on cancellation.
func TestServeSurvivesDatabaseOutages(t *testing.T) {
	c := pgtest.StartCluster(t)
	if err := storage.MigrateUp(c.URL); err != nil {
		t.Fatal(err)
	}
	db, err := storage.Open(context.Background(), c.URL, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := db.CreateAPIKey(context.Background(), storage.KeySpec{Name: "k", Role: storage.RoleAnalyst}, "test")
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	c.Stop(t)

	addr := freeAddr(t)
	base := "http://" + addr
	dataDir := t.TempDir()
	serve := startIDSLedger(t, "serve", "--addr", addr, "--database-url", c.URL, "--shutdown-timeout", "10s", "--data-dir", dataDir)
	testenv.Eventually(t, time.Minute, "healthz", func() bool { code, _ := get(base+"/healthz", ""); return code == 200 })
	if code, body := get(base+"/readyz", ""); code != 503 || !strings.Contains(body, `"database"`) {
		t.Fatalf("readyz with no database: %d %s", code, body)
	}
	if code, body := get(base+"/v1/whoami", key); code != 503 || !strings.HasPrefix(body, "application/problem+json") {
		t.Fatalf("whoami with no database: %d %s", code, body)
	}

	c.Start(t)
	testenv.Eventually(t, time.Minute, "readyz after the database started", func() bool { code, _ := get(base+"/readyz", ""); return code == 200 })
	if code, body := get(base+"/v1/whoami", key); code != 200 {
		t.Fatalf("whoami: %d %s", code, body)
	}

	c.Stop(t)
	if code, body := get(base+"/v1/whoami", key); code != 503 || !strings.HasPrefix(body, "application/problem+json") {
		t.Fatalf("whoami with the database lost: %d %s", code, body)
	}
	c.Start(t)
	testenv.Eventually(t, time.Minute, "recovery", func() bool { code, _ := get(base+"/v1/whoami", key); return code == 200 })

	if err := serve.stop(t, 20*time.Second); err != nil {
		t.Fatalf("serve exited with %v on SIGTERM", err)
	}
	if strings.Contains(serve.Logs(), key) {
		t.Fatal("an API key reached the logs")
	}
}

// serve stops, saying why, when IDSLEDGER_WEBHOOK_KEY does not open the
// webhook secrets stored, rather than failing every delivery later.
func TestServeRefusesTheWrongWebhookKey(t *testing.T) {
	u := pgtest.URL(t)
	db, err := storage.Open(context.Background(), u, storage.Options{WebhookKey: pgtest.WebhookKey})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.CreateWebhook(context.Background(), "https://receiver.example/hook", ingest.SeverityLow, "test"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	wrong := storage.GenerateSecretKey()
	t.Setenv("IDSLEDGER_WEBHOOK_KEY", wrong)
	serve := startIDSLedger(t, "serve", "--addr", freeAddr(t), "--database-url", u, "--data-dir", t.TempDir())
	select {
	case <-serve.done:
	case <-time.After(time.Minute):
		t.Fatal("serve kept running with the wrong webhook key")
	}
	logs := serve.Logs()
	if serve.err == nil || !strings.Contains(logs, "IDSLEDGER_WEBHOOK_KEY") || !strings.Contains(logs, "sealed with key") {
		t.Fatalf("exit %v, log:\n%s", serve.err, logs)
	}
	if strings.Contains(logs, wrong) {
		t.Fatal("the key reached the log")
	}
}

// serve stops, saying why, when anchoring cannot start for a reason
// retrying will not mend (here the embedded chain's folder is held by
// another serve), rather than serving on with anchoring silently dead and
// /readyz reading the chain as starting for ever.
func TestServeStopsWhenAnchoringCannotStart(t *testing.T) {
	dataDir := t.TempDir()
	first := startIDSLedger(t, "serve", "--addr", freeAddr(t), "--database-url", pgtest.EmptyURL(t), "--data-dir", dataDir)
	testenv.Eventually(t, time.Minute, "the first serve to open the chain", func() bool {
		return strings.Contains(first.Logs(), "anchoring lock taken")
	})
	second := startIDSLedger(t, "serve", "--addr", freeAddr(t), "--database-url", pgtest.EmptyURL(t), "--data-dir", dataDir)
	select {
	case <-second.done:
	case <-time.After(time.Minute):
		t.Fatal("serve kept running without a chain it could open")
	}
	if logs := second.Logs(); second.err == nil || !strings.Contains(logs, `"msg":"stopping"`) || !strings.Contains(logs, "chain") {
		t.Fatalf("exit %v, log:\n%s", second.err, logs[max(0, len(logs)-2048):])
	}
}
