package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/chainhunt"
	"github.com/idsledger/idsledger/ingest"
)

// ChainHunt is the PostgreSQL side of the chain hunter: it implements
// chainhunt.Store (the hunter's checkpoints, its accounts' aggregates and
// its alerts, stored together) and answers KnownBatch for the registry
// rule that looks for batches we did not anchor.
//
// A chain alert is stored as every alert is: its canonical body as a
// record of kind chainhunt.Kind in the outbox (so the anchoring worker
// anchors it), its query columns as a row of alerts (source 'chain', see
// migration 000013), and its counts in the report rollups.
type ChainHunt struct {
	pool *pgxpool.Pool
	// OnStored, when set, is called after each commit that stored alerts,
	// with those alerts as listings show them (ChainAlertOf): serve hands
	// them to the webhooks and wakes the anchoring worker, as ingest does
	// for flow alerts. Set it before the first Commit.
	OnStored func([]Alert)
	// fence is the fencing token of the last lock TryLock took (0: never
	// taken, commits unfenced): Commit writes nothing once another hunter
	// took the lock since.
	fence atomic.Int64
}

// NewChainHunt returns the chain hunter's store over pool.
func NewChainHunt(pool *pgxpool.Pool) *ChainHunt { return &ChainHunt{pool: pool} }

var _ chainhunt.Store = (*ChainHunt)(nil)

// ChainSensor is the sensor name of chain alerts of a chain: "chain:<id>"
// (a name no flow may claim, see ingest.ValidSensor).
func ChainSensor(chainID uint64) string {
	return ingest.ReservedSensorPrefix + strconv.FormatUint(chainID, 10)
}

// chainIDArg is a chain id as the bigint columns hold it.
func chainIDArg(id uint64) (int64, error) {
	if id > math.MaxInt64 {
		return 0, fmt.Errorf("%w: chain id %d does not fit in a bigint", chainhunt.ErrInvalidAlert, id)
	}
	return int64(id), nil
}

// Checkpoint returns the chain's last committed checkpoint, without its
// accounts, and false when the hunter never committed one.
func (h *ChainHunt) Checkpoint(ctx context.Context, chainID uint64) (chainhunt.Checkpoint, bool, error) {
	cp := chainhunt.Checkpoint{ChainID: chainID}
	id, err := chainIDArg(chainID)
	if err != nil {
		return cp, false, err
	}
	var (
		numbers []int64
		hashes  [][]byte
	)
	err = h.pool.QueryRow(ctx, `SELECT block_numbers, block_hashes, state FROM chain_hunt_checkpoints WHERE chain_id = $1`, id).
		Scan(&numbers, &hashes, &cp.State)
	if errors.Is(err, pgx.ErrNoRows) {
		return cp, false, nil
	}
	if err != nil {
		return cp, false, fmt.Errorf("chain %d checkpoint: %w", chainID, classify(err))
	}
	if len(numbers) != len(hashes) {
		return cp, false, fmt.Errorf("chain %d checkpoint: %d block numbers for %d hashes", chainID, len(numbers), len(hashes))
	}
	cp.Blocks = make([]chainhunt.BlockRef, len(numbers))
	for i := range numbers {
		cp.Blocks[i] = chainhunt.BlockRef{Number: uint64(numbers[i]), Hash: common.BytesToHash(hashes[i])}
	}
	return cp, true, nil
}

// Accounts returns the stored aggregates of addrs on the chain; an account
// never stored is absent from the map.
func (h *ChainHunt) Accounts(ctx context.Context, chainID uint64, addrs []common.Address) (map[common.Address][]byte, error) {
	out := make(map[common.Address][]byte, len(addrs))
	if len(addrs) == 0 {
		return out, nil
	}
	id, err := chainIDArg(chainID)
	if err != nil {
		return nil, err
	}
	keys := make([][]byte, len(addrs))
	for i, a := range addrs {
		keys[i] = a.Bytes()
	}
	rows, err := h.pool.Query(ctx, `SELECT address, state FROM chain_hunt_accounts WHERE chain_id = $1 AND address = ANY($2::bytea[])`, id, keys)
	if err != nil {
		return nil, fmt.Errorf("chain %d accounts: %w", chainID, classify(err))
	}
	defer rows.Close()
	for rows.Next() {
		var addr, state []byte
		if err := rows.Scan(&addr, &state); err != nil {
			return nil, fmt.Errorf("chain %d accounts: %w", chainID, classify(err))
		}
		out[common.BytesToAddress(addr)] = state
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("chain %d accounts: %w", chainID, classify(err))
	}
	return out, nil
}

