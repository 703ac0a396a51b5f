package storage

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/idsledger/idsledger/anchor"
)

// fencedLock is a lock that makes one holder at a time across every
// instance sharing a database: a session-level advisory lock, held on a
// connection of its own, and a one-row lease table whose epoch grows each
// time the lock is taken. The epoch is the holder's fencing token: a write
// that checks it (check) fails once a newer holder exists, so a former
// holder that lost the lock without noticing yet writes nothing.
type fencedLock struct {
	name  string // for errors: "anchoring", "chain hunting"
	key   int64  // the advisory lock
	table string // the lease table: one row, epoch and taken_at
}

// anchorLock makes one anchoring worker at a time (anchor_lease,
// migration 000010).
var anchorLock = fencedLock{name: "anchoring", key: 0x6964736c_616e6368, table: "anchor_lease"} // "idsl" "anch"

// take takes the lock and a new fencing token, or fails with
// anchor.ErrLockHeld while another session holds it. The lease watches the
// session every check and reports the lock lost as soon as it stops
// answering.
func (fl fencedLock) take(ctx context.Context, pool *pgxpool.Pool, check time.Duration) (*lease, error) {
	conn, err := trySessionLock(ctx, pool, fl.key)
	if err != nil {
		return nil, fmt.Errorf("%s lock: %w", fl.name, err)
	}
	var epoch int64
	if err := conn.QueryRow(ctx, `UPDATE `+fl.table+` SET epoch = epoch + 1, taken_at = now() RETURNING epoch`).Scan(&epoch); err != nil {
		conn.Close(context.Background())
		return nil, fmt.Errorf("%s lock: fencing token: %w", fl.name, classify(err))
	}
	return newLease(conn, fl.key, anchor.Fence(epoch), check), nil
}

// check fails with anchor.ErrLockLost unless f is the latest lease's
// token. It share-locks the lease row until tx ends, so a take's increment
// waits for tx, and tx cannot commit after a newer lease exists.
func (fl fencedLock) check(ctx context.Context, tx pgx.Tx, f anchor.Fence) error {
	var epoch int64
	if err := tx.QueryRow(ctx, `SELECT epoch FROM `+fl.table+` FOR SHARE`).Scan(&epoch); err != nil {
		return fmt.Errorf("fencing token: %w", classify(err))
	}
	if anchor.Fence(epoch) != f {
		return fmt.Errorf("%w: %s lease %d was fenced off by lease %d", anchor.ErrLockLost, fl.name, f, epoch)
	}
	return nil
}

// Outbox is the PostgreSQL side of anchoring: it implements anchor.Outbox
// for the worker and anchor.RecordSource for verification.
type Outbox struct {
	pool *pgxpool.Pool
	// LockCheck is how often a held anchoring lock checks that its
	// session is alive.
	LockCheck time.Duration
	// taken counts records taken out of the outbox since it was last
	// vacuumed (see vacuumEvery).
	taken atomic.Int64
}

// vacuumEvery is how many records leave the outbox between two VACUUMs of
// it. The outbox is a queue: every record is inserted and soon deleted, and
// autovacuum (which starts at most once a minute per database, and by
// default only once a fifth of a table is dead) would let a million dead
// rows pile up at ingest rates, which every read of the queue then crawls
// over. Small and frequent is best: a VACUUM after 8,192 deletions takes a
// few milliseconds; after 32,768 it took 40-90 ms of CPU that ingest
// requests then waited for. It never truncates the table (migration
// 000005), so it takes no lock that blocks ingest.
const vacuumEvery = 8192

var (
	_ anchor.Outbox       = (*Outbox)(nil)
	_ anchor.RecordSource = (*Outbox)(nil)
)

// NewOutbox returns the outbox over pool.
func NewOutbox(pool *pgxpool.Pool) *Outbox {
	return &Outbox{pool: pool, LockCheck: time.Second}
}

