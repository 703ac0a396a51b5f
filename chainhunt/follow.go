package chainhunt

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rpc"
)

// catchUpChunk bounds the blocks one round reads before it reads the head
// again.
const catchUpChunk = 1024

// fetched is a block with its receipts, or why it could not be read.
type fetched struct {
	number   uint64
	block    *types.Block
	receipts []*types.Receipt
	err      error
}

// round reads the head and processes the blocks up to it (at most
// catchUpChunk). It reports whether the hunter is caught up with the head.
// When the head is the last block processed it checks that block is still
// canonical: a reorg onto a branch of the same length shows no new block
// with a mismatched parent.
func (h *Hunter) round(ctx context.Context) (caughtUp bool, err error) {
	head, err := h.client.HeaderByNumber(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("read head: %w", err)
	}
	headN := head.Number.Uint64()
	h.updateStats(func(s *Stats) { s.Head = headN })
	next := h.next()
	if next > headN {
		// The head is the last block processed, or below it: a node
		// behind a load balancer lagging, or a reorg onto a shorter
		// branch, which is looked at once the branch reaches the last
		// block processed (a lagging node would report it missing).
		if last := h.lastBlock(); last.Hash != (common.Hash{}) && headN == last.Number {
			canon, err := h.canonicalHash(ctx, last.Number)
			if err != nil {
				return false, err
			}
			if canon != last.Hash {
				return false, h.reorg(ctx)
			}
		}
		h.updateStats(func(s *Stats) { s.CaughtUp = true })
		return true, nil
	}
	to := min(headN, next+catchUpChunk-1)
	if err := h.catchUp(ctx, next, to); err != nil {
		return false, err
	}
	return false, nil
}

// catchUp processes blocks from..to in order while up to Prefetch of them
// are fetched ahead concurrently. It stops early after a reorg (the next
// round starts again from the common ancestor).
func (h *Hunter) catchUp(ctx context.Context, from, to uint64) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Each slot is one block's result, in block order; the channel's
	// capacity bounds the blocks fetched ahead of the one processed.
	slots := make(chan chan fetched, h.cfg.Prefetch)
	go func() {
		defer close(slots)
		for n := from; n <= to; n++ {
			slot := make(chan fetched, 1)
			select {
			case slots <- slot:
			case <-ctx.Done():
				return
			}
			go func() { slot <- h.fetch(ctx, n) }()
		}
	}()
	for slot := range slots {
		// Commit what is due before processing more. A Store that fails
		// stops the round (it is retried after PollInterval), and the
		// next round stops here again: going on would pile up accounts
		// and alerts in memory for as long as the Store is down.
		if err := h.maybeCommit(ctx); err != nil {
			return err
		}
		var f fetched
		select {
		case f = <-slot:
		case <-ctx.Done():
			return ctx.Err()
		}
		if f.err != nil {
			return f.err
		}
		reorged, err := h.apply(ctx, f)
		if err != nil || reorged {
			return err
		}
	}
	return h.maybeCommit(ctx)
}

// fetch reads block n and its receipts (by the block's hash, so that both
// are of the same block even if a reorg happens in between).
func (h *Hunter) fetch(ctx context.Context, n uint64) fetched {
	f := fetched{number: n}
	f.block, f.err = h.client.BlockByNumber(ctx, new(big.Int).SetUint64(n))
	if f.err != nil {
		f.err = fmt.Errorf("read block %d: %w", n, f.err)
		return f
	}
	f.receipts, f.err = h.client.BlockReceipts(ctx, rpc.BlockNumberOrHashWithHash(f.block.Hash(), false))
	if f.err != nil {
		f.err = fmt.Errorf("read receipts of block %d: %w", n, f.err)
		return f
	}
	if len(f.receipts) != len(f.block.Transactions()) {
		f.err = fmt.Errorf("block %d: %d receipts for %d transactions", n, len(f.receipts), len(f.block.Transactions()))
	}
	return f
}

