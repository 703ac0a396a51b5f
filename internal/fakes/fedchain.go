package fakes

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/ethereum/go-ethereum/common"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/federated"
	"github.com/idsledger/idsledger/federated/coordinator"
)

// FedChain is a coordinator.Chain that judges rounds with federated.Evaluate,
// the Go mirror of the FederationRegistry's rule (held to the contract by
// anchor/chain's TestFederationAgreesWithTheGoMirror), with the contract's
// idempotence: a round judged once is answered with the same judgement.
type FedChain struct {
	mu        sync.Mutex
	th        federated.Thresholds
	enrolled  map[common.Address]bool
	reps      map[common.Address]uint16
	judged    map[uint64]coordinator.Judged
	models    map[uint64]RegisteredModel
	Submitted int // SubmitRound calls that judged a round (not replays)
}

// RegisteredModel is a global model entry of the fake registry.
type RegisteredModel struct {
	Hash, UpdatesRoot anchor.Hash
	Round             uint64
}

// NewFedChain returns a registry with the default thresholds.
func NewFedChain() *FedChain {
	return &FedChain{th: federated.DefaultThresholds(), enrolled: map[common.Address]bool{},
		reps: map[common.Address]uint16{}, judged: map[uint64]coordinator.Judged{}, models: map[uint64]RegisteredModel{}}
}

// ChainID is the dev chains' 1337.
func (c *FedChain) ChainID() uint64 { return 1337 }

func (c *FedChain) EnrollSite(_ context.Context, site common.Address) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, known := c.reps[site]; !known {
		c.reps[site] = c.th.RepInit
	}
	c.enrolled[site] = true
	return nil
}

func (c *FedChain) RemoveSite(_ context.Context, site common.Address) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.enrolled, site)
	return nil
}

func (c *FedChain) Thresholds(context.Context) (federated.Thresholds, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.th, nil
}

func (c *FedChain) SetThresholds(_ context.Context, th federated.Thresholds) error {
	if err := th.Validate(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.th = th
	return nil
}

func (c *FedChain) Reputation(_ context.Context, site common.Address) (uint16, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reps[site], nil
}

func (c *FedChain) SubmitRound(_ context.Context, round uint64, scores []federated.Score) (coordinator.Judged, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if j, ok := c.judged[round]; ok {
		return j, nil
	}
	reps := map[common.Address]uint16{}
	for _, s := range scores {
		if !c.enrolled[s.Site] {
			return coordinator.Judged{}, fmt.Errorf("site %s not enrolled", s.Site.Hex())
		}
		reps[s.Site] = c.reps[s.Site]
	}
	ev, err := federated.Evaluate(c.th, reps, scores)
	if err != nil {
		return coordinator.Judged{}, err
	}
	for a, r := range ev.Reputations {
		c.reps[a] = r
	}
	j := coordinator.Judged{Verdicts: ev.Verdicts, DivergenceMedian: ev.DivergenceMedian, DivergenceBand: ev.DivergenceBand,
		Inclusion: anchor.Inclusion{Tx: anchor.LeafHash([]byte(fmt.Sprint("round", round))), BlockNumber: round}}
	c.judged[round] = j
	c.Submitted++
	return j, nil
}

// ErrVersionTaken is the fake registry's refusal of a version registered
// with another hash.
var ErrVersionTaken = errors.New("version registered with another model")

func (c *FedChain) RegisterModel(_ context.Context, version uint64, hash anchor.Hash, round uint64, root anchor.Hash) (anchor.Inclusion, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if m, ok := c.models[version]; ok {
		if m.Hash != hash {
			return anchor.Inclusion{}, ErrVersionTaken
		}
		return anchor.Inclusion{}, nil
	}
	c.models[version] = RegisteredModel{Hash: hash, UpdatesRoot: root, Round: round}
	return anchor.Inclusion{BlockNumber: version}, nil
}

// Registered returns the registry's entry for version.
func (c *FedChain) Registered(version uint64) (RegisteredModel, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, ok := c.models[version]
	return m, ok
}

// GlobalModel reads the registry's entry for version, as an auditor does.
func (c *FedChain) GlobalModel(_ context.Context, version uint64) (coordinator.RegisteredModel, bool, error) {
	m, ok := c.Registered(version)
	return coordinator.RegisteredModel{ModelHash: m.Hash, UpdatesRoot: m.UpdatesRoot, Round: m.Round}, ok, nil
}

// Verdicts reads a judged round's verdicts.
func (c *FedChain) Verdicts(_ context.Context, round uint64) ([]federated.Verdict, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	j, ok := c.judged[round]
	return slices.Clone(j.Verdicts), ok, nil
}

var (
	_ coordinator.Chain            = (*FedChain)(nil)
	_ coordinator.FederationReader = (*FedChain)(nil)
)