// TryLock takes the anchoring lock (anchorLock) and a new fencing token;
// every write of the worker's carries the token.
func (o *Outbox) TryLock(ctx context.Context) (anchor.Lease, error) {
	l, err := anchorLock.take(ctx, o.pool, o.LockCheck)
	if err != nil {
		return nil, err
	}
	return l, nil
}

// trySessionLock takes the session-level advisory lock key on a connection
// taken out of the pool for as long as the lock is held; it fails with
// anchor.ErrLockHeld when another session holds it.
func trySessionLock(ctx context.Context, pool *pgxpool.Pool, key int64) (*pgx.Conn, error) {
	pc, err := pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	conn := pc.Hijack()
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&got); err != nil {
		conn.Close(context.Background())
		return nil, err
	}
	if !got {
		conn.Close(context.Background())
		return nil, anchor.ErrLockHeld
	}
	return conn, nil
}

// newLease watches the session holding lock key every check (at least
// 10 ms) and reports it lost as soon as the session stops answering.
func newLease(conn *pgx.Conn, key int64, fence anchor.Fence, check time.Duration) *lease {
	l := &lease{conn: conn, key: key, fence: fence, lost: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
	go l.watch(max(check, 10*time.Millisecond))
	return l
}

type lease struct {
	conn     *pgx.Conn
	key      int64
	fence    anchor.Fence
	lost     chan struct{}
	stop     chan struct{}
	done     chan struct{}
	lostOnce sync.Once
	relOnce  sync.Once
}

func (l *lease) Lost() <-chan struct{} { return l.lost }
func (l *lease) Fence() anchor.Fence   { return l.fence }

func (l *lease) watch(every time.Duration) {
	defer close(l.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), max(every, 5*time.Second))
			err := l.conn.Ping(ctx)
			cancel()
			if err != nil {
				l.lostOnce.Do(func() { close(l.lost) })
				return
			}
		}
	}
}

// Release unlocks and closes the session. Closing the session alone would
// release the lock too; the explicit unlock just makes it prompt.
func (l *lease) Release() {
	l.relOnce.Do(func() {
		close(l.stop)
		<-l.done
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = l.conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, l.key)
		_ = l.conn.Close(ctx)
		l.lostOnce.Do(func() { close(l.lost) })
	})
}

