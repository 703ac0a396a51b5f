package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/idsledger/idsledger/chainhunt"
	"github.com/idsledger/idsledger/ingest"
)

const alertColumns = `a.id, a.observed_at, a.sensor, host(a.src_addr), host(a.dst_addr), a.src_port, a.dst_port, a.proto,
	a.community_id, a.class, a.score, coalesce(a.risk, 0), a.severity, a.model_id, a.model_version,
	CASE WHEN r.id IS NULL THEN NULL WHEN ra.record_id IS NULL THEN 'pending' ELSE 'anchored' END,
	ra.batch_id, ra.leaf_index, ra.anchored_at,
	w.acknowledged, w.assignee, w.updated_at, w.updated_by,
	a.source, a.chain_id, a.block_number, a.block_hash, a.tx_hash, a.account, a.rule, a.subject, a.method,
	CASE WHEN a.source = 'chain' THEN r.body END`

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
		chain           chainColumns
	)
	dest := []any{&a.ID, &a.ObservedAt, &a.Sensor, &src, &dst, &sport, &dport, &proto,
		&cid, &a.Class, &a.Score, &a.Risk, &sev, &a.Model.ID, &a.Model.Version,
		&status, &a.Anchor.BatchID, &a.Anchor.LeafIndex, &a.Anchor.AnchoredAt,
		&ack, &assignee, &a.Workflow.UpdatedAt, &updBy,
		&a.Source, &chain.id, &chain.block, &chain.blockHash, &chain.tx, &chain.account, &chain.rule,
		&chain.subject, &chain.method, &chain.body}
	if err := row.Scan(append(dest, extra...)...); err != nil {
		return a, err
	}
	a.Type = "alert"
	if a.Source == "chain" {
		a.Type = chainhunt.Kind
		a.Chain = chain.alert(a.ObservedAt)
	}
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

// chainColumns are a chain alert's columns as scanned (NULL for a flow
// alert), and its record body.
type chainColumns struct {
	id, block              *int64
	blockHash, tx, account []byte
	rule, subject, method  *string
	body                   []byte
}

// alert is the chain alert of these columns, which observed at (the block's
// time): the query columns, and the summary and evidence of the record
// body (empty when the body is gone or does not parse).
func (c chainColumns) alert(at time.Time) *ChainAlert {
	deref := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	out := &ChainAlert{Rule: deref(c.rule), Subject: deref(c.subject), Method: deref(c.method),
		Block: chainhunt.BodyBlock{Time: at}, Evidence: map[string]string{}}
	if c.id != nil {
		out.ChainID = uint64(*c.id)
	}
	if c.block != nil {
		out.Block.Number = uint64(*c.block)
	}
	out.Block.Hash = common.BytesToHash(c.blockHash).Hex()
	if c.tx != nil {
		out.Tx = common.BytesToHash(c.tx).Hex()
	}
	if c.account != nil {
		out.Account = common.BytesToAddress(c.account).Hex()
	}
	var body chainhunt.Body
	if json.Unmarshal(c.body, &body) == nil {
		out.Summary = body.Summary
		if body.Evidence != nil {
			out.Evidence = body.Evidence
		}
	}
	return out
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
	where, args, arg, err := f.conditions()
	if err != nil {
		return nil, nil, err
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

	out, _, err := db.queryAlerts(ctx, q, *args, f.WithFeatures, false)
	if err != nil {
		return nil, nil, fmt.Errorf("list alerts: %w", err)
	}
	var next *AlertCursor
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = &AlertCursor{ObservedAt: last.ObservedAt, ID: last.ID}
	}
	return out, next, nil
}

// queryAlerts runs q, which selects alertColumns, then r.body when
// withFeatures, then a.txid as text when withTxid, and returns the alerts
// (and their txids).
func (db *DB) queryAlerts(ctx context.Context, q string, args []any, withFeatures, withTxid bool) ([]Alert, []string, error) {
	rows, err := db.Pool.Query(ctx, q, args...)
	if err != nil {
		return nil, nil, classify(err)
	}
	defer rows.Close()
	var (
		out   []Alert
		txids []string
	)
	for rows.Next() {
		var body []byte
		var txid string
		var extra []any
		if withFeatures {
			extra = append(extra, &body)
		}
		if withTxid {
			extra = append(extra, &txid)
		}
		a, err := scanAlert(rows, extra...)
		if err != nil {
			return nil, nil, classify(err)
		}
		if len(body) > 0 {
			a.Features = bodyFeatures(body)
		}
		out = append(out, a)
		if withTxid {
			txids = append(txids, txid)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, classify(err)
	}
	return out, txids, nil
}

// conditions is f's filters as SQL conditions (see where), their
// arguments, and the function that binds more of them.
func (f AlertFilter) conditions() (where []string, args *[]any, arg func(any) string, err error) {
	args = new([]any)
	arg = func(v any) string {
		*args = append(*args, v)
		return "$" + strconv.Itoa(len(*args))
	}
	where, err = f.where(arg)
	return where, args, arg, err
}

// where is f's filters as SQL conditions on alerts a (joined as alertFrom
// does), with arg binding each value; the position (After) is the
// caller's.
func (f AlertFilter) where(arg func(any) string) ([]string, error) {
	var where []string
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
	switch f.Source {
	case "":
	case "flow", "chain":
		// A literal, not a parameter, so that the planner can use the
		// partial index alerts_chain in every plan, generic ones too.
		where = append(where, "a.source = '"+f.Source+"'")
	default:
		return nil, fmt.Errorf("%w: source %q", ErrInvalidFilter, f.Source)
	}
	if len(f.Accounts) > 0 {
		b := make([][]byte, len(f.Accounts))
		for i, a := range f.Accounts {
			b[i] = a.Bytes()
		}
		where = append(where, "a.account = ANY("+arg(b)+"::bytea[])")
	}
	if len(f.TxHashes) > 0 {
		b := make([][]byte, len(f.TxHashes))
		for i, h := range f.TxHashes {
			b[i] = h.Bytes()
		}
		where = append(where, "a.tx_hash = ANY("+arg(b)+"::bytea[])")
	}
	if len(f.Rules) > 0 {
		where = append(where, "a.rule = ANY("+arg(f.Rules)+"::text[])")
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
		return nil, fmt.Errorf("%w: anchor status %q", ErrInvalidFilter, f.AnchorStatus)
	}
	return where, nil
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
