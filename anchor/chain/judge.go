package chain

import (
	"context"
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/common"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/federated"
	"github.com/idsledger/idsledger/federated/coordinator"
)

// Judge is the coordinator's view of the FederationRegistry
// (coordinator.Chain): it turns this package's types into the federated
// package's, and makes the writes the coordinator repeats after a crash
// (enrolling, registering a model) answer as done when the contract already
// holds them.
type Judge struct {
	f       *Federation
	chainID uint64
}

// NewJudge is the FederationRegistry f on the chain with chainID, as the
// coordinator uses it.
func NewJudge(f *Federation, chainID uint64) Judge { return Judge{f: f, chainID: chainID} }

var _ coordinator.Chain = Judge{}

// ChainID is the chain's EIP-155 id.
func (c Judge) ChainID() uint64 { return c.chainID }

func (c Judge) EnrollSite(ctx context.Context, site common.Address) error {
	_, err := c.f.EnrollSite(ctx, site)
	if errors.Is(err, ErrSiteEnrolled) {
		return nil
	}
	return err
}

func (c Judge) RemoveSite(ctx context.Context, site common.Address) error {
	_, err := c.f.RemoveSite(ctx, site)
	if errors.Is(err, ErrSiteNotEnrolled) {
		return nil
	}
	return err
}

func (c Judge) Thresholds(ctx context.Context) (federated.Thresholds, error) {
	t, err := c.f.Thresholds(ctx)
	return federated.Thresholds(t), err
}

func (c Judge) SetThresholds(ctx context.Context, th federated.Thresholds) error {
	_, err := c.f.SetThresholds(ctx, Thresholds(th))
	return err
}

func (c Judge) Reputation(ctx context.Context, site common.Address) (uint16, error) {
	return c.f.Reputation(ctx, site)
}

func (c Judge) SubmitRound(ctx context.Context, round uint64, scores []federated.Score) (coordinator.Judged, error) {
	updates := make([]RoundUpdate, len(scores))
	for i, s := range scores {
		updates[i] = RoundUpdate{Site: s.Site, Hash: anchor.Hash(s.UpdateHash), Anomaly: s.Anomaly,
			Divergence: s.Divergence, Norm: s.Norm}
	}
	res, err := c.f.SubmitRound(ctx, round, updates)
	if err != nil {
		return coordinator.Judged{}, err
	}
	j := coordinator.Judged{Verdicts: verdicts(res), DivergenceMedian: res.DivergenceMedian,
		DivergenceBand: uint64(res.DivergenceBand), Inclusion: res.Inclusion}
	// The event saturates the band at 2^32-1; the round's summary is exact.
	if sum, ok, err := c.f.Round(ctx, round); err == nil && ok {
		j.DivergenceBand = sum.DivergenceBand
	}
	return j, nil
}

// verdicts are a round's verdicts in the federated package's type.
func verdicts(res RoundResult) []federated.Verdict {
	out := make([]federated.Verdict, len(res.Verdicts))
	for i, v := range res.Verdicts {
		out[i] = federated.Verdict{Site: v.Site, UpdateHash: common.Hash(v.UpdateHash), Reasons: federated.Reason(v.Reasons),
			Accepted: v.Accepted(), Valid: v.Valid(), Reputation: v.Reputation}
	}
	return out
}

var _ coordinator.FederationReader = Judge{}

// GlobalModel reads a registered model version, as an auditor checks it.
func (c Judge) GlobalModel(ctx context.Context, version uint64) (coordinator.RegisteredModel, bool, error) {
	m, ok, err := c.f.GlobalModel(ctx, version)
	return coordinator.RegisteredModel{ModelHash: m.ModelHash, UpdatesRoot: m.UpdatesRoot, Round: m.Round}, ok, err
}

// Verdicts reads a judged round's verdicts back from the chain's events.
func (c Judge) Verdicts(ctx context.Context, round uint64) ([]federated.Verdict, bool, error) {
	res, ok, err := c.f.RoundResult(ctx, round)
	if err != nil || !ok {
		return nil, ok, err
	}
	return verdicts(res), true, nil
}

func (c Judge) RegisterModel(ctx context.Context, version uint64, model anchor.Hash, round uint64, root anchor.Hash) (anchor.Inclusion, error) {
	inc, err := c.f.RegisterGlobalModel(ctx, version, model, round, root)
	if !errors.Is(err, ErrModelRegistered) {
		return inc, err
	}
	// Registered before (by this coordinator, before a crash): fine if it is
	// this very model.
	m, ok, rerr := c.f.GlobalModel(ctx, version)
	if rerr != nil {
		return inc, rerr
	}
	if !ok || m.ModelHash != model || m.Round != round || m.UpdatesRoot != root {
		return inc, fmt.Errorf("registry version %d holds another model (%x, round %d): %w", version, m.ModelHash, m.Round, err)
	}
	return anchor.Inclusion{BlockNumber: m.BlockNumber, BlockTime: m.BlockTime}, nil
}
