package coordinator

import (
	"context"
	"errors"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/google/uuid"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/federated"
)

// Errors a Store returns; callers check them with errors.Is.
var (
	// ErrNotFound: no such site, round, update or model.
	ErrNotFound = anchor.ErrNotFound
	// ErrRoundOpen: another round is open or closing; one runs at a time.
	ErrRoundOpen = errors.New("a round is already open")
	// ErrConflict: the change collides with a stored row (a second update
	// of one site in one round, a site address or key already bound).
	ErrConflict = errors.New("conflicts with a stored row")
)

// Record is a record the coordinator made, for the store to append to the
// anchoring outbox in the transaction of the change it belongs to. Body is
// the record's canonical JSON (RFC 8785), which names ID.
type Record struct {
	ID   uuid.UUID
	Kind string // model_update, global_model, fl_round or audit_event
	Body []byte
}

// Leaf is the record's anchor leaf hash.
func (r Record) Leaf() anchor.Hash { return anchor.LeafHash(r.Body) }

// Site is an enrolled site: its secp256k1 address and the fl-node API key
// it submits with.
type Site struct {
	Address    common.Address `json:"address"`
	Name       string         `json:"name"`
	KeyID      uuid.UUID      `json:"key_id"`
	EnrolledAt time.Time      `json:"enrolled_at"`
	// RemovedAt is set once the site was removed; it takes no more part.
	RemovedAt *time.Time `json:"removed_at,omitempty"`
}

// StoredUpdate is an update as the coordinator acknowledged it: the signed
// update exactly as received, the record it is anchored under, and, once
// the round was judged, its scores and verdict.
type StoredUpdate struct {
	RecordID   uuid.UUID         `json:"record_id"`
	Round      uint64            `json:"round"`
	Update     *federated.Update `json:"update"`
	Hash       common.Hash       `json:"update_hash"` // Update.UpdateHash
	Leaf       anchor.Hash       `json:"-"`           // the record's leaf, which the contract judges
	ReceivedAt time.Time         `json:"received_at"`
	Judgement  *Judgement        `json:"judgement,omitempty"`
}

// Judgement is what the round made of an update: the coordinator's
// measures and the contract's verdict.
type Judgement struct {
	Measurement federated.Measurement `json:"measurement"`
	Score       federated.Score       `json:"score"`
	Reasons     federated.Reason      `json:"reasons"`
	Accepted    bool                  `json:"accepted"`
	// Reputation is the site's reputation after the round.
	Reputation uint16 `json:"reputation"`
}

// Rejection is a submission refused before it was acknowledged (bad
// signature, wrong shape, non-finite values, late...): kept so analysts see
// who sent what, never anchored.
type Rejection struct {
	Round      uint64         `json:"round"`
	Site       common.Address `json:"site"`
	UpdateHash common.Hash    `json:"update_hash"`
	Reason     string         `json:"reason"`
	At         time.Time      `json:"at"`
}

// Outcome is what closing a round produced, stored in one transaction by
// CompleteRound.
type Outcome struct {
	Round federated.Round
	// Updates carry their Judgement (all of the round's updates).
	Updates []StoredUpdate
	// Reputations after the round, of the round's sites.
	Reputations map[common.Address]uint16
	// Accountant is the privacy history after the round.
	Accountant federated.Accountant
	// RoundRecord judges the round (kind fl_round), anchored.
	RoundRecord Record
	// Model is the new global model (nil when the round failed), with its
	// record (kind global_model).
	Model       *ModelFile
	ModelRecord *Record
}

// ModelFile is a detector model file the service keeps: uploaded, built
// into the binary, or made by a round.
type ModelFile struct {
	ID   string `json:"id"` // hex keccak256 of File
	Kind string `json:"kind"`
	File []byte `json:"-"`
	// Round is the round that made it (0 for models not made by a round);
	// Parent the model that round started from.
	Round  uint64 `json:"round,omitempty"`
	Parent string `json:"parent,omitempty"`
	// Version is its version in the federation registry (0: none planned),
	// and Registered says whether the registry holds it yet.
	Version    uint64 `json:"registry_version,omitempty"`
	Registered bool   `json:"registered"`
	// UpdatesRoot is the Merkle root of the update records it was made of
	// (zero for a model not made by a round).
	UpdatesRoot anchor.HexHash `json:"updates_root"`
	RecordID    uuid.UUID      `json:"record_id,omitempty"` // its global_model record
	CreatedAt   time.Time      `json:"created_at"`
}

