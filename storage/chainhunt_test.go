//go:build integration

package storage_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/google/uuid"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/anchor/chain"
	"github.com/idsledger/idsledger/chainhunt"
	"github.com/idsledger/idsledger/ingest"
	"github.com/idsledger/idsledger/storage"
	"github.com/idsledger/idsledger/storage/pgtest"
)

// chainAlerts are n findings on chain 1337, in blocks 100, 101, ...: every
// third a rule on a transaction, the others a model's verdict on an
// account.
func chainAlerts(n int) []chainhunt.Alert {
	t0 := time.Date(2026, 11, 28, 20, 0, 0, 0, time.UTC)
	out := make([]chainhunt.Alert, n)
	for i := range out {
		a := chainhunt.Alert{
			ChainID: 1337, BlockNumber: uint64(100 + i),
			BlockHash: common.HexToHash(fmt.Sprintf("0x%064x", 0xb10c00+i)),
			BlockTime: t0.Add(time.Duration(i) * 12 * time.Second),
			Severity:  "high", Summary: fmt.Sprintf("finding %d", i),
			Evidence: map[string]string{"n": fmt.Sprint(i)},
		}
		if i%3 == 0 {
			a.Subject, a.Method, a.Rule, a.Class, a.Score = chainhunt.SubjectTransaction, chainhunt.MethodRule,
				"registry.foreign_caller", "registry.foreign_caller", 1
			a.TxHash = common.HexToHash(fmt.Sprintf("0x%064x", 0x7000+i))
			a.Account = common.HexToAddress(fmt.Sprintf("0x%040x", 0xacc0+i))
		} else {
			a.Subject, a.Method, a.Rule, a.Class, a.Score = chainhunt.SubjectAccount, chainhunt.MethodModel, "gbt", "fraud", 0.9
			a.ModelID, a.ModelVersion = "ab12", "v1"
			a.Account = common.HexToAddress(fmt.Sprintf("0x%040x", 0xacc0+i))
		}
		out[i] = a
	}
	return out
}

