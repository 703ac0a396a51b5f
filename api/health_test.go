package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
)

// The chain check reads not_configured without a chain, starting while a
// configured one is being opened (the service is ready meanwhile), then ok
// or unavailable from its probe.
func TestReadinessChainStates(t *testing.T) {
	h := NewHealth(func(context.Context) error { return nil }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	h.SetDatabaseReady()
	check := func(wantChain, wantStatus string) {
		t.Helper()
		r := h.Check(context.Background())
		if r.Checks["chain"].Status != wantChain || r.Status != wantStatus {
			t.Fatalf("readiness %+v; want chain %s, overall %s", r, wantChain, wantStatus)
		}
	}
	check("not_configured", "ok")
	h.ExpectChain()
	check("starting", "ok")
	var down error
	h.SetChain(func(context.Context) error { return down })
	check("ok", "ok")
	down = errors.New("no answer")
	h.forget() // past the one-second cache
	check("unavailable", "unavailable")
}

// /readyz is public: a failing dependency's error (a database URL with its
// user and host, an RPC URL with a provider's key in its path) goes to the
// log, and the answer carries a fixed sentence; a burst of probes is
// answered from one check a second.
func TestReadinessLeaksNothingAndIsCached(t *testing.T) {
	var log bytes.Buffer
	calls := 0
	secret := "postgres://ids:hunter2@db.internal:5432 and https://mainnet.infura.io/v3/0123456789abcdef"
	h := NewHealth(func(context.Context) error { calls++; return errors.New(secret) }, slog.New(slog.NewTextHandler(&log, nil)))
	h.SetDatabaseReady()
	h.ExpectChain()
	h.SetChain(func(context.Context) error { return errors.New(secret) })
	var r readiness
	for range 50 {
		r = h.Check(context.Background())
	}
	body, _ := json.Marshal(r)
	if strings.Contains(string(body), "hunter2") || strings.Contains(string(body), "infura") || r.Status != "unavailable" {
		t.Fatalf("public readiness: %s", body)
	}
	if !strings.Contains(log.String(), "hunter2") {
		t.Fatal("the failure's cause was not logged")
	}
	if calls != 1 {
		t.Fatalf("50 probes within a second ran %d database checks, want 1", calls)
	}
}

// A chain conflict (the registry holds other anchors under this database's
// ids) stops anchoring but not the service: the chain check reads conflict
// with a fixed sentence, and the service stays ready, for ingest goes on.
func TestReadinessChainConflict(t *testing.T) {
	h := NewHealth(func(context.Context) error { return nil }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	h.SetDatabaseReady()
	h.ExpectChain()
	h.SetChain(func(context.Context) error { return nil })
	h.SetChainConflict()
	r := h.Check(context.Background())
	if r.Status != "ok" || r.Checks["chain"].Status != "conflict" || r.Checks["chain"].Detail == "" {
		t.Fatalf("readiness %+v", r)
	}
}
