// Package flfakes holds test doubles of the federation's service side:
// FLAPI, the fl-node routes of api/openapi.yaml over a real coordinator;
// FLWorld, that coordinator over the in-memory store and mirror chain of
// package fakes; and StartSim, an flsim.Coordinator over an FLWorld. It is
// apart from fakes because it imports the site side (flsim, flclient,
// and through it anchor/chain), which fakes' users must not pull in.
package flfakes

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/google/uuid"

	"github.com/idsledger/idsledger/detector"
	"github.com/idsledger/idsledger/federated"
	"github.com/idsledger/idsledger/federated/coordinator"
	"github.com/idsledger/idsledger/internal/fakes"
)

// FLWorld is a federation for testing sites: a real coordinator over the
// in-memory store and the mirror chain, its fl-node routes served by
// FLAPI (mount API on an httptest server), and Base as the first global
// model.
type FLWorld struct {
	Store *fakes.FedStore
	Chain *fakes.FedChain
	C     *coordinator.Coordinator
	API   *FLAPI
	Base  *detector.Detector
}

// NewFLWorld makes a federation starting from base, measuring updates on
// validation. The anomaly threshold is relaxed to 90%: small test models
// are weak, and tests using a world are about the sites, not the rule.
func NewFLWorld(base *detector.Detector, validation []*detector.Flow) (*FLWorld, error) {
	ctx := context.Background()
	w := &FLWorld{Store: fakes.NewFedStore(), Chain: fakes.NewFedChain(), Base: base}
	file, err := base.MarshalBinary()
	if err != nil {
		return nil, err
	}
	if err := w.Store.PutModel(ctx, coordinator.ModelFile{ID: base.ID(), Kind: base.Model.Kind(), File: file}); err != nil {
		return nil, err
	}
	th := federated.DefaultThresholds()
	th.MaxAnomalyBp = 9000
	if err := w.Chain.SetThresholds(ctx, th); err != nil {
		return nil, err
	}
	w.C = coordinator.New(w.Store, w.Chain, coordinator.Options{
		Validation: validation, Tick: 20 * time.Millisecond,
		Serving: func() *detector.Detector { return base },
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	w.API = &FLAPI{C: w.C, Store: w.Store, Keys: map[string]uuid.UUID{}}
	return w, nil
}

// NewKey makes an fl-node API key bound to no site yet (the coordinator
// answers its tasks 403) and returns its bearer token.
func (w *FLWorld) NewKey() string {
	keyID := uuid.New()
	token := fmt.Sprintf("fl-node-%s", keyID)
	w.API.mu.Lock()
	w.API.Keys[token] = keyID
	w.API.mu.Unlock()
	return token
}

// Bind enrolls addr and binds it to the API key of token (from NewKey).
func (w *FLWorld) Bind(ctx context.Context, addr common.Address, name, token string) error {
	w.API.mu.Lock()
	keyID, ok := w.API.Keys[token]
	w.API.mu.Unlock()
	if !ok {
		return fmt.Errorf("no API key %q", token)
	}
	_, err := w.C.Enroll(ctx, addr, name, keyID, "admin")
	return err
}

// Enroll enrolls addr and returns the bearer token of a new fl-node key
// bound to it.
func (w *FLWorld) Enroll(ctx context.Context, addr common.Address, name string) (string, error) {
	token := w.NewKey()
	return token, w.Bind(ctx, addr, name, token)
}

// Open opens a round from the last global model (or Base) for every
// enrolled site.
func (w *FLWorld) Open(ctx context.Context, req coordinator.OpenRequest) (federated.Round, error) {
	return w.C.Open(ctx, req, "admin")
}
