package storage

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/ingest"
)

// AnchorState is where an alert's record stands in anchoring.
type AnchorState struct {
	// Status is pending, anchored, or missing (the record row is gone).
	Status     string     `json:"status"`
	BatchID    *int64     `json:"batch_id,omitempty"`
	LeafIndex  *int32     `json:"leaf_index,omitempty"`
	AnchoredAt *time.Time `json:"anchored_at,omitempty"`
}

// Workflow is the analyst state of an alert. It is not hashed; every change
// to it is an audit_event record.
type Workflow struct {
	Acknowledged bool       `json:"acknowledged"`
	Assignee     string     `json:"assignee,omitempty"`
	UpdatedAt    *time.Time `json:"updated_at,omitempty"`
	UpdatedBy    string     `json:"updated_by,omitempty"`
}

// Alert is an alert as listed: the query columns, its anchoring state and
// its workflow. Features are empty in listings (they live in the body).
type Alert struct {
	ID uuid.UUID `json:"id"`
	ingest.AlertBody
	Anchor   AnchorState `json:"anchor"`
	Workflow Workflow    `json:"workflow"`
}

// Note is one analyst note on an alert.
type Note struct {
	Author    string    `json:"author"`
	Body      string    `json:"body"`
	EventID   uuid.UUID `json:"event_id"`
	CreatedAt time.Time `json:"created_at"`
}

// AlertDetail is one alert with its record body as stored and its notes.
type AlertDetail struct {
	Alert
	// Record is the stored canonical body: the bytes that are hashed
	// (absent when the record row is gone).
	Record json.RawMessage `json:"record,omitempty"`
	Notes  []Note          `json:"notes"`
}

// AlertCursor is a position in the listing order (observed_at, id).
type AlertCursor struct {
	ObservedAt time.Time
	ID         uuid.UUID
}

// AlertFilter selects alerts. Zero fields do not filter.
type AlertFilter struct {
	From, To     time.Time // From inclusive, To exclusive
	Classes      []string
	Severities   []ingest.Severity
	Sensors      []string
	ModelIDs     []string
	Src, Dst     netip.Prefix
	AnchorStatus string // "pending" or "anchored"
	// After continues a listing after this position.
	After *AlertCursor
	// Ascending lists oldest first (the live stream); the default is
	// newest first.
	Ascending bool
	// Limit caps the page (default 100, at most 1000).
	Limit int
	// WithFeatures also reads each alert's features from its record body.
	WithFeatures bool
}

