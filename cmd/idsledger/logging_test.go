package main

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// Logs never carry a database password or an RPC provider's key, not even
// inside an error a library wrapped around the URL.
func TestLoggerRedactsSecrets(t *testing.T) {
	const (
		db  = "postgres://idsledger:s3cret@db.example:5432/idsledger?sslmode=require"
		db2 = "postgres://db.example/idsledger?user=x&password=hunter2&sslmode=disable"
		rpc = "https://mainnet.example.io/v3/0123456789abcdefKEY"
	)
	var out bytes.Buffer
	log, err := newLoggerTo(&out, "info", db, db2, rpc)
	if err != nil {
		t.Fatal(err)
	}
	// As net/http quotes a failed request's URL.
	dialErr := fmt.Errorf("dial: %w", errors.New(`Post "`+rpc+`": dial tcp: connection refused`))
	log.Warn("chain not reachable; retrying", "error", dialErr, "endpoint", rpc, "database", db, "other", db2)
	got := out.String()
	for _, secret := range []string{"s3cret", "hunter2", "0123456789abcdefKEY", "/v3/"} {
		if strings.Contains(got, secret) {
			t.Errorf("the log holds %q: %s", secret, got)
		}
	}
	for _, kept := range []string{"https://mainnet.example.io/…", "db.example", "connection refused"} {
		if !strings.Contains(got, kept) {
			t.Errorf("the log lost %q: %s", kept, got)
		}
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://rpc.example/v3/KEY":           "https://rpc.example/…",
		"wss://rpc.example:8546/ws?apikey=KEY": "wss://rpc.example:8546/…",
		"http://127.0.0.1:8545":                "http://127.0.0.1:8545",
		"/var/run/geth.ipc":                    "/var/run/geth.ipc",
		"postgres://u:pw@h/db":                 "postgres://u:xxxxx@h/db",
		"postgres://h/db?password=pw&user=u":   "postgres://h/db?password=xxxxx&user=u",
		"https://user:pass@rpc.example/":       "https://rpc.example/…",
	} {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