// Pending returns up to limit pending records, lowest seq first, with their
// age by the database's clock.
func (o *Outbox) Pending(ctx context.Context, limit int) ([]anchor.PendingRecord, error) {
	rows, err := o.pool.Query(ctx, `
		SELECT id, seq, kind, leaf_hash, extract(epoch FROM clock_timestamp() - created_at)::float8
		FROM outbox ORDER BY seq LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", classify(err))
	}
	defer rows.Close()
	out := make([]anchor.PendingRecord, 0, min(limit, 4096))
	for rows.Next() {
		var (
			r    anchor.PendingRecord
			leaf []byte
			age  float64
		)
		if err := rows.Scan(&r.ID, &r.Seq, &r.Kind, &leaf, &age); err != nil {
			return nil, fmt.Errorf("read outbox: %w", classify(err))
		}
		if len(leaf) != 32 {
			return nil, fmt.Errorf("record %x: leaf hash of %d bytes", r.ID, len(leaf))
		}
		r.Leaf = anchor.Hash(leaf)
		r.Age = time.Duration(age * float64(time.Second))
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read outbox: %w", classify(err))
	}
	return out, nil
}

// Prepare implements anchor.Outbox: one statement, whatever the number of
// plans. Nothing is written per record until Confirm.
func (o *Outbox) Prepare(ctx context.Context, f anchor.Fence, plans []anchor.BatchPlan) ([]anchor.Batch, error) {
	if len(plans) == 0 {
		return nil, nil
	}
	var (
		modes     = make([]string, len(plans))
		kinds     = make([]int16, len(plans))
		roots     = make([][]byte, len(plans))
		counts    = make([]int32, len(plans))
		firstSeqs = make([]int64, len(plans))
		lastSeqs  = make([]int64, len(plans))
		leaves    = make([][]byte, len(plans))
		ids       = make([][]byte, len(plans))
	)
	for i, p := range plans {
		if len(p.Records) == 0 {
			return nil, errors.New("prepare: empty batch plan")
		}
		modes[i], kinds[i], counts[i] = string(p.Mode), int16(p.Kind), int32(len(p.Records))
		roots[i] = p.Root[:]
		firstSeqs[i], lastSeqs[i] = p.Records[0].Seq, p.Records[len(p.Records)-1].Seq
		lv := make([]byte, 0, 32*len(p.Records))
		rid := make([]byte, 0, 16*len(p.Records))
		for _, r := range p.Records {
			lv = append(lv, r.Leaf[:]...)
			rid = append(rid, r.ID[:]...)
		}
		leaves[i], ids[i] = lv, rid
	}

	batches := make([]anchor.Batch, len(plans))
	err := pgx.BeginFunc(ctx, o.pool, func(tx pgx.Tx) error {
		if err := anchorLock.check(ctx, tx, f); err != nil {
			return err
		}
		// first_seq is unique among the plans (they share no record), so
		// it maps each returned id back to its plan.
		rows, err := tx.Query(ctx, `
			INSERT INTO anchor_batches (mode, kind, root, leaf_count, first_seq, last_seq, status, leaves, record_ids)
			SELECT u.mode, u.kind, u.root, u.n, u.first_seq, u.last_seq, 'prepared', u.leaves, u.ids
			FROM unnest($1::text[], $2::int2[], $3::bytea[], $4::int4[], $5::int8[], $6::int8[], $7::bytea[], $8::bytea[])
			     WITH ORDINALITY AS u(mode, kind, root, n, first_seq, last_seq, leaves, ids, ord)
			ORDER BY u.ord
			RETURNING id, first_seq`,
			modes, kinds, roots, counts, firstSeqs, lastSeqs, leaves, ids)
		if err != nil {
			return fmt.Errorf("insert batches: %w", err)
		}
		byFirst := make(map[int64]uint64, len(plans))
		for rows.Next() {
			var id, first int64
			if err := rows.Scan(&id, &first); err != nil {
				rows.Close()
				return err
			}
			byFirst[first] = uint64(id)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("insert batches: %w", err)
		}
		for i, p := range plans {
			id, ok := byFirst[firstSeqs[i]]
			if !ok {
				return fmt.Errorf("insert batches: no id returned for plan %d", i)
			}
			b := anchor.Batch{
				ID: id, Mode: p.Mode, Kind: p.Kind, Root: p.Root, LeafCount: len(p.Records),
				Status: anchor.BatchPrepared,
				Leaves: make([]anchor.Hash, len(p.Records)), RecordIDs: make([]anchor.RecordID, len(p.Records)),
			}
			for j, r := range p.Records {
				b.Leaves[j], b.RecordIDs[j] = r.Leaf, r.ID
			}
			batches[i] = b
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return batches, nil
}

// MarkSent implements anchor.Outbox.
func (o *Outbox) MarkSent(ctx context.Context, f anchor.Fence, batchID uint64, sent anchor.Sent) error {
	return pgx.BeginFunc(ctx, o.pool, func(tx pgx.Tx) error {
		if err := anchorLock.check(ctx, tx, f); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `
			UPDATE anchor_batches SET status = 'sent', tx_hash = $2, tx_nonce = $3, sent_at = now()
			WHERE id = $1 AND status IN ('prepared', 'sent')`, int64(batchID), sent.Tx[:], int64(sent.Nonce))
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 1 {
			return fmt.Errorf("batch %d: not found, or not open any more", batchID)
		}
		return nil
	})
}

// Confirm implements anchor.Outbox. Records are written only for the
// batches this call confirms: a batch confirmed already changes nothing,
// and one that is not open (orphaned) is left alone.
func (o *Outbox) Confirm(ctx context.Context, f anchor.Fence, cs []anchor.Confirmation) error {
	if len(cs) == 0 {
		return nil
	}
	var (
		ids    = make([]int64, len(cs))
		txs    = make([][]byte, len(cs))
		nums   = make([]int64, len(cs))
		hashes = make([][]byte, len(cs))
		times  = make([]time.Time, len(cs))
		gas    = make([]int64, len(cs))
	)
	for i, c := range cs {
		inc := c.Inclusion
		ids[i], nums[i], times[i], gas[i] = int64(c.BatchID), int64(inc.BlockNumber), inc.BlockTime, int64(inc.GasUsed)
		txs[i], hashes[i] = inc.Tx[:], inc.BlockHash[:]
	}
	taken := 0
	err := pgx.BeginFunc(ctx, o.pool, func(tx pgx.Tx) error {
		if err := anchorLock.check(ctx, tx, f); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `
			UPDATE anchor_batches b SET status = 'confirmed', tx_hash = u.tx, block_number = u.num,
				block_hash = u.hash, block_time = u.t, gas_used = u.gas, confirmed_at = now()
			FROM unnest($1::int8[], $2::bytea[], $3::int8[], $4::bytea[], $5::timestamptz[], $6::int8[])
			     AS u(id, tx, num, hash, t, gas)
			WHERE b.id = u.id AND b.status IN ('prepared', 'sent')
			RETURNING b.id`, ids, txs, nums, hashes, times, gas)
		if err != nil {
			return fmt.Errorf("confirm batches: %w", err)
		}
		confirmed, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return fmt.Errorf("confirm batches: %w", err)
		}
		now := make(map[uint64]bool, len(confirmed))
		for _, id := range confirmed {
			now[uint64(id)] = true
		}
		var (
			recIDs   [][16]byte
			batchIDs []int64
			idx      []int32
		)
		for _, c := range cs {
			if !now[c.BatchID] {
				continue
			}
			for j, id := range c.RecordIDs {
				recIDs = append(recIDs, id)
				batchIDs = append(batchIDs, int64(c.BatchID))
				idx = append(idx, int32(j))
			}
		}
		if len(recIDs) == 0 {
			return nil
		}
		// The record rows are not touched: they leave the outbox and get
		// their place in the batch.
		if _, err := tx.Exec(ctx, `DELETE FROM outbox WHERE id = ANY($1::uuid[])`, recIDs); err != nil {
			return fmt.Errorf("take records out of the outbox: %w", err)
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO record_anchors (record_id, batch_id, leaf_index, anchored_at)
			SELECT u.id, u.batch_id, u.idx, now() FROM unnest($1::uuid[], $2::int8[], $3::int4[]) AS u(id, batch_id, idx)
			ON CONFLICT (record_id) DO NOTHING`, recIDs, batchIDs, idx); err != nil {
			return fmt.Errorf("mark records anchored: %w", err)
		}
		taken = len(recIDs)
		return nil
	})
	if err != nil {
		return err
	}
	if o.taken.Add(int64(taken)) >= vacuumEvery {
		o.taken.Store(0)
		// Hygiene, not correctness: a failure here is retried next time.
		_, _ = o.pool.Exec(ctx, `VACUUM outbox`)
	}
	return nil
}

