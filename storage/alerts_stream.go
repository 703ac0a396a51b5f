package storage

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// StreamPos is a place in the order alerts became visible: the
// transaction that inserted an alert (its xid8), then its id. The live
// stream follows this order rather than observed_at, which is the sensor's
// clock and says nothing about when a row commits.
type StreamPos struct {
	txid uint64
	id   uuid.UUID
}

// StreamFrom returns where a stream starts: just after the alert a cursor
// names (any listing or stream cursor carries its alert's id), or, for a
// nil cursor, now: every alert committed before this call is behind the
// position, every later one (including those of transactions running now)
// ahead. A cursor naming no stored alert is ErrNotFound.
func (db *DB) StreamFrom(ctx context.Context, after *AlertCursor) (StreamPos, error) {
	var txid string
	var id uuid.UUID
	var err error
	if after == nil {
		err = db.Pool.QueryRow(ctx, `SELECT pg_snapshot_xmin(pg_current_snapshot())::text`).Scan(&txid)
	} else {
		id = after.ID
		err = db.Pool.QueryRow(ctx, `SELECT txid::text FROM alerts WHERE id = $1`, after.ID).Scan(&txid)
	}
	if err != nil {
		return StreamPos{}, fmt.Errorf("stream position: %w", classify(err))
	}
	n, err := strconv.ParseUint(txid, 10, 64)
	if err != nil {
		return StreamPos{}, fmt.Errorf("stream position: txid %q: %w", txid, err)
	}
	if after == nil {
		// Everything of transaction xmin and later is ahead: xmin itself
		// is still running, so none of its alerts is visible yet.
		return StreamPos{txid: n - 1, id: maxUUID}, nil
	}
	return StreamPos{txid: n, id: id}, nil
}

var maxUUID = uuid.UUID{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// StreamAlerts returns up to limit alerts matching f (its After and
// Ascending are ignored) after pos in commit order, and the position after
// the last one returned (pos itself when none). It returns only alerts of
// transactions older than every transaction still running, so an alert
// whose transaction commits late is returned late, never skipped.
func (db *DB) StreamAlerts(ctx context.Context, f AlertFilter, pos StreamPos, limit int) ([]Alert, StreamPos, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	where, args, arg, err := f.conditions()
	if err != nil {
		return nil, pos, err
	}
	where = append(where,
		"(a.txid, a.id) > ("+arg(strconv.FormatUint(pos.txid, 10))+"::text::xid8, "+arg(pos.id)+"::uuid)",
		"a.txid < pg_snapshot_xmin(pg_current_snapshot())")
	cols := alertColumns
	if f.WithFeatures {
		cols += ", r.body"
	}
	q := "SELECT " + cols + ", a.txid::text" + alertFrom + " WHERE " + strings.Join(where, " AND ") +
		" ORDER BY a.txid, a.id LIMIT " + arg(limit)
	out, txids, err := db.queryAlerts(ctx, q, *args, f.WithFeatures, true)
	if err != nil {
		return nil, pos, fmt.Errorf("stream alerts: %w", err)
	}
	if len(out) == 0 {
		return nil, pos, nil
	}
	last, err := strconv.ParseUint(txids[len(txids)-1], 10, 64)
	if err != nil {
		return nil, pos, errors.New("stream alerts: malformed txid")
	}
	return out, StreamPos{txid: last, id: out[len(out)-1].ID}, nil
}