// Commit stores cp and alerts in one transaction: cp's accounts upserted,
// its blocks and state replaced, and each alert not stored before (by its
// ID) stored as a pending record of kind chainhunt.Kind with its alert row
// and its counts in the rollups. It returns the alerts it stored, in input
// order. Every alert is encoded (chainhunt.Canonical) before anything is
// written, and one that cannot be, or that names another chain than cp,
// fails the whole call with chainhunt.ErrInvalidAlert.
func (h *ChainHunt) Commit(ctx context.Context, cp chainhunt.Checkpoint, alerts []chainhunt.Alert) ([]chainhunt.Alert, error) {
	chainID, err := chainIDArg(cp.ChainID)
	if err != nil {
		return nil, err
	}
	rows, err := newChainAlertRows(cp.ChainID, alerts)
	if err != nil {
		return nil, err
	}
	var stored []chainhunt.Alert
	fence := h.fence.Load()
	err = pgx.BeginFunc(ctx, h.pool, func(tx pgx.Tx) error {
		if fence != 0 {
			if err := huntLock.check(ctx, tx, anchor.Fence(fence)); err != nil {
				return err
			}
		}
		if err := putAccounts(ctx, tx, chainID, cp.Accounts); err != nil {
			return err
		}
		if err := putCheckpoint(ctx, tx, chainID, cp); err != nil {
			return err
		}
		if len(rows.ids) == 0 {
			return nil
		}
		fresh, err := rows.insertRecords(ctx, tx)
		if err != nil {
			return err
		}
		stored, err = rows.insertAlerts(ctx, tx, fresh)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("commit chain %d: %w", cp.ChainID, classify(err))
	}
	if h.OnStored != nil && len(stored) > 0 {
		views := make([]Alert, len(stored))
		for i, a := range stored {
			views[i] = ChainAlertOf(a)
		}
		h.OnStored(views)
	}
	return stored, nil
}

// ChainAlertOf is a chain alert as listings show it once stored: pending,
// with no workflow yet. a must be valid (chainhunt.Canonical accepts it).
func ChainAlertOf(a chainhunt.Alert) Alert {
	b := chainhunt.NewBody(a)
	out := Alert{
		AlertBody: ingest.AlertBody{ID: b.ID, Type: chainhunt.Kind, ObservedAt: b.Block.Time, Sensor: ChainSensor(b.ChainID),
			Class: b.Class, Score: b.Score, Risk: b.Risk, Severity: ingest.Severity(b.Severity)},
		Source: "chain",
		Chain: &ChainAlert{ChainID: b.ChainID, Subject: string(b.Subject), Method: string(b.Method), Rule: b.Rule,
			Block: b.Block, Tx: b.Tx, Account: b.Account, Summary: b.Summary, Evidence: b.Evidence},
		Anchor: AnchorState{Status: "pending"},
	}
	if b.Model != nil {
		out.Model = ingest.ModelRef{ID: b.Model.ID, Version: b.Model.Version}
	}
	return out
}

// putAccounts upserts the accounts' aggregates, in address order so that
// two commits touching the same accounts lock them in the same order.
func putAccounts(ctx context.Context, tx pgx.Tx, chainID int64, accounts map[common.Address][]byte) error {
	if len(accounts) == 0 {
		return nil
	}
	addrs := make([]common.Address, 0, len(accounts))
	for a := range accounts {
		addrs = append(addrs, a)
	}
	slices.SortFunc(addrs, func(a, b common.Address) int { return bytes.Compare(a[:], b[:]) })
	keys, states := make([][]byte, len(addrs)), make([][]byte, len(addrs))
	for i, a := range addrs {
		keys[i], states[i] = a.Bytes(), nonNil(accounts[a])
	}
	_, err := tx.Exec(ctx, `
		INSERT INTO chain_hunt_accounts (chain_id, address, state)
		SELECT $1, u.a, u.s FROM unnest($2::bytea[], $3::bytea[]) AS u(a, s)
		ON CONFLICT (chain_id, address) DO UPDATE SET state = excluded.state, updated_at = now()`,
		chainID, keys, states)
	if err != nil {
		return fmt.Errorf("accounts: %w", err)
	}
	return nil
}

// putCheckpoint replaces the chain's blocks and state.
func putCheckpoint(ctx context.Context, tx pgx.Tx, chainID int64, cp chainhunt.Checkpoint) error {
	numbers, hashes := make([]int64, len(cp.Blocks)), make([][]byte, len(cp.Blocks))
	for i, b := range cp.Blocks {
		if b.Number > math.MaxInt64 {
			return fmt.Errorf("checkpoint: block number %d does not fit in a bigint", b.Number)
		}
		numbers[i], hashes[i] = int64(b.Number), b.Hash.Bytes()
	}
	_, err := tx.Exec(ctx, `
		INSERT INTO chain_hunt_checkpoints (chain_id, block_numbers, block_hashes, state) VALUES ($1, $2, $3, $4)
		ON CONFLICT (chain_id) DO UPDATE
		SET block_numbers = excluded.block_numbers, block_hashes = excluded.block_hashes, state = excluded.state, updated_at = now()`,
		chainID, numbers, hashes, nonNil(cp.State))
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// nonNil is b, or an empty slice for nil (the state columns are NOT NULL).
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// chainAlertRows are chain alerts encoded for storage, one entry per
// distinct id, in input order.
type chainAlertRows struct {
	alerts []chainhunt.Alert
	ids    []uuid.UUID
	bodies [][]byte
	parsed []chainhunt.Body
}

// newChainAlertRows encodes alerts of chain chainID, dropping repeats of an
// id within the call.
func newChainAlertRows(chainID uint64, alerts []chainhunt.Alert) (*chainAlertRows, error) {
	r := &chainAlertRows{}
	seen := make(map[uuid.UUID]bool, len(alerts))
	for i, a := range alerts {
		if a.ChainID != chainID {
			return nil, fmt.Errorf("%w: alert %d is of chain %d, the checkpoint of chain %d", chainhunt.ErrInvalidAlert, i, a.ChainID, chainID)
		}
		canon, err := chainhunt.Canonical(a)
		if err != nil {
			return nil, fmt.Errorf("alert %d: %w", i, err)
		}
		id := a.ID()
		if seen[id] {
			continue
		}
		seen[id] = true
		r.alerts = append(r.alerts, a)
		r.ids = append(r.ids, id)
		r.bodies = append(r.bodies, canon)
		r.parsed = append(r.parsed, chainhunt.NewBody(a))
	}
	return r, nil
}

// insertRecords adds the records not stored yet to records and the outbox
// and returns which ids it added.
func (r *chainAlertRows) insertRecords(ctx context.Context, tx pgx.Tx) (map[uuid.UUID]bool, error) {
	_, args, err := appendRecordsArgs(chainhunt.Kind, r.ids, r.bodies)
	if err != nil {
		return nil, err
	}
	rows, err := tx.Query(ctx, appendNewRecordsSQL, args...)
	if err != nil {
		return nil, fmt.Errorf("chain alert records: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, fmt.Errorf("chain alert records: %w", err)
	}
	fresh := make(map[uuid.UUID]bool, len(ids))
	for _, id := range ids {
		fresh[id] = true
	}
	return fresh, nil
}

// insertAlerts adds the alert rows of the fresh ids and their counts to
// the rollups (as InsertAlerts does for flow alerts), and returns their
// alerts.
func (r *chainAlertRows) insertAlerts(ctx context.Context, tx pgx.Tx, fresh map[uuid.UUID]bool) ([]chainhunt.Alert, error) {
	if len(fresh) == 0 {
		return nil, nil
	}
	n := len(fresh)
	var (
		stored                   = make([]chainhunt.Alert, 0, n)
		counted                  = make([]ingest.AlertBody, 0, n)
		ids                      = make([]uuid.UUID, 0, n)
		times                    = make([]time.Time, 0, n)
		sensors, classes, sevs   = make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
		scores, risks            = make([]float64, 0, n), make([]float64, 0, n)
		modelIDs, modelVers      = make([]string, 0, n), make([]string, 0, n)
		chains, blocks           = make([]int64, 0, n), make([]int64, 0, n)
		blockHashes, txs, accts  = make([][]byte, 0, n), make([][]byte, 0, n), make([][]byte, 0, n)
		rules, subjects, methods = make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
	)
	for i, id := range r.ids {
		if !fresh[id] {
			continue
		}
		a, b := r.alerts[i], r.parsed[i]
		stored = append(stored, a)
		sensor := ChainSensor(a.ChainID)
		counted = append(counted, ingest.AlertBody{ObservedAt: b.Block.Time, Sensor: sensor, Class: b.Class,
			Severity: ingest.Severity(b.Severity)})
		ids, times, sensors = append(ids, id), append(times, b.Block.Time), append(sensors, sensor)
		classes, sevs = append(classes, b.Class), append(sevs, b.Severity)
		scores, risks = append(scores, b.Score), append(risks, b.Risk)
		// The model as the body names it (none for a rule), so that the
		// row is the body's copy whatever the alert carried.
		var model chainhunt.BodyModel
		if b.Model != nil {
			model = *b.Model
		}
		modelIDs, modelVers = append(modelIDs, model.ID), append(modelVers, model.Version)
		chains, blocks = append(chains, int64(a.ChainID)), append(blocks, int64(a.BlockNumber))
		blockHashes = append(blockHashes, a.BlockHash.Bytes())
		txs, accts = append(txs, optionalBytes(a.TxHash.Bytes())), append(accts, optionalBytes(a.Account.Bytes()))
		rules, subjects, methods = append(rules, a.Rule), append(subjects, string(a.Subject)), append(methods, string(a.Method))
	}
	// Rows and rollups go in one batch, so one round trip, the rollup rows
	// locked last and only until the commit.
	batch := &pgx.Batch{}
	batch.Queue(`
		INSERT INTO alerts (id, observed_at, sensor, class, score, severity, model_id, model_version, risk,
		                    source, chain_id, block_number, block_hash, tx_hash, account, rule, subject, method)
		SELECT u.id, u.t, u.sensor, u.class, u.score, u.sev, u.mid, u.mver, u.risk,
		       'chain', u.chain, u.block, u.bhash, u.tx, u.acct, u.rule, u.subject, u.method
		FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::text[], $5::float8[], $6::text[], $7::text[], $8::text[],
		            $9::float8[], $10::int8[], $11::int8[], $12::bytea[], $13::bytea[], $14::bytea[], $15::text[], $16::text[], $17::text[])
		     AS u(id, t, sensor, class, score, sev, mid, mver, risk, chain, block, bhash, tx, acct, rule, subject, method)`,
		ids, times, sensors, classes, scores, sevs, modelIDs, modelVers, risks,
		chains, blocks, blockHashes, txs, accts, rules, subjects, methods)
	queueCounts(batch, counted)
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return nil, fmt.Errorf("chain alert rows: %w", err)
	}
	return stored, nil
}

// optionalBytes is b, or nil (SQL NULL) when b is all zeros: no
// transaction, no account.
func optionalBytes(b []byte) []byte {
	for _, x := range b {
		if x != 0 {
			return b
		}
	}
	return nil
}

// Batch says whether this database holds anchoring batch id (in any
// state: a batch we prepared, sent, confirmed or orphaned is ours) and its
// Merkle root: chainhunt.KnownBatches, for the registry rules that look
// for batches we did not anchor and roots that are not ours.
func (h *ChainHunt) Batch(ctx context.Context, id uint64) (root common.Hash, known bool, err error) {
	if id > math.MaxInt64 {
		return root, false, nil
	}
	var b []byte
	err = h.pool.QueryRow(ctx, `SELECT root FROM anchor_batches WHERE id = $1`, int64(id)).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return root, false, nil
	}
	if err != nil {
		return root, false, fmt.Errorf("batch %d: %w", id, classify(err))
	}
	copy(root[:], b)
	return root, true, nil
}

// Record says whether this database holds record id and the hash anchored
// for it (its leaf hash, which the worker's record mode anchors):
// chainhunt.KnownRecords, the same rules for anchors made per record.
func (h *ChainHunt) Record(ctx context.Context, id [16]byte) (hash common.Hash, known bool, err error) {
	var b []byte
	err = h.pool.QueryRow(ctx, `SELECT leaf_hash FROM records WHERE id = $1`, uuid.UUID(id)).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return hash, false, nil
	}
	if err != nil {
		return hash, false, fmt.Errorf("record %s: %w", uuid.UUID(id), classify(err))
	}
	copy(hash[:], b)
	return hash, true, nil
}

var (
	_ chainhunt.KnownBatches = (*ChainHunt)(nil)
	_ chainhunt.KnownRecords = (*ChainHunt)(nil)
)

// huntLock makes one chain hunter at a time across every instance sharing
// a database (chain_hunt_lease, migration 000014): two would each keep the
// accounts' aggregates and overwrite each other's checkpoint.
var huntLock = fencedLock{name: "chain hunting", key: 0x6964736c_68756e74, table: "chain_hunt_lease"} // "idsl" "hunt"

// TryLock takes the single-hunter lock on a session of its own, or fails
// with anchor.ErrLockHeld while another instance hunts. The lease's Lost
// is closed as soon as that session stops answering: the hunter must stop
// then, and take the lock again before it goes on. Taking the lock also
// takes a new fencing token: from then on, Commit on this ChainHunt fails
// with anchor.ErrLockLost, writing nothing, once another hunter took the
// lock, so a hunter that lost it cannot replace the checkpoint and
// accounts of the one that took over.
func (h *ChainHunt) TryLock(ctx context.Context) (anchor.Lease, error) {
	l, err := huntLock.take(ctx, h.pool, time.Second)
	if err != nil {
		return nil, err
	}
	h.fence.Store(int64(l.Fence()))
	return l, nil
}
