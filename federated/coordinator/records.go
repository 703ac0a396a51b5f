package coordinator

import (
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/google/uuid"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/federated"
)

// The records the coordinator anchors. Each body names its own id, and the
// update record also who submitted it, so that a verified record proves
// both. Their canonical forms (RFC 8785) are what is hashed and anchored.

// UpdateRecord is the body of a model_update record: a site's signed
// update as it was acknowledged. An auditor recomputes the update's hash
// from it and checks the site's signature.
type UpdateRecord struct {
	Type        string            `json:"type"` // "model_update"
	ID          uuid.UUID         `json:"id"`
	Round       uint64            `json:"round"`
	Site        common.Address    `json:"site"`
	SubmittedBy uuid.UUID         `json:"submitted_by"` // the fl-node API key's id
	UpdateHash  common.Hash       `json:"update_hash"`
	ReceivedAt  time.Time         `json:"received_at"`
	Update      *federated.Update `json:"update"`
}

// JudgedUpdate is one update as the round record lists it.
type JudgedUpdate struct {
	RecordID   uuid.UUID      `json:"record_id"`
	Site       common.Address `json:"site"`
	UpdateHash common.Hash    `json:"update_hash"`
	// Leaf is the update record's anchor leaf, the hash the contract judged.
	Leaf    anchor.HexHash `json:"leaf"`
	Samples uint64         `json:"samples"`
	// Judged is false for the updates of a round that failed before the
	// contract judged it (then no measure, score or verdict follows).
	Judged           bool            `json:"judged"`
	Norm             float64         `json:"norm"`
	Divergence       float64         `json:"divergence"`
	Accuracy         float64         `json:"accuracy"`          // measured by the coordinator
	ReportedAccuracy float64         `json:"reported_accuracy"` // claimed by the site
	Score            federated.Score `json:"score"`             // the contract's inputs
	Reasons          []string        `json:"reasons"`           // empty: accepted
	Accepted         bool            `json:"accepted"`
	Reputation       uint16          `json:"reputation"` // after the round
}

// RoundRecord is the body of an fl_round record: the whole judgement of a
// round, whether it made a model or failed.
type RoundRecord struct {
	Type       string               `json:"type"` // "fl_round"
	ID         uuid.UUID            `json:"id"`
	Round      uint64               `json:"round"`
	ChainID    uint64               `json:"chain_id"`
	BaseModel  string               `json:"base_model"`
	Policy     federated.Policy     `json:"policy"`
	Thresholds federated.Thresholds `json:"thresholds"`
	Opened     time.Time            `json:"opened"`
	Deadline   time.Time            `json:"deadline"`
	Closed     time.Time            `json:"closed"`
	State      federated.State      `json:"state"`
	FailReason string               `json:"fail_reason,omitempty"`
	Updates    []JudgedUpdate       `json:"updates"`
	// DivergenceMedian and DivergenceBand are the round's reference and
	// acceptance band (micro-units), as the contract computed them.
	DivergenceMedian uint32 `json:"divergence_median"`
	DivergenceBand   uint64 `json:"divergence_band"`
	// JudgementTx is the transaction in which the contract judged the round.
	JudgementTx anchor.HexHash `json:"judgement_tx"`
	NewModel    string         `json:"new_model,omitempty"`
	BytesUp     uint64         `json:"bytes_up"`
	BytesDown   uint64         `json:"bytes_down"`
}

// UpdateRef names an update record that went into a global model.
type UpdateRef struct {
	RecordID uuid.UUID      `json:"record_id"`
	Site     common.Address `json:"site"`
	Leaf     anchor.HexHash `json:"leaf"`
}

// ModelRecord is the body of a global_model record.
type ModelRecord struct {
	Type      string    `json:"type"` // "global_model"
	ID        uuid.UUID `json:"id"`
	ModelID   string    `json:"model_id"`
	Kind      string    `json:"kind"`
	Version   uint64    `json:"registry_version"`
	Round     uint64    `json:"round"`
	BaseModel string    `json:"base_model"`
	Rule      string    `json:"rule"`
	// Updates are the accepted update records in the order of the Merkle
	// tree whose root UpdatesRoot is (and the federation registry holds).
	Updates     []UpdateRef    `json:"updates"`
	UpdatesRoot anchor.HexHash `json:"updates_root"`
	RoundRecord uuid.UUID      `json:"round_record"`
	// ValidationAccuracy is the model's accuracy on the coordinator's
	// validation set.
	ValidationAccuracy float64   `json:"validation_accuracy"`
	CreatedAt          time.Time `json:"created_at"`
}

// Event is the body of an audit_event record of the federation: who did
// what, when.
type Event struct {
	Type       string                `json:"type"` // "audit_event"
	ID         uuid.UUID             `json:"id"`
	Action     string                `json:"action"` // fl.site.enroll, fl.site.remove, fl.round.open, fl.thresholds.set
	Actor      string                `json:"actor"`
	At         time.Time             `json:"at"`
	Site       *common.Address       `json:"site,omitempty"`
	SiteName   string                `json:"site_name,omitempty"`
	SiteKey    *uuid.UUID            `json:"site_key,omitempty"`
	Round      uint64                `json:"round,omitempty"`
	BaseModel  string                `json:"base_model,omitempty"`
	Policy     *federated.Policy     `json:"policy,omitempty"`
	Thresholds *federated.Thresholds `json:"thresholds,omitempty"`
}

// record makes the record of a body with the given kind.
func record(kind string, id uuid.UUID, body any) (Record, error) {
	canon, err := anchor.CanonicalJSON(body)
	if err != nil {
		return Record{}, fmt.Errorf("%s record: %w", kind, err)
	}
	return Record{ID: id, Kind: kind, Body: canon}, nil
}

// UpdatesRoot is the Merkle root (RFC 6962 shape, keccak, as every anchor)
// of the leaves of the accepted update records, in the order given.
func UpdatesRoot(refs []UpdateRef) (anchor.Hash, error) {
	leaves := make([]anchor.Hash, len(refs))
	for i, r := range refs {
		leaves[i] = anchor.Hash(r.Leaf)
	}
	return anchor.Root(leaves)
}

// newID is a fresh record id (UUIDv7: time-ordered, as the outbox's).
func newID() uuid.UUID { return uuid.Must(uuid.NewV7()) }

// reasonNames lists a verdict's reasons by name.
func reasonNames(r federated.Reason) []string {
	names := []string{}
	for _, b := range []federated.Reason{federated.ReasonAnomaly, federated.ReasonDivergence, federated.ReasonNorm,
		federated.ReasonReputation, federated.ReasonNotEnrolled, federated.ReasonDuplicate} {
		if r&b != 0 {
			names = append(names, b.String())
		}
	}
	return names
}
