//go:build integration

package storage_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/google/uuid"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/detector"
	"github.com/idsledger/idsledger/federated"
	"github.com/idsledger/idsledger/federated/coordinator"
	"github.com/idsledger/idsledger/federated/coordinator/coordinatortest"
	"github.com/idsledger/idsledger/storage"
	"github.com/idsledger/idsledger/storage/pgtest"
)

// fedEnv is a Federation on a fresh database, for the Store contract tests.
func fedEnv(t *testing.T) coordinatortest.Env {
	db := pgtest.DB(t)
	return coordinatortest.Env{
		Store:   storage.NewFederation(db.Pool),
		NewKey:  func(t *testing.T) uuid.UUID { return flNodeKey(t, db) },
		Records: func(t *testing.T) []coordinator.Record { return outboxRecords(t, db) },
	}
}

func flNodeKey(t *testing.T, db *storage.DB) uuid.UUID {
	t.Helper()
	_, k, err := db.CreateAPIKey(context.Background(), storage.KeySpec{Name: "site", Role: storage.RoleFLNode}, "test")
	if err != nil {
		t.Fatal(err)
	}
	return k.ID
}

// outboxRecords returns every record the federation appended (all but the
// audit events of the fl-node keys the fixture creates) in seq order,
// checking that each waits in the outbox under its kind and with the leaf
// of its body.
func outboxRecords(t *testing.T, db *storage.DB) []coordinator.Record {
	t.Helper()
	rows, err := db.Pool.Query(context.Background(), `
		SELECT r.id, r.kind, r.body, r.leaf_hash, o.kind, o.leaf_hash
		FROM records r LEFT JOIN outbox o ON o.id = r.id
		WHERE NOT (r.kind = 'audit_event' AND coalesce(convert_from(r.body, 'UTF8')::jsonb->>'action', '') LIKE 'apikey.%')
		ORDER BY r.seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []coordinator.Record
	for rows.Next() {
		var (
			r                coordinator.Record
			leaf, outboxLeaf []byte
			outboxKind       *string
		)
		if err := rows.Scan(&r.ID, &r.Kind, &r.Body, &leaf, &outboxKind, &outboxLeaf); err != nil {
			t.Fatal(err)
		}
		want := anchor.LeafHash(r.Body)
		if outboxKind == nil || *outboxKind != r.Kind || !bytes.Equal(leaf, want[:]) || !bytes.Equal(outboxLeaf, want[:]) {
			t.Fatalf("record %s (%s) is not pending in the outbox with its body's leaf", r.ID, r.Kind)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// The PostgreSQL store passes the contract tests the in-memory one does.
func TestFederationStore(t *testing.T) {
	coordinatortest.TestStore(t, fedEnv)
}

// Only keys that exist bind a site.
func TestFederationUnknownKey(t *testing.T) {
	ctx := context.Background()
	db := pgtest.DB(t)
	f := storage.NewFederation(db.Pool)
	s := coordinator.Site{Address: common.HexToAddress("0x01"), Name: "a", KeyID: uuid.New(), EnrolledAt: time.Now().UTC()}
	ev := coordinator.Record{ID: uuid.New(), Kind: "audit_event", Body: []byte(`{}`)}
	if err := f.PutSite(ctx, s, ev); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a site with an unknown key: %v, want ErrNotFound", err)
	}
	if sites, err := f.Sites(ctx); err != nil || len(sites) != 0 {
		t.Fatalf("sites: %v %v", sites, err)
	}
	if recs := outboxRecords(t, db); len(recs) != 0 {
		t.Fatalf("records: %v", recs)
	}
}

// Rounds opened at once: the one-current-round index lets exactly one in.
func TestFederationOneRoundAtATime(t *testing.T) {
	ctx := context.Background()
	db := pgtest.DB(t)
	f := storage.NewFederation(db.Pool)
	base := detector.ModelID([]byte("base"))
	now := time.Now().UTC().Truncate(time.Microsecond)
	const n = 6
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r := federated.Round{Number: uint64(i + 1), BaseModelID: base, Dim: 1, Opened: now, Deadline: now.Add(time.Minute), State: federated.StateOpen,
				Policy: federated.Policy{Rule: federated.Rule{Kind: federated.RuleFedAvg}}}
			errs[i] = f.OpenRound(ctx, r, coordinator.Record{ID: uuid.New(), Kind: "audit_event", Body: fmt.Appendf(nil, `{"i":%d}`, i)})
		})
	}
	wg.Wait()
	opened := 0
	for i, err := range errs {
		switch {
		case err == nil:
			opened++
		case !errors.Is(err, coordinator.ErrRoundOpen):
			t.Fatalf("round %d: %v, want nil or ErrRoundOpen", i+1, err)
		}
	}
	if opened != 1 {
		t.Fatalf("%d rounds opened at once", opened)
	}
	if recs := outboxRecords(t, db); len(recs) != 1 {
		t.Fatalf("%d records for one opened round", len(recs))
	}
}

// A database that cannot be reached gives ErrUnavailable, reads and
// writes alike.
func TestFederationUnavailable(t *testing.T) {
	ctx := context.Background()
	db, err := storage.Open(ctx, "postgres://nobody@127.0.0.1:1/none?sslmode=disable", storage.Options{ConnectTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	f := storage.NewFederation(db.Pool)
	ev := coordinator.Record{ID: uuid.New(), Kind: "audit_event", Body: []byte(`{}`)}
	for name, call := range map[string]func() error{
		"CurrentRound":     func() error { _, err := f.CurrentRound(ctx); return err },
		"Sites":            func() error { _, err := f.Sites(ctx); return err },
		"Accountant":       func() error { _, err := f.Accountant(ctx); return err },
		"NextModelVersion": func() error { _, err := f.NextModelVersion(ctx); return err },
		"AddEvent":         func() error { return f.AddEvent(ctx, ev) },
		"SaveRound":        func() error { return f.SaveRound(ctx, federated.Round{Number: 1, State: federated.StateOpen}) },
		"ActiveModel":      func() error { _, _, err := db.ActiveModel(ctx); return err },
	} {
		if err := call(); !errors.Is(err, storage.ErrUnavailable) {
			t.Errorf("%s: %v, want ErrUnavailable", name, err)
		}
	}
}

// A model swap survives a restart: the model, its version label and its
// audit event are stored together.
func TestActiveModelPersists(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	open := func() *storage.DB {
		db, err := storage.Open(ctx, url, storage.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(db.Close)
		return db
	}
	db := open()
	if _, ok, err := db.ActiveModel(ctx); err != nil || ok {
		t.Fatalf("active model of a new database: ok %v, %v", ok, err)
	}
	model := func(file string) coordinator.ModelFile {
		return coordinator.ModelFile{ID: detector.ModelID([]byte(file)), Kind: "autoencoder", File: []byte(file)}
	}
	a, b := model("model a"), model("model b")
	if _, err := db.ActivateModel(ctx, a, "v1", "admin-key", ""); err != nil {
		t.Fatal(err)
	}
	evB, err := db.ActivateModel(ctx, b, "v2", "coordinator", "round 3 policy")
	if err != nil {
		t.Fatal(err)
	}

	db.Close()
	db = open() // as a restarted service
	got, ok, err := db.ActiveModel(ctx)
	if err != nil || !ok {
		t.Fatalf("active model after a restart: ok %v, %v", ok, err)
	}
	if got.Model.ID != b.ID || !bytes.Equal(got.Model.File, b.File) || got.Model.Kind != b.Kind || got.Version != "v2" ||
		got.Actor != "coordinator" || got.EventID != evB || got.ActivatedAt.IsZero() || got.Model.CreatedAt != got.ActivatedAt {
		t.Fatalf("active model after a restart: %+v", got)
	}
	rec, err := storage.NewOutbox(db.Pool).Record(ctx, anchor.RecordID(evB))
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf(`{"action":"model.activate","actor":"coordinator","at":"%s","model":{"id":"%s","version":"v2"},"reason":"round 3 policy","type":"audit_event"}`,
		got.ActivatedAt.Format(time.RFC3339Nano), b.ID)
	if rec.Kind != "audit_event" || string(rec.Body) != want {
		t.Fatalf("activation event: %s %s\nwant %s", rec.Kind, rec.Body, want)
	}

	// Both models stay stored, for the coordinator (a round's base model is
	// the serving one) and for activating a again, which stores nothing new.
	f := storage.NewFederation(db.Pool)
	if ms, err := f.Models(ctx); err != nil || len(ms) != 2 || ms[0].ID != b.ID || ms[1].ID != a.ID {
		t.Fatalf("models: %+v %v", ms, err)
	}
	if _, err := db.ActivateModel(ctx, a, "v1", "admin-key", ""); err != nil {
		t.Fatal(err)
	}
	if got, _, err := db.ActiveModel(ctx); err != nil || got.Model.ID != a.ID || got.Version != "v1" || got.Actor != "admin-key" {
		t.Fatalf("active model after activating a again: %+v %v", got, err)
	}
	if ms, err := f.Models(ctx); err != nil || len(ms) != 2 {
		t.Fatalf("models after activating a again: %d %v", len(ms), err)
	}

	// A file that is not its id changes nothing and records nothing.
	bad := model("model c")
	bad.ID = a.ID[:63] + "0"
	if bad.ID == a.ID {
		bad.ID = a.ID[:63] + "1"
	}
	before := len(outboxRecords(t, db))
	if _, err := db.ActivateModel(ctx, bad, "v3", "admin-key", ""); err == nil {
		t.Fatal("a model whose id is not its file's hash was activated")
	}
	if got, _, _ := db.ActiveModel(ctx); got.Model.ID != a.ID {
		t.Fatalf("active model after a refused activation: %s", got.Model.ID)
	}
	if n := len(outboxRecords(t, db)); n != before {
		t.Fatalf("a refused activation left %d records", n-before)
	}
}

// Migration 000006 goes down to exactly the schema before it and up again,
// with federation rows stored; a ledger holding fl_round records cannot go
// down (it would lose them) and stays as it was.
func TestFederationMigrationDownUp(t *testing.T) {
	ctx := context.Background()
	m, db := migratorOnEmpty(t)
	schema := func() string { return schemaOf(t, db) }
	if err := m.To(5); err != nil {
		t.Fatal(err)
	}
	before := schema()
	if err := m.To(6); err != nil {
		t.Fatal(err)
	}
	after := schema()
	if after == before {
		t.Fatal("migration 000006 changed nothing")
	}

	// Rows in every kind of table the down drops.
	f := storage.NewFederation(db.Pool)
	now := time.Now().UTC().Truncate(time.Microsecond)
	// The key as schema 6 stores one (later migrations add columns).
	keyID := uuid.New()
	if _, err := db.Pool.Exec(ctx, `INSERT INTO api_keys (id, name, role, prefix, secret_hash) VALUES ($1, 'site', 'fl-node', 'idsl_0123456789ab', sha256('k'))`, keyID); err != nil {
		t.Fatal(err)
	}
	site := coordinator.Site{Address: common.HexToAddress("0x0a"), Name: "a", KeyID: keyID, EnrolledAt: now}
	if err := f.PutSite(ctx, site, coordinator.Record{ID: uuid.New(), Kind: "audit_event", Body: []byte(`{"e":1}`)}); err != nil {
		t.Fatal(err)
	}
	r := federated.Round{Number: 1, BaseModelID: detector.ModelID([]byte("base")), Dim: 1, Opened: now, Deadline: now.Add(time.Minute), State: federated.StateOpen,
		Policy: federated.Policy{Rule: federated.Rule{Kind: federated.RuleFedAvg}}}
	if err := f.OpenRound(ctx, r, coordinator.Record{ID: uuid.New(), Kind: "audit_event", Body: []byte(`{"e":2}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ActivateModel(ctx, coordinator.ModelFile{ID: detector.ModelID([]byte("m")), Kind: "mlp", File: []byte("m")}, "v1", "admin", ""); err != nil {
		t.Fatal(err)
	}
	records := len(outboxRecords(t, db))

	if err := m.To(5); err != nil {
		t.Fatal(err)
	}
	if got := schema(); got != before {
		t.Fatalf("schema after 000006 down differs from before it:\n%s\n--- before ---\n%s", got, before)
	}
	if n := len(outboxRecords(t, db)); n != records {
		t.Fatalf("going down lost records: %d of %d", n, records)
	}
	if err := m.To(6); err != nil {
		t.Fatal(err)
	}
	if got := schema(); got != after {
		t.Fatalf("schema after 000006 up again differs:\n%s\n--- first up ---\n%s", got, after)
	}

	if err := storage.AppendRecordsWithIDs(ctx, db.Pool, "fl_round", []uuid.UUID{uuid.New()}, [][]byte{[]byte(`{"round":1}`)}); err != nil {
		t.Fatal(err)
	}
	if err := m.To(5); err == nil {
		t.Fatal("000006 went down over fl_round records")
	}
	if got := schema(); got != after {
		t.Fatal("a failed 000006 down changed the schema")
	}
}
