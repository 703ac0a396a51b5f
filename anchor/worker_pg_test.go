//go:build integration

package anchor_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/anchor/chain"
	"github.com/idsledger/idsledger/internal/testenv"
	"github.com/idsledger/idsledger/storage"
	"github.com/idsledger/idsledger/storage/pgtest"
)

// runPG runs a worker over PostgreSQL until no record is pending and no
// batch unconfirmed.
func runPG(t testing.TB, pool *pgxpool.Pool, reg anchor.Registry, cfg anchor.WorkerConfig) {
	t.Helper()
	w, err := anchor.NewWorker(storage.NewOutbox(pool), reg, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var left int
		if err := pool.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM records r WHERE NOT EXISTS (SELECT 1 FROM record_anchors ra WHERE ra.record_id = r.id))
			+ (SELECT count(*) FROM anchor_batches WHERE status IN ('prepared', 'sent'))`).Scan(&left); err != nil {
			t.Fatal(err)
		}
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d records or batches left", left)
		}
		select {
		case err := <-done:
			cancel()
			t.Fatalf("worker stopped: %v", err)
		case <-time.After(5 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestWorkerOnPostgres anchors through storage.Outbox on real PostgreSQL,
// with a crash right after a send, and verifies every record.
func TestWorkerOnPostgres(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	_, c := simulatedOn(t, pool)
	const n = 1000
	var ids []anchor.RecordID
	for i := range n {
		can, err := anchor.Canonicalize([]byte(fmt.Sprintf(`{"flow":%d,"kind":"alert"}`, i)))
		if err != nil {
			t.Fatal(err)
		}
		id, _, err := storage.AppendRecord(ctx, pool, "alert", can, anchor.LeafHash(can))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, anchor.RecordID(id))
	}
	cfg := testConfig(anchor.ModeBatch)
	cfg.MaxBatch = 128

	// The first worker dies right after handing its first transaction to
	// the chain, before recording it.
	crash := &crashingRegistry{Registry: c.Registry, afterSend: true}
	w, err := anchor.NewWorker(storage.NewOutbox(pool), crash, cfg)
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(wctx) }()
	testenv.Eventually(t, time.Minute, "the first worker's crash", crash.isDead)
	cancel()
	<-done

	runPG(t, pool, c.Registry, cfg)

	var batches, leaves int
	if err := pool.QueryRow(ctx, `SELECT count(*), sum(leaf_count) FROM anchor_batches`).Scan(&batches, &leaves); err != nil {
		t.Fatal(err)
	}
	if leaves != n || batches != (n+127)/128 {
		t.Fatalf("%d batches with %d leaves, want %d with %d", batches, leaves, (n+127)/128, n)
	}
	for id := 1; id <= batches; id++ {
		if _, ok, err := c.Registry.Batch(ctx, uint64(id)); !ok || err != nil {
			t.Fatalf("batch %d not on chain: %v", id, err)
		}
	}
	if _, ok, _ := c.Registry.Batch(ctx, uint64(batches+1)); ok {
		t.Fatal("an extra batch is on chain")
	}

	v := anchor.NewVerifier(storage.NewOutbox(pool), c.Registry)
	for _, id := range ids {
		p, err := v.Verify(ctx, id)
		if err != nil || p.Status != anchor.StatusVerified {
			t.Fatalf("verify %x: %+v %v", id, p, err)
		}
	}
	if _, err := pool.Exec(ctx, `UPDATE records SET body = '{"flow":-1}' WHERE id = $1`, ids[10]); err != nil {
		t.Fatal(err)
	}
	if p, err := v.Verify(ctx, ids[10]); err != nil || p.Status != anchor.StatusTampered {
		t.Fatalf("tampered record: %+v %v", p, err)
	}
	rep, err := v.Audit(ctx, 1)
	if err != nil || rep.OK || len(rep.Altered) != 1 || rep.Altered[0].LeafIndex != 10 {
		t.Fatalf("audit: %+v %v", rep, err)
	}
}

// benchSetup is a migrated database and a simulated chain with n anchored
// records, for the benchmarks below.
func benchSetup(b *testing.B, n int) (*pgxpool.Pool, *chain.Registry, []anchor.RecordID) {
	b.Helper()
	pool := pgtest.Pool(b)
	_, c := simulatedOn(b, pool)
	return pool, c.Registry, copyRecords(b, pool, n)
}

func copyRecords(b *testing.B, pool *pgxpool.Pool, n int) []anchor.RecordID {
	nonce := time.Now().UnixNano()
	return appendRecords(b, pool, n, func(i int) string {
		return fmt.Sprintf(`{"flow":%d,"kind":"alert","nonce":%d}`, i, nonce)
	})
}

// appendRecords puts n alert records, body(i) each, in the outbox with
// storage.AppendRecords and returns their ids in order.
func appendRecords(tb testing.TB, pool *pgxpool.Pool, n int, body func(i int) string) []anchor.RecordID {
	tb.Helper()
	bodies := make([][]byte, n)
	for i := range n {
		c, err := anchor.Canonicalize([]byte(body(i)))
		if err != nil {
			tb.Fatal(err)
		}
		bodies[i] = c
	}
	uids, err := storage.AppendRecords(context.Background(), pool, "alert", bodies)
	if err != nil {
		tb.Fatal(err)
	}
	ids := make([]anchor.RecordID, n)
	for i, id := range uids {
		ids[i] = anchor.RecordID(id)
	}
	return ids
}

// BenchmarkWorkerBatch measures end-to-end anchoring (outbox → simulated
// chain → recorded) of 4096-record batches on PostgreSQL.
func BenchmarkWorkerBatch(b *testing.B) {
	const per = 4096
	pool, reg, _ := benchSetup(b, 0)
	cfg := testConfig(anchor.ModeBatch)
	cfg.MaxBatch = per
	cfg.Logger = quietLog()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		copyRecords(b, pool, per)
		b.StartTimer()
		runPG(b, pool, reg, cfg)
	}
	b.ReportMetric(float64(per*b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkVerify measures Verifier.Verify of records in 4096-leaf batches.
func BenchmarkVerify(b *testing.B) {
	pool, reg, ids := benchSetup(b, 3*4096)
	cfg := testConfig(anchor.ModeBatch)
	cfg.MaxBatch = 4096
	cfg.Logger = quietLog()
	runPG(b, pool, reg, cfg)
	v := anchor.NewVerifier(storage.NewOutbox(pool), reg)
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		p, err := v.Verify(ctx, ids[(i*7919)%len(ids)])
		if err != nil || p.Status != anchor.StatusVerified {
			b.Fatalf("%+v %v", p, err)
		}
	}
}

func quietLog() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// TestStalledFormerHolderOnPostgres: two workers over PostgreSQL; the first
// reads the outbox and stalls, its lock's session dies, the second anchors
// everything; when the first wakes, its fence is stale and it writes
// nothing: no record is prepared under a second batch id.
func TestStalledFormerHolderOnPostgres(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	_, c := simulatedOn(t, pool)
	const n = 300
	ids := appendRecords(t, pool, n, func(i int) string { return fmt.Sprintf(`{"flow":%d,"kind":"alert"}`, i) })
	cfg := testConfig(anchor.ModeBatch)
	cfg.MaxBatch = 128
	cfg.Logger = quietLog()

	out := storage.NewOutbox(pool)
	out.LockCheck = time.Hour // its watch is as frozen as the rest of it
	stall := newStallingOutbox(out)
	first, err := anchor.NewWorker(stall, c.Registry, cfg)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- first.Run(ctx) }()
	select {
	case <-stall.stalled:
	case err := <-done:
		t.Fatalf("first worker stopped: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("first worker never read the outbox")
	}
	// Only this test's database: other packages' tests share the cluster.
	if _, err := pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks
		WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`); err != nil {
		t.Fatal(err)
	}
	runPG(t, pool, c.Registry, cfg)
	count := func() (batches, leaves int) {
		t.Helper()
		if err := pool.QueryRow(ctx, `SELECT count(*), coalesce(sum(leaf_count), 0) FROM anchor_batches`).Scan(&batches, &leaves); err != nil {
			t.Fatal(err)
		}
		return batches, leaves
	}
	before, _ := count()

	close(stall.release)
	var stopped error
	select {
	case stopped = <-done:
	case <-time.After(10 * time.Second):
	}
	if batches, leaves := count(); batches != before || leaves != n {
		t.Fatalf("%d batches with %d leaves after the stale worker woke, %d batches before, %d records", batches, leaves, before, n)
	}
	if !errors.Is(stopped, anchor.ErrLockLost) {
		t.Fatalf("the first worker: %v, want ErrLockLost", stopped)
	}
	if _, ok, _ := c.Registry.Batch(ctx, uint64(before+1)); ok {
		t.Fatal("the stale worker anchored a batch")
	}
	v := anchor.NewVerifier(storage.NewOutbox(pool), c.Registry)
	for _, id := range ids {
		if p, err := v.Verify(ctx, id); err != nil || p.Status != anchor.StatusVerified {
			t.Fatalf("verify %x: %+v %v", id, p, err)
		}
	}
}

