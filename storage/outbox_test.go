//go:build integration

package storage_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/storage"
	"github.com/idsledger/idsledger/storage/pgtest"
)

func appendN(t *testing.T, ctx context.Context, pool storage.RowQuerier, n int) []anchor.RecordID {
	t.Helper()
	ids := make([]anchor.RecordID, n)
	for i := range n {
		c, err := anchor.Canonicalize([]byte(fmt.Sprintf(`{"i":%d}`, i)))
		if err != nil {
			t.Fatal(err)
		}
		id, _, err := storage.AppendRecord(ctx, pool, "alert", c, anchor.LeafHash(c))
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = anchor.RecordID(id)
	}
	return ids
}

// fence takes the anchoring lock for the rest of the test and returns its
// fencing token.
func fence(t *testing.T, o *storage.Outbox) anchor.Fence {
	t.Helper()
	l, err := o.TryLock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Release)
	return l.Fence()
}

func TestOutboxBatchLifeCycle(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	o := storage.NewOutbox(pool)
	f := fence(t, o)
	ids := appendN(t, ctx, pool, 5)

	pend, err := o.Pending(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(pend) != 3 || pend[0].ID != ids[0] || pend[2].ID != ids[2] || pend[0].Seq >= pend[1].Seq {
		t.Fatalf("Pending(3) = %+v", pend)
	}
	if pend[0].Kind != "alert" || pend[0].Age < 0 {
		t.Fatalf("pending record %+v", pend[0])
	}
	leaves := []anchor.Hash{pend[0].Leaf, pend[1].Leaf, pend[2].Leaf}
	root, err := anchor.Root(leaves)
	if err != nil {
		t.Fatal(err)
	}
	bs, err := o.Prepare(ctx, f, []anchor.BatchPlan{{Mode: anchor.ModeBatch, Kind: 1, Root: root, Records: pend}})
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 1 || bs[0].ID == 0 || bs[0].LeafCount != 3 || bs[0].Status != anchor.BatchPrepared {
		t.Fatalf("Prepare = %+v", bs)
	}
	id := bs[0].ID

	open, err := o.Unconfirmed(ctx)
	if err != nil || len(open) != 1 || open[0].ID != id || open[0].HasTx || open[0].Root != root ||
		open[0].Leaves[1] != leaves[1] || open[0].RecordIDs[2] != ids[2] {
		t.Fatalf("Unconfirmed = %+v, %v", open, err)
	}
	sent := anchor.Sent{Tx: anchor.Hash{7}, Nonce: 42}
	if err := o.MarkSent(ctx, f, id, sent); err != nil {
		t.Fatal(err)
	}
	open, _ = o.Unconfirmed(ctx)
	if len(open) != 1 || !open[0].HasTx || open[0].Tx != sent.Tx || open[0].TxNonce != 42 || open[0].Status != anchor.BatchSent {
		t.Fatalf("after MarkSent: %+v", open)
	}
	if r, _ := o.Record(ctx, ids[0]); r.Status != "pending" {
		t.Fatalf("record of an unconfirmed batch: %+v", r)
	}

	inc := anchor.Inclusion{Tx: sent.Tx, BlockNumber: 9, BlockHash: anchor.Hash{9}, BlockTime: time.Unix(1700000000, 0).UTC(), GasUsed: 50000}
	c := []anchor.Confirmation{{BatchID: id, Inclusion: inc, RecordIDs: open[0].RecordIDs}}
	if err := o.Confirm(ctx, f, c); err != nil {
		t.Fatal(err)
	}
	if err := o.Confirm(ctx, f, c); err != nil { // idempotent
		t.Fatal(err)
	}
	if open, _ := o.Unconfirmed(ctx); len(open) != 0 {
		t.Fatalf("still unconfirmed: %+v", open)
	}
	b, err := o.Batch(ctx, id)
	if err != nil || b.Status != anchor.BatchConfirmed || b.Inclusion != inc {
		t.Fatalf("Batch = %+v, %v", b, err)
	}
	for i := range 3 {
		r, err := o.Record(ctx, ids[i])
		if err != nil || r.Status != "anchored" || r.BatchID != id || r.LeafIndex != i {
			t.Fatalf("record %d: %+v %v", i, r, err)
		}
	}
	rows, err := o.BatchRecords(ctx, id)
	if err != nil || len(rows) != 3 || rows[2].ID != ids[2] {
		t.Fatalf("BatchRecords = %+v, %v", rows, err)
	}
	pend, _ = o.Pending(ctx, 10)
	if len(pend) != 2 || pend[0].ID != ids[3] {
		t.Fatalf("pending after confirm: %+v", pend)
	}
	if _, err := o.Record(ctx, anchor.RecordID(uuid.New())); !errors.Is(err, anchor.ErrNotFound) {
		t.Fatalf("unknown record: %v", err)
	}
	if _, err := o.Batch(ctx, 999); !errors.Is(err, anchor.ErrNotFound) {
		t.Fatalf("unknown batch: %v", err)
	}
}

func TestOutboxPrepareManyRecordModeBatches(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	o := storage.NewOutbox(pool)
	f := fence(t, o)
	appendN(t, ctx, pool, 4)
	pend, err := o.Pending(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	plans := make([]anchor.BatchPlan, len(pend))
	for i := range pend {
		plans[i] = anchor.BatchPlan{Mode: anchor.ModeRecord, Kind: 1, Root: pend[i].Leaf, Records: pend[i : i+1]}
	}
	bs, err := o.Prepare(ctx, f, plans)
	if err != nil {
		t.Fatal(err)
	}
	for i, b := range bs {
		if b.RecordIDs[0] != pend[i].ID || b.Mode != anchor.ModeRecord || (i > 0 && b.ID <= bs[i-1].ID) {
			t.Fatalf("batch %d = %+v", i, b)
		}
	}
}

func TestOutboxLockIsExclusive(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	o := storage.NewOutbox(pool)
	o.LockCheck = 20 * time.Millisecond
	l1, err := o.TryLock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.TryLock(ctx); !errors.Is(err, anchor.ErrLockHeld) {
		t.Fatalf("second TryLock: %v", err)
	}
	l1.Release()
	l1.Release()
	l2, err := o.TryLock(ctx)
	if err != nil {
		t.Fatalf("TryLock after Release: %v", err)
	}
	// Killing the lock's session is noticed.
	// Only this test's database: other packages' tests share the cluster.
	if _, err := pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks
		WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`); err != nil {
		t.Fatal(err)
	}
	select {
	case <-l2.Lost():
	case <-time.After(10 * time.Second):
		t.Fatal("lost lock not noticed")
	}
	l2.Release()
}

// A holder whose session died (its lock free for the next) but which still
// runs cannot write: each write checks its fencing token against the
// latest lease's in the same transaction.
func TestOutboxFencesAFormerHolder(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	o := storage.NewOutbox(pool)
	o.LockCheck = time.Hour // the former holder does not notice
	appendN(t, ctx, pool, 4)
	pend, err := o.Pending(ctx, 4)
	if err != nil {
		t.Fatal(err)
	}
	plan := func(recs []anchor.PendingRecord) []anchor.BatchPlan {
		return []anchor.BatchPlan{{Mode: anchor.ModeBatch, Kind: 1, Root: anchor.Hash{1}, Records: recs}}
	}
	l1, err := o.TryLock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer l1.Release()
	bs, err := o.Prepare(ctx, l1.Fence(), plan(pend[:2]))
	if err != nil {
		t.Fatal(err)
	}
	// Its session ends; another takes the lock.
	if _, err := pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks
		WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`); err != nil {
		t.Fatal(err)
	}
	var l2 anchor.Lease
	deadline := time.Now().Add(10 * time.Second)
	for l2 == nil {
		l2, err = o.TryLock(ctx)
		if err != nil && (!errors.Is(err, anchor.ErrLockHeld) || time.Now().After(deadline)) {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	defer l2.Release()
	if l2.Fence() <= l1.Fence() {
		t.Fatalf("fence %d after %d", l2.Fence(), l1.Fence())
	}

	conf := []anchor.Confirmation{{BatchID: bs[0].ID, Inclusion: anchor.Inclusion{BlockNumber: 1}, RecordIDs: bs[0].RecordIDs}}
	if _, err := o.Prepare(ctx, l1.Fence(), plan(pend[2:])); !errors.Is(err, anchor.ErrLockLost) {
		t.Fatalf("stale Prepare: %v, want ErrLockLost", err)
	}
	if err := o.MarkSent(ctx, l1.Fence(), bs[0].ID, anchor.Sent{Tx: anchor.Hash{7}}); !errors.Is(err, anchor.ErrLockLost) {
		t.Fatalf("stale MarkSent: %v, want ErrLockLost", err)
	}
	if err := o.Confirm(ctx, l1.Fence(), conf); !errors.Is(err, anchor.ErrLockLost) {
		t.Fatalf("stale Confirm: %v, want ErrLockLost", err)
	}
	var batches int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM anchor_batches`).Scan(&batches); err != nil || batches != 1 {
		t.Fatalf("%d batch rows, %v", batches, err)
	}
	if open, _ := o.Unconfirmed(ctx); len(open) != 1 || open[0].HasTx {
		t.Fatalf("the stale writes changed the batch: %+v", open)
	}
	// The new holder writes.
	if err := o.MarkSent(ctx, l2.Fence(), bs[0].ID, anchor.Sent{Tx: anchor.Hash{7}}); err != nil {
		t.Fatal(err)
	}
	if err := o.Confirm(ctx, l2.Fence(), conf); err != nil {
		t.Fatal(err)
	}
	if _, err := o.Prepare(ctx, l2.Fence(), plan(pend[2:])); err != nil {
		t.Fatal(err)
	}
}

func TestChainMetaFirstWriterWins(t *testing.T) {
	ctx := context.Background()
	m := storage.NewChainMeta(pgtest.Pool(t))
	if _, ok, err := m.LoadChainMeta(ctx); ok || err != nil {
		t.Fatalf("empty: %v %v", ok, err)
	}
	a := anchor.ChainMeta{ChainID: 1337, GenesisHash: anchor.Hash{1}, Registry: anchor.Address{2}, DeployBlock: 3}
	got, err := m.SaveChainMeta(ctx, a)
	if err != nil || got != a {
		t.Fatalf("save: %+v %v", got, err)
	}
	b := a
	b.Registry = anchor.Address{9}
	if got, err := m.SaveChainMeta(ctx, b); err != nil || got != a {
		t.Fatalf("second save: %+v %v, want %+v", got, err, a)
	}
	if got, ok, err := m.LoadChainMeta(ctx); !ok || err != nil || got != a {
		t.Fatalf("load: %+v %v %v", got, ok, err)
	}
}

// The outbox is a queue; Confirm vacuums it after every vacuumEvery records
// it takes out, so dead rows do not pile up between autovacuum runs.
func TestOutboxVacuumsItself(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	o := storage.NewOutbox(pool)
	f := fence(t, o)
	bodies := make([][]byte, 40000) // more than vacuumEvery
	for i := range bodies {
		bodies[i] = []byte(fmt.Sprintf(`{"i":%d}`, i))
	}
	if _, err := storage.AppendRecords(ctx, pool, "alert", bodies); err != nil {
		t.Fatal(err)
	}
	vacuums := func() int64 {
		var n int64
		if err := pool.QueryRow(ctx, `SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = 'outbox'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := vacuums()
	pend, err := o.Pending(ctx, len(bodies))
	if err != nil || len(pend) != len(bodies) {
		t.Fatalf("%d pending, %v", len(pend), err)
	}
	for lo := 0; lo < len(pend); lo += 8192 {
		recs := pend[lo:min(lo+8192, len(pend))]
		bs, err := o.Prepare(ctx, f, []anchor.BatchPlan{{Mode: anchor.ModeBatch, Kind: 1, Root: anchor.Hash{1}, Records: recs}})
		if err != nil {
			t.Fatal(err)
		}
		c := []anchor.Confirmation{{BatchID: bs[0].ID, Inclusion: anchor.Inclusion{BlockNumber: 1}, RecordIDs: bs[0].RecordIDs}}
		if err := o.Confirm(ctx, f, c); err != nil {
			t.Fatal(err)
		}
	}
	if left, _ := o.Pending(ctx, 10); len(left) != 0 {
		t.Fatalf("%d records still pending", len(left))
	}
	// Statistics reach the view asynchronously; give them a moment.
	deadline := time.Now().Add(10 * time.Second)
	for vacuums() == before {
		if time.Now().After(deadline) {
			t.Fatal("the outbox was not vacuumed after 40,000 records left it")
		}
		_, _ = pool.Exec(ctx, `SELECT pg_stat_clear_snapshot()`)
		time.Sleep(100 * time.Millisecond)
	}
}

// The re-check's transitions: Confirmed lists confirmed batches newest
// first without leaves; Reconfirm moves a batch to another block; Orphan
// makes its records pending again, in their old order, and frees their
// places, all under the lease's fence.
func TestOutboxReconfirmAndOrphan(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	o := storage.NewOutbox(pool)
	f := fence(t, o)
	ids := appendN(t, ctx, pool, 5)
	pend, err := o.Pending(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	bs, err := o.Prepare(ctx, f, []anchor.BatchPlan{{Mode: anchor.ModeBatch, Kind: 1, Root: anchor.Hash{1}, Records: pend}})
	if err != nil {
		t.Fatal(err)
	}
	id := bs[0].ID
	inc := anchor.Inclusion{Tx: anchor.Hash{7}, BlockNumber: 9, BlockHash: anchor.Hash{9}, BlockTime: time.Unix(1700000000, 0).UTC(), GasUsed: 50000}
	conf := []anchor.Confirmation{{BatchID: id, Inclusion: inc, RecordIDs: bs[0].RecordIDs}}
	if err := o.Confirm(ctx, f, conf); err != nil {
		t.Fatal(err)
	}

	got, err := o.Confirmed(ctx, 0, 10)
	if err != nil || len(got) != 1 || got[0].ID != id || got[0].Root != (anchor.Hash{1}) || got[0].LeafCount != 3 ||
		got[0].Leaves != nil || got[0].RecordIDs != nil || got[0].Inclusion != inc {
		t.Fatalf("Confirmed = %+v, %v", got, err)
	}
	if got, _ := o.Confirmed(ctx, id, 10); len(got) != 0 {
		t.Fatalf("Confirmed below %d = %+v", id, got)
	}

	moved := anchor.Inclusion{Tx: anchor.Hash{7}, BlockNumber: 11, BlockHash: anchor.Hash{11}, BlockTime: time.Unix(1700000100, 0).UTC(), GasUsed: 50000}
	if err := o.Reconfirm(ctx, f, id, moved); err != nil {
		t.Fatal(err)
	}
	if b, err := o.Batch(ctx, id); err != nil || b.Inclusion != moved || b.Status != anchor.BatchConfirmed {
		t.Fatalf("after Reconfirm: %+v %v", b, err)
	}

	if err := o.Orphan(ctx, f+1, id); !errors.Is(err, anchor.ErrLockLost) {
		t.Fatalf("Orphan under another fence: %v", err)
	}
	if err := o.Orphan(ctx, f, id); err != nil {
		t.Fatal(err)
	}
	if b, err := o.Batch(ctx, id); err != nil || b.Status != anchor.BatchOrphaned {
		t.Fatalf("after Orphan: %+v %v", b, err)
	}
	for i, rid := range ids {
		if r, err := o.Record(ctx, rid); err != nil || r.Status != "pending" {
			t.Fatalf("record %d: %+v %v", i, r, err)
		}
	}
	pend, err = o.Pending(ctx, 10)
	if err != nil || len(pend) != 5 {
		t.Fatalf("Pending = %+v, %v", pend, err)
	}
	for i := range pend {
		if pend[i].ID != ids[i] {
			t.Fatalf("pending %d is %x, want %x (the old order)", i, pend[i].ID, ids[i])
		}
	}
	if rows, err := o.BatchRecords(ctx, id); err != nil || len(rows) != 0 {
		t.Fatalf("records still placed in the orphaned batch: %+v %v", rows, err)
	}
	// Not open, not confirmed: no transition applies to it any more.
	if open, _ := o.Unconfirmed(ctx); len(open) != 0 {
		t.Fatalf("Unconfirmed = %+v", open)
	}
	if got, _ := o.Confirmed(ctx, 0, 10); len(got) != 0 {
		t.Fatalf("Confirmed = %+v", got)
	}
	if err := o.Orphan(ctx, f, id); err == nil {
		t.Fatal("orphaned twice")
	}
	if err := o.Reconfirm(ctx, f, id, inc); err == nil {
		t.Fatal("reconfirmed an orphaned batch")
	}
	if err := o.MarkSent(ctx, f, id, anchor.Sent{Tx: anchor.Hash{8}}); err == nil {
		t.Fatal("marked an orphaned batch sent")
	}
	if err := o.Confirm(ctx, f, conf); err != nil {
		t.Fatal(err)
	}
	if r, _ := o.Record(ctx, ids[0]); r.Status != "pending" {
		t.Fatalf("a replayed confirmation of the orphaned batch anchored its record: %+v", r)
	}
}

// The re-check a follower asks for is kept in the database: the lowest
// block asked for wins, and a pass that settled the range clears it only
// if no lower block was asked for meanwhile.
func TestOutboxKeepsRecheckRequests(t *testing.T) {
	ctx := context.Background()
	o := storage.NewOutbox(pgtest.DB(t).Pool)
	if _, asked, err := o.RecheckRequested(ctx); asked || err != nil {
		t.Fatalf("a request before any: %v %v", asked, err)
	}
	for _, b := range []uint64{40, 30, 35} {
		if err := o.RequestRecheck(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	if b, asked, err := o.RecheckRequested(ctx); !asked || b != 30 || err != nil {
		t.Fatalf("kept %d %v %v, want from block 30", b, asked, err)
	}
	if err := o.RequestRecheck(ctx, 20); err != nil {
		t.Fatal(err)
	}
	if err := o.RecheckSettled(ctx, 30); err != nil { // a pass that read 30 before 20 came in
		t.Fatal(err)
	}
	if b, asked, _ := o.RecheckRequested(ctx); !asked || b != 20 {
		t.Fatalf("kept %d %v after a stale settle, want 20 still asked for", b, asked)
	}
	if err := o.RecheckSettled(ctx, 20); err != nil {
		t.Fatal(err)
	}
	if _, asked, _ := o.RecheckRequested(ctx); asked {
		t.Fatal("the request is still kept after its range settled")
	}
}