// Confirmed implements anchor.Outbox.
func (o *Outbox) Confirmed(ctx context.Context, before uint64, limit int) ([]anchor.Batch, error) {
	if before == 0 {
		before = math.MaxInt64
	}
	rows, err := o.pool.Query(ctx, `
		SELECT id, mode, kind, root, leaf_count, CASE WHEN mode = 'record' THEN record_ids END,
			tx_hash, block_number, block_hash, block_time, gas_used
		FROM anchor_batches WHERE status = 'confirmed' AND id < $1 ORDER BY id DESC LIMIT $2`,
		int64(min(before, math.MaxInt64)), limit)
	if err != nil {
		return nil, classify(err)
	}
	bs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (anchor.Batch, error) {
		var (
			b                   anchor.Batch
			id                  int64
			mode                string
			kind                int16
			root, ids, tx, hash []byte
			leafCount           int32
			num, gas            *int64
			blockTime           *time.Time
		)
		if err := row.Scan(&id, &mode, &kind, &root, &leafCount, &ids, &tx, &num, &hash, &blockTime, &gas); err != nil {
			return b, err
		}
		if len(root) != 32 || len(tx) != 32 || len(hash) != 32 || num == nil || (mode == string(anchor.ModeRecord) && len(ids) != 16) {
			return b, fmt.Errorf("batch %d: malformed confirmed batch", id)
		}
		b.ID, b.Mode, b.Kind, b.LeafCount, b.Status = uint64(id), anchor.Mode(mode), uint8(kind), int(leafCount), anchor.BatchConfirmed
		b.Root, b.HasTx, b.Tx = anchor.Hash(root), true, anchor.Hash(tx)
		if len(ids) == 16 {
			b.RecordIDs = []anchor.RecordID{anchor.RecordID(ids)}
		}
		b.Inclusion = anchor.Inclusion{Tx: b.Tx, BlockNumber: uint64(*num), BlockHash: anchor.Hash(hash)}
		if blockTime != nil {
			b.Inclusion.BlockTime = blockTime.UTC()
		}
		if gas != nil {
			b.Inclusion.GasUsed = uint64(*gas)
		}
		return b, nil
	})
	return bs, classify(err)
}