// InsertAlerts stores alerts in one transaction: for each, its canonical
// body as a pending 'alert' record in the outbox and its query row. Either
// all are stored or none. The ids (UUIDv7, also the record ids) are returned
// in input order. An alert that cannot be encoded fails the whole call with
// ingest.ErrInvalidAlert before anything is written.
func (db *DB) InsertAlerts(ctx context.Context, alerts []ingest.AlertBody) ([]uuid.UUID, error) {
	if len(alerts) == 0 {
		return nil, nil
	}
	n := len(alerts)
	var (
		bodies              = make([][]byte, n)
		times               = make([]time.Time, n)
		sensors             = make([]string, n)
		srcs, dsts          = make([]*string, n), make([]*string, n)
		sports, dports      = make([]*int32, n), make([]*int32, n)
		protos              = make([]*int16, n)
		cids                = make([]*string, n)
		classes, sevs       = make([]string, n), make([]string, n)
		scores              = make([]float64, n)
		modelIDs, modelVers = make([]string, n), make([]string, n)
	)
	for i := range alerts {
		b := alerts[i].Normalized()
		canon, err := ingest.Canonical(b) // QueueRecords hashes it
		if err != nil {
			return nil, fmt.Errorf("alert %d: %w", i, err)
		}
		bodies[i] = canon
		times[i], sensors[i] = b.ObservedAt, b.Sensor
		srcs[i], dsts[i] = addrText(b.Flow.SrcAddr), addrText(b.Flow.DstAddr)
		if b.Flow.SrcAddr.IsValid() || b.Flow.SrcPort != 0 {
			p := int32(b.Flow.SrcPort)
			sports[i] = &p
		}
		if b.Flow.DstAddr.IsValid() || b.Flow.DstPort != 0 {
			p := int32(b.Flow.DstPort)
			dports[i] = &p
		}
		if b.Flow.Proto != 0 {
			p := int16(b.Flow.Proto)
			protos[i] = &p
		}
		if b.CommunityID != "" {
			c := b.CommunityID
			cids[i] = &c
		}
		classes[i], sevs[i], scores[i] = b.Class, string(b.Severity), b.Score
		modelIDs[i], modelVers[i] = b.Model.ID, b.Model.Version
	}
	// One batch, so one round trip: PostgreSQL runs it as one implicit
	// transaction (all or nothing), and holds the rollup rows it locks only
	// for as long as it runs. The records keep request order in seq; the
	// alert rows take the record ids.
	batch := &pgx.Batch{}
	ids, err := QueueRecords(batch, "alert", bodies)
	if err != nil {
		return nil, err
	}
	batch.Queue(`
		INSERT INTO alerts (id, observed_at, sensor, src_addr, dst_addr, src_port, dst_port, proto,
		                    community_id, class, score, severity, model_id, model_version)
		SELECT u.id, u.t, u.sensor, u.src::inet, u.dst::inet, u.sport, u.dport, u.proto,
		       u.cid, u.class, u.score, u.sev, u.mid, u.mver
		FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::int4[], $7::int4[],
		            $8::int2[], $9::text[], $10::text[], $11::float8[], $12::text[], $13::text[], $14::text[])
		     AS u(id, t, sensor, src, dst, sport, dport, proto, cid, class, score, sev, mid, mver)`,
		ids, times, sensors, srcs, dsts, sports, dports, protos, cids, classes, scores, sevs, modelIDs, modelVers)
	queueCounts(batch, alerts)
	err = db.Pool.SendBatch(ctx, batch).Close()
	if err != nil {
		return nil, classify(err)
	}
	return ids, nil
}

// rollupShards is how many rows each rollup key is spread over (migration
// 000004): a transaction adds to one of them, picked at random, so that
// concurrent ingest transactions seldom wait on each other's row locks.
const rollupShards = 16

// queueCounts queues the upserts that add alerts to the hourly and daily
// report counts, all in one randomly picked shard. Keys are upserted in
// sorted order, so concurrent inserts that meet in a shard lock its rows in
// the same order and cannot deadlock; the rows stay locked only until the
// batch's transaction commits.
func queueCounts(b *pgx.Batch, alerts []ingest.AlertBody) {
	shard := int16(rand.IntN(rollupShards))
	type key struct {
		grain                   string
		bucket                  time.Time
		class, severity, sensor string
	}
	type srcKey struct {
		grain  string
		bucket time.Time
		src    netip.Addr
	}
	counts := map[key]int64{}
	srcs := map[srcKey]int64{}
	for _, b := range alerts {
		t := b.ObservedAt.UTC()
		for _, g := range [2]struct {
			name string
			unit time.Duration
		}{{"hour", time.Hour}, {"day", 24 * time.Hour}} {
			bucket := t.Truncate(g.unit)
			counts[key{g.name, bucket, b.Class, string(b.Severity), b.Sensor}]++
			if b.Flow.SrcAddr.IsValid() {
				srcs[srcKey{g.name, bucket, b.Flow.SrcAddr}]++
			}
		}
	}
	keys := make([]key, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b key) int {
		return cmp.Or(cmp.Compare(a.grain, b.grain), a.bucket.Compare(b.bucket), cmp.Compare(a.class, b.class),
			cmp.Compare(a.severity, b.severity), cmp.Compare(a.sensor, b.sensor))
	})
	n := len(keys)
	grains, buckets, ns := make([]string, n), make([]time.Time, n), make([]int64, n)
	classes, sevs, sensors := make([]string, n), make([]string, n), make([]string, n)
	for i, k := range keys {
		grains[i], buckets[i], classes[i], sevs[i], sensors[i], ns[i] = k.grain, k.bucket, k.class, k.severity, k.sensor, counts[k]
	}
	b.Queue(`
		INSERT INTO alert_counts (grain, bucket, class, severity, sensor, shard, n)
		SELECT g, b, c, s, sn, $7, n
		FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::int8[]) AS u(g, b, c, s, sn, n)
		ON CONFLICT (grain, bucket, class, severity, sensor, shard) DO UPDATE SET n = alert_counts.n + excluded.n`,
		grains, buckets, classes, sevs, sensors, ns, shard)
	skeys := make([]srcKey, 0, len(srcs))
	for k := range srcs {
		skeys = append(skeys, k)
	}
	slices.SortFunc(skeys, func(a, b srcKey) int {
		return cmp.Or(cmp.Compare(a.grain, b.grain), a.bucket.Compare(b.bucket), a.src.Compare(b.src))
	})
	m := len(skeys)
	sg, sb, sa, sn := make([]string, m), make([]time.Time, m), make([]string, m), make([]int64, m)
	for i, k := range skeys {
		sg[i], sb[i], sa[i], sn[i] = k.grain, k.bucket, k.src.String(), srcs[k]
	}
	b.Queue(`
		INSERT INTO alert_src_counts (grain, bucket, src_addr, shard, n)
		SELECT g, b, a::inet, $5, n FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::int8[]) AS u(g, b, a, n)
		ON CONFLICT (grain, bucket, src_addr, shard) DO UPDATE SET n = alert_src_counts.n + excluded.n`, sg, sb, sa, sn, shard)
}