// count is the number of rows of a query returning one count.
func count(t *testing.T, db *storage.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.Pool.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Committing the same alerts twice stores them once, with one record, one
// outbox row and one count each; the second commit returns none, a mix
// returns only the new ones; listings filter them and show what they are.
func TestChainHuntCommitStoresOnce(t *testing.T) {
	ctx := context.Background()
	db := pgtest.DB(t)
	h := storage.NewChainHunt(db.Pool)
	var notified []storage.Alert
	h.OnStored = func(stored []storage.Alert) { notified = append(notified, stored...) }
	alerts := chainAlerts(6)
	cp := chainhunt.Checkpoint{ChainID: 1337, Blocks: []chainhunt.BlockRef{{Number: 105, Hash: alerts[5].BlockHash}}}

	got, err := h.Commit(ctx, cp, alerts[:4])
	if err != nil || len(got) != 4 {
		t.Fatalf("first commit: %d alerts, %v", len(got), err)
	}
	again, err := h.Commit(ctx, cp, append(slices.Clone(alerts[:4]), alerts[1]))
	if err != nil || len(again) != 0 {
		t.Fatalf("second commit stored %d alerts, %v", len(again), err)
	}
	mixed, err := h.Commit(ctx, cp, alerts[2:])
	if err != nil || len(mixed) != 2 || mixed[0].ID() != alerts[4].ID() || mixed[1].ID() != alerts[5].ID() {
		t.Fatalf("mixed commit: %v, %v", mixed, err)
	}
	if len(notified) != 6 || notified[5].ID != alerts[5].ID() || notified[5].Chain == nil || notified[5].Chain.Account != alerts[5].Account.Hex() {
		t.Fatalf("OnStored got %d alerts: %+v", len(notified), notified)
	}
	for q, want := range map[string]int{
		`SELECT count(*) FROM records WHERE kind = 'chain_alert'`:                                     6,
		`SELECT count(*) FROM outbox WHERE kind = 'chain_alert'`:                                      6,
		`SELECT count(*) FROM alerts WHERE source = 'chain'`:                                          6,
		`SELECT coalesce(sum(n), 0) FROM alert_counts WHERE grain = 'hour' AND sensor = 'chain:1337'`: 6,
		`SELECT coalesce(sum(n), 0) FROM alert_counts WHERE grain = 'day' AND class = 'fraud'`:        4,
	} {
		if n := count(t, db, q); n != want {
			t.Errorf("%s: %d, want %d", q, n, want)
		}
	}

	// The record body is the canonical body; the row is its faithful copy.
	d, err := db.GetAlert(ctx, alerts[0].ID())
	if err != nil {
		t.Fatal(err)
	}
	canon, err := chainhunt.Canonical(alerts[0])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(d.Record, canon) {
		t.Fatalf("record body\n got %s\nwant %s", d.Record, canon)
	}
	if diff := d.RowMismatch(); len(diff) > 0 {
		t.Fatalf("row differs from body in %v", diff)
	}
	c := d.Chain
	if d.Source != "chain" || d.Type != "chain_alert" || d.Sensor != "chain:1337" || c == nil ||
		c.ChainID != 1337 || c.Block.Number != 100 || c.Block.Hash != alerts[0].BlockHash.Hex() ||
		!c.Block.Time.Equal(alerts[0].BlockTime) || c.Tx != alerts[0].TxHash.Hex() || c.Account != alerts[0].Account.Hex() ||
		c.Rule != "registry.foreign_caller" || c.Method != "rule" || c.Summary != "finding 0" || c.Evidence["n"] != "0" {
		t.Fatalf("chain alert %+v, chain %+v", d.Alert, c)
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE alerts SET block_number = 7 WHERE id = $1`, alerts[0].ID()); err != nil {
		t.Fatal(err)
	}
	if d, _ := db.GetAlert(ctx, alerts[0].ID()); !slices.Equal(d.RowMismatch(), []string{"block"}) {
		t.Fatalf("a changed row: mismatch %v", d.RowMismatch())
	}

	// Every new filter, alone and with the others.
	list := func(f storage.AlertFilter) int {
		t.Helper()
		items, _, err := db.ListAlerts(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		return len(items)
	}
	if _, err := db.InsertAlerts(ctx, append(testAlertsFrom(0, 3), testAlertsFrom(3, 2)...)); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		f    storage.AlertFilter
		want int
	}{
		"chain":          {storage.AlertFilter{Source: "chain"}, 6},
		"flow":           {storage.AlertFilter{Source: "flow"}, 5},
		"account":        {storage.AlertFilter{Accounts: []common.Address{alerts[4].Account}}, 1},
		"two accounts":   {storage.AlertFilter{Accounts: []common.Address{alerts[4].Account, alerts[5].Account}}, 2},
		"tx":             {storage.AlertFilter{TxHashes: []common.Hash{alerts[3].TxHash}}, 1},
		"rule":           {storage.AlertFilter{Rules: []string{"gbt"}}, 4},
		"rule and class": {storage.AlertFilter{Rules: []string{"gbt"}, Classes: []string{"fraud"}, Source: "chain"}, 4},
		"sensor":         {storage.AlertFilter{Sensors: []string{"chain:1337"}}, 6},
		"flow and rule":  {storage.AlertFilter{Source: "flow", Rules: []string{"gbt"}}, 0},
	} {
		if n := list(tc.f); n != tc.want {
			t.Errorf("%s: %d alerts, want %d", name, n, tc.want)
		}
	}
	if _, _, err := db.ListAlerts(ctx, storage.AlertFilter{Source: "moon"}); err == nil {
		t.Fatal("an unknown source listed")
	}
}

// testAlertsFrom is n flow alerts from testAlert's i.
func testAlertsFrom(i, n int) []ingest.AlertBody {
	var out []ingest.AlertBody
	for j := range n {
		out = append(out, testAlert(i+j, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)))
	}
	return out
}

// A checkpoint round-trips; accounts are upserted, read back by address,
// and those never stored are absent; an invalid alert stores nothing, not
// even the checkpoint.
func TestChainHuntCheckpointRoundTrip(t *testing.T) {
	ctx := context.Background()
	db := pgtest.DB(t)
	h := storage.NewChainHunt(db.Pool)
	if _, ok, err := h.Checkpoint(ctx, 5); ok || err != nil {
		t.Fatalf("a checkpoint before any: %v %v", ok, err)
	}
	a1, a2, a3 := common.HexToAddress("0x01"), common.HexToAddress("0x02"), common.HexToAddress("0x03")
	cp := chainhunt.Checkpoint{ChainID: 5,
		Blocks:   []chainhunt.BlockRef{{Number: 9, Hash: common.HexToHash("0x09")}, {Number: 10, Hash: common.HexToHash("0x0a")}},
		Accounts: map[common.Address][]byte{a1: []byte("one"), a2: []byte("two")},
		State:    []byte("state 1"),
	}
	if _, err := h.Commit(ctx, cp, nil); err != nil {
		t.Fatal(err)
	}
	cp2 := chainhunt.Checkpoint{ChainID: 5, Blocks: []chainhunt.BlockRef{{Number: 11, Hash: common.HexToHash("0x0b")}},
		Accounts: map[common.Address][]byte{a2: []byte("two'")}, State: []byte("state 2")}
	if _, err := h.Commit(ctx, cp2, nil); err != nil {
		t.Fatal(err)
	}
	got, ok, err := h.Checkpoint(ctx, 5)
	if err != nil || !ok || !slices.Equal(got.Blocks, cp2.Blocks) || string(got.State) != "state 2" || got.ChainID != 5 || got.Accounts != nil {
		t.Fatalf("checkpoint %+v %v %v", got, ok, err)
	}
	accts, err := h.Accounts(ctx, 5, []common.Address{a1, a2, a3})
	if err != nil || len(accts) != 2 || string(accts[a1]) != "one" || string(accts[a2]) != "two'" {
		t.Fatalf("accounts %q %v", accts, err)
	}
	if other, err := h.Accounts(ctx, 6, []common.Address{a1}); err != nil || len(other) != 0 {
		t.Fatalf("another chain's accounts %q %v", other, err)
	}

	bad := chainAlerts(1)
	bad[0].ChainID = 5
	bad[0].Severity = "extreme"
	if _, err := h.Commit(ctx, chainhunt.Checkpoint{ChainID: 5, State: []byte("state 3")}, bad); err == nil {
		t.Fatal("an invalid alert was committed")
	}
	other := chainAlerts(1) // of chain 1337
	if _, err := h.Commit(ctx, chainhunt.Checkpoint{ChainID: 5, State: []byte("state 3")}, other); err == nil {
		t.Fatal("an alert of another chain was committed")
	}
	if got, _, _ := h.Checkpoint(ctx, 5); string(got.State) != "state 2" {
		t.Fatalf("a refused commit changed the checkpoint: %q", got.State)
	}
}

// A chain alert is anchored by the normal worker, in a batch of its own
// kind, and verifies against the chain, online and offline; KnownBatch
// knows the batch and its root, and no other.
func TestChainAlertAnchorsAndVerifies(t *testing.T) {
	ctx := context.Background()
	db := pgtest.DB(t)
	sim, err := chain.NewSimulated()
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	c, err := sim.Open(ctx, storage.NewChainMeta(db.Pool))
	if err != nil {
		t.Fatal(err)
	}
	h := storage.NewChainHunt(db.Pool)
	alerts := chainAlerts(5)
	if _, err := h.Commit(ctx, chainhunt.Checkpoint{ChainID: 1337}, alerts); err != nil {
		t.Fatal(err)
	}
	cfg := anchor.DefaultWorkerConfig()
	cfg.MaxBatch, cfg.MaxWait, cfg.PollInterval = 64, 20*time.Millisecond, 5*time.Millisecond
	w, err := anchor.NewWorker(storage.NewOutbox(db.Pool), c.Registry, cfg)
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(wctx) }()
	deadline := time.Now().Add(time.Minute)
	for count(t, db, `SELECT count(*) FROM record_anchors`) < len(alerts) {
		if time.Now().After(deadline) {
			t.Fatal("the chain alerts were not anchored in a minute")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	code, err := anchor.KindCode(chainhunt.Kind)
	if err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, `SELECT count(*) FROM anchor_batches WHERE kind = $1 AND status = 'confirmed'`, int16(code)); n != 1 {
		t.Fatalf("%d confirmed batches of kind %d", n, code)
	}
	v := anchor.NewVerifier(storage.NewOutbox(db.Pool), c.Registry)
	for _, a := range alerts {
		p, err := v.Verify(ctx, anchor.RecordID(a.ID()))
		if err != nil || p.Status != anchor.StatusVerified || p.Kind != chainhunt.Kind {
			t.Fatalf("verify %s: %+v %v", a.ID(), p, err)
		}
		body, _ := chainhunt.Canonical(a)
		off, err := v.VerifyOffline(ctx, body, *p)
		if err != nil || off.Status != anchor.StatusVerified {
			t.Fatalf("verify %s offline: %+v %v", a.ID(), off, err)
		}
		d, err := db.GetAlert(ctx, a.ID())
		if err != nil || d.Anchor.Status != "anchored" {
			t.Fatalf("alert %s: %+v %v", a.ID(), d.Anchor, err)
		}
	}

	root, known, err := h.Batch(ctx, 1)
	if err != nil || !known {
		t.Fatalf("batch 1: %v %v", known, err)
	}
	onChain, ok, err := c.Registry.Batch(ctx, 1)
	if err != nil || !ok || root != [32]byte(onChain.Root) {
		t.Fatalf("batch 1 root %x, on chain %+v %v %v", root, onChain, ok, err)
	}
	if _, known, err := h.Batch(ctx, 2); known || err != nil {
		t.Fatalf("batch 2 known: %v %v", known, err)
	}
	for _, a := range alerts {
		body, err := chainhunt.Canonical(a)
		if err != nil {
			t.Fatal(err)
		}
		leaf, known, err := h.Record(ctx, a.ID())
		if err != nil || !known || leaf != common.Hash(anchor.LeafHash(body)) {
			t.Fatalf("record %s: %x %v %v, want its leaf hash", a.ID(), leaf, known, err)
		}
	}
	if _, known, err := h.Record(ctx, uuid.New()); known || err != nil {
		t.Fatalf("an unknown record known: %v %v", known, err)
	}
}

// schemaOf describes db's public schema (columns, constraints, indexes,
// relations and their options) as sorted lines, to compare a schema before
// migratorOnEmpty is a migrator and a connection over a new empty database
// (no migration applied), for the tests of one migration going down and up;
// both are closed when the test ends.
func migratorOnEmpty(t *testing.T) (*storage.Migrator, *storage.DB) {
	t.Helper()
	u := pgtest.EmptyURL(t)
	m, err := storage.NewMigrator(u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	db, err := storage.Open(context.Background(), u, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return m, db
}

// and after a migration.
func schemaOf(t *testing.T, db *storage.DB) string {
	t.Helper()
	var s string
	if err := db.Pool.QueryRow(context.Background(), `
		SELECT coalesce(string_agg(x, E'\n' ORDER BY x), '') FROM (
			SELECT format('column %s.%s %s %s %s', table_name, column_name, data_type, is_nullable, column_default) AS x
			FROM information_schema.columns WHERE table_schema = 'public'
			UNION ALL
			SELECT format('constraint %s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid))
			FROM pg_constraint WHERE connamespace = 'public'::regnamespace
			UNION ALL
			SELECT format('index %s', indexdef) FROM pg_indexes WHERE schemaname = 'public'
			UNION ALL
			SELECT format('relation %s %s %s', relname, relkind, reloptions) FROM pg_class
			WHERE relnamespace = 'public'::regnamespace) s`).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// Migration 000013 goes down to exactly the schema before it and up again;
// a database holding chain alerts cannot go down (it would lose them) and
// stays as it was.
func TestChainAlertsMigrationDownUp(t *testing.T) {
	ctx := context.Background()
	m, db := migratorOnEmpty(t)
	if err := m.To(12); err != nil {
		t.Fatal(err)
	}
	before := schemaOf(t, db)
	if err := m.To(13); err != nil {
		t.Fatal(err)
	}
	after := schemaOf(t, db)
	if _, err := db.InsertAlerts(ctx, testAlertsFrom(0, 2)); err != nil {
		t.Fatal(err)
	}
	if err := m.To(12); err != nil {
		t.Fatal(err)
	}
	if got := schemaOf(t, db); got != before {
		t.Fatalf("schema after 000013 down differs from before it:\n%s\n--- before ---\n%s", got, before)
	}
	if err := m.To(13); err != nil {
		t.Fatal(err)
	}
	if got := schemaOf(t, db); got != after {
		t.Fatalf("schema after 000013 up again differs:\n%s\n--- first up ---\n%s", got, after)
	}
	if n := count(t, db, `SELECT count(*) FROM alerts WHERE source = 'flow'`); n != 2 {
		t.Fatalf("%d flow alerts after down and up, want 2", n)
	}

	if _, err := storage.NewChainHunt(db.Pool).Commit(ctx, chainhunt.Checkpoint{ChainID: 1337}, chainAlerts(1)); err != nil {
		t.Fatal(err)
	}
	if err := m.To(12); err == nil {
		t.Fatal("000013 went down over chain alerts")
	}
	if got := schemaOf(t, db); got != after {
		t.Fatal("a failed 000013 down changed the schema")
	}
}

// One hunter per database: a second instance's TryLock fails with
// ErrLockHeld while the first holds the lock, and takes it once the first
// releases it; the anchoring lock is another lock.
func TestChainHuntLockIsExclusive(t *testing.T) {
	ctx := context.Background()
	db := pgtest.DB(t)
	a, b := storage.NewChainHunt(db.Pool), storage.NewChainHunt(db.Pool)
	la, err := a.TryLock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.TryLock(ctx); !errors.Is(err, anchor.ErrLockHeld) {
		t.Fatalf("a second hunter's lock while the first holds it: %v, want ErrLockHeld", err)
	}
	anchoring, err := storage.NewOutbox(db.Pool).TryLock(ctx)
	if err != nil {
		t.Fatalf("the anchoring lock beside the hunting lock: %v", err)
	}
	anchoring.Release()
	select {
	case <-la.Lost():
		t.Fatal("the lease reads lost while held")
	default:
	}
	la.Release()
	lb, err := b.TryLock(ctx)
	if err != nil {
		t.Fatalf("the lock after the first released it: %v", err)
	}
	lb.Release()
}

// A hunter that lost its lock must not commit any more: its last commit
// (Run commits what it processed when its context ends, and serve ends it
// when the lease is lost) would replace the checkpoint and the accounts of
// the instance that took the lock meanwhile and resumed from the older
// checkpoint, which then counts the blocks in between a second time.
func TestChainHuntCommitAfterLockLostIsRefused(t *testing.T) {
	ctx := context.Background()
	db := pgtest.DB(t)
	a, b := storage.NewChainHunt(db.Pool), storage.NewChainHunt(db.Pool)
	la, err := a.TryLock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	acct := common.HexToAddress("0x01")
	cp := func(n uint64, state string) chainhunt.Checkpoint {
		return chainhunt.Checkpoint{ChainID: 1337, Blocks: []chainhunt.BlockRef{{Number: n, Hash: common.HexToHash(fmt.Sprintf("0x%x", n))}},
			Accounts: map[common.Address][]byte{acct: []byte(state)}, State: []byte(state)}
	}
	if _, err := a.Commit(ctx, cp(10, "a10"), nil); err != nil {
		t.Fatal(err)
	}
	la.Release() // as if its session died: the lock is free
	lb, err := b.TryLock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lb.Release()
	// a, stalled, wakes and commits what it processed since.
	if _, err := a.Commit(ctx, cp(20, "a20"), chainAlerts(1)); !errors.Is(err, anchor.ErrLockLost) {
		t.Fatalf("a commit after the lock was taken by another hunter: %v, want ErrLockLost", err)
	}
	got, _, err := b.Checkpoint(ctx, 1337)
	if err != nil {
		t.Fatal(err)
	}
	if string(got.State) != "a10" {
		t.Fatalf("checkpoint state %q after a fenced-off commit, want a10", got.State)
	}
	accts, err := b.Accounts(ctx, 1337, []common.Address{acct})
	if err != nil {
		t.Fatal(err)
	}
	if string(accts[acct]) != "a10" {
		t.Fatalf("account %q after a fenced-off commit, want a10", accts[acct])
	}
	if n := count(t, db, `SELECT count(*) FROM alerts WHERE source = 'chain'`); n != 0 {
		t.Fatalf("%d alerts stored by a fenced-off commit", n)
	}
	if _, err := b.Commit(ctx, cp(11, "b11"), nil); err != nil {
		t.Fatalf("the new holder's commit: %v", err)
	}
}

// A rule's body names no model (chainhunt.NewBody), so its row must name
// none either, even when the alert handed to Commit carries a model id:
// otherwise the stored alert reads as a changed row and never verifies.
func TestChainHuntRuleAlertRowMatchesBody(t *testing.T) {
	ctx := context.Background()
	db := pgtest.DB(t)
	a := chainAlerts(1)[0] // a rule
	a.ModelID, a.ModelVersion = "stray", "v9"
	cp := chainhunt.Checkpoint{ChainID: 1337, Blocks: []chainhunt.BlockRef{{Number: 100, Hash: a.BlockHash}}, State: []byte("s")}
	if _, err := storage.NewChainHunt(db.Pool).Commit(ctx, cp, []chainhunt.Alert{a}); err != nil {
		t.Fatal(err)
	}
	d, err := db.GetAlert(ctx, a.ID())
	if err != nil {
		t.Fatal(err)
	}
	if diff := d.RowMismatch(); len(diff) > 0 {
		t.Fatalf("a rule alert's row differs from its body in %v", diff)
	}
}
