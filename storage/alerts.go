package storage

import (
	"encoding/json"
	"net/netip"
	"time"

	"github.com/google/uuid"

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
	ingest.AlertBody             // its ID is the alert's (and its record's) id
	Anchor           AnchorState `json:"anchor"`
	Workflow         Workflow    `json:"workflow"`
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
