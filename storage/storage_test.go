//go:build integration

package storage_test

import (
	"encoding/json"
	"strings"

	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/storage"
	"github.com/idsledger/idsledger/storage/pgtest"
)

// Migrations must apply from nothing, revert completely and apply again.
func TestMigrationsUpDownUp(t *testing.T) {
	u := pgtest.EmptyURL(t)
	m, err := storage.NewMigrator(u)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	tables := func() int {
		db, err := storage.Open(context.Background(), u, storage.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var n int
		if err := db.Pool.QueryRow(context.Background(),
			`SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'schema_migrations'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if err := m.Up(); err != nil {
		t.Fatal(err)
	}
	v, dirty, err := m.Version()
	if err != nil || dirty || v == 0 {
		t.Fatalf("after up: version %d dirty %v err %v", v, dirty, err)
	}
	up := tables()
	if up < 4 {
		t.Fatalf("after up: %d tables, want at least 4", up)
	}
	if err := m.Down(0); err != nil {
		t.Fatal(err)
	}
	if n := tables(); n != 0 {
		t.Fatalf("after down: %d tables left", n)
	}
	if v, _, _ := m.Version(); v != 0 {
		t.Fatalf("after down: version %d, want 0", v)
	}
	if err := m.Up(); err != nil {
		t.Fatal(err)
	}
	if n := tables(); n != up {
		t.Fatalf("after up again: %d tables, want %d", n, up)
	}
	// Up with nothing to do is not an error.
	if err := m.Up(); err != nil {
		t.Fatal(err)
	}
}

func TestAPIKeyLifecycle(t *testing.T) {
	ctx := context.Background()
	db := pgtest.DB(t)
	clear, k, err := db.CreateAPIKey(ctx, storage.KeySpec{Name: "sensor-1", Role: storage.RoleIngest}, "test")
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.AuthenticateAPIKey(ctx, clear)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != k.ID || got.Role != storage.RoleIngest || got.Name != "sensor-1" {
		t.Fatalf("authenticated %+v, want %+v", got, k)
	}
	// The clear key is never stored.
	var n int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM api_keys WHERE secret_hash::text LIKE '%' || $1 || '%' OR prefix = $2`,
		clear[len(k.Prefix)+1:], clear).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatal("the clear key is stored")
	}
	// A key with the right prefix but a wrong secret fails.
	wrong := clear[:len(clear)-1] + string("0123456789abcdef"[(int(clear[len(clear)-1])+1)%16])
	if _, err := db.AuthenticateAPIKey(ctx, wrong); !errors.Is(err, storage.ErrBadKey) {
		t.Fatalf("wrong secret: %v, want ErrBadKey", err)
	}
	for _, bad := range []string{"", "idsl_", "Bearer " + clear, clear + "0", "idsl_zzzzzzzzzzzz_" + clear[18:]} {
		if _, err := db.AuthenticateAPIKey(ctx, bad); !errors.Is(err, storage.ErrBadKey) {
			t.Fatalf("malformed %q: %v, want ErrBadKey", bad, err)
		}
	}
	r1, err := db.RevokeAPIKey(ctx, k.Prefix, "test")
	if err != nil || r1.RevokedAt == nil {
		t.Fatalf("revoke: %+v %v", r1, err)
	}
	r2, err := db.RevokeAPIKey(ctx, k.ID.String(), "test")
	if err != nil || !r2.RevokedAt.Equal(*r1.RevokedAt) {
		t.Fatalf("second revoke changed the time: %v %v", r2.RevokedAt, err)
	}
	if _, err := db.AuthenticateAPIKey(ctx, clear); !errors.Is(err, storage.ErrBadKey) {
		t.Fatalf("revoked key: %v, want ErrBadKey", err)
	}
	if _, err := db.RevokeAPIKey(ctx, "idsl_000000000000", "test"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("revoke unknown: %v, want ErrNotFound", err)
	}
	keys, err := db.ListAPIKeys(ctx)
	if err != nil || len(keys) != 1 || keys[0].RevokedAt == nil {
		t.Fatalf("list: %+v %v", keys, err)
	}
	if _, _, err := db.CreateAPIKey(ctx, storage.KeySpec{Name: "x", Role: storage.Role("root")}, "test"); err == nil {
		t.Fatal("unknown role accepted")
	}
	// The creation and the one revocation that changed the key are anchored
	// audit events naming the key and the actor, never its secret.
	rows, err := db.Pool.Query(ctx, `SELECT convert_from(body, 'UTF8') FROM records WHERE kind = 'audit_event' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	events, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 {
		t.Fatalf("%d audit events, want a create and one revoke: %q", len(events), events)
	}
	for i, action := range []string{"apikey.create", "apikey.revoke"} {
		var ev storage.AuditEvent
		if err := json.Unmarshal([]byte(events[i]), &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Action != action || ev.Actor != "test" || ev.Key == nil || ev.Key.ID != k.ID || ev.Key.Prefix != k.Prefix {
			t.Fatalf("event %d: %s", i, events[i])
		}
		if strings.Contains(events[i], clear[len(k.Prefix)+1:]) {
			t.Fatalf("event %d carries the secret: %s", i, events[i])
		}
	}
}

// A stopped database gives ErrUnavailable, and the pool recovers by itself
// once the database is back.
func TestUnavailableAndRecovery(t *testing.T) {
	ctx := context.Background()
	c := pgtest.StartCluster(t)
	db, err := storage.Open(ctx, c.URL, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	c.Stop(t)
	if err := db.Ping(ctx); !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("ping with the database stopped: %v, want ErrUnavailable", err)
	}
	c.Start(t)
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := db.WaitReady(wctx, 200*time.Millisecond, nil); err != nil {
		t.Fatalf("no recovery after restart: %v", err)
	}
}

// Migration 000005 moves each record's anchoring state out of records and
// back: down and up again must keep which records are anchored, in which
// batch and at which leaf, and which are still pending.
func TestAppendOnlyMigrationKeepsAnchoringState(t *testing.T) {
	ctx := context.Background()
	u := pgtest.EmptyURL(t)
	m, err := storage.NewMigrator(u)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.Up(); err != nil {
		t.Fatal(err)
	}
	open := func() *storage.DB {
		db, err := storage.Open(ctx, u, storage.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(db.Close)
		return db
	}
	db := open()
	ids, err := storage.AppendRecords(ctx, db.Pool, "alert", [][]byte{[]byte(`{"i":0}`), []byte(`{"i":1}`), []byte(`{"i":2}`), []byte(`{"i":3}`), []byte(`{"i":4}`)})
	if err != nil {
		t.Fatal(err)
	}
	o := storage.NewOutbox(db.Pool)
	pend, err := o.Pending(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	lease, err := o.TryLock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bs, err := o.Prepare(ctx, lease.Fence(), []anchor.BatchPlan{{Mode: anchor.ModeBatch, Kind: 1, Root: anchor.Hash{1}, Records: pend}})
	if err != nil {
		t.Fatal(err)
	}
	batch := bs[0].ID
	if err := o.Confirm(ctx, lease.Fence(), []anchor.Confirmation{{BatchID: batch, Inclusion: anchor.Inclusion{BlockNumber: 1}, RecordIDs: bs[0].RecordIDs}}); err != nil {
		t.Fatal(err)
	}
	lease.Release()
	db.Close()

	if err := m.To(4); err != nil { // before 000005
		t.Fatal(err)
	}
	db = open()
	rows, err := db.Pool.Query(ctx, `SELECT id, status, batch_id, leaf_index FROM records ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	i := 0
	for rows.Next() {
		var (
			id     [16]byte
			status string
			bid    *int64
			leaf   *int32
		)
		if err := rows.Scan(&id, &status, &bid, &leaf); err != nil {
			t.Fatal(err)
		}
		anchored := i < 3
		if id != ids[i] || (status == "anchored") != anchored || (bid != nil) != anchored ||
			(anchored && (*bid != int64(batch) || *leaf != int32(i))) {
			t.Fatalf("after down, record %d: status %s batch %v leaf %v", i, status, bid, leaf)
		}
		i++
	}
	if rows.Err() != nil || i != 5 {
		t.Fatalf("after down: %d records, %v", i, rows.Err())
	}
	db.Close()

	if err := m.Up(); err != nil {
		t.Fatal(err)
	}
	db = open()
	o = storage.NewOutbox(db.Pool)
	for i, id := range ids {
		r, err := o.Record(ctx, anchor.RecordID(id))
		if err != nil {
			t.Fatal(err)
		}
		if want := map[bool]string{true: "anchored", false: "pending"}[i < 3]; r.Status != want || (i < 3 && (r.BatchID != batch || r.LeafIndex != i)) {
			t.Fatalf("after up again, record %d: %+v", i, r)
		}
	}
	if pend, err := o.Pending(ctx, 10); err != nil || len(pend) != 2 || pend[0].ID != anchor.RecordID(ids[3]) {
		t.Fatalf("after up again, pending: %+v %v", pend, err)
	}
}
