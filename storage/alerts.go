package storage

import (
	"encoding/json"
	"net/netip"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/google/uuid"

	"github.com/idsledger/idsledger/chainhunt"
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
	ingest.AlertBody // its ID is the alert's (and its record's) id
	// Source is "flow" for an alert raised on network flows, "chain" for
	// one the chain hunter raised (whose Flow is empty and whose Chain
	// says what it is about).
	Source   string      `json:"source"`
	Chain    *ChainAlert `json:"chain,omitempty"`
	Anchor   AnchorState `json:"anchor"`
	Workflow Workflow    `json:"workflow"`
}

// ChainAlert is what a chain alert says beyond the fields every alert has:
// the chain, block, transaction and account it is about, and how and why
// the hunter decided. Summary and Evidence are read from its record body.
type ChainAlert struct {
	ChainID uint64 `json:"chain_id"`
	// Subject is transaction, account or block; Method rule or model.
	Subject string `json:"subject"`
	Method  string `json:"method"`
	// Rule names the rule, or the model kind for a model's verdict.
	Rule  string              `json:"rule"`
	Block chainhunt.BodyBlock `json:"block"`
	// Tx is the transaction hash and Account the account (EIP-55), when
	// the finding names them.
	Tx       string            `json:"tx,omitempty"`
	Account  string            `json:"account,omitempty"`
	Summary  string            `json:"summary"`
	Evidence map[string]string `json:"evidence"`
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
	// Source is "flow" or "chain" (see Alert.Source).
	Source string
	// Accounts, TxHashes and Rules select chain alerts naming one of
	// these accounts, transactions or rules.
	Accounts []common.Address
	TxHashes []common.Hash
	Rules    []string
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

// RowMismatch lists the fields in which an alert's query columns (what
// listings, filters, reports and exports read) differ from its stored record
// body (what was hashed and anchored). An empty result means the row is a
// faithful copy of the body; a non-empty one means someone changed the row,
// so the alert must not be reported as verified. A body that does not parse
// is reported as the field "record".
func (d AlertDetail) RowMismatch() []string {
	if d.Source == "chain" {
		return d.chainRowMismatch()
	}
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
	// Bodies stored before alerts carried their id have none.
	check("id", body.ID == uuid.Nil || row.ID == body.ID)
	check("observed_at", row.ObservedAt.Equal(body.ObservedAt))
	check("sensor", row.Sensor == body.Sensor)
	check("flow", row.Flow == body.Flow)
	check("community_id", row.CommunityID == body.CommunityID)
	check("class", row.Class == body.Class)
	check("score", row.Score == body.Score)
	check("risk", row.Risk == body.Risk)
	check("severity", row.Severity == body.Severity)
	check("model", row.Model == body.Model)
	return diff
}

// chainRowMismatch is RowMismatch for a chain alert, whose body is a
// chainhunt.Body.
func (d AlertDetail) chainRowMismatch() []string {
	var body chainhunt.Body
	if err := json.Unmarshal(d.Record, &body); err != nil || body.Type != chainhunt.Kind || d.Chain == nil {
		return []string{"record"}
	}
	row, c := d.AlertBody, d.Chain
	model := ingest.ModelRef{}
	if body.Model != nil {
		model = ingest.ModelRef{ID: body.Model.ID, Version: body.Model.Version}
	}
	var diff []string
	check := func(name string, same bool) {
		if !same {
			diff = append(diff, name)
		}
	}
	check("id", row.ID == body.ID)
	check("observed_at", row.ObservedAt.Equal(body.Block.Time))
	check("sensor", row.Sensor == ChainSensor(body.ChainID))
	check("class", row.Class == body.Class)
	check("score", row.Score == body.Score)
	check("risk", row.Risk == body.Risk)
	check("severity", string(row.Severity) == body.Severity)
	check("model", row.Model == model)
	check("chain_id", c.ChainID == body.ChainID)
	check("subject", c.Subject == string(body.Subject))
	check("method", c.Method == string(body.Method))
	check("rule", c.Rule == body.Rule)
	check("block", c.Block.Number == body.Block.Number && c.Block.Hash == body.Block.Hash)
	check("tx", c.Tx == body.Tx)
	check("account", c.Account == body.Account)
	return diff
}
