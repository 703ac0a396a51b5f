package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/detector"
	"github.com/idsledger/idsledger/federated/coordinator"
	"github.com/idsledger/idsledger/ingest"
)

// The models table holds every detector model file the service keeps:
// uploaded, built in, or made by a federated round. The coordinator reads
// and plans them through Federation; the serving side activates them
// through DB.ActivateModel. Both write a file through insertModel.

// insertModel stores m unless a model with its id is stored (then nothing
// changes). m.ID must be the hex keccak256 of m.File.
func insertModel(ctx context.Context, q Execer, m coordinator.ModelFile) error {
	if id := detector.ModelID(m.File); id != m.ID {
		return fmt.Errorf("model %q: its file's keccak256 is %s", m.ID, id)
	}
	var version *int64
	if m.Version > 0 {
		v := int64(m.Version)
		version = &v
	}
	var record *uuid.UUID
	if m.RecordID != uuid.Nil {
		record = &m.RecordID
	}
	_, err := q.Exec(ctx, `
		INSERT INTO models (id, kind, file, round, parent, registry_version, registered, updates_root, record_id, created_at)
		VALUES ($1, $2, $3, $4, nullif($5, ''), $6, $7, $8, $9, $10)
		ON CONFLICT (id) DO NOTHING`,
		m.ID, m.Kind, m.File, int64(m.Round), m.Parent, version, m.Registered, m.UpdatesRoot[:], record, m.CreatedAt)
	return err
}

// modelColumns are a models row without its file, as modelRow scans it.
const modelColumns = `id, kind, round, coalesce(parent, ''), coalesce(registry_version, 0), registered,
	updates_root, coalesce(record_id, '00000000-0000-0000-0000-000000000000'), created_at`

// modelRow scans modelColumns, and the file after them when withFile.
type modelRow struct {
	m              coordinator.ModelFile
	round, version int64
	root           []byte
}

func (r *modelRow) dest(withFile bool) []any {
	d := []any{&r.m.ID, &r.m.Kind, &r.round, &r.m.Parent, &r.version, &r.m.Registered, &r.root, &r.m.RecordID, &r.m.CreatedAt}
	if withFile {
		d = append(d, &r.m.File)
	}
	return d
}

func (r *modelRow) model() (coordinator.ModelFile, error) {
	m := r.m
	m.Round, m.Version, m.CreatedAt = uint64(r.round), uint64(r.version), m.CreatedAt.UTC()
	if len(r.root) != len(m.UpdatesRoot) {
		return m, fmt.Errorf("model %s: updates root of %d bytes", m.ID, len(r.root))
	}
	m.UpdatesRoot = anchor.HexHash(r.root)
	return m, nil
}

func scanModel(row pgx.CollectableRow) (coordinator.ModelFile, error) {
	var r modelRow
	if err := row.Scan(r.dest(len(row.FieldDescriptions()) > len(r.dest(false)))...); err != nil {
		return r.m, err
	}
	return r.model()
}

// PutModel implements coordinator.Store; m.ID must be the hex keccak256
// of m.File.
func (f *Federation) PutModel(ctx context.Context, m coordinator.ModelFile) error {
	if err := insertModel(ctx, f.pool, m); err != nil {
		return fmt.Errorf("store model %s: %w", m.ID, fedErr(err))
	}
	return nil
}

// NextModelVersion implements coordinator.Store (a PostgreSQL sequence).
func (f *Federation) NextModelVersion(ctx context.Context) (uint64, error) {
	var v int64
	if err := f.pool.QueryRow(ctx, `SELECT nextval('model_registry_versions')`).Scan(&v); err != nil {
		return 0, fmt.Errorf("next model version: %w", classify(err))
	}
	return uint64(v), nil
}

// PlanRegistration implements coordinator.Store: ErrNotFound for a model
// not stored, ErrConflict when it is planned as another version or the
// version is another model's; planning it again as its version changes
// nothing.
func (f *Federation) PlanRegistration(ctx context.Context, modelID string, version uint64) error {
	if version == 0 {
		return fmt.Errorf("plan registration of model %s: version 0", modelID)
	}
	err := pgx.BeginFunc(ctx, f.pool, func(tx pgx.Tx) error {
		var planned *int64
		if err := tx.QueryRow(ctx, `SELECT registry_version FROM models WHERE id = $1 FOR UPDATE`, modelID).Scan(&planned); err != nil {
			return err
		}
		if planned != nil && uint64(*planned) != version {
			return fmt.Errorf("%w: planned as version %d", coordinator.ErrConflict, *planned)
		}
		_, err := tx.Exec(ctx, `UPDATE models SET registry_version = $2 WHERE id = $1`, modelID, int64(version))
		return err
	})
	if err != nil {
		return fmt.Errorf("plan registration of model %s as version %d: %w", modelID, version, fedErr(err))
	}
	return nil
}

// Unregistered implements coordinator.Store: by registry version, without
// the files.
func (f *Federation) Unregistered(ctx context.Context) ([]coordinator.ModelFile, error) {
	return f.listModels(ctx, `SELECT `+modelColumns+` FROM models
		WHERE registry_version IS NOT NULL AND NOT registered ORDER BY registry_version`)
}