// Reconfirm implements anchor.Outbox.
func (o *Outbox) Reconfirm(ctx context.Context, f anchor.Fence, batchID uint64, inc anchor.Inclusion) error {
	return pgx.BeginFunc(ctx, o.pool, func(tx pgx.Tx) error {
		if err := anchorLock.check(ctx, tx, f); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `
			UPDATE anchor_batches SET tx_hash = $2, block_number = $3, block_hash = $4, block_time = $5, gas_used = $6
			WHERE id = $1 AND status = 'confirmed'`,
			int64(batchID), inc.Tx[:], int64(inc.BlockNumber), inc.BlockHash[:], inc.BlockTime, int64(inc.GasUsed))
		if err != nil {
			return fmt.Errorf("batch %d: new inclusion: %w", batchID, err)
		}
		if tag.RowsAffected() != 1 {
			return fmt.Errorf("batch %d: not found, or not confirmed", batchID)
		}
		return nil
	})
}

// Orphan implements anchor.Outbox: the batch row is kept (its id stays
// taken, and it says what happened), its records' places go, and the
// records whose place it held return to the outbox. A record row deleted
// meanwhile has nothing to return.
func (o *Outbox) Orphan(ctx context.Context, f anchor.Fence, batchID uint64) error {
	return pgx.BeginFunc(ctx, o.pool, func(tx pgx.Tx) error {
		if err := anchorLock.check(ctx, tx, f); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `
			UPDATE anchor_batches SET status = 'orphaned', orphaned_at = now()
			WHERE id = $1 AND status = 'confirmed'`, int64(batchID))
		if err != nil {
			return fmt.Errorf("batch %d: orphan: %w", batchID, err)
		}
		if tag.RowsAffected() != 1 {
			return fmt.Errorf("batch %d: not found, or not confirmed", batchID)
		}
		if _, err := tx.Exec(ctx, `
			WITH gone AS (DELETE FROM record_anchors WHERE batch_id = $1 RETURNING record_id)
			INSERT INTO outbox (id, seq, kind, leaf_hash, created_at)
			SELECT r.id, r.seq, r.kind, r.leaf_hash, r.created_at FROM records r JOIN gone g ON g.record_id = r.id
			ON CONFLICT (id) DO NOTHING`, int64(batchID)); err != nil {
			return fmt.Errorf("batch %d: return records to the outbox: %w", batchID, err)
		}
		return nil
	})
}

// batchHeadColumns are a batch row's columns but its leaves and record ids;
// batchColumns are all of them.
const (
	batchHeadColumns = `id, mode, kind, root, leaf_count, status,
	tx_hash, tx_nonce, block_number, block_hash, block_time, gas_used`
	batchColumns = batchHeadColumns + `, leaves, record_ids`
)

