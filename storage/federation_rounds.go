package storage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/ethereum/go-ethereum/common"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/federated"
	"github.com/idsledger/idsledger/federated/coordinator"
)

// A round's state only moves forward: open → closing → closed, open or
// closing → failed. A round that ended is never stored again, so a
// coordinator working from a stale copy cannot reopen or re-close it.
func canMove(from, to federated.State) bool {
	switch from {
	case federated.StateOpen:
		return true
	case federated.StateClosing:
		return to != federated.StateOpen
	}
	return false
}

// lockRound locks round n's row for the rest of tx and returns its stored
// state, after checking that the round may be stored in state to.
func lockRound(ctx context.Context, tx pgx.Tx, n uint64, to federated.State) (federated.State, error) {
	var from federated.State
	err := tx.QueryRow(ctx, `SELECT state FROM fl_rounds WHERE number = $1 FOR UPDATE`, int64(n)).Scan(&from)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("no round %d: %w", n, ErrNotFound)
	}
	if err != nil {
		return "", err
	}
	if !canMove(from, to) {
		return from, fmt.Errorf("%w: round %d is %s, it cannot become %s", federated.ErrRoundClosed, n, from, to)
	}
	return from, nil
}

// updateRound stores r over its row. closed_at is set when the round first
// ends.
func updateRound(ctx context.Context, tx pgx.Tx, r federated.Round) error {
	raw, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode round: %w", err)
	}
	_, err = tx.Exec(ctx, `
		UPDATE fl_rounds SET state = $2, round = $3, opened_at = $4, deadline = $5, new_model_id = nullif($6, ''),
			closed_at = CASE WHEN $2::text IN ('closed', 'failed') THEN coalesce(closed_at, now()) END
		WHERE number = $1`,
		int64(r.Number), string(r.State), raw, r.Opened, r.Deadline, r.NewModelID)
	return err
}

// OpenRound implements coordinator.Store.
func (f *Federation) OpenRound(ctx context.Context, r federated.Round, event coordinator.Record) error {
	raw, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("open round %d: encode: %w", r.Number, err)
	}
	err = pgx.BeginFunc(ctx, f.pool, func(tx pgx.Tx) error {
		// Asked first, so that a taken number with a round open says
		// ErrRoundOpen, as the contract orders them; under a race the
		// fl_rounds_current index still lets only one in.
		var busy bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM fl_rounds WHERE state IN ('open', 'closing'))`).Scan(&busy); err != nil {
			return err
		}
		if busy {
			return coordinator.ErrRoundOpen
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO fl_rounds (number, state, round, opened_at, deadline, new_model_id, closed_at)
			VALUES ($1, $2, $3, $4, $5, nullif($6, ''), CASE WHEN $2::text IN ('closed', 'failed') THEN now() END)`,
			int64(r.Number), string(r.State), raw, r.Opened, r.Deadline, r.NewModelID); err != nil {
			return err
		}
		return appendFedRecords(ctx, tx, event)
	})
	if err != nil {
		return fmt.Errorf("open round %d: %w", r.Number, fedErr(err))
	}
	return nil
}

// CurrentRound implements coordinator.Store.
func (f *Federation) CurrentRound(ctx context.Context) (federated.Round, error) {
	r, err := f.queryRound(ctx, `SELECT round FROM fl_rounds WHERE state IN ('open', 'closing')`)
	if err != nil {
		return r, fmt.Errorf("current round: %w", err)
	}
	return r, nil
}

// Round implements coordinator.Store.
func (f *Federation) Round(ctx context.Context, n uint64) (federated.Round, error) {
	r, err := f.queryRound(ctx, `SELECT round FROM fl_rounds WHERE number = $1`, int64(n))
	if err != nil {
		return r, fmt.Errorf("round %d: %w", n, err)
	}
	return r, nil
}

func (f *Federation) queryRound(ctx context.Context, sql string, args ...any) (federated.Round, error) {
	var raw []byte
	if err := f.pool.QueryRow(ctx, sql, args...).Scan(&raw); err != nil {
		return federated.Round{}, classify(err)
	}
	return decodeRound(raw)
}

