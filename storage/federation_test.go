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
	_, k, err := db.CreateAPIKey(context.Background(), "site", storage.RoleFLNode)
	if err != nil {
		t.Fatal(err)
	}
	return k.ID
}

// outboxRecords returns every record in seq order, checking that each
// waits in the outbox under its kind and with the leaf of its body.
func outboxRecords(t *testing.T, db *storage.DB) []coordinator.Record {
	t.Helper()
	rows, err := db.Pool.Query(context.Background(), `
		SELECT r.id, r.kind, r.body, r.leaf_hash, o.kind, o.leaf_hash
		FROM records r LEFT JOIN outbox o ON o.id = r.id ORDER BY r.seq`)
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
	} {
		if err := call(); !errors.Is(err, storage.ErrUnavailable) {
			t.Errorf("%s: %v, want ErrUnavailable", name, err)
		}
	}
}