// TestRecheckOnPostgres: a reorg drops a confirmed batch's transaction; the
// re-check orphans the batch in PostgreSQL (its records back in the outbox,
// their places gone, pending meanwhile) and the worker anchors them again
// under a new batch id; every record verifies.
func TestRecheckOnPostgres(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	sim, c := simulatedOn(t, pool)
	parent, err := sim.Backend.Client().HeaderByNumber(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	ids := appendRecords(t, pool, n, func(i int) string { return fmt.Sprintf(`{"flow":%d,"kind":"alert"}`, i) })
	cfg := testConfig(anchor.ModeBatch)
	cfg.MaxBatch = 256
	cfg.MaxWait = time.Millisecond
	cfg.RecheckInterval = -1
	cfg.Logger = quietLog()
	time.Sleep(2 * cfg.MaxWait)
	runPG(t, pool, c.Registry, cfg)

	if err := sim.Backend.Fork(parent.Hash()); err != nil {
		t.Fatal(err)
	}
	sim.Backend.Rollback()
	for range 3 {
		sim.Backend.Commit()
	}
	v := anchor.NewVerifier(storage.NewOutbox(pool), c.Registry)
	if p, err := v.Verify(ctx, ids[0]); err != nil || p.Status != anchor.StatusNotAnchored {
		t.Fatalf("after the reorg, before the re-check: %+v %v", p, err)
	}

	cfg.RecheckInterval = 20 * time.Millisecond
	w, err := anchor.NewWorker(storage.NewOutbox(pool), c.Registry, cfg)
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(wctx) }()
	testenv.Eventually(t, time.Minute, "the records anchored again", func() bool {
		var orphaned, confirmed, anchored, pending int
		if err := pool.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM anchor_batches WHERE id = 1 AND status = 'orphaned' AND orphaned_at IS NOT NULL),
			(SELECT count(*) FROM anchor_batches WHERE id = 2 AND status = 'confirmed'),
			(SELECT count(*) FROM record_anchors WHERE batch_id = 2),
			(SELECT count(*) FROM outbox)`).Scan(&orphaned, &confirmed, &anchored, &pending); err != nil {
			t.Fatal(err)
		}
		return orphaned == 1 && confirmed == 1 && anchored == n && pending == 0
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var stale int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM record_anchors WHERE batch_id = 1`).Scan(&stale); err != nil || stale != 0 {
		t.Fatalf("%d records still placed in the orphaned batch (%v)", stale, err)
	}
	for _, id := range ids {
		p, err := v.Verify(ctx, id)
		if err != nil || p.Status != anchor.StatusVerified || p.BatchID != 2 {
			t.Fatalf("verify %x: %+v %v", id, p, err)
		}
	}
}

// simulatedOn opens a simulated chain whose meta (registry address, chain
// id) the database behind pool keeps, closed when the test ends.
func simulatedOn(t testing.TB, pool *pgxpool.Pool) (*chain.Simulated, *chain.Chain) {
	t.Helper()
	sim, err := chain.NewSimulated()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	c, err := sim.Open(context.Background(), storage.NewChainMeta(pool))
	if err != nil {
		t.Fatal(err)
	}
	return sim, c
}