// Store persists the federation. Every method is atomic: it happens
// completely or not at all. A restarted coordinator finds everything a
// method that returned nil stored, and nothing of one that failed. A
// record a method appends takes the id the coordinator gave it; an id
// already taken fails the method with ErrConflict. Package
// coordinatortest holds the tests every Store must pass.
type Store interface {
	// PutSite enrolls s (or enrolls a removed site again, with s's name
	// and key; it keeps its first enrolment time) with its audit event.
	// ErrConflict when the key speaks for another site, removed or not; a
	// store that knows the API keys answers ErrNotFound for an unknown one.
	PutSite(ctx context.Context, s Site, event Record) error
	// RemoveSite marks a site removed, with its audit event; ErrNotFound
	// when it is not enrolled.
	RemoveSite(ctx context.Context, addr common.Address, event Record) error
	// Sites lists every site ever enrolled, oldest first.
	Sites(ctx context.Context) ([]Site, error)
	// SiteForKey returns the enrolled site an API key speaks for, or
	// ErrNotFound.
	SiteForKey(ctx context.Context, keyID uuid.UUID) (Site, error)

	// OpenRound stores a new open round with its audit event; ErrRoundOpen
	// when a round is open or closing, ErrConflict when its number is taken.
	OpenRound(ctx context.Context, r federated.Round, event Record) error
	// CurrentRound returns the round that is open or closing, or
	// ErrNotFound.
	CurrentRound(ctx context.Context) (federated.Round, error)
	// Round returns round n, or ErrNotFound.
	Round(ctx context.Context, n uint64) (federated.Round, error)
	// LastRound returns the highest round number ever opened (0: none).
	LastRound(ctx context.Context) (uint64, error)
	// Rounds lists rounds newest first, below before (0: from the newest),
	// at most limit (none for limit <= 0).
	Rounds(ctx context.Context, before uint64, limit int) ([]federated.Round, error)
	// SaveRound stores r's state (its transitions after opening: closing,
	// failed). ErrNotFound when r was never opened; a state only moves
	// forward (open → closing → closed, open or closing → failed) and an
	// ended round changes no more, else federated.ErrRoundClosed.
	SaveRound(ctx context.Context, r federated.Round) error
	// AddUpdate stores an acknowledged update, its model_update record (to
	// the outbox) and the round with its new receipt, in one transaction.
	// ErrConflict when the round already holds an update of that site (or
	// that hash, or the record id is taken); ErrNotFound when the round is
	// not stored or the site was never enrolled; federated.ErrRoundClosed
	// when the stored round is not open.
	AddUpdate(ctx context.Context, r federated.Round, u StoredUpdate, rec Record) error
	// Updates returns the round's updates in the order they were received.
	Updates(ctx context.Context, round uint64) ([]StoredUpdate, error)
	// Update returns one update by its record id, or ErrNotFound.
	Update(ctx context.Context, recordID uuid.UUID) (StoredUpdate, error)
	// AddRejection keeps a refused submission.
	AddRejection(ctx context.Context, r Rejection) error
	// Rejections lists the refused submissions of a round, oldest first.
	Rejections(ctx context.Context, round uint64) ([]Rejection, error)
	// CompleteRound stores what closing a round produced, in one
	// transaction: the round (closed or failed), every update's judgement,
	// the reputations, the accountant, the round record and, when there is
	// one, the new model with its record (a model already stored is kept as
	// it is). Of the updates only their judgements are written; each must be
	// a stored update of the round, else ErrNotFound. ErrNotFound when the
	// round is not stored, federated.ErrRoundClosed when it already ended.
	CompleteRound(ctx context.Context, o Outcome) error

	// Reputations returns the last known reputation of every site (the
	// contract's, mirrored after each round; absent: never judged).
	Reputations(ctx context.Context) (map[common.Address]uint16, error)
	// Accountant returns the privacy history (empty before any round).
	Accountant(ctx context.Context) (federated.Accountant, error)

	// AddEvent appends an audit event record to the outbox.
	AddEvent(ctx context.Context, event Record) error

	// PutModel stores a model file; storing the same id again changes
	// nothing. m.ID must be the hex keccak256 of m.File, else an error.
	PutModel(ctx context.Context, m ModelFile) error
	// NextModelVersion allocates a registry version number, never handed
	// out before (numbers a crash lost are skipped, never reused).
	NextModelVersion(ctx context.Context) (uint64, error)
	// PlanRegistration gives a stored model its registry version (it is
	// registered with the UpdatesRoot stored with it): ErrNotFound for a
	// model not stored, ErrConflict when the model is planned as another
	// version (it may be registered under that one already) or the version
	// is another model's; planning it again as its version changes nothing.
	// Unregistered lists the models whose registration is planned but not
	// done, by version, without their bytes, and MarkRegistered records that
	// the registry holds one (ErrNotFound for a model not stored, an error
	// for one with no version planned).
	PlanRegistration(ctx context.Context, modelID string, version uint64) error
	Unregistered(ctx context.Context) ([]ModelFile, error)
	MarkRegistered(ctx context.Context, modelID string) error
	// Model returns a model file by id, or ErrNotFound.
	Model(ctx context.Context, id string) (ModelFile, error)
	// Models lists the model files, newest first, without their bytes.
	Models(ctx context.Context) ([]ModelFile, error)
}