func addrText(a netip.Addr) *string {
	if !a.IsValid() {
		return nil
	}
	s := a.String()
	return &s
}

const alertColumns = `a.id, a.observed_at, a.sensor, host(a.src_addr), host(a.dst_addr), a.src_port, a.dst_port, a.proto,
	a.community_id, a.class, a.score, a.severity, a.model_id, a.model_version,
	CASE WHEN r.id IS NULL THEN NULL WHEN ra.record_id IS NULL THEN 'pending' ELSE 'anchored' END,
	ra.batch_id, ra.leaf_index, ra.anchored_at,
	w.acknowledged, w.assignee, w.updated_at, w.updated_by`

const alertFrom = ` FROM alerts a
	LEFT JOIN records r ON r.id = a.id
	LEFT JOIN record_anchors ra ON ra.record_id = a.id
	LEFT JOIN alert_workflow w ON w.alert_id = a.id`

func scanAlert(row pgx.Row, extra ...any) (Alert, error) {
	var (
		a               Alert
		src, dst, cid   *string
		sport, dport    *int32
		proto           *int16
		sev             string
		status          *string
		ack             *bool
		assignee, updBy *string
	)
	dest := []any{&a.ID, &a.ObservedAt, &a.Sensor, &src, &dst, &sport, &dport, &proto,
		&cid, &a.Class, &a.Score, &sev, &a.Model.ID, &a.Model.Version,
		&status, &a.Anchor.BatchID, &a.Anchor.LeafIndex, &a.Anchor.AnchoredAt,
		&ack, &assignee, &a.Workflow.UpdatedAt, &updBy}
	if err := row.Scan(append(dest, extra...)...); err != nil {
		return a, err
	}
	a.Type = "alert"
	a.ObservedAt = a.ObservedAt.UTC()
	if src != nil {
		a.Flow.SrcAddr, _ = netip.ParseAddr(*src)
	}
	if dst != nil {
		a.Flow.DstAddr, _ = netip.ParseAddr(*dst)
	}
	if sport != nil {
		a.Flow.SrcPort = uint16(*sport)
	}
	if dport != nil {
		a.Flow.DstPort = uint16(*dport)
	}
	if proto != nil {
		a.Flow.Proto = uint8(*proto)
	}
	if cid != nil {
		a.CommunityID = *cid
	}
	a.Severity = ingest.Severity(sev)
	switch {
	case status == nil:
		a.Anchor.Status = "missing"
	case *status == "anchored":
		a.Anchor.Status = "anchored"
	default:
		a.Anchor.Status = "pending"
	}
	if ack != nil {
		a.Workflow.Acknowledged = *ack
	}
	if assignee != nil {
		a.Workflow.Assignee = *assignee
	}
	if updBy != nil {
		a.Workflow.UpdatedBy = *updBy
	}
	return a, nil
}

