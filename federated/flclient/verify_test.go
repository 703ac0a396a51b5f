package flclient_test

import (
	"context"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/anchor/chain"
	"github.com/idsledger/idsledger/federated/flclient"
	"github.com/idsledger/idsledger/internal/fakes"
)

// The chain check reads the real FederationRegistry on a simulated EVM.
func TestChainVerifier(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sim, err := chain.NewSimulated()
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	c, err := sim.Open(ctx, &fakes.ChainMeta{})
	if err != nil {
		t.Fatal(err)
	}
	fed, _, err := chain.DeployFederation(ctx, c.Registry)
	if err != nil {
		t.Fatal(err)
	}
	model := anchor.LeafHash([]byte("global model v1"))
	id := hex.EncodeToString(model[:])
	if _, err := fed.RegisterGlobalModel(ctx, 1, model, 0, anchor.Hash{}); err != nil {
		t.Fatal(err)
	}
	reader, err := chain.NewFederationReader(ctx, c.Client(), fed.Address())
	if err != nil {
		t.Fatal(err)
	}
	v := flclient.NewChainVerifier(reader)
	if v.Registry() != fed.Address() {
		t.Fatalf("registry %s", v.Registry().Hex())
	}
	other := anchor.LeafHash([]byte("another model"))
	for _, tc := range []struct {
		name    string
		version uint64
		id      string
		want    error
	}{
		{"registered", 1, id, nil},
		{"another model", 1, hex.EncodeToString(other[:]), flclient.ErrRegistryMismatch},
		{"version not registered", 2, id, flclient.ErrNotRegistered},
		{"no version", 0, id, flclient.ErrNotRegistered},
	} {
		if err := v.VerifyModel(ctx, tc.version, tc.id); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}
