package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/idsledger/idsledger/federated/coordinator"
)

// Federation is the PostgreSQL side of the federation coordinator: it
// implements coordinator.Store over the tables of migration 000006. Every
// method runs in one transaction (or is one statement), and each record
// the coordinator made is appended to records and the outbox, under the
// coordinator's id, in the transaction of the change it belongs to.
//
// Errors: ErrNotFound (which is coordinator.ErrNotFound) for a missing
// site, round, update or model, and for a row that names one that is not
// stored (an update of a site never enrolled, a site bound to an API key
// that does not exist); coordinator.ErrRoundOpen and ErrConflict from the
// tables' unique constraints; federated.ErrRoundClosed for a change a
// round's state does not allow; connectivity failures wrap ErrUnavailable.
//
// It assumes one coordinator per database, as the coordinator does: a
// round is stored whole (its JSON), so two coordinators changing one round
// at once would lose one's change.
type Federation struct {
	pool *pgxpool.Pool
}

var _ coordinator.Store = (*Federation)(nil)

// NewFederation returns the federation store over pool.
func NewFederation(pool *pgxpool.Pool) *Federation { return &Federation{pool: pool} }

// PostgreSQL error codes the federation store tells apart.
const (
	pgUniqueViolation     = "23505"
	pgForeignKeyViolation = "23503"
)

// fedErr classifies err for the coordinator: unique violations become
// ErrConflict (ErrRoundOpen for the one-current-round index), foreign key
// violations ErrNotFound, and the rest as classify does. It goes by error
// code and constraint name, never by message text.
func fedErr(err error) error {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return classify(err)
	}
	switch {
	case pgErr.Code == pgUniqueViolation && pgErr.ConstraintName == "fl_rounds_current":
		return fmt.Errorf("%w: %w", coordinator.ErrRoundOpen, err)
	case pgErr.Code == pgUniqueViolation:
		return fmt.Errorf("%w: %w", coordinator.ErrConflict, err)
	case pgErr.Code == pgForeignKeyViolation:
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return classify(err)
}

// appendFedRecords appends records the coordinator made, in order, each
// under its own id and kind.
func appendFedRecords(ctx context.Context, q Execer, recs ...coordinator.Record) error {
	for _, r := range recs {
		if err := AppendRecordsWithIDs(ctx, q, r.Kind, []uuid.UUID{r.ID}, [][]byte{r.Body}); err != nil {
			return err
		}
	}
	return nil
}

// PutSite implements coordinator.Store: a site enrolled again keeps its
// enrolment time and takes s's name, key and removal (none). ErrNotFound
// when no API key has s.KeyID.
func (f *Federation) PutSite(ctx context.Context, s coordinator.Site, event coordinator.Record) error {
	err := pgx.BeginFunc(ctx, f.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `
			INSERT INTO fl_sites (address, name, key_id, enrolled_at, removed_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (address) DO UPDATE SET name = excluded.name, key_id = excluded.key_id, removed_at = excluded.removed_at`,
			s.Address[:], s.Name, s.KeyID, s.EnrolledAt, s.RemovedAt); err != nil {
			return err
		}
		return appendFedRecords(ctx, tx, event)
	})
	if err != nil {
		return fmt.Errorf("enroll site %s: %w", s.Address.Hex(), fedErr(err))
	}
	return nil
}

// RemoveSite implements coordinator.Store; the removal time is the
// database's.
func (f *Federation) RemoveSite(ctx context.Context, addr common.Address, event coordinator.Record) error {
	err := pgx.BeginFunc(ctx, f.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE fl_sites SET removed_at = now() WHERE address = $1 AND removed_at IS NULL`, addr[:])
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("no enrolled site: %w", ErrNotFound)
		}
		return appendFedRecords(ctx, tx, event)
	})
	if err != nil {
		return fmt.Errorf("remove site %s: %w", addr.Hex(), fedErr(err))
	}
	return nil
}

const siteColumns = `address, name, key_id, enrolled_at, removed_at`

// Sites implements coordinator.Store.
func (f *Federation) Sites(ctx context.Context) ([]coordinator.Site, error) {
	rows, err := f.pool.Query(ctx, `SELECT `+siteColumns+` FROM fl_sites ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("list sites: %w", classify(err))
	}
	sites, err := pgx.CollectRows(rows, scanSite)
	if err != nil {
		return nil, fmt.Errorf("list sites: %w", classify(err))
	}
	return sites, nil
}

// SiteForKey implements coordinator.Store: removed sites speak for no key.
func (f *Federation) SiteForKey(ctx context.Context, keyID uuid.UUID) (coordinator.Site, error) {
	rows, err := f.pool.Query(ctx, `SELECT `+siteColumns+` FROM fl_sites WHERE key_id = $1 AND removed_at IS NULL`, keyID)
	if err != nil {
		return coordinator.Site{}, fmt.Errorf("site for key %s: %w", keyID, classify(err))
	}
	s, err := pgx.CollectExactlyOneRow(rows, scanSite)
	if err != nil {
		return coordinator.Site{}, fmt.Errorf("site for key %s: %w", keyID, classify(err))
	}
	return s, nil
}

func scanSite(row pgx.CollectableRow) (coordinator.Site, error) {
	var (
		s       coordinator.Site
		addr    []byte
		removed *time.Time
	)
	if err := row.Scan(&addr, &s.Name, &s.KeyID, &s.EnrolledAt, &removed); err != nil {
		return s, err
	}
	s.Address = common.BytesToAddress(addr)
	s.EnrolledAt = s.EnrolledAt.UTC()
	if removed != nil {
		t := removed.UTC()
		s.RemovedAt = &t
	}
	return s, nil
}

// AddEvent implements coordinator.Store.
func (f *Federation) AddEvent(ctx context.Context, event coordinator.Record) error {
	if err := appendFedRecords(ctx, f.pool, event); err != nil {
		return fmt.Errorf("add event %s: %w", event.ID, fedErr(err))
	}
	return nil
}
