package storage

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

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
	err = q.QueryRow(ctx, appendRecordsSQL+" RETURNING seq",
		kind, []uuid.UUID{id}, [][]byte{canonical}, [][]byte{leaf[:]}).Scan(&seq)
	if err != nil {
		return uuid.Nil, 0, fmt.Errorf("append %s record: %w", kind, err)
	}
	return id, seq, nil
}

// Execer runs a statement; *pgxpool.Pool, *pgxpool.Conn, *pgx.Conn and
// pgx.Tx all satisfy it.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// AppendRecords adds records of one kind to the outbox as pending, in slice
// order (their seq follows it), with one statement, and returns their new
// ids (UUIDv7). canonical[i] must be the RFC 8785 form of the i-th body; its
// leaf is computed here, so a stored leaf always matches its body. Run it
// inside the caller's transaction to make the records part of a larger
// change, or see QueueRecords.
func AppendRecords(ctx context.Context, q Execer, kind string, canonical [][]byte) ([]uuid.UUID, error) {
	return appendRecords(ctx, q, kind, nil, canonical)
}

// AppendRecordsWithIDs is AppendRecords for records whose ids the caller
// made, because each body names its own id (the federation coordinator's
// records): ids[i] is the i-th record's. An id already taken fails the
// statement with a unique violation of records_pkey, and the caller's
// transaction with it.
func AppendRecordsWithIDs(ctx context.Context, q Execer, kind string, ids []uuid.UUID, canonical [][]byte) error {
	if len(ids) != len(canonical) {
		return fmt.Errorf("append %s records: %d ids for %d bodies", kind, len(ids), len(canonical))
	}
	_, err := appendRecords(ctx, q, kind, ids, canonical)
	return err
}

// appendRecords runs appendRecordsSQL; nil ids get new ones.
func appendRecords(ctx context.Context, q Execer, kind string, ids []uuid.UUID, canonical [][]byte) ([]uuid.UUID, error) {
	ids, args, err := appendRecordsArgs(kind, ids, canonical)
	if err != nil {
		return nil, err
	}
	if _, err := q.Exec(ctx, appendRecordsSQL, args...); err != nil {
		return nil, fmt.Errorf("append %d %s records: %w", len(canonical), kind, classify(err))
	}
	return ids, nil
}

// QueueRecords is AppendRecords as one statement of a batch: the records
// are stored when the batch runs (and with it, as one transaction, when it
// has no transaction statements of its own). ids are the records' ids;
// nil gives each a new UUIDv7.
func QueueRecords(b *pgx.Batch, kind string, ids []uuid.UUID, canonical [][]byte) ([]uuid.UUID, error) {
	ids, args, err := appendRecordsArgs(kind, ids, canonical)
	if err != nil {
		return nil, err
	}
	b.Queue(appendRecordsSQL, args...)
	return ids, nil
}

// appendRecordsSQL inserts records in the order of its arrays, so that seq
// (an identity column, numbered as rows are inserted) follows it, and puts
// each in the outbox (migration 000005). It is the one statement that adds
// records: AppendRecord appends RETURNING seq to it.
const appendRecordsSQL = insertRecordsSQL + outboxRecordsSQL

// appendNewRecordsSQL is appendRecordsSQL for records whose ids say what
// they are (a chain alert's id is derived from its finding): a record
// whose id is already stored is skipped, not an error, and the statement
// returns the ids of the records it added. It takes appendRecordsArgs.
const appendNewRecordsSQL = insertRecordsSQL + ` ON CONFLICT (id) DO NOTHING` + outboxRecordsSQL + ` RETURNING id`

// insertRecordsSQL and outboxRecordsSQL are the two halves of
// appendRecordsSQL, between which a conflict clause may go.
const (
	insertRecordsSQL = `
	WITH r AS (
		INSERT INTO records (id, kind, body, leaf_hash)
		SELECT u.id, $1, u.body, u.leaf
		FROM unnest($2::uuid[], $3::bytea[], $4::bytea[]) WITH ORDINALITY AS u(id, body, leaf, ord)
		ORDER BY u.ord`
	outboxRecordsSQL = `
		RETURNING id, seq, kind, leaf_hash, created_at)
	INSERT INTO outbox (id, seq, kind, leaf_hash, created_at) SELECT * FROM r`
)

// appendRecordsArgs are appendRecordsSQL's arguments: the records' ids
// (new UUIDv7s when ids is nil) and leaves.
func appendRecordsArgs(kind string, ids []uuid.UUID, canonical [][]byte) ([]uuid.UUID, []any, error) {
	if ids == nil {
		ids = make([]uuid.UUID, len(canonical))
		for i := range ids {
			id, err := uuid.NewV7()
			if err != nil {
				return nil, nil, fmt.Errorf("new record id: %w", err)
			}
			ids[i] = id
		}
	}
	leaves := make([][]byte, len(canonical))
	for i, c := range canonical {
		leaf := anchor.LeafHash(c)
		leaves[i] = leaf[:]
	}
	return ids, []any{kind, ids, canonical, leaves}, nil
}
