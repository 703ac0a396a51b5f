package chainhunt

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rpc"
)

// transferTopic is the topic of ERC20 Transfer(address,address,uint256)
// logs (ERC721 Transfers share it but index the token id: four topics).
var transferTopic = crypto.Keccak256Hash([]byte("Transfer(address,address,uint256)"))

// decimalsCall is the calldata of ERC20 decimals().
var decimalsCall = crypto.Keccak256([]byte("decimals()"))[:4]

// blockUndo is what undoes one block's changes to the account aggregates:
// the encoded state of every account the block changed, from before it.
type blockUndo struct {
	prior map[common.Address][]byte
}

// blockCtx is one block being processed.
type blockCtx struct {
	block    *types.Block
	receipts []*types.Receipt
	time     int64
	undo     blockUndo
	// touched are the accounts the block changed.
	touched map[common.Address]bool
	// senders are the senders of the block's transactions, in order.
	senders []common.Address
}

// alert fills in the block fields of an alert about this block.
func (b *blockCtx) alert(chainID uint64, a Alert) Alert {
	a.ChainID = chainID
	a.BlockNumber = b.block.NumberU64()
	a.BlockHash = b.block.Hash()
	a.BlockTime = time.Unix(b.time, 0).UTC()
	return a
}

// process runs one block through the aggregates and every detector, and
// appends it to the processed blocks.
//
// It changes nothing unless it succeeds: a failure (the node, the Store)
// midway restores the accounts the block had changed from its undo log,
// so that the block can be processed again without counting anything
// twice. The fallible steps come before the baselines and the scoring
// debounce change.
func (h *Hunter) process(ctx context.Context, block *types.Block, receipts []*types.Receipt) (err error) {
	b := &blockCtx{block: block, receipts: receipts, time: int64(block.Time()),
		undo: blockUndo{prior: map[common.Address][]byte{}}, touched: map[common.Address]bool{}}
	defer func() {
		if err != nil {
			if rerr := h.restoreAccounts(b.undo); rerr != nil {
				err = errors.Join(err, rerr)
			}
		}
	}()
	txs := block.Transactions()
	senders := make([]common.Address, len(txs))
	involved := map[common.Address]bool{}
	for i, tx := range txs {
		from, err := h.client.TransactionSender(ctx, tx, block.Hash(), uint(i))
		if err != nil {
			return fmt.Errorf("block %d tx %s: sender: %w", block.NumberU64(), tx.Hash(), err)
		}
		senders[i] = from
		involved[from] = true
		if tx.To() != nil {
			involved[*tx.To()] = true
		}
		for _, l := range receipts[i].Logs {
			if tr, ok := parseTransfer(l); ok {
				involved[tr.From], involved[tr.To] = true, true
			}
		}
	}
	b.senders = senders
	if err := h.loadAccounts(ctx, involved); err != nil {
		return err
	}
	var alerts []Alert
	for i, tx := range txs {
		rc := receipts[i]
		if err := h.aggregate(ctx, b, tx, senders[i], rc); err != nil {
			return err
		}
		as, err := h.registryRules(ctx, b, tx, senders[i], rc)
		if err != nil {
			return err
		}
		alerts = append(alerts, as...)
	}
	as, err := h.score(ctx, b)
	if err != nil {
		return err
	}
	alerts = append(alerts, as...)
	alerts = append(alerts, h.baselineRules(b)...)
	for _, a := range alerts {
		if err := a.Validate(); err != nil {
			return fmt.Errorf("block %d: %w", block.NumberU64(), err)
		}
	}
	h.pending = append(h.pending, alerts...)

	h.blocks = append(h.blocks, BlockRef{Number: block.NumberU64(), Hash: block.Hash()})
	h.undo = append(h.undo, b.undo)
	if over := len(h.blocks) - h.cfg.Window; over > 0 {
		h.blocks = h.blocks[over:]
		h.undo = h.undo[over:]
	}
	h.sinceCommit++
	h.updateStats(func(s *Stats) {
		s.Processed = block.NumberU64()
		s.Blocks++
		s.Txs += uint64(len(txs))
	})
	return nil
}

// restoreAccounts puts back the accounts' states from before a block.
func (h *Hunter) restoreAccounts(u blockUndo) error {
	for a, p := range u.prior {
		acc := &Account{}
		if err := acc.UnmarshalBinary(p); err != nil {
			return fmt.Errorf("undo: account %s: %w", a, err)
		}
		h.accounts[a] = acc
		h.dirty[a] = true
	}
	return nil
}

// touch returns account a for changing in block b, saving its prior state
// in the block's undo log the first time.
func (h *Hunter) touch(b *blockCtx, a common.Address) (*Account, error) {
	acc := h.accounts[a]
	if !b.touched[a] {
		p, err := acc.MarshalBinary()
		if err != nil {
			return nil, err
		}
		b.undo.prior[a] = p
		b.touched[a] = true
		h.dirty[a] = true
	}
	return acc, nil
}

