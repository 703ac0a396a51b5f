package storage

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/idsledger/idsledger/anchor"
)

// RowQuerier runs a query that returns one row; *pgxpool.Pool,
// *pgxpool.Conn, *pgx.Conn and pgx.Tx all satisfy it.
type RowQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// AppendRecord adds a record to the outbox as pending and returns its new
// id (UUIDv7) and its seq (arrival order). canonical must be the record's
// RFC 8785 form and leaf its anchor.LeafHash; they are stored as given.
// Run it inside the caller's transaction to make the record part of a
// larger change.
func AppendRecord(ctx context.Context, q RowQuerier, kind string, canonical []byte, leaf [32]byte) (uuid.UUID, int64, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.Nil, 0, fmt.Errorf("new record id: %w", err)
	}
	var seq int64
	err = q.QueryRow(ctx, `INSERT INTO records (id, kind, body, leaf_hash) VALUES ($1, $2, $3, $4) RETURNING seq`,
		[16]byte(id), kind, canonical, leaf[:]).Scan(&seq)
	if err != nil {
		return uuid.Nil, 0, fmt.Errorf("append %s record: %w", kind, err)
	}
	return id, seq, nil
}

// CopyFromer is the bulk-copy half of a connection; *pgxpool.Pool,
// *pgxpool.Conn, *pgx.Conn and pgx.Tx all satisfy it.
type CopyFromer interface {
	CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, rows pgx.CopyFromSource) (int64, error)
}

// AppendRecords adds records of one kind to the outbox as pending, in slice
// order (their seq follows it), with one COPY, and returns their new ids
// (UUIDv7). canonical[i] must be the RFC 8785 form of the i-th body; its leaf
// is computed here, so a stored leaf always matches its body. Run it inside
// the caller's transaction to make the records part of a larger change.
func AppendRecords(ctx context.Context, q CopyFromer, kind string, canonical [][]byte) ([]uuid.UUID, error) {
	ids := make([]uuid.UUID, len(canonical))
	rows := make([][]any, len(canonical))
	for i, c := range canonical {
		id, err := uuid.NewV7()
		if err != nil {
			return nil, fmt.Errorf("new record id: %w", err)
		}
		leaf := anchor.LeafHash(c)
		ids[i] = id
		rows[i] = []any{[16]byte(id), kind, c, leaf[:]}
	}
	if _, err := q.CopyFrom(ctx, pgx.Identifier{"records"}, []string{"id", "kind", "body", "leaf_hash"}, pgx.CopyFromRows(rows)); err != nil {
		return nil, fmt.Errorf("append %d %s records: %w", len(canonical), kind, classify(err))
	}
	return ids, nil
}