// ListAlerts returns one page of alerts matching f in a stable order
// (observed_at, then id; newest first unless f.Ascending) and the cursor of
// the next page, nil when this page is the last. Alerts inserted between
// pages appear on later pages only if they sort after the cursor.
func (db *DB) ListAlerts(ctx context.Context, f AlertFilter) ([]Alert, *AlertCursor, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	var (
		where []string
		args  []any
	)
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if !f.From.IsZero() {
		where = append(where, "a.observed_at >= "+arg(f.From))
	}
	if !f.To.IsZero() {
		where = append(where, "a.observed_at < "+arg(f.To))
	}
	if len(f.Classes) > 0 {
		where = append(where, "a.class = ANY("+arg(f.Classes)+"::text[])")
	}
	if len(f.Severities) > 0 {
		s := make([]string, len(f.Severities))
		for i, v := range f.Severities {
			s[i] = string(v)
		}
		where = append(where, "a.severity = ANY("+arg(s)+"::text[])")
	}
	if len(f.Sensors) > 0 {
		where = append(where, "a.sensor = ANY("+arg(f.Sensors)+"::text[])")
	}
	if len(f.ModelIDs) > 0 {
		where = append(where, "a.model_id = ANY("+arg(f.ModelIDs)+"::text[])")
	}
	for col, p := range map[string]netip.Prefix{"a.src_addr": f.Src, "a.dst_addr": f.Dst} {
		switch {
		case !p.IsValid():
		case p.IsSingleIP():
			where = append(where, col+" = "+arg(p.Addr().String())+"::inet")
		default:
			where = append(where, col+" <<= "+arg(p.Masked().String())+"::inet")
		}
	}
	switch f.AnchorStatus {
	case "":
	case "anchored":
		where = append(where, "ra.record_id IS NOT NULL")
	case "pending":
		// The outbox is small: look its ids up in alerts' primary key, rather
		// than walk alerts by time testing each against it (which the
		// planner picks for a semi-join, and which reads every alert when
		// the outbox is empty).
		where = append(where, "a.id = ANY (ARRAY(SELECT id FROM outbox))")
	default:
		return nil, nil, fmt.Errorf("%w: anchor status %q", ErrInvalidFilter, f.AnchorStatus)
	}
	dir, cmp := "DESC", "<"
	if f.Ascending {
		dir, cmp = "ASC", ">"
	}
	if f.After != nil {
		where = append(where, "(a.observed_at, a.id) "+cmp+" ("+arg(f.After.ObservedAt)+"::timestamptz, "+arg(f.After.ID)+"::uuid)")
	}
	cols := alertColumns
	if f.WithFeatures {
		cols += ", r.body"
	}
	q := "SELECT " + cols + alertFrom
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY a.observed_at " + dir + ", a.id " + dir + " LIMIT " + arg(limit+1)

	rows, err := db.Pool.Query(ctx, q, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("list alerts: %w", classify(err))
	}
	defer rows.Close()
	out := make([]Alert, 0, min(limit+1, 256))
	for rows.Next() {
		var body []byte
		var extra []any
		if f.WithFeatures {
			extra = append(extra, &body)
		}
		a, err := scanAlert(rows, extra...)
		if err != nil {
			return nil, nil, fmt.Errorf("list alerts: %w", classify(err))
		}
		if len(body) > 0 {
			a.Features = bodyFeatures(body)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("list alerts: %w", classify(err))
	}
	var next *AlertCursor
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = &AlertCursor{ObservedAt: last.ObservedAt, ID: last.ID}
	}
	return out, next, nil
}

// bodyFeatures reads the features of a stored alert body (nil when the
// body is not an alert body any more).
func bodyFeatures(body []byte) map[string]string {
	var b struct {
		Features map[string]string `json:"features"`
	}
	if json.Unmarshal(body, &b) != nil {
		return nil
	}
	return b.Features
}

