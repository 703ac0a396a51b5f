//go:build integration

package storage_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/idsledger/idsledger/storage"
	"github.com/idsledger/idsledger/storage/pgtest"
)

// InsertAlerts relies on a batch without transaction statements running as
// one implicit transaction: when a later statement fails, the records an
// earlier one appended must not stay.
func TestBatchIsAllOrNothing(t *testing.T) {
	db := pgtest.DB(t)
	ctx := context.Background()
	b := &pgx.Batch{}
	if _, err := storage.QueueRecords(b, "alert", nil, [][]byte{[]byte(`{"a":1}`), []byte(`{"a":2}`)}); err != nil {
		t.Fatal(err)
	}
	b.Queue(`SELECT 1 / 0`)
	if err := db.Pool.SendBatch(ctx, b).Close(); err == nil {
		t.Fatal("the batch succeeded; want division by zero")
	}
	var n int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM records`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d records stored by a failed batch, want 0", n)
	}

	// And without the failure both are stored, in order.
	b = &pgx.Batch{}
	ids, err := storage.QueueRecords(b, "alert", nil, [][]byte{[]byte(`{"a":1}`), []byte(`{"a":2}`), []byte(`{"a":3}`)})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Pool.SendBatch(ctx, b).Close(); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Pool.Query(ctx, `SELECT id FROM records ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[[16]byte])
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(ids) {
		t.Fatalf("%d records, want %d", len(got), len(ids))
	}
	for i := range ids {
		if got[i] != [16]byte(ids[i]) {
			t.Fatalf("record %d in seq order is %x, want %x", i, got[i], ids[i])
		}
	}
}