// apply processes f, the block after the last processed one, unless its
// parent is not the last block processed: then a reorg happened, which it
// handles instead (reorged true). A last block without a hash (the
// position a reorg deeper than the window left) takes any child.
func (h *Hunter) apply(ctx context.Context, f fetched) (reorged bool, err error) {
	if len(h.blocks) > 0 {
		last := h.blocks[len(h.blocks)-1]
		if f.number != last.Number+1 {
			return false, fmt.Errorf("block %d fetched after %d", f.number, last.Number)
		}
		if last.Hash != (common.Hash{}) && f.block.ParentHash() != last.Hash {
			return true, h.reorg(ctx)
		}
	}
	return false, h.process(ctx, f.block, f.receipts)
}

// lastBlock is the last block processed (zero when none).
func (h *Hunter) lastBlock() BlockRef {
	if len(h.blocks) == 0 {
		return BlockRef{}
	}
	return h.blocks[len(h.blocks)-1]
}

// canonicalHash is the hash of the canonical block n, or the zero hash
// when the chain is shorter.
func (h *Hunter) canonicalHash(ctx context.Context, n uint64) (common.Hash, error) {
	hd, err := h.client.HeaderByNumber(ctx, new(big.Int).SetUint64(n))
	if errors.Is(err, ethereum.NotFound) {
		return common.Hash{}, nil
	}
	if err != nil {
		return common.Hash{}, fmt.Errorf("read header %d: %w", n, err)
	}
	return hd.Hash(), nil
}

// maybeCommit commits a checkpoint when CommitBlocks blocks or
// CommitInterval passed since the last.
func (h *Hunter) maybeCommit(ctx context.Context) error {
	if h.sinceCommit < h.cfg.CommitBlocks && time.Since(h.lastCommit) < h.cfg.CommitInterval {
		return nil
	}
	return h.commit(ctx)
}

// commit stores the checkpoint (the blocks, the changed accounts, the
// state) and the alerts raised since the last one, in one Store.Commit.
// On failure nothing is forgotten: the next commit carries it all.
func (h *Hunter) commit(ctx context.Context) error {
	if len(h.blocks) == 0 || (h.sinceCommit == 0 && len(h.pending) == 0 && len(h.dirty) == 0) {
		return nil
	}
	cp := Checkpoint{
		ChainID:  h.cfg.ChainID,
		Blocks:   append([]BlockRef(nil), h.blocks...),
		Accounts: make(map[common.Address][]byte, len(h.dirty)),
	}
	for a := range h.dirty {
		p, err := h.accounts[a].MarshalBinary()
		if err != nil {
			return err
		}
		cp.Accounts[a] = p
	}
	cp.State = h.encodeState()
	stored, err := h.store.Commit(ctx, cp, h.pending)
	if err != nil {
		return fmt.Errorf("commit checkpoint at block %d: %w", h.blocks[len(h.blocks)-1].Number, err)
	}
	h.pending = nil
	h.sinceCommit = 0
	h.lastCommit = time.Now()
	clear(h.dirty)
	if len(h.accounts) > h.cfg.MaxCachedAccounts {
		// Every account is stored now: drop them all, they are read back
		// when touched again.
		clear(h.accounts)
	}
	h.updateStats(func(s *Stats) { s.Alerts += uint64(len(stored)) })
	return nil
}

// loadAccounts makes sure the accounts addrs are in memory, reading those
// that are not from the Store (an account never stored starts empty).
func (h *Hunter) loadAccounts(ctx context.Context, addrs map[common.Address]bool) error {
	var missing []common.Address
	for a := range addrs {
		if _, ok := h.accounts[a]; !ok {
			missing = append(missing, a)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	stored, err := h.store.Accounts(ctx, h.cfg.ChainID, missing)
	if err != nil {
		return fmt.Errorf("read accounts: %w", err)
	}
	for _, a := range missing {
		acc := &Account{}
		if p, ok := stored[a]; ok {
			if err := acc.UnmarshalBinary(p); err != nil {
				return fmt.Errorf("account %s: %w", a, err)
			}
		}
		h.accounts[a] = acc
	}
	return nil
}

// keys lists a set's members.
func keys(m map[common.Address]bool) []common.Address {
	out := make([]common.Address, 0, len(m))
	for a := range maps.Keys(m) {
		out = append(out, a)
	}
	return out
}
