package flclient

import (
	"context"
	"encoding/hex"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/idsledger/idsledger/anchor/chain"
)

// Verifier checks a model id against an independent record of the
// federation's global models.
type Verifier interface {
	// VerifyModel returns nil when the record holds id as version; an
	// error wrapping ErrNotRegistered when it holds nothing for version
	// (yet: ask again later); one wrapping ErrRegistryMismatch when it
	// holds another model (never use this one); any other error when the
	// record could not be read.
	VerifyModel(ctx context.Context, version uint64, id string) error
	// Registry is the address of the registry the verifier trusts.
	Registry() common.Address
}

// GlobalModels is the part of the FederationRegistry a ChainVerifier
// reads; *chain.Federation has it.
type GlobalModels interface {
	GlobalModel(ctx context.Context, version uint64) (chain.GlobalModel, bool, error)
	Address() common.Address
}

// ChainVerifier checks models against the FederationRegistry contract:
// getGlobalModel(version).modelHash must be the model id.
type ChainVerifier struct {
	reg   GlobalModels
	close func()
}

// NewChainVerifier checks models against reg.
func NewChainVerifier(reg GlobalModels) *ChainVerifier { return &ChainVerifier{reg: reg} }

// DialChainVerifier connects to the Ethereum JSON-RPC endpoint rpcURL
// (http, ws or an IPC path) and checks models against the
// FederationRegistry at registry, which must hold code there. Close it
// when done.
func DialChainVerifier(ctx context.Context, rpcURL string, registry common.Address) (*ChainVerifier, error) {
	client, err := ethclient.DialContext(ctx, rpcURL)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", rpcURL, err)
	}
	fed, err := chain.NewFederationReader(ctx, client, registry)
	if err != nil {
		client.Close()
		return nil, err
	}
	return &ChainVerifier{reg: fed, close: client.Close}, nil
}

// Registry is the registry's address.
func (v *ChainVerifier) Registry() common.Address { return v.reg.Address() }

// VerifyModel implements Verifier.
func (v *ChainVerifier) VerifyModel(ctx context.Context, version uint64, id string) error {
	if version == 0 {
		return fmt.Errorf("%w: model %s has no registry version yet", ErrNotRegistered, id)
	}
	m, ok, err := v.reg.GlobalModel(ctx, version)
	if err != nil {
		return fmt.Errorf("read global model %d from registry %s: %w", version, v.reg.Address().Hex(), err)
	}
	if !ok {
		return fmt.Errorf("%w: registry %s holds no global model %d", ErrNotRegistered, v.reg.Address().Hex(), version)
	}
	if got := hex.EncodeToString(m.ModelHash[:]); got != id {
		return fmt.Errorf("%w: registry %s holds model %s as version %d, not %s", ErrRegistryMismatch, v.reg.Address().Hex(), got, version, id)
	}
	return nil
}

// Close closes the RPC connection DialChainVerifier opened.
func (v *ChainVerifier) Close() {
	if v.close != nil {
		v.close()
	}
}