// GetAlert returns one alert with its stored record body and its notes, or
// ErrNotFound.
func (db *DB) GetAlert(ctx context.Context, id uuid.UUID) (AlertDetail, error) {
	var d AlertDetail
	var body []byte
	row := db.Pool.QueryRow(ctx, "SELECT "+alertColumns+", r.body"+alertFrom+" WHERE a.id = $1", id)
	a, err := scanAlert(row, &body)
	if err != nil {
		return d, fmt.Errorf("alert %s: %w", id, classify(err))
	}
	d.Alert = a
	if len(body) > 0 {
		d.Record = json.RawMessage(body)
		d.Features = bodyFeatures(body)
	}
	rows, err := db.Pool.Query(ctx, `SELECT author, body, event_id, created_at FROM alert_notes WHERE alert_id = $1 ORDER BY id`, id)
	if err != nil {
		return d, fmt.Errorf("alert %s notes: %w", id, classify(err))
	}
	d.Notes, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Note, error) {
		var n Note
		err := r.Scan(&n.Author, &n.Body, &n.EventID, &n.CreatedAt)
		n.CreatedAt = n.CreatedAt.UTC()
		return n, err
	})
	if err != nil {
		return d, fmt.Errorf("alert %s notes: %w", id, classify(err))
	}
	if d.Notes == nil {
		d.Notes = []Note{}
	}
	return d, nil
}

// WorkflowChange is an analyst's change to an alert's workflow; nil fields
// are left as they are. Assignee "" unassigns.
type WorkflowChange struct {
	Acknowledged *bool   `json:"acknowledged,omitempty"`
	Assignee     *string `json:"assignee,omitempty"`
	Note         *string `json:"note,omitempty"`
}

// AuditEvent is the body of an 'audit_event' record: who did what, when.
// Exactly one of the detail fields is set, by Action:
//   - "alert.workflow": AlertID and Change;
//   - "model.activate": Model (the model that decides from now on).
type AuditEvent struct {
	Type    string           `json:"type"` // always "audit_event"
	Action  string           `json:"action"`
	Actor   string           `json:"actor"`
	At      time.Time        `json:"at"`
	AlertID *uuid.UUID       `json:"alert_id,omitempty"`
	Change  *WorkflowChange  `json:"change,omitempty"`
	Model   *ingest.ModelRef `json:"model,omitempty"`
}

// appendAuditEvent appends ev (Type and At filled in) to the outbox
// through q, which may be a transaction.
func appendAuditEvent(ctx context.Context, q RowQuerier, ev AuditEvent) (uuid.UUID, time.Time, error) {
	ev.Type = "audit_event"
	ev.At = time.Now().UTC().Truncate(time.Microsecond)
	raw, err := json.Marshal(ev)
	if err != nil {
		return uuid.Nil, ev.At, err
	}
	canon, err := anchor.Canonicalize(raw)
	if err != nil {
		return uuid.Nil, ev.At, err
	}
	id, _, err := AppendRecord(ctx, q, "audit_event", canon, anchor.LeafHash(canon))
	return id, ev.At, err
}

// RecordModelActivation appends a "model.activate" audit event naming the
// model and the actor, and returns its record id. Call it before the model
// takes over, so that no alert is decided by an unrecorded model.
func (db *DB) RecordModelActivation(ctx context.Context, model ingest.ModelRef, actor string) (uuid.UUID, error) {
	id, _, err := appendAuditEvent(ctx, db.Pool, AuditEvent{Action: "model.activate", Actor: actor, Model: &model})
	if err != nil {
		return uuid.Nil, fmt.Errorf("record model activation: %w", classify(err))
	}
	return id, nil
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

// RowMismatch lists the fields in which an alert's query columns (what
// listings, filters, reports and exports read) differ from its stored record
// body (what was hashed and anchored). An empty result means the row is a
// faithful copy of the body; a non-empty one means someone changed the row,
// so the alert must not be reported as verified. A body that does not parse
// is reported as the field "record".
func (d AlertDetail) RowMismatch() []string {
	var body ingest.AlertBody
	if err := json.Unmarshal(d.Record, &body); err != nil {
		return []string{"record"}
	}
	row := d.AlertBody
	var diff []string
	check := func(name string, same bool) {
		if !same {
			diff = append(diff, name)
		}
	}
	check("observed_at", row.ObservedAt.Equal(body.ObservedAt))
	check("sensor", row.Sensor == body.Sensor)
	check("flow", row.Flow == body.Flow)
	check("community_id", row.CommunityID == body.CommunityID)
	check("class", row.Class == body.Class)
	check("score", row.Score == body.Score)
	check("severity", row.Severity == body.Severity)
	check("model", row.Model == body.Model)
	return diff
}

// DB is where ingest stores alerts.
var _ ingest.Store = (*DB)(nil)