func decodeRound(raw []byte) (federated.Round, error) {
	var r federated.Round
	if err := json.Unmarshal(raw, &r); err != nil {
		return r, fmt.Errorf("decode round: %w", err)
	}
	return r, nil
}

// LastRound implements coordinator.Store.
func (f *Federation) LastRound(ctx context.Context) (uint64, error) {
	var n int64
	if err := f.pool.QueryRow(ctx, `SELECT coalesce(max(number), 0) FROM fl_rounds`).Scan(&n); err != nil {
		return 0, fmt.Errorf("last round: %w", classify(err))
	}
	return uint64(n), nil
}

// Rounds implements coordinator.Store.
func (f *Federation) Rounds(ctx context.Context, before uint64, limit int) ([]federated.Round, error) {
	rows, err := f.pool.Query(ctx, `
		SELECT round FROM fl_rounds WHERE $1 = 0 OR number < $1 ORDER BY number DESC LIMIT $2`,
		int64(before), max(limit, 0))
	if err != nil {
		return nil, fmt.Errorf("list rounds: %w", classify(err))
	}
	raws, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, fmt.Errorf("list rounds: %w", classify(err))
	}
	out := make([]federated.Round, len(raws))
	for i, raw := range raws {
		if out[i], err = decodeRound(raw); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// SaveRound implements coordinator.Store: ErrNotFound for a round never
// opened, federated.ErrRoundClosed for a state change that goes backwards
// or a round that ended.
func (f *Federation) SaveRound(ctx context.Context, r federated.Round) error {
	err := pgx.BeginFunc(ctx, f.pool, func(tx pgx.Tx) error {
		if _, err := lockRound(ctx, tx, r.Number, r.State); err != nil {
			return err
		}
		return updateRound(ctx, tx, r)
	})
	if err != nil {
		return fmt.Errorf("save round %d: %w", r.Number, fedErr(err))
	}
	return nil
}

// AddUpdate implements coordinator.Store: the round must be stored and
// open (else ErrNotFound, federated.ErrRoundClosed), the update's site
// enrolled (else ErrNotFound).
func (f *Federation) AddUpdate(ctx context.Context, r federated.Round, u coordinator.StoredUpdate, rec coordinator.Record) error {
	if u.Update == nil || u.Round != r.Number || r.State != federated.StateOpen {
		return fmt.Errorf("add update %s: an update of round %d in an %s round %d", u.RecordID, u.Round, r.State, r.Number)
	}
	body, err := json.Marshal(u.Update)
	if err != nil {
		return fmt.Errorf("add update %s: encode: %w", u.RecordID, err)
	}
	judgement, err := encodeJudgement(u.Judgement)
	if err != nil {
		return fmt.Errorf("add update %s: %w", u.RecordID, err)
	}
	err = pgx.BeginFunc(ctx, f.pool, func(tx pgx.Tx) error {
		if from, err := lockRound(ctx, tx, r.Number, r.State); err != nil {
			return err
		} else if from != federated.StateOpen {
			return fmt.Errorf("%w: round %d is %s", federated.ErrRoundClosed, r.Number, from)
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO fl_updates (record_id, round, site, update_hash, leaf, body, received_at, judgement)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			u.RecordID, int64(u.Round), u.Update.Site[:], u.Hash[:], u.Leaf[:], body, u.ReceivedAt, judgement); err != nil {
			return err
		}
		if err := updateRound(ctx, tx, r); err != nil {
			return err
		}
		return appendFedRecords(ctx, tx, rec)
	})
	if err != nil {
		return fmt.Errorf("add update of %s to round %d: %w", u.Update.Site.Hex(), r.Number, fedErr(err))
	}
	return nil
}

// encodeJudgement is a judgement's JSON, nil (SQL NULL) for none.
func encodeJudgement(j *coordinator.Judgement) ([]byte, error) {
	if j == nil {
		return nil, nil
	}
	raw, err := json.Marshal(j)
	if err != nil {
		return nil, fmt.Errorf("encode judgement: %w", err)
	}
	return raw, nil
}

const updateColumns = `record_id, round, body, update_hash, leaf, received_at, judgement`

// Updates implements coordinator.Store (none for a round never opened).
func (f *Federation) Updates(ctx context.Context, round uint64) ([]coordinator.StoredUpdate, error) {
	rows, err := f.pool.Query(ctx, `SELECT `+updateColumns+` FROM fl_updates WHERE round = $1 ORDER BY seq`, int64(round))
	if err != nil {
		return nil, fmt.Errorf("round %d updates: %w", round, classify(err))
	}
	ups, err := pgx.CollectRows(rows, scanUpdate)
	if err != nil {
		return nil, fmt.Errorf("round %d updates: %w", round, classify(err))
	}
	return ups, nil
}

// Update implements coordinator.Store.
func (f *Federation) Update(ctx context.Context, recordID uuid.UUID) (coordinator.StoredUpdate, error) {
	rows, err := f.pool.Query(ctx, `SELECT `+updateColumns+` FROM fl_updates WHERE record_id = $1`, recordID)
	if err != nil {
		return coordinator.StoredUpdate{}, fmt.Errorf("update %s: %w", recordID, classify(err))
	}
	u, err := pgx.CollectExactlyOneRow(rows, scanUpdate)
	if err != nil {
		return coordinator.StoredUpdate{}, fmt.Errorf("update %s: %w", recordID, classify(err))
	}
	return u, nil
}

func scanUpdate(row pgx.CollectableRow) (coordinator.StoredUpdate, error) {
	var (
		u                       coordinator.StoredUpdate
		round                   int64
		body, hash, leaf, judge []byte
	)
	if err := row.Scan(&u.RecordID, &round, &body, &hash, &leaf, &u.ReceivedAt, &judge); err != nil {
		return u, err
	}
	u.Round, u.Hash, u.Leaf = uint64(round), common.BytesToHash(hash), anchor.Hash(common.BytesToHash(leaf))
	u.ReceivedAt = u.ReceivedAt.UTC()
	u.Update = new(federated.Update)
	if err := json.Unmarshal(body, u.Update); err != nil {
		return u, fmt.Errorf("update %s: decode: %w", u.RecordID, err)
	}
	if judge != nil {
		u.Judgement = new(coordinator.Judgement)
		if err := json.Unmarshal(judge, u.Judgement); err != nil {
			return u, fmt.Errorf("update %s: decode judgement: %w", u.RecordID, err)
		}
	}
	return u, nil
}

// AddRejection implements coordinator.Store.
func (f *Federation) AddRejection(ctx context.Context, r coordinator.Rejection) error {
	if _, err := f.pool.Exec(ctx, `INSERT INTO fl_rejections (round, site, update_hash, reason, at) VALUES ($1, $2, $3, $4, $5)`,
		int64(r.Round), r.Site[:], r.UpdateHash[:], r.Reason, r.At); err != nil {
		return fmt.Errorf("add rejection of %s in round %d: %w", r.Site.Hex(), r.Round, classify(err))
	}
	return nil
}

// Rejections implements coordinator.Store.
func (f *Federation) Rejections(ctx context.Context, round uint64) ([]coordinator.Rejection, error) {
	rows, err := f.pool.Query(ctx, `SELECT round, site, update_hash, reason, at FROM fl_rejections WHERE round = $1 ORDER BY id`, int64(round))
	if err != nil {
		return nil, fmt.Errorf("round %d rejections: %w", round, classify(err))
	}
	rs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (coordinator.Rejection, error) {
		var (
			r          coordinator.Rejection
			n          int64
			site, hash []byte
		)
		err := row.Scan(&n, &site, &hash, &r.Reason, &r.At)
		r.Round, r.Site, r.UpdateHash, r.At = uint64(n), common.BytesToAddress(site), common.BytesToHash(hash), r.At.UTC()
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("round %d rejections: %w", round, classify(err))
	}
	return rs, nil
}

// CompleteRound implements coordinator.Store. The round must be stored
// and open or closing (else ErrNotFound, federated.ErrRoundClosed), and
// every update of o one of its stored updates (else ErrNotFound); only
// their judgements are written. A model already stored is kept as it is.
func (f *Federation) CompleteRound(ctx context.Context, o coordinator.Outcome) error {
	n := o.Round.Number
	if o.Round.State != federated.StateClosed && o.Round.State != federated.StateFailed {
		return fmt.Errorf("complete round %d: state %s", n, o.Round.State)
	}
	if (o.Model == nil) != (o.ModelRecord == nil) {
		return fmt.Errorf("complete round %d: a model needs its record and a model record its model", n)
	}
	ids := make([]uuid.UUID, len(o.Updates))
	judgements := make([][]byte, len(o.Updates))
	for i, u := range o.Updates {
		var err error
		ids[i] = u.RecordID
		if judgements[i], err = encodeJudgement(u.Judgement); err != nil {
			return fmt.Errorf("complete round %d: update %s: %w", n, u.RecordID, err)
		}
	}
	acct, err := json.Marshal(o.Accountant)
	if err != nil {
		return fmt.Errorf("complete round %d: encode accountant: %w", n, err)
	}
	// Sorted, so that concurrent writers lock the rows in one order.
	sites := make([]common.Address, 0, len(o.Reputations))
	for a := range o.Reputations {
		sites = append(sites, a)
	}
	slices.SortFunc(sites, func(a, b common.Address) int { return bytes.Compare(a[:], b[:]) })
	addrs, reps := make([][]byte, len(sites)), make([]int32, len(sites))
	for i, a := range sites {
		addrs[i], reps[i] = a.Bytes(), int32(o.Reputations[a])
	}
	records := []coordinator.Record{o.RoundRecord}
	if o.ModelRecord != nil {
		records = append(records, *o.ModelRecord)
	}

	err = pgx.BeginFunc(ctx, f.pool, func(tx pgx.Tx) error {
		if _, err := lockRound(ctx, tx, n, o.Round.State); err != nil {
			return err
		}
		if o.Model != nil { // before the round, which names it
			if err := insertModel(ctx, tx, *o.Model); err != nil {
				return err
			}
		}
		if err := updateRound(ctx, tx, o.Round); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `
			UPDATE fl_updates f SET judgement = u.judgement
			FROM unnest($2::uuid[], $3::jsonb[]) AS u(id, judgement)
			WHERE f.record_id = u.id AND f.round = $1`, int64(n), ids, judgements)
		if err != nil {
			return err
		}
		if int(tag.RowsAffected()) != len(ids) {
			return fmt.Errorf("%d of the outcome's %d updates are not stored in the round: %w", len(ids)-int(tag.RowsAffected()), len(ids), ErrNotFound)
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO fl_reputations (site, reputation, round) SELECT u.site, u.rep, $3 FROM unnest($1::bytea[], $2::int4[]) AS u(site, rep)
			ON CONFLICT (site) DO UPDATE SET reputation = excluded.reputation, round = excluded.round`,
			addrs, reps, int64(n)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO fl_accountant (accountant, round) VALUES ($1, $2)
			ON CONFLICT (singleton) DO UPDATE SET accountant = excluded.accountant, round = excluded.round`, acct, int64(n)); err != nil {
			return err
		}
		return appendFedRecords(ctx, tx, records...)
	})
	if err != nil {
		return fmt.Errorf("complete round %d: %w", n, fedErr(err))
	}
	return nil
}

// Reputations implements coordinator.Store.
func (f *Federation) Reputations(ctx context.Context) (map[common.Address]uint16, error) {
	rows, err := f.pool.Query(ctx, `SELECT site, reputation FROM fl_reputations`)
	if err != nil {
		return nil, fmt.Errorf("reputations: %w", classify(err))
	}
	out := map[common.Address]uint16{}
	var (
		site []byte
		rep  int32
	)
	_, err = pgx.ForEachRow(rows, []any{&site, &rep}, func() error {
		out[common.BytesToAddress(site)] = uint16(rep)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reputations: %w", classify(err))
	}
	return out, nil
}

// Accountant implements coordinator.Store.
func (f *Federation) Accountant(ctx context.Context) (federated.Accountant, error) {
	var (
		a   federated.Accountant
		raw []byte
	)
	err := f.pool.QueryRow(ctx, `SELECT accountant FROM fl_accountant`).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return a, nil
	}
	if err != nil {
		return a, fmt.Errorf("accountant: %w", classify(err))
	}
	if err := json.Unmarshal(raw, &a); err != nil {
		return a, fmt.Errorf("accountant: decode: %w", err)
	}
	return a, nil
}