// Unconfirmed implements anchor.Outbox.
func (o *Outbox) Unconfirmed(ctx context.Context) ([]anchor.Batch, error) {
	rows, err := o.pool.Query(ctx, `SELECT `+batchColumns+` FROM anchor_batches WHERE status IN ('prepared', 'sent') ORDER BY id`)
	if err != nil {
		return nil, classify(err)
	}
	bs, err := pgx.CollectRows(rows, scanBatch)
	return bs, classify(err)
}

// Batch returns one batch row with its leaves, or anchor.ErrNotFound;
// connectivity failures wrap ErrUnavailable (so do the other reads here).
func (o *Outbox) Batch(ctx context.Context, id uint64) (anchor.Batch, error) {
	rows, err := o.pool.Query(ctx, `SELECT `+batchColumns+` FROM anchor_batches WHERE id = $1`, int64(id))
	if err != nil {
		return anchor.Batch{}, classify(err)
	}
	b, err := pgx.CollectExactlyOneRow(rows, scanBatch)
	if errors.Is(err, pgx.ErrNoRows) {
		return b, anchor.ErrNotFound
	}
	return b, classify(err)
}

func scanBatch(row pgx.CollectableRow) (anchor.Batch, error) {
	var leaves, ids []byte
	b, err := scanBatchRow(row, &leaves, &ids)
	if err != nil {
		return b, err
	}
	if len(leaves) != 32*b.LeafCount || len(ids) != 16*b.LeafCount {
		return b, fmt.Errorf("batch %d: malformed leaves or record ids", b.ID)
	}
	b.Leaves = make([]anchor.Hash, b.LeafCount)
	b.RecordIDs = make([]anchor.RecordID, b.LeafCount)
	for i := range b.Leaves {
		b.Leaves[i] = anchor.Hash(leaves[32*i : 32*i+32])
		b.RecordIDs[i] = anchor.RecordID(ids[16*i : 16*i+16])
	}
	return b, nil
}

// scanBatchHead scans a row of batchHeadColumns: a batch without its
// leaves and record ids.
func scanBatchHead(row pgx.CollectableRow) (anchor.Batch, error) { return scanBatchRow(row) }

// scanBatchRow scans batchHeadColumns, then into extra.
func scanBatchRow(row pgx.CollectableRow, extra ...any) (anchor.Batch, error) {
	var (
		b                 anchor.Batch
		id                int64
		mode, status      string
		kind              int16
		root              []byte
		txHash, blockHash []byte
		nonce, num, gas   *int64
		blockTime         *time.Time
		leafCount         int32
	)
	if err := row.Scan(append([]any{&id, &mode, &kind, &root, &leafCount, &status,
		&txHash, &nonce, &num, &blockHash, &blockTime, &gas}, extra...)...); err != nil {
		return b, err
	}
	if len(root) != 32 {
		return b, fmt.Errorf("batch %d: malformed root", id)
	}
	b.ID, b.Mode, b.Kind, b.LeafCount, b.Status = uint64(id), anchor.Mode(mode), uint8(kind), int(leafCount), anchor.BatchStatus(status)
	b.Root = anchor.Hash(root)
	if len(txHash) == 32 {
		b.HasTx, b.Tx = true, anchor.Hash(txHash)
		b.Inclusion.Tx = b.Tx
	}
	if nonce != nil {
		b.TxNonce = uint64(*nonce)
	}
	if num != nil {
		b.Inclusion.BlockNumber = uint64(*num)
	}
	if len(blockHash) == 32 {
		b.Inclusion.BlockHash = anchor.Hash(blockHash)
	}
	if blockTime != nil {
		b.Inclusion.BlockTime = blockTime.UTC()
	}
	if gas != nil {
		b.Inclusion.GasUsed = uint64(*gas)
	}
	return b, nil
}

