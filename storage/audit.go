package storage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/ingest"
)

// WorkflowChange is an analyst's change to an alert's workflow; nil fields
// are left as they are. Assignee "" unassigns.
type WorkflowChange struct {
	Acknowledged *bool   `json:"acknowledged,omitempty"`
	Assignee     *string `json:"assignee,omitempty"`
	Note         *string `json:"note,omitempty"`
}

// AuditEvent is the body of an 'audit_event' record: who did what, when.
// The detail fields set depend on Action:
//   - "alert.workflow": AlertID and Change;
//   - "model.activate": Model (the model that decides from now on), and
//     Reason when the activation gave one (a round's promotion);
//   - "apikey.create", "apikey.revoke": Key;
//   - "webhook.create", "webhook.delete": Webhook.
type AuditEvent struct {
	Type    string           `json:"type"` // always "audit_event"
	Action  string           `json:"action"`
	Actor   string           `json:"actor"`
	At      time.Time        `json:"at"`
	AlertID *uuid.UUID       `json:"alert_id,omitempty"`
	Change  *WorkflowChange  `json:"change,omitempty"`
	Model   *ingest.ModelRef `json:"model,omitempty"`
	Reason  string           `json:"reason,omitempty"`
	Key     *KeyRef          `json:"key,omitempty"`
	Webhook *WebhookRef      `json:"webhook,omitempty"`
}

// WebhookRef names a webhook in an audit event: its id, where it delivers
// and from which severity; never its secret. An audit record can never be
// deleted, and receivers often take a token in the URL's query or path
// (Slack-style hook URLs are secrets whole), so the event holds the URL's
// origin (scheme, host, port) and the SHA-256 of the whole URL as it was
// given: enough to tell which receiver, and for an auditor who holds the
// URL to check it, with no token in the record.
type WebhookRef struct {
	ID          uuid.UUID       `json:"id"`
	Origin      string          `json:"origin"`
	URLSHA256   string          `json:"url_sha256"`
	MinSeverity ingest.Severity `json:"min_severity,omitempty"`
}

// webhookRef is the WebhookRef of webhook id delivering to raw.
func webhookRef(id uuid.UUID, raw string, minSeverity ingest.Severity) *WebhookRef {
	sum := sha256.Sum256([]byte(raw))
	ref := &WebhookRef{ID: id, URLSHA256: hex.EncodeToString(sum[:]), MinSeverity: minSeverity}
	if u, err := url.Parse(raw); err == nil {
		ref.Origin = u.Scheme + "://" + u.Host
	}
	return ref
}

// appendAuditEvent appends ev (Type and At filled in) to the outbox
// through q, which may be a transaction.
func appendAuditEvent(ctx context.Context, q RowQuerier, ev AuditEvent) (uuid.UUID, time.Time, error) {
	ev.Type = "audit_event"
	ev.At = time.Now().UTC().Truncate(time.Microsecond)
	canon, err := anchor.CanonicalJSON(ev)
	if err != nil {
		return uuid.Nil, ev.At, err
	}
	id, _, err := AppendRecord(ctx, q, "audit_event", canon, anchor.LeafHash(canon))
	return id, ev.At, err
}

// appendModelActivation appends the "model.activate" audit event of model
// through q: the one way that event is made (ActivateModel).
func appendModelActivation(ctx context.Context, q RowQuerier, model ingest.ModelRef, actor, reason string) (uuid.UUID, time.Time, error) {
	return appendAuditEvent(ctx, q, AuditEvent{Action: "model.activate", Actor: actor, Model: &model, Reason: reason})
}

// UpdateWorkflow applies change to alert id on behalf of actor and appends
// the change as an 'audit_event' record, in one transaction. It returns the
// audit event's record id, or ErrNotFound when there is no such alert.
// Changes to one alert are serialized (the alert row is locked).
func (db *DB) UpdateWorkflow(ctx context.Context, id uuid.UUID, change WorkflowChange, actor string) (uuid.UUID, error) {
	var eventID uuid.UUID
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM alerts WHERE id = $1 FOR UPDATE`, id).Scan(&one); err != nil {
			return err
		}
		var at time.Time
		var err error
		eventID, at, err = appendAuditEvent(ctx, tx, AuditEvent{Action: "alert.workflow", Actor: actor, AlertID: &id, Change: &change})
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO alert_workflow (alert_id, acknowledged, assignee, updated_at, updated_by)
			VALUES ($1, coalesce($2, false), nullif($3, ''), $4, $5)
			ON CONFLICT (alert_id) DO UPDATE SET
				acknowledged = coalesce($2, alert_workflow.acknowledged),
				assignee = CASE WHEN $3::text IS NULL THEN alert_workflow.assignee ELSE nullif($3, '') END,
				updated_at = $4, updated_by = $5`,
			id, change.Acknowledged, change.Assignee, at, actor); err != nil {
			return fmt.Errorf("update workflow: %w", err)
		}
		if change.Note != nil {
			if _, err := tx.Exec(ctx, `INSERT INTO alert_notes (alert_id, author, body, event_id, created_at) VALUES ($1, $2, $3, $4, $5)`,
				id, actor, *change.Note, eventID, at); err != nil {
				return fmt.Errorf("add note: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return uuid.Nil, fmt.Errorf("alert %s workflow: %w", id, classify(err))
	}
	return eventID, nil
}
