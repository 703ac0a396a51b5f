package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/common"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/anchor/chain"
	"github.com/idsledger/idsledger/federated"
	"github.com/idsledger/idsledger/federated/coordinator"
)

// fedChain is the coordinator's view of the FederationRegistry: it turns
// the chain client's types into the federated package's, and makes the
// writes the coordinator repeats after a crash (enrolling, registering a
// model) answer as done when the contract already holds them.
type fedChain struct {
	f       *chain.Federation
	chainID uint64
}

var _ coordinator.Chain = fedChain{}

func (c fedChain) ChainID() uint64 { return c.chainID }

func (c fedChain) EnrollSite(ctx context.Context, site common.Address) error {
	_, err := c.f.EnrollSite(ctx, site)
	if errors.Is(err, chain.ErrSiteEnrolled) {
		return nil
	}
	return err
}

func (c fedChain) RemoveSite(ctx context.Context, site common.Address) error {
	_, err := c.f.RemoveSite(ctx, site)
	if errors.Is(err, chain.ErrSiteNotEnrolled) {
		return nil
	}
	return err
}

func (c fedChain) Thresholds(ctx context.Context) (federated.Thresholds, error) {
	t, err := c.f.Thresholds(ctx)
	return federated.Thresholds(t), err
}

func (c fedChain) SetThresholds(ctx context.Context, th federated.Thresholds) error {
	_, err := c.f.SetThresholds(ctx, chain.Thresholds(th))
	return err
}

func (c fedChain) Reputation(ctx context.Context, site common.Address) (uint16, error) {
	return c.f.Reputation(ctx, site)
}

func (c fedChain) SubmitRound(ctx context.Context, round uint64, scores []federated.Score) (coordinator.Judged, error) {
	updates := make([]chain.RoundUpdate, len(scores))
	for i, s := range scores {
		updates[i] = chain.RoundUpdate{Site: s.Site, Hash: anchor.Hash(s.UpdateHash), Anomaly: s.Anomaly,
			Divergence: s.Divergence, Norm: s.Norm}
	}
	res, err := c.f.SubmitRound(ctx, round, updates)
	if err != nil {
		return coordinator.Judged{}, err
	}
	j := coordinator.Judged{Verdicts: make([]federated.Verdict, len(res.Verdicts)), DivergenceMedian: res.DivergenceMedian,
		DivergenceBand: uint64(res.DivergenceBand), Inclusion: res.Inclusion}
	for i, v := range res.Verdicts {
		j.Verdicts[i] = federated.Verdict{Site: v.Site, UpdateHash: common.Hash(v.UpdateHash), Reasons: federated.Reason(v.Reasons),
			Accepted: v.Accepted(), Valid: v.Valid(), Reputation: v.Reputation}
	}
	// The event saturates the band at 2^32-1; the round's summary is exact.
	if sum, ok, err := c.f.Round(ctx, round); err == nil && ok {
		j.DivergenceBand = sum.DivergenceBand
	}
	return j, nil
}

func (c fedChain) RegisterModel(ctx context.Context, version uint64, model anchor.Hash, round uint64, root anchor.Hash) (anchor.Inclusion, error) {
	inc, err := c.f.RegisterGlobalModel(ctx, version, model, round, root)
	if !errors.Is(err, chain.ErrModelRegistered) {
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
