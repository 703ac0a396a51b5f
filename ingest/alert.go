package ingest

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"time"

	"github.com/google/uuid"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/detector"
)

// Severity ranks an alert. The order is low < medium < high < critical.
type Severity string

const (
	SeverityLow      Severity = "low"
	SeverityMedium   Severity = "medium"
	SeverityHigh     Severity = "high"
	SeverityCritical Severity = "critical"
)

// Severities lists every severity, lowest first.
var Severities = []Severity{SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical}

// ParseSeverity returns the severity named s, or an error listing the valid ones.
func ParseSeverity(s string) (Severity, error) {
	for _, v := range Severities {
		if string(v) == s {
			return v, nil
		}
	}
	return "", fmt.Errorf("unknown severity %q (want low, medium, high or critical)", s)
}

// Rank is the position of the severity in Severities (-1 when unknown).
func (s Severity) Rank() int {
	for i, v := range Severities {
		if v == s {
			return i
		}
	}
	return -1
}

// FlowTuple is a flow's 5-tuple as an alert records it. A zero address or
// protocol means the flow did not carry it.
type FlowTuple struct {
	SrcAddr netip.Addr `json:"src_addr"`
	SrcPort uint16     `json:"src_port"`
	DstAddr netip.Addr `json:"dst_addr"`
	DstPort uint16     `json:"dst_port"`
	Proto   uint8      `json:"proto"`
}

// ModelRef names the model that decided: its id (hex keccak256 of the model
// file) and the version label it was activated with.
type ModelRef struct {
	ID      string `json:"id"`
	Version string `json:"version"`
}

// AlertBody is the immutable part of an alert: exactly what is hashed and
// anchored. Its JSON encoding, canonicalized with anchor.Canonicalize, is
// the record body; changing any field changes the leaf hash. Workflow state
// (acknowledgement, assignee, notes) is deliberately not part of it.
//
// ID is the alert's id, which is also its record's id, and SubmittedBy the
// API key that sent the flow: both are in the hashed body, so that a
// verified alert proves its id and who submitted it, not only its content.
// Storage gives an alert without an id a new UUIDv7 before it hashes it.
// (Alerts stored before these fields existed have neither in their body.)
type AlertBody struct {
	ID          uuid.UUID  `json:"id"`
	SubmittedBy *uuid.UUID `json:"submitted_by,omitempty"`
	Type        string     `json:"type"` // always "alert"
	ObservedAt  time.Time  `json:"observed_at"`
	Sensor      string     `json:"sensor"`
	Flow        FlowTuple  `json:"flow"`
	// CommunityID is the Community ID v1 flow hash ("1:..."), empty when
	// the flow lacks addresses or protocol.
	CommunityID string `json:"community_id,omitempty"`
	// Features are the raw values of the model's input features, by name.
	Features map[string]string `json:"features,omitempty"`
	// Imputed is how many feature values were missing from the flow and
	// imputed, which only a request that allowed it can cause (0, and
	// then absent, otherwise).
	Imputed int     `json:"imputed,omitempty"`
	Class   string  `json:"class"`
	Score   float64 `json:"score"`
	// Risk is Score on the 0-100 scale every model shares (see Risk);
	// Severity is derived from it.
	Risk     float64  `json:"risk"`
	Severity Severity `json:"severity"`
	Model    ModelRef `json:"model"`
}

// ErrInvalidAlert reports an alert that cannot be stored as given.
var ErrInvalidAlert = errors.New("invalid alert")

// Normalized returns b with the fields the database would otherwise change
// fixed: the type tag, and the time in UTC at microsecond precision
// (PostgreSQL's), so that the hashed body and the query columns agree
// exactly. Storage normalizes every alert before it encodes it.
func (b AlertBody) Normalized() AlertBody {
	b.Type = "alert"
	b.ObservedAt = b.ObservedAt.UTC().Truncate(time.Microsecond)
	return b
}

// Canonical returns the canonical record body of b: its RFC 8785 form, the
// bytes that are stored and whose anchor.LeafHash is anchored. It encodes b
// as given: call Normalized first for the form storage keeps. It fails with
// ErrInvalidAlert for a non-finite score, an unknown severity or a negative
// imputed count.
func Canonical(b AlertBody) ([]byte, error) {
	if math.IsNaN(b.Score) || math.IsInf(b.Score, 0) {
		return nil, fmt.Errorf("%w: score %v is not finite", ErrInvalidAlert, b.Score)
	}
	if !(b.Risk >= 0 && b.Risk <= 100) {
		return nil, fmt.Errorf("%w: risk %v is not in [0, 100]", ErrInvalidAlert, b.Risk)
	}
	if b.Severity.Rank() < 0 {
		return nil, fmt.Errorf("%w: severity %q", ErrInvalidAlert, b.Severity)
	}
	if b.Imputed < 0 {
		return nil, fmt.Errorf("%w: imputed count %d is negative", ErrInvalidAlert, b.Imputed)
	}
	if canon, ok := fastCanonical(b); ok {
		return canon, nil
	}
	canon, err := anchor.CanonicalJSON(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidAlert, err)
	}
	return canon, nil
}

// NewAlert builds the alert record of a flow that detector d (activated as
// ref) classified as class with score, observed by sensor at now.
func NewAlert(f *detector.Flow, class string, score float64, d *detector.Detector,
	now time.Time, sensor string, ref ModelRef) AlertBody {
	t := f.Tuple
	risk := Risk(d.Meta.Supervised, score, d.Meta.Threshold)
	return AlertBody{
		ObservedAt:  now,
		Sensor:      sensor,
		Flow:        FlowTuple{SrcAddr: t.SrcAddr, SrcPort: t.SrcPort, DstAddr: t.DstAddr, DstPort: t.DstPort, Proto: t.Proto},
		CommunityID: CommunityID(t.SrcAddr, t.DstAddr, t.SrcPort, t.DstPort, t.Proto),
		Features:    d.Pipeline.FeatureFields(f),
		Class:       class,
		Score:       score,
		Risk:        risk,
		Severity:    SeverityOf(risk),
		Model:       ref,
	}
}