// Batches lists batches without their leaves and record ids, newest first
// (by id), as f says. It implements anchor.RecordSource.
func (o *Outbox) Batches(ctx context.Context, f anchor.BatchFilter) ([]anchor.Batch, error) {
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	q := `SELECT ` + batchHeadColumns + ` FROM anchor_batches WHERE ($1 = 0 OR id < $1) AND ($2 = '' OR status = $2) ORDER BY id DESC LIMIT $3`
	rows, err := o.pool.Query(ctx, q, int64(f.Before), string(f.Status), limit)
	if err != nil {
		return nil, classify(err)
	}
	out, err := pgx.CollectRows(rows, scanBatchHead)
	return out, classify(err)
}

const recordColumns = `r.id, r.kind, r.body,
	CASE WHEN ra.record_id IS NULL THEN 'pending' ELSE 'anchored' END, ra.batch_id, ra.leaf_index, r.created_at`

// Record returns one record, or anchor.ErrNotFound.
func (o *Outbox) Record(ctx context.Context, id anchor.RecordID) (anchor.StoredRecord, error) {
	rows, err := o.pool.Query(ctx, `SELECT `+recordColumns+`
		FROM records r LEFT JOIN record_anchors ra ON ra.record_id = r.id WHERE r.id = $1`, id)
	if err != nil {
		return anchor.StoredRecord{}, classify(err)
	}
	r, err := pgx.CollectExactlyOneRow(rows, scanStoredRecord)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, anchor.ErrNotFound
	}
	return r, classify(err)
}

// BatchRecords returns every record row naming the batch, by leaf index.
func (o *Outbox) BatchRecords(ctx context.Context, batchID uint64) ([]anchor.StoredRecord, error) {
	rows, err := o.pool.Query(ctx, `SELECT `+recordColumns+`
		FROM record_anchors ra JOIN records r ON r.id = ra.record_id WHERE ra.batch_id = $1 ORDER BY ra.leaf_index`, int64(batchID))
	if err != nil {
		return nil, classify(err)
	}
	rs, err := pgx.CollectRows(rows, scanStoredRecord)
	return rs, classify(err)
}

func scanStoredRecord(row pgx.CollectableRow) (anchor.StoredRecord, error) {
	var (
		r       anchor.StoredRecord
		batchID *int64
		index   *int32
	)
	if err := row.Scan(&r.ID, &r.Kind, &r.Body, &r.Status, &batchID, &index, &r.CreatedAt); err != nil {
		return r, err
	}
	if batchID != nil {
		r.BatchID = uint64(*batchID)
	}
	if index != nil {
		r.LeafIndex = int(*index)
	}
	return r, nil
}

var _ anchor.RecheckRequests = (*Outbox)(nil)

// RequestRecheck keeps a re-check of the confirmed batches from block up
// (anchor.Worker.RecheckFrom), lowering a range already kept.
func (o *Outbox) RequestRecheck(ctx context.Context, block uint64) error {
	if block > math.MaxInt64 {
		return fmt.Errorf("re-check from block %d: past the largest block kept", block)
	}
	_, err := o.pool.Exec(ctx, `UPDATE anchor_lease SET recheck_from = LEAST(coalesce(recheck_from, $1), $1)`, int64(block))
	if err != nil {
		return fmt.Errorf("keep the re-check from block %d: %w", block, classify(err))
	}
	return nil
}

// RecheckRequested returns the first block of the kept re-check, if any.
func (o *Outbox) RecheckRequested(ctx context.Context) (uint64, bool, error) {
	var from *int64
	if err := o.pool.QueryRow(ctx, `SELECT recheck_from FROM anchor_lease`).Scan(&from); err != nil {
		return 0, false, fmt.Errorf("read the kept re-check: %w", classify(err))
	}
	if from == nil {
		return 0, false, nil
	}
	return uint64(*from), true, nil
}

// RecheckSettled clears the kept re-check if it still starts at block.
func (o *Outbox) RecheckSettled(ctx context.Context, block uint64) error {
	if block > math.MaxInt64 {
		return nil
	}
	if _, err := o.pool.Exec(ctx, `UPDATE anchor_lease SET recheck_from = NULL WHERE recheck_from = $1`, int64(block)); err != nil {
		return fmt.Errorf("clear the kept re-check: %w", classify(err))
	}
	return nil
}
