package chain

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"sync"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/idsledger/idsledger/anchor"
)

// ChainStatus implements anchor.ChainStatusReader: the head, the finalized
// head where the chain has one, and whether it is a development chain.
func (r *Registry) ChainStatus(ctx context.Context) (anchor.ChainStatus, error) {
	var head *types.Header
	if err := retry(ctx, func() (err error) { head, err = r.client.HeaderByNumber(ctx, nil); return err }); err != nil {
		return anchor.ChainStatus{}, fmt.Errorf("head: %w", err)
	}
	st := anchor.ChainStatus{Head: head.Number.Uint64()}
	fin, ok, err := finalizedHead(ctx, r.client)
	if err != nil {
		return st, err
	}
	st.Finalized, st.HasFinalized = fin, ok
	gen, err := r.genesis(ctx)
	if err != nil {
		return st, err
	}
	st.Dev = DevChain(r.chainID, gen)
	return st, nil
}

// genesis returns the hash of the chain's block 0, read once.
func (r *Registry) genesis(ctx context.Context) (common.Hash, error) {
	r.genMu.Lock()
	defer r.genMu.Unlock()
	if r.gen != (common.Hash{}) {
		return r.gen, nil
	}
	var h *types.Header
	if err := retry(ctx, func() (err error) { h, err = r.client.HeaderByNumber(ctx, big.NewInt(0)); return err }); err != nil {
		return common.Hash{}, fmt.Errorf("genesis block: %w", err)
	}
	r.gen = h.Hash()
	return r.gen, nil
}

// finalizedHead returns the number of the chain's finalized block (the
// "finalized" block tag); ok is false on a chain that has none (proof of
// work, clique, or a node too old to know the tag), which answers the tag
// with an error or with nothing.
func finalizedHead(ctx context.Context, client Client) (n uint64, ok bool, err error) {
	var h *types.Header
	err = retry(ctx, func() (err error) {
		h, err = client.HeaderByNumber(ctx, big.NewInt(int64(rpc.FinalizedBlockNumber)))
		return err
	})
	var rpcErr rpc.Error
	switch {
	case err == nil:
		return h.Number.Uint64(), true, nil
	case errors.Is(err, ethereum.NotFound), errors.As(err, &rpcErr):
		// The node answered, and has no finalized block to give.
		return 0, false, nil
	default:
		return 0, false, fmt.Errorf("finalized head: %w", err)
	}
}

// devChainID is the chain id of `geth --dev` and of idsledger's embedded
// and simulated chains.
const devChainID = 1337

// devGenesisHashes are the genesis blocks of go-ethereum's dev chain:
// `geth --dev` with its fixed developer account and default gas limit, and
// the genesis idsledger gives `geth init` for its end-to-end tests.
var devGenesisHashes = sync.OnceValue(func() map[common.Hash]bool {
	return map[common.Hash]bool{
		core.DeveloperGenesisBlock(11_500_000, &gethDevAccount).ToBlock().Hash(): true,
		GethDevGenesis().ToBlock().Hash():                                        true,
	}
})

// DevChain says why the chain with this id and genesis block is a
// development chain, or returns "" for any other chain. A dev chain is
// sealed by whoever runs it: they can rebuild it from the same genesis with
// other roots, which verify just as well, so its anchors prove nothing
// against its operator.
func DevChain(chainID uint64, genesis common.Hash) string {
	switch {
	case chainID == devChainID:
		return fmt.Sprintf("chain id %d, as geth --dev and idsledger's embedded chain", devChainID)
	case devGenesisHashes()[genesis]:
		return "go-ethereum's dev genesis block"
	}
	return ""
}

// BlockHash implements anchor.Registry.
func (r *Registry) BlockHash(ctx context.Context, number uint64) (anchor.Hash, bool, error) {
	var h *types.Header
	err := retry(ctx, func() (err error) { h, err = r.client.HeaderByNumber(ctx, new(big.Int).SetUint64(number)); return err })
	switch {
	case errors.Is(err, ethereum.NotFound):
		return anchor.Hash{}, false, nil
	case err != nil:
		return anchor.Hash{}, false, fmt.Errorf("header %d: %w", number, err)
	}
	return anchor.Hash(h.Hash()), true, nil
}

// TxKnown implements anchor.Registry.
func (r *Registry) TxKnown(ctx context.Context, tx anchor.Hash) (bool, error) {
	err := retry(ctx, func() error { _, _, err := r.client.TransactionByHash(ctx, common.Hash(tx)); return err })
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, ethereum.NotFound):
		return false, nil
	}
	return false, fmt.Errorf("transaction %x: %w", tx, err)
}

// ForgetNonce implements anchor.Registry.
func (r *Registry) ForgetNonce() {
	if r.s == nil {
		return
	}
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	r.s.haveNonce = false
}