// aggregate adds a transaction and its Transfer logs to the accounts they
// name.
func (h *Hunter) aggregate(ctx context.Context, b *blockCtx, tx *types.Transaction, from common.Address, rc *types.Receipt) error {
	if tx.To() == nil && rc.Status == types.ReceiptStatusSuccessful {
		h.contracts.Add(rc.ContractAddress, true)
	}
	etx := EtherTx{From: from, To: tx.To(), Value: tx.Value(), Time: b.time}
	if tx.To() != nil {
		c, err := h.isContract(ctx, *tx.To())
		if err != nil {
			return err
		}
		etx.ToContract = c
	}
	for _, a := range parties(from, tx.To()) {
		if a != from && etx.ToContract {
			continue // a contract's history is not kept: see personal
		}
		acc, err := h.touch(b, a)
		if err != nil {
			return err
		}
		acc.AddTx(a, etx)
	}
	for _, l := range rc.Logs {
		tr, ok := parseTransfer(l)
		if !ok {
			continue
		}
		dec, err := h.tokenDecimals(ctx, tr.Token)
		if err != nil {
			return err
		}
		tr.Amount = TokenAmount(tr.Amount, dec)
		tr.Time = b.time
		if tr.ToContract, err = h.isContract(ctx, tr.To); err != nil {
			return err
		}
		for _, a := range parties(tr.From, &tr.To) {
			if ok, err := h.personal(ctx, a, tr); err != nil {
				return err
			} else if !ok {
				continue
			}
			acc, err := h.touch(b, a)
			if err != nil {
				return err
			}
			acc.AddTokenTransfer(a, tr)
		}
	}
	return nil
}

// personal says whether the history of party a of transfer tr is kept: not
// when a is a contract. Contracts are never scored (see score), and their
// histories are the ones that grow without bound: a token or a router
// receives from millions of distinct senders, whose exact set would be
// encoded again for every block that touches it, and kept Window times
// over in the undo log. (A transaction's sender is always kept: it signed.)
func (h *Hunter) personal(ctx context.Context, a common.Address, tr TokenTransfer) (bool, error) {
	if a == tr.To {
		return !tr.ToContract, nil
	}
	c, err := h.isContract(ctx, a)
	return !c, err
}

// parties are the accounts whose histories a transaction or transfer from
// from to to (nil: a creation) goes into: both, once each, but never the
// zero address, which no one holds (tokens are minted from it and burnt
// to it; the other party still counts it as a counterparty).
func parties(from common.Address, to *common.Address) []common.Address {
	var out []common.Address
	if from != (common.Address{}) {
		out = append(out, from)
	}
	if to != nil && *to != from && *to != (common.Address{}) {
		out = append(out, *to)
	}
	return out
}

// parseTransfer reads an ERC20 Transfer log (raw amount, no time).
func parseTransfer(l *types.Log) (TokenTransfer, bool) {
	if len(l.Topics) != 3 || l.Topics[0] != transferTopic || len(l.Data) != 32 {
		return TokenTransfer{}, false
	}
	return TokenTransfer{
		Token:  l.Address,
		From:   common.BytesToAddress(l.Topics[1].Bytes()),
		To:     common.BytesToAddress(l.Topics[2].Bytes()),
		Amount: new(big.Int).SetBytes(l.Data),
	}, true
}

// isContract says whether a has code (now: contracts rarely stop being
// contracts), cached.
func (h *Hunter) isContract(ctx context.Context, a common.Address) (bool, error) {
	if c, ok := h.contracts.Get(a); ok {
		return c, nil
	}
	code, err := h.client.CodeAt(ctx, a, nil)
	if err != nil {
		return false, fmt.Errorf("read code of %s: %w", a, err)
	}
	h.contracts.Add(a, len(code) > 0)
	return len(code) > 0, nil
}

// tokenDecimals is a token's decimals(), cached; 18 when the token has no
// such function (the call reverts) or answers nonsense. A call that
// failed otherwise is not cached (the node failed, not the token).
func (h *Hunter) tokenDecimals(ctx context.Context, token common.Address) (uint8, error) {
	if d, ok := h.decimals[token]; ok {
		return d, nil
	}
	out, err := h.client.CallContract(ctx, ethereum.CallMsg{To: &token, Data: decimalsCall}, nil)
	var reverted rpc.DataError
	if err != nil && !errors.As(err, &reverted) {
		h.log.Debug("token decimals() failed; counting 18", "token", token, "err", err)
		return 18, nil
	}
	d := uint8(18) // also when the call reverted: no decimals()
	if len(out) >= 32 {
		if v := new(big.Int).SetBytes(out[:32]); v.IsUint64() && v.Uint64() <= 77 {
			d = uint8(v.Uint64())
		}
	}
	h.decimals[token] = d
	return d, nil
}
