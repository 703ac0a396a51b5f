package api

import (
	"context"
	"errors"
	"testing"
)

// The chain check reads not_configured without a chain, starting while a
// configured one is being opened (the service is ready meanwhile), then ok
// or unavailable from its probe.
func TestReadinessChainStates(t *testing.T) {
	h := NewHealth(func(context.Context) error { return nil })
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
	check("unavailable", "unavailable")
}