// MarkRegistered implements coordinator.Store: ErrNotFound for a model
// not stored; a model with no planned version is an error.
func (f *Federation) MarkRegistered(ctx context.Context, modelID string) error {
	err := pgx.BeginFunc(ctx, f.pool, func(tx pgx.Tx) error {
		var planned *int64
		if err := tx.QueryRow(ctx, `SELECT registry_version FROM models WHERE id = $1 FOR UPDATE`, modelID).Scan(&planned); err != nil {
			return err
		}
		if planned == nil {
			return errors.New("no registry version is planned for it")
		}
		_, err := tx.Exec(ctx, `UPDATE models SET registered = true WHERE id = $1`, modelID)
		return err
	})
	if err != nil {
		return fmt.Errorf("mark model %s registered: %w", modelID, classify(err))
	}
	return nil
}

// Model implements coordinator.Store.
func (f *Federation) Model(ctx context.Context, id string) (coordinator.ModelFile, error) {
	rows, err := f.pool.Query(ctx, `SELECT `+modelColumns+`, file FROM models WHERE id = $1`, id)
	if err != nil {
		return coordinator.ModelFile{}, fmt.Errorf("model %s: %w", id, classify(err))
	}
	m, err := pgx.CollectExactlyOneRow(rows, scanModel)
	if err != nil {
		return m, fmt.Errorf("model %s: %w", id, classify(err))
	}
	return m, nil
}

// Models implements coordinator.Store: in the reverse of the order they
// were stored in.
func (f *Federation) Models(ctx context.Context) ([]coordinator.ModelFile, error) {
	return f.listModels(ctx, `SELECT `+modelColumns+` FROM models ORDER BY seq DESC`)
}

func (f *Federation) listModels(ctx context.Context, sql string) ([]coordinator.ModelFile, error) {
	rows, err := f.pool.Query(ctx, sql)
	if err != nil {
		return nil, fmt.Errorf("list models: %w", classify(err))
	}
	ms, err := pgx.CollectRows(rows, scanModel)
	if err != nil {
		return nil, fmt.Errorf("list models: %w", classify(err))
	}
	return ms, nil
}

// ModelActivation is the model that scores flows, as last activated.
type ModelActivation struct {
	Model       coordinator.ModelFile // with its file
	Version     string                // the version label it was activated with
	Actor       string
	ActivatedAt time.Time
	EventID     uuid.UUID // its model.activate audit event record
}

// ActivateModel makes m the model that scores flows, durably: in one
// transaction it stores m (unless a model with its id is stored; a zero
// CreatedAt becomes the activation time), appends the "model.activate"
// audit event naming m.ID, version, actor and reason (may be empty), and
// makes m the active model, which ActiveModel returns from then on, also
// after a restart. m.ID must be the hex keccak256 of m.File. It returns the
// event's record id. Call it before the model takes over, so that no alert
// is decided by an unrecorded model.
func (db *DB) ActivateModel(ctx context.Context, m coordinator.ModelFile, version, actor, reason string) (uuid.UUID, error) {
	var eventID uuid.UUID
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		id, at, err := appendModelActivation(ctx, tx, ingest.ModelRef{ID: m.ID, Version: version}, actor, reason)
		if err != nil {
			return err
		}
		if m.CreatedAt.IsZero() {
			m.CreatedAt = at
		}
		if err := insertModel(ctx, tx, m); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO active_model (model_id, version, actor, activated_at, event_id) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (singleton) DO UPDATE SET model_id = excluded.model_id, version = excluded.version,
				actor = excluded.actor, activated_at = excluded.activated_at, event_id = excluded.event_id`,
			m.ID, version, actor, at, id); err != nil {
			return err
		}
		eventID = id
		return nil
	})
	if err != nil {
		return uuid.Nil, fmt.Errorf("activate model %s: %w", m.ID, classify(err))
	}
	return eventID, nil
}

// ActiveModel returns the model last activated with ActivateModel, with
// its file; ok is false when none ever was.
func (db *DB) ActiveModel(ctx context.Context) (ModelActivation, bool, error) {
	var (
		a ModelActivation
		r modelRow
	)
	dest := append([]any{&a.Version, &a.Actor, &a.ActivatedAt, &a.EventID}, r.dest(true)...)
	err := db.Pool.QueryRow(ctx, `SELECT a.version, a.actor, a.activated_at, a.event_id, `+modelColumns+`, file
		FROM active_model a JOIN models m ON m.id = a.model_id`).Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return a, false, nil
	}
	if err != nil {
		return a, false, fmt.Errorf("active model: %w", classify(err))
	}
	a.ActivatedAt = a.ActivatedAt.UTC()
	if a.Model, err = r.model(); err != nil {
		return a, false, fmt.Errorf("active model: %w", err)
	}
	return a, true, nil
}

// RecordActivation is ActivateModel for an ingest.Activation: the hook
// ingest.Models.Record that makes every model swap durable and audited.
func (db *DB) RecordActivation(ctx context.Context, a ingest.Activation) (uuid.UUID, error) {
	return db.ActivateModel(ctx, coordinator.ModelFile{ID: a.Detector.ID(), Kind: a.Detector.Meta.ModelKind, File: a.File},
		a.Version, a.Actor, a.Reason)
}
