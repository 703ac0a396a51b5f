package coordinator

import (
	"context"

	"github.com/ethereum/go-ethereum/common"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/federated"
)

// Chain is the federation registry on chain, the judge of every round:
// chain.Federation, through the adapter serve builds, or the rule's Go
// mirror in tests. Writes return once their transaction is mined.
type Chain interface {
	// ChainID is the chain's EIP-155 id, which sites sign into updates.
	ChainID() uint64
	// EnrollSite lets a site take part; enrolling an enrolled site is not an
	// error.
	EnrollSite(ctx context.Context, site common.Address) error
	// RemoveSite stops a site from taking part; removing a site that is not
	// enrolled is not an error.
	RemoveSite(ctx context.Context, site common.Address) error
	// Thresholds reads the rule's owner-set thresholds.
	Thresholds(ctx context.Context) (federated.Thresholds, error)
	// SetThresholds changes them (the contract owner only).
	SetThresholds(ctx context.Context, th federated.Thresholds) error
	// Reputation reads a site's reputation.
	Reputation(ctx context.Context, site common.Address) (uint16, error)
	// SubmitRound has the contract judge a round's scores (Score.UpdateHash
	// is the update record's leaf) and returns its verdicts in the same
	// order. Submitting a round the contract has already judged returns
	// that judgement: after a crash the coordinator submits again and gets
	// the verdicts it missed, never a second judgement.
	SubmitRound(ctx context.Context, round uint64, scores []federated.Score) (Judged, error)
	// RegisterModel registers global model version with the model's hash
	// (its id), the round that made it and the Merkle root of the accepted
	// update records. Registering the same version with the same hash again
	// is not an error; with another hash it is.
	RegisterModel(ctx context.Context, version uint64, modelID anchor.Hash, round uint64, updatesRoot anchor.Hash) (anchor.Inclusion, error)
}

// Judged is the contract's judgement of a round.
type Judged struct {
	Verdicts         []federated.Verdict `json:"verdicts"`
	DivergenceMedian uint32              `json:"divergence_median"`
	DivergenceBand   uint64              `json:"divergence_band"`
	Inclusion        anchor.Inclusion    `json:"-"`
}
