package storage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/idsledger/idsledger/ingest"
)

// Webhook is an outgoing alert subscription. Secret signs every delivery
// (HMAC-SHA256); it is never shown again after creation, and is stored
// sealed (see SecretKey).
type Webhook struct {
	ID          uuid.UUID       `json:"id"`
	URL         string          `json:"url"`
	Secret      string          `json:"-"`
	MinSeverity ingest.Severity `json:"min_severity"`
	CreatedAt   time.Time       `json:"created_at"`
}

// CreateWebhook stores a webhook with a new random 256-bit secret, and
// appends a "webhook.create" audit event naming actor, in one transaction.
// It returns the webhook (with its secret) and the audit event's record id.
func (db *DB) CreateWebhook(ctx context.Context, url string, minSeverity ingest.Severity, actor string) (Webhook, uuid.UUID, error) {
	var sec [32]byte
	if _, err := rand.Read(sec[:]); err != nil {
		return Webhook{}, uuid.Nil, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Webhook{}, uuid.Nil, err
	}
	if db.webhookKey == nil {
		return Webhook{}, uuid.Nil, fmt.Errorf("create webhook: %w", ErrNoSecretKey)
	}
	w := Webhook{ID: id, URL: url, Secret: hex.EncodeToString(sec[:]), MinSeverity: minSeverity}
	var eventID uuid.UUID
	err = pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO webhooks (id, url, secret, min_severity) VALUES ($1, $2, $3, $4) RETURNING created_at`,
			id, url, db.webhookKey.seal(id, w.Secret), string(minSeverity)).Scan(&w.CreatedAt); err != nil {
			return err
		}
		var err error
		eventID, _, err = appendAuditEvent(ctx, tx, AuditEvent{Action: "webhook.create", Actor: actor,
			Webhook: webhookRef(id, url, minSeverity)})
		return err
	})
	if err != nil {
		return Webhook{}, uuid.Nil, fmt.Errorf("create webhook: %w", classify(err))
	}
	return w, eventID, nil
}

// ListWebhooks returns the enabled webhooks, oldest first, with secrets.
// A secret that does not open with the DB's key fails the whole list with
// ErrSecretKey (or ErrNoSecretKey without a key).
func (db *DB) ListWebhooks(ctx context.Context) ([]Webhook, error) {
	rows, err := db.Pool.Query(ctx, `SELECT id, url, secret, min_severity, created_at FROM webhooks WHERE disabled_at IS NULL ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list webhooks: %w", classify(err))
	}
	hooks, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Webhook, error) {
		var w Webhook
		var sev, stored string
		if err := r.Scan(&w.ID, &w.URL, &stored, &sev, &w.CreatedAt); err != nil {
			return w, err
		}
		w.MinSeverity = ingest.Severity(sev)
		var err error
		w.Secret, err = openSecret(db.webhookKey, w.ID, stored)
		return w, err
	})
	if err != nil {
		return nil, fmt.Errorf("list webhooks: %w", classify(err))
	}
	return hooks, nil
}

