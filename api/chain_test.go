//go:build integration

package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/anchor/chain"
	"github.com/idsledger/idsledger/storage"
)

// chainEnv is a testEnv whose verifier is the real one, over go-ethereum's
// simulated chain, with the anchoring worker running.
func chainEnv(t testing.TB) *testEnv {
	t.Helper()
	env := newEnv(t, true)
	ctx, cancel := context.WithCancel(context.Background())
	sim, err := chain.NewSimulated()
	if err != nil {
		t.Fatal(err)
	}
	c, err := sim.Open(ctx, storage.NewChainMeta(env.db.Pool))
	if err != nil {
		t.Fatal(err)
	}
	env.chain = c
	outbox := storage.NewOutbox(env.db.Pool)
	env.srv.deps.Records = outbox
	env.srv.deps.Verifier = anchor.NewVerifier(outbox, c.Registry)
	cfg := anchor.DefaultWorkerConfig()
	cfg.MaxWait, cfg.PollInterval = 50*time.Millisecond, 10*time.Millisecond
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	w, err := anchor.NewWorker(outbox, c.Registry, cfg)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		sim.Close()
	})
	return env
}

func waitAnchored(t testing.TB, env *testEnv) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var pending int
		if err := env.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM records r WHERE NOT EXISTS (SELECT 1 FROM record_anchors ra WHERE ra.record_id = r.id)`).Scan(&pending); err != nil {
			t.Fatal(err)
		}
		if pending == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d records still pending", pending)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Alerts raised over HTTP are anchored by the worker and verify through the
// real verifier against the chain; a row altered with SQL is tampered, and
// the batch audit names it.
func TestAlertsVerifyOnChain(t *testing.T) {
	env := chainEnv(t)
	ids := ingestFixture(t, env)
	waitAnchored(t, env)

	var batchOf int64
	for _, id := range ids {
		var p anchor.Proof
		env.decode(env.do(storage.RoleAnalyst, http.MethodGet, "/v1/alerts/"+id.String()+"/verify", "", nil), http.StatusOK, &p)
		if p.Status != anchor.StatusVerified || p.Root == nil || p.BatchID == 0 {
			t.Fatalf("alert %s: %+v", id, p)
		}
		batchOf = int64(p.BatchID)
	}
	// The proof bundle verifies again through POST /v1/verify (leaf from
	// the caller's record, root from the chain).
	var bundle proofBundle
	env.decode(env.do(storage.RoleAnalyst, http.MethodGet, "/v1/alerts/"+ids[0].String()+"/proof", "", nil), http.StatusOK, &bundle)
	body, _ := json.Marshal(verifyRequest{Record: bundle.Record, Proof: bundle.Proof})
	var p anchor.Proof
	env.decode(env.do(storage.RoleAnalyst, http.MethodPost, "/v1/verify", "application/json", body), http.StatusOK, &p)
	if p.Status != anchor.StatusVerified {
		t.Fatalf("POST /v1/verify: %+v", p)
	}
	// A proof for another chain or registry, or with a malformed record id,
	// is the caller's mistake: 422, not a verdict and not a 503.
	for name, edit := range map[string]func(p *anchor.Proof){
		"chain":     func(p *anchor.Proof) { p.ChainID++ },
		"registry":  func(p *anchor.Proof) { p.Registry[0] ^= 1 },
		"record id": func(p *anchor.Proof) { p.Mode, p.RecordID = anchor.ModeRecord, "not-a-uuid" },
	} {
		bad := *bundle.Proof
		edit(&bad)
		body, _ := json.Marshal(verifyRequest{Record: bundle.Record, Proof: &bad})
		if w := env.do(storage.RoleAnalyst, http.MethodPost, "/v1/verify", "application/json", body); w.Code != http.StatusUnprocessableEntity {
			t.Fatalf("proof for another %s: status %d %s", name, w.Code, w.Body)
		}
	}
	var b batchView
	env.decode(env.do(storage.RoleAnalyst, http.MethodGet, "/v1/batches/"+itoa(batchOf), "", nil), http.StatusOK, &b)
	if b.Status != "confirmed" || b.TxHash == nil || b.BlockNumber == 0 {
		t.Fatalf("batch %+v", b)
	}
	var rep anchor.AuditReport
	env.decode(env.do(storage.RoleAnalyst, http.MethodGet, "/v1/batches/"+itoa(batchOf)+"/audit", "", nil), http.StatusOK, &rep)
	if !rep.OK {
		t.Fatalf("audit before tampering: %+v", rep)
	}

	victim := ids[len(ids)-1]
	if _, err := env.db.Pool.Exec(t.Context(), `UPDATE records SET body = convert_to(replace(convert_from(body, 'UTF8'), 'plant-1', 'plant-9'), 'UTF8') WHERE id = $1`, victim); err != nil {
		t.Fatal(err)
	}
	env.decode(env.do(storage.RoleAnalyst, http.MethodGet, "/v1/alerts/"+victim.String()+"/verify", "", nil), http.StatusOK, &p)
	if p.Status != anchor.StatusTampered {
		t.Fatalf("altered alert: %+v", p)
	}
	env.decode(env.do(storage.RoleAnalyst, http.MethodGet, "/v1/batches/"+itoa(int64(p.BatchID))+"/audit", "", nil), http.StatusOK, &rep)
	if rep.OK || len(rep.Altered) != 1 || rep.Altered[0].RecordID != victim.String() {
		t.Fatalf("audit after tampering: %+v", rep)
	}
}

// BenchmarkVerifyAlert is GET /v1/alerts/{id}/verify on an anchored alert
// (database read, cached batch tree, registry read on the simulated chain).
func BenchmarkVerifyAlert(b *testing.B) {
	env := chainEnv(b)
	ids := ingestFixture(b, env)
	waitAnchored(b, env)
	lat := make([]time.Duration, 0, b.N)
	i := 0
	for b.Loop() {
		t0 := time.Now()
		w := env.do(storage.RoleAnalyst, http.MethodGet, "/v1/alerts/"+ids[i%len(ids)].String()+"/verify", "", nil)
		lat = append(lat, time.Since(t0))
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
		i++
	}
	b.ReportMetric(quantileMillis(lat, 0.5), "p50_ms")
	b.ReportMetric(quantileMillis(lat, 0.99), "p99_ms")
}

// Batches can be found: GET /v1/batches lists them newest first, filtered
// by status, and pages with next_cursor until every batch was seen once.
func TestBatchListing(t *testing.T) {
	env := chainEnv(t)
	ingestFixture(t, env)
	waitAnchored(t, env)
	ingestFixture(t, env)
	waitAnchored(t, env)
	var want []int64
	rows, err := env.db.Pool.Query(t.Context(), `SELECT id FROM anchor_batches WHERE status = 'confirmed' ORDER BY id DESC`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		want = append(want, id)
	}
	if len(want) < 2 {
		t.Fatalf("%d confirmed batches; the test needs two", len(want))
	}
	var got []int64
	path := "/v1/batches?status=confirmed&limit=1"
	for range len(want) + 2 {
		var p page[batchView]
		env.decode(env.do(storage.RoleAnalyst, http.MethodGet, path, "", nil), http.StatusOK, &p)
		for _, b := range p.Items {
			if b.Status != "confirmed" || b.TxHash == nil || b.BlockNumber == 0 || len(b.RecordIDs) != 0 {
				t.Fatalf("listed batch %+v", b)
			}
			got = append(got, int64(b.ID))
		}
		if p.NextCursor == nil {
			break
		}
		path = "/v1/batches?status=confirmed&limit=1&cursor=" + *p.NextCursor
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("paged through %v, want %v", got, want)
	}
	for _, bad := range []string{"?status=lost", "?limit=0", "?cursor=x", "?sort=id"} {
		if w := env.do(storage.RoleAnalyst, http.MethodGet, "/v1/batches"+bad, "", nil); w.Code != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", bad, w.Code)
		}
	}
}
