package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/idsledger/idsledger/storage"
	"github.com/idsledger/idsledger/storage/pgtest"
)

// capture runs f with stdout and stderr redirected and returns what it printed.
func capture(t *testing.T, f func()) (stdout, stderr string) {
	t.Helper()
	oldOut, oldErr := os.Stdout, os.Stderr
	ro, wo, _ := os.Pipe()
	re, we, _ := os.Pipe()
	os.Stdout, os.Stderr = wo, we
	outC, errC := make(chan string), make(chan string)
	go func() { b, _ := io.ReadAll(ro); outC <- string(b) }()
	go func() { b, _ := io.ReadAll(re); errC <- string(b) }()
	defer func() { os.Stdout, os.Stderr = oldOut, oldErr }()
	f()
	wo.Close()
	we.Close()
	return <-outC, <-errC
}

func TestBadConfigurationExits2WithOneLine(t *testing.T) {
	cases := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"serve", "--addr", "nonsense", "--database-url", "postgres://x@127.0.0.1/x"}, nil, "--addr"},
		{[]string{"serve", "--database-url", "postgres://x@127.0.0.1/x"}, map[string]string{"IDSLEDGER_ADDR": "nonsense"}, "IDSLEDGER_ADDR"},
		{[]string{"serve", "--database-url", "postgres://x@127.0.0.1/x"}, map[string]string{"IDSLEDGER_READ_TIMEOUT": "soon"}, "IDSLEDGER_READ_TIMEOUT"},
		{[]string{"serve", "--database-url", "postgres://x@127.0.0.1/x", "--max-body-bytes", "0"}, nil, "--max-body-bytes"},
		{[]string{"serve", "--database-url", "mysql://x"}, nil, "DATABASE_URL"},
		{[]string{"serve"}, map[string]string{"DATABASE_URL": ""}, "DATABASE_URL"},
		{[]string{"serve", "--no-such-flag"}, nil, "no-such-flag"},
		{[]string{"serve", "--database-url", "postgres://x@127.0.0.1/x", "--log-level", "loud"}, nil, "--log-level"},
		{[]string{"serve", "--database-url", "postgres://x@127.0.0.1/x", "--anchor-mode", "sideways"}, nil, "--anchor-mode"},
		{[]string{"serve", "--database-url", "postgres://x@127.0.0.1/x"}, map[string]string{"IDSLEDGER_REGISTRY": "0x12"}, "IDSLEDGER_REGISTRY"},
		{[]string{"serve", "--database-url", "postgres://x@127.0.0.1/x", "--batch-size", "0"}, nil, "--batch-size"},
		{[]string{"serve", "--database-url", "postgres://x@127.0.0.1/x", "--debug-addr", "0.0.0.0:6060"}, nil, "--debug-addr"},
		{[]string{"serve", "--database-url", "postgres://x@127.0.0.1/x"}, map[string]string{"IDSLEDGER_DEBUG_ADDR": "example.com:6060"}, "IDSLEDGER_DEBUG_ADDR"},
		{[]string{"bench", "ingest", "--url", "http://127.0.0.1:1", "--key", "k", "--duration", "0"}, nil, "--latency-rate"},
		{[]string{"serve", "--database-url", "postgres://x@127.0.0.1/x"}, map[string]string{"IDSLEDGER_BATCH_INTERVAL": "-1s"}, "IDSLEDGER_BATCH_INTERVAL"},
		{[]string{"apikey", "create", "--role", "root", "--database-url", "postgres://x@127.0.0.1/x"}, nil, "--role"},
		{[]string{"apikey", "frobnicate", "--database-url", "postgres://x@127.0.0.1/x"}, nil, "frobnicate"},
		{[]string{"migrate", "sideways", "--database-url", "postgres://x@127.0.0.1/x"}, nil, "sideways"},
		{[]string{"nosuchcommand"}, nil, "nosuchcommand"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
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

func TestHelpOnEveryCommand(t *testing.T) {
	for name := range commands {
		var code int
		_, stderr := capture(t, func() { code = runMain([]string{name, "--help"}) })
		if code != 0 || !strings.Contains(stderr, "usage: idsledger") {
			t.Errorf("%s --help: exit %d, stderr %q", name, code, stderr)
		}
	}
}

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

func waitFor(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
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
	key, _, err := db.CreateAPIKey(context.Background(), "k", storage.RoleAnalyst)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	c.Stop(t)

	addr := freeAddr(t)
	base := "http://" + addr
	dataDir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var logs bytes.Buffer
	logsDone := make(chan struct{})
	t.Cleanup(func() {
		cancel()
		<-logsDone
		if t.Failed() {
			t.Logf("service log:\n%s", logs.String())
		}
	})
	go func() {
		defer close(logsDone)
		_, stderr := capture(t, func() {
			done <- runServe(ctx, []string{"--addr", addr, "--database-url", c.URL, "--shutdown-timeout", "10s", "--data-dir", dataDir})
		})
		logs.WriteString(stderr)
	}()
	waitFor(t, "healthz", func() bool { code, _ := get(base+"/healthz", ""); return code == 200 })
	if code, body := get(base+"/readyz", ""); code != 503 || !strings.Contains(body, `"database"`) {
		t.Fatalf("readyz with no database: %d %s", code, body)
	}
	if code, body := get(base+"/v1/whoami", key); code != 503 || !strings.HasPrefix(body, "application/problem+json") {
		t.Fatalf("whoami with no database: %d %s", code, body)
	}

	c.Start(t)
	waitFor(t, "readyz after the database started", func() bool { code, _ := get(base+"/readyz", ""); return code == 200 })
	if code, body := get(base+"/v1/whoami", key); code != 200 {
		t.Fatalf("whoami: %d %s", code, body)
	}

	c.Stop(t)
	if code, body := get(base+"/v1/whoami", key); code != 503 || !strings.HasPrefix(body, "application/problem+json") {
		t.Fatalf("whoami with the database lost: %d %s", code, body)
	}
	c.Start(t)
	waitFor(t, "recovery", func() bool { code, _ := get(base+"/v1/whoami", key); return code == 200 })

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
	if strings.Contains(logs.String(), key) {
		t.Fatal("an API key reached the logs")
	}
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:6060": true, "localhost:6060": true, "[::1]:6060": true, "127.0.0.2:1": true,
		"0.0.0.0:6060": false, ":6060": false, "10.0.0.1:6060": false, "example.com:80": false, "127.0.0.1": false,
	} {
		if got := isLoopback(addr); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}