// SealWebhookSecrets makes sure every webhook secret is sealed with the
// DB's key: it checks that the enabled webhooks' sealed secrets open
// (ErrSecretKey when one does not, and then changes nothing), then seals
// the ones stored in plaintext (rows written before migration 000009), all
// in one transaction. It returns how many it sealed. serve calls it at
// start, so that a wrong key stops the service there rather than later
// deliveries, and so that no plaintext secret stays at rest.
func (db *DB) SealWebhookSecrets(ctx context.Context) (int, error) {
	if db.webhookKey == nil {
		return 0, fmt.Errorf("seal webhook secrets: %w", ErrNoSecretKey)
	}
	sealed := 0
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, secret, disabled_at IS NULL FROM webhooks ORDER BY id FOR UPDATE`)
		if err != nil {
			return err
		}
		type row struct {
			id      uuid.UUID
			stored  string
			enabled bool
		}
		all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
			var x row
			return x, r.Scan(&x.id, &x.stored, &x.enabled)
		})
		if err != nil {
			return err
		}
		plain := map[uuid.UUID]string{}
		for _, x := range all {
			secret, err := openSecret(db.webhookKey, x.id, x.stored)
			switch {
			case strings.HasPrefix(x.stored, plainPrefix):
				plain[x.id] = secret
			case err != nil && x.enabled:
				return err
			}
		}
		for id, secret := range plain {
			if _, err := tx.Exec(ctx, `UPDATE webhooks SET secret = $2 WHERE id = $1`, id, db.webhookKey.seal(id, secret)); err != nil {
				return err
			}
			sealed++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("seal webhook secrets: %w", classify(err))
	}
	return sealed, nil
}

// DisableWebhook stops deliveries to a webhook (its dead letters stay) and
// appends a "webhook.delete" audit event naming actor, in one transaction,
// and returns the event's record id; ErrNotFound, and no event, when there
// is no enabled webhook with that id.
func (db *DB) DisableWebhook(ctx context.Context, id uuid.UUID, actor string) (uuid.UUID, error) {
	var eventID uuid.UUID
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var url string
		if err := tx.QueryRow(ctx, `UPDATE webhooks SET disabled_at = now() WHERE id = $1 AND disabled_at IS NULL RETURNING url`, id).Scan(&url); err != nil {
			return err
		}
		var err error
		eventID, _, err = appendAuditEvent(ctx, tx, AuditEvent{Action: "webhook.delete", Actor: actor,
			Webhook: webhookRef(id, url, "")})
		return err
	})
	if err != nil {
		return uuid.Nil, fmt.Errorf("disable webhook %s: %w", id, classify(err))
	}
	return eventID, nil
}

// DeadLetter is a delivery that failed every attempt.
type DeadLetter struct {
	ID         int64           `json:"id"`
	WebhookID  uuid.UUID       `json:"webhook_id"`
	AlertID    uuid.UUID       `json:"alert_id"`
	Payload    json.RawMessage `json:"payload"`
	Attempts   int             `json:"attempts"`
	LastError  string          `json:"last_error"`
	CreatedAt  time.Time       `json:"created_at"`
	ReplayedAt *time.Time      `json:"replayed_at,omitempty"`
}

// AddDeadLetters stores failed deliveries in one statement.
func (db *DB) AddDeadLetters(ctx context.Context, dls []DeadLetter) error {
	if len(dls) == 0 {
		return nil
	}
	hooks, alerts := make([]uuid.UUID, len(dls)), make([]uuid.UUID, len(dls))
	payloads, errs := make([][]byte, len(dls)), make([]string, len(dls))
	attempts := make([]int32, len(dls))
	for i, d := range dls {
		hooks[i], alerts[i], payloads[i], attempts[i], errs[i] = d.WebhookID, d.AlertID, d.Payload, int32(d.Attempts), d.LastError
	}
	_, err := db.Pool.Exec(ctx, `
		INSERT INTO webhook_dead_letters (webhook_id, alert_id, payload, attempts, last_error)
		SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::bytea[], $4::int4[], $5::text[])`,
		hooks, alerts, payloads, attempts, errs)
	if err != nil {
		return fmt.Errorf("add dead letters: %w", classify(err))
	}
	return nil
}

// ListDeadLetters returns up to limit dead letters not yet replayed, oldest
// first, after id after (0 for the start).
func (db *DB) ListDeadLetters(ctx context.Context, after int64, limit int) ([]DeadLetter, error) {
	rows, err := db.Pool.Query(ctx, `
		SELECT id, webhook_id, alert_id, payload, attempts, last_error, created_at, replayed_at
		FROM webhook_dead_letters WHERE replayed_at IS NULL AND id > $1 ORDER BY id LIMIT $2`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list dead letters: %w", classify(err))
	}
	dls, err := pgx.CollectRows(rows, scanDeadLetter)
	if err != nil {
		return nil, fmt.Errorf("list dead letters: %w", classify(err))
	}
	return dls, nil
}

// DeadLetter returns one dead letter, or ErrNotFound.
func (db *DB) DeadLetter(ctx context.Context, id int64) (DeadLetter, error) {
	rows, err := db.Pool.Query(ctx, `
		SELECT id, webhook_id, alert_id, payload, attempts, last_error, created_at, replayed_at
		FROM webhook_dead_letters WHERE id = $1`, id)
	if err != nil {
		return DeadLetter{}, fmt.Errorf("dead letter %d: %w", id, classify(err))
	}
	d, err := pgx.CollectExactlyOneRow(rows, scanDeadLetter)
	if err != nil {
		return d, fmt.Errorf("dead letter %d: %w", id, classify(err))
	}
	return d, nil
}

// MarkReplayed records that a dead letter was delivered on replay.
func (db *DB) MarkReplayed(ctx context.Context, id int64) error {
	if _, err := db.Pool.Exec(ctx, `UPDATE webhook_dead_letters SET replayed_at = now() WHERE id = $1`, id); err != nil {
		return fmt.Errorf("mark dead letter %d replayed: %w", id, classify(err))
	}
	return nil
}

func scanDeadLetter(r pgx.CollectableRow) (DeadLetter, error) {
	var d DeadLetter
	var payload []byte
	err := r.Scan(&d.ID, &d.WebhookID, &d.AlertID, &payload, &d.Attempts, &d.LastError, &d.CreatedAt, &d.ReplayedAt)
	d.Payload = payload
	return d, err
}
