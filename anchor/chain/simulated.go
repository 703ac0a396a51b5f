package chain

import (
	"context"
	"crypto/ecdsa"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/ethclient/simulated"
	"github.com/ethereum/go-ethereum/node"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/contracts"
)

// Simulated is go-ethereum's in-memory simulated backend under
// contracts.OsakaDevChainConfig (as the embedded chain), with one funded key, for tests. Blocks are sealed when the
// registry sends a transaction and again while one is not yet mined (a
// commit can miss a transaction still entering the pool).
type Simulated struct {
	Backend *simulated.Backend
	Key     *ecdsa.PrivateKey
}

// NewSimulated starts a simulated chain with a fresh funded key.
func NewSimulated() (*Simulated, error) {
	key, err := crypto.GenerateKey()
	if err != nil {
		return nil, err
	}
	funds := new(big.Int).Lsh(big.NewInt(1), 200)
	alloc := types.GenesisAlloc{crypto.PubkeyToAddress(key.PublicKey): {Balance: funds}}
	b := simulated.NewBackend(alloc, simulatedOptions...)
	return &Simulated{Backend: b, Key: key}, nil
}

// simulatedOptions run a simulated backend under the embedded chain's
// rules and gas limit.
var simulatedOptions = []func(*node.Config, *ethconfig.Config){
	contracts.SimulatedOsaka,
	func(_ *node.Config, ec *ethconfig.Config) { ec.Genesis.GasLimit = DevGasLimit },
}

// Open connects to the simulated chain as Open does to a real one: it
// checks meta, deploys the registry on first use, and returns the chain.
func (s *Simulated) Open(ctx context.Context, meta anchor.ChainMetaStore) (*Chain, error) {
	return connect(ctx, connectConfig{
		client: s.Backend.Client(), key: s.Key, mine: func() { s.Backend.Commit() },
		poll: 5 * time.Millisecond,
	}, meta)
}

// Close stops the simulated chain.
func (s *Simulated) Close() error { return s.Backend.Close() }
